/**
 * SQL building blocks of the data store: quoting, bound parameters, key columns and key-range
 * conditions. Internal. Identifiers are validated before they are quoted; values are always bound.
 */
import { DefinitionError, ErrorCode } from '@mcp/migrate-core/engine';
import type { DataTarget, KeyValue, Row } from '@mcp/migrate-core/engine';
import { assertIdentifier } from './identifiers.js';
import { bindable } from './values.js';

/** `"name"`, with any `"` in it doubled (callers validate identifiers first; this is the second fence). */
export function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Bound parameters of one statement: `add(v)` returns its placeholder. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(bindable(value));
    return `$${this.values.length}`;
  }
}

/** The target's key columns, validated; refuses a target without a key. */
export function keyColumns(target: DataTarget): readonly string[] {
  if (!target.key.length)
    throw new DefinitionError(`postgres: table "${target.name}" needs a key`, { code: ErrorCode.Config, field: 'key' });
  for (const k of target.key) assertIdentifier(k, 'key');
  return target.key;
}

/** `value` when it has one part per key column; else a `DefinitionError`. */
export function checkKey(value: KeyValue, keys: readonly string[]): KeyValue {
  if (value.length !== keys.length) {
    throw new DefinitionError(
      `postgres: key value has ${value.length} part(s), key (${keys.join(', ')}) has ${keys.length}`,
      { code: ErrorCode.Config, field: 'key' },
    );
  }
  return value;
}

/** Union of the rows' columns, keys first, each validated. */
export function rowColumns(rows: readonly Row[], keys: readonly string[]): string[] {
  const seen = new Set<string>(keys);
  for (const row of rows) for (const c of Object.keys(row)) seen.add(c);
  for (const c of seen) assertIdentifier(c, 'column');
  return [...seen];
}

/** `r."field" = $n` (or `IS NULL`) for each field of an equality filter. */
export function filterClauses(filter: DataTarget['filter'], p: Params): string[] {
  return Object.entries(filter ?? {}).map(([field, value]) => {
    assertIdentifier(field, 'filter');
    return value === null || value === undefined ? `r.${q(field)} IS NULL` : `r.${q(field)} = ${p.add(value)}`;
  });
}

/** `(a, b) > ($1, $2)`: a row-value comparison of the key expressions with a key value. */
export function rowCompare(exprs: readonly string[], value: KeyValue, op: '>' | '<=', p: Params): string {
  const params = value.map((v) => p.add(v));
  if (exprs.length === 1) return `${exprs[0]} ${op} ${params[0]}`;
  return `(${exprs.join(', ')}) ${op} (${params.join(', ')})`;
}

/** `ON CONFLICT (key) DO UPDATE SET` every other column to the new row's value. */
export function upsertConflict(keys: readonly string[], assignments: readonly string[]): string {
  const set = assignments.length ? assignments.join(', ') : `${q(keys[0]!)} = EXCLUDED.${q(keys[0]!)}`;
  return `ON CONFLICT (${keys.map(q).join(', ')}) DO UPDATE SET ${set}`;
}

/** `ON CONFLICT (key) DO NOTHING`: the first copy of a row wins (backups). */
export function keepFirst(keys: readonly string[]): string {
  return `ON CONFLICT (${keys.map(q).join(', ')}) DO NOTHING`;
}

/**
 * The SET expression of a column in an upsert. node-postgres reads timestamps as JS `Date`s
 * (millisecond precision): keep the stored microseconds when the written value is the stored one
 * truncated to milliseconds, so an untouched timestamp survives a read-modify-write exactly.
 */
export function preserveMicros(column: string, type: string | undefined): string {
  if (type === undefined || !/^timestamp/.test(type)) return `EXCLUDED.${q(column)}`;
  return `CASE WHEN date_trunc('milliseconds', r.${q(column)}) = EXCLUDED.${q(column)} THEN r.${q(column)} ELSE EXCLUDED.${q(column)} END`;
}
