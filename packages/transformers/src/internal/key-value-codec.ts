/**
 * A bijection between key/value rows (`tenant_settings`, `channel_configurations`) and a typed object:
 * known keys become typed fields, everything else is kept verbatim in `extra`.
 *
 * Exactness rests on one rule: a raw value is parsed into a typed field only when it is the *canonical*
 * text of that value (the text the encoder would write back). `'30'` becomes `30`, but `'030'`, `'3e1'`,
 * `'-0'`, `' 30'`, `'TRUE'`, `'["a", "b"]'` (with a space) or `NULL` are not canonical, so with the default
 * policy they stay in `extra` as they were, and encoding gives the original text back. Rows are encoded in
 * code-point order of their key (PostgreSQL `COLLATE "C"`), which is the one canonical row order.
 *
 * The encoder accepts only canonical objects (a canonical value for a known key must sit in its typed
 * field, not in `extra`; a key cannot be in both), so decode ∘ encode is the identity too.
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import type { RowKey } from '../errors.js';
import { compareCodePoints } from './compare.js';
import { describeType, hasOwn, isPlainObject, objectFromEntries } from './plain.js';

/** How a known key's text value is typed. */
export type FieldSpec =
  | { readonly type: 'string' }
  | { readonly type: 'boolean' }
  | { readonly type: 'integer'; readonly min?: number; readonly max?: number }
  | { readonly type: 'string[]' };

export type KeyValueSchema = Readonly<Record<string, FieldSpec>>;

/** What to do with a known key whose value is not canonical for its type. */
export type NonCanonicalPolicy = 'extra' | 'throw';

/** Reads a transformer's `nonCanonical` option (default `'extra'`), rejecting anything else. */
export function nonCanonicalPolicy(transformer: string, value: unknown): NonCanonicalPolicy {
  const policy = value ?? 'extra';
  if (policy !== 'extra' && policy !== 'throw') {
    throw new TransformError({
      code: TransformErrorCode.InvalidConfig,
      transformer,
      reason: 'option "nonCanonical" must be "extra" or "throw"',
      field: 'nonCanonical',
    });
  }
  return policy;
}

export interface KeyValueEntry {
  readonly key: string;
  readonly value: string | null;
}

export interface CodecContext {
  readonly transformer: string;
  /** The owner of the rows, e.g. `{ tenant_id }`, for errors. */
  readonly owner: RowKey;
  /** The key column's name, e.g. `settings_key`, for errors. */
  readonly keyColumn: string;
}

type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false };
const NOT_CANONICAL: Parsed = { ok: false };

/** Parse `raw` as `spec`, succeeding only when `raw` is the canonical text of the parsed value. */
export function parseCanonical(spec: FieldSpec, raw: string | null): Parsed {
  if (raw === null) return NOT_CANONICAL;
  switch (spec.type) {
    case 'string':
      return { ok: true, value: raw };
    case 'boolean':
      return raw === 'true' ? { ok: true, value: true } : raw === 'false' ? { ok: true, value: false } : NOT_CANONICAL;
    case 'integer': {
      if (!/^-?[0-9]+$/.test(raw)) return NOT_CANONICAL;
      const value = Number(raw);
      return isIntegerInRange(spec, value) && String(value) === raw ? { ok: true, value } : NOT_CANONICAL;
    }
    case 'string[]': {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return NOT_CANONICAL;
      }
      return isStringArray(value) && JSON.stringify(value) === raw ? { ok: true, value } : NOT_CANONICAL;
    }
  }
}

/** The canonical text of `value` as `spec`, or `undefined` when `value` is not a valid `spec` value. */
export function formatCanonical(spec: FieldSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? String(value) : undefined;
    case 'integer':
      return typeof value === 'number' && isIntegerInRange(spec, value) ? String(value) : undefined;
    case 'string[]':
      return isStringArray(value) ? JSON.stringify(value) : undefined;
  }
}

export function describeSpec(spec: FieldSpec): string {
  if (spec.type !== 'integer') return spec.type;
  const min = spec.min ?? Number.MIN_SAFE_INTEGER;
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  return `integer in [${min}, ${max}]`;
}

/**
 * Decode rows (already checked for duplicate keys) into typed fields plus `extra`. Fields come out in
 * schema order, `extra` in code-point order of its keys.
 */
