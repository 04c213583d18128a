/**
 * Reading and writing the rows of a key/value table owned by one parent (`tenant_settings` of a tenant,
 * `channel_configurations` of a channel), with the checks that keep the codec exact: every row belongs
 * to the owner, has exactly the table's three columns, and no key repeats.
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import type { CodecContext, KeyValueEntry } from './key-value-codec.js';
import { assertUniqueKeys } from './key-value-codec.js';
import { describeType, isPlainObject } from './plain.js';

/** A tenant or channel id as the drivers return it: text/UUID as a string, integer keys as a number. */
export type Id = string | number;

export function isId(value: unknown): value is Id {
  return typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value));
}

export interface TableShape {
  readonly ownerColumn: string;
  readonly keyColumn: string;
  readonly valueColumn: string;
}

/** Validate `rows` against the owner and table shape and return them as entries. */
export function readRows(rows: unknown, owner: Id, shape: TableShape, context: CodecContext): KeyValueEntry[] {
  const fail = (field: string, reason: string, key = context.owner): never => {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: context.transformer,
      reason,
      field,
      key,
    });
  };
  if (!Array.isArray(rows)) return fail('rows', `"rows" must be an array, got ${describeType(rows)}`);
  const allowed = new Set([shape.ownerColumn, shape.keyColumn, shape.valueColumn]);
  const entries: KeyValueEntry[] = [];
  rows.forEach((row: unknown, index) => {
    const at = `rows[${index}]`;
    if (!isPlainObject(row)) return fail(at, `each row must be an object, got ${describeType(row)}`);
    for (const column of Object.keys(row)) {
      if (!allowed.has(column)) fail(`${at}.${column}`, `unexpected column "${column}" (it would be lost)`);
    }
    if (row[shape.ownerColumn] !== owner) {
      fail(`${at}.${shape.ownerColumn}`, `row belongs to another ${shape.ownerColumn} than the group`);
    }
    const key = row[shape.keyColumn];
    if (typeof key !== 'string')
      return fail(`${at}.${shape.keyColumn}`, `${shape.keyColumn} must be a string, got ${describeType(key)}`);
    const value = row[shape.valueColumn];
    if (typeof value !== 'string' && value !== null) {
      return fail(
        `${at}.${shape.valueColumn}`,
        `${shape.valueColumn} must be a string or null, got ${describeType(value)}`,
        {
          ...context.owner,
          [shape.keyColumn]: key,
        },
      );
    }
    entries.push({ key, value });
  });
  assertUniqueKeys(entries, context);
  return entries;
}

/** Turn entries back into rows of the table, in the entries' order. */
export function writeRows<Row>(entries: readonly KeyValueEntry[], owner: Id, shape: TableShape): Row[] {
  return entries.map(
    (entry) => ({ [shape.ownerColumn]: owner, [shape.keyColumn]: entry.key, [shape.valueColumn]: entry.value }) as Row,
  );
}

/** Throw unless `object` only has the properties in `allowed` (anything else would be lost by the encoder). */
export function assertKnownProperties(
  object: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  context: CodecContext,
): void {
  for (const property of Object.keys(object)) {
    if (!allowed.has(property)) {
      throw new TransformError({
        code: TransformErrorCode.InvalidInput,
        transformer: context.transformer,
        reason: `unknown property "${property}" (it would be lost; unknown keys belong in "extra")`,
        field: property,
        key: context.owner,
      });
    }
  }
}