export function decodeEntries(
  schema: KeyValueSchema,
  entries: readonly KeyValueEntry[],
  policy: NonCanonicalPolicy,
  context: CodecContext,
): { fields: Record<string, unknown>; extra: Record<string, string | null> } {
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.key, b.key));
  const parsed = new Map<string, unknown>();
  const extra: Array<[string, string | null]> = [];
  for (const { key, value } of sorted) {
    const spec = hasOwn(schema, key) ? schema[key] : undefined;
    if (spec === undefined) {
      extra.push([key, value]);
      continue;
    }
    const result = parseCanonical(spec, value);
    if (result.ok) {
      parsed.set(key, result.value);
    } else if (policy === 'throw') {
      throw new TransformError({
        code: TransformErrorCode.InvalidInput,
        transformer: context.transformer,
        reason: `value of "${key}" is not a canonical ${describeSpec(spec)}`,
        field: key,
        key: context.owner,
      });
    } else {
      extra.push([key, value]);
    }
  }
  const fields: Array<[string, unknown]> = [];
  for (const key of Object.keys(schema)) if (parsed.has(key)) fields.push([key, parsed.get(key)]);
  return { fields: objectFromEntries(fields), extra: objectFromEntries(extra) };
}

/**
 * Encode typed fields plus `extra` back into entries in canonical (code-point) key order. Throws
 * `TRANSFORM_INVALID_INPUT` for a wrongly typed field or extra value, and `TRANSFORM_CONFLICT` for a
 * non-canonical object (a key both typed and in `extra`, or a canonical value left in `extra`).
 * Field values are never put in error messages.
 */
export function encodeEntries(
  schema: KeyValueSchema,
  fields: Readonly<Record<string, unknown>>,
  extra: unknown,
  context: CodecContext,
): KeyValueEntry[] {
  const fail = (code: TransformErrorCode, field: string, reason: string): never => {
    throw new TransformError({ code, transformer: context.transformer, reason, field, key: context.owner });
  };
  if (!isPlainObject(extra)) {
    return fail(TransformErrorCode.InvalidInput, 'extra', `"extra" must be an object, got ${describeType(extra)}`);
  }
  const entries: KeyValueEntry[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    const value = hasOwn(fields, key) ? fields[key] : undefined;
    if (value === undefined) continue;
    const text = formatCanonical(spec, value);
    if (text === undefined) {
      fail(
        TransformErrorCode.InvalidInput,
        key,
        `"${key}" must be a ${describeSpec(spec)}, got ${describeType(value)}`,
      );
    } else {
      entries.push({ key, value: text });
    }
  }
  for (const [key, value] of Object.entries(extra)) {
    if (typeof value !== 'string' && value !== null) {
      fail(
        TransformErrorCode.InvalidInput,
        `extra.${key}`,
        `extra values must be strings or null, got ${describeType(value)}`,
      );
    }
    const text = value as string | null;
    const spec = hasOwn(schema, key) ? schema[key] : undefined;
    if (spec !== undefined) {
      if (hasOwn(fields, key) && fields[key] !== undefined) {
        fail(TransformErrorCode.Conflict, key, `"${key}" is both a typed field and a key of "extra"`);
      }
      if (parseCanonical(spec, text).ok) {
        fail(
          TransformErrorCode.Conflict,
          `extra.${key}`,
          `"extra.${key}" holds a canonical ${describeSpec(spec)}; it belongs in the typed field "${key}"`,
        );
      }
    }
    entries.push({ key, value: text });
  }
  return entries.sort((a, b) => compareCodePoints(a.key, b.key));
}

/** Throw `TRANSFORM_INVALID_INPUT` if two entries share a key (the table's primary key forbids it). */
export function assertUniqueKeys(entries: readonly KeyValueEntry[], context: CodecContext): void {
  const seen = new Set<string>();
  for (const { key } of entries) {
    if (seen.has(key)) {
      throw new TransformError({
        code: TransformErrorCode.InvalidInput,
        transformer: context.transformer,
        reason: `duplicate ${context.keyColumn} "${key}"`,
        field: context.keyColumn,
        key: context.owner,
      });
    }
    seen.add(key);
  }
}

function isIntegerInRange(spec: { readonly min?: number; readonly max?: number }, value: number): boolean {
  return (
    Number.isSafeInteger(value) &&
    !Object.is(value, -0) &&
    value >= (spec.min ?? Number.MIN_SAFE_INTEGER) &&
    value <= (spec.max ?? Number.MAX_SAFE_INTEGER)
  );
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  // An index loop, not every(): a hole in a sparse array must fail (JSON would write it as null).
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}
