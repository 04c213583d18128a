/**
 * A small tagged JSON codec for checkpoint keys, so that `Checkpoint.after` round-trips exactly
 * through a `jsonb` column. Plain JSON values (finite numbers, strings, booleans, null) are stored
 * as they are; other key types are wrapped in a one-field tag object:
 *
 * | JS value | stored as |
 * |---|---|
 * | `bigint` | `{ "$bigint": "123" }` |
 * | `Date` | `{ "$date": "2026-01-01T00:00:00.000Z" }` |
 * | `Buffer` / `Uint8Array` | `{ "$bytes": "<base64>" }` |
 * | `NaN`, `±Infinity` | `{ "$number": "NaN" }` |
 * | any other object | `{ "$json": <object> }` |
 *
 * node-postgres returns `int8` (bigint) and `numeric` columns as strings, so such keys are strings
 * and are stored as strings; a host that installs a `BigInt` type parser gets `bigint` back.
 */

export function encodeKeyValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (typeof value !== 'object') return value;
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(encodeKeyValue);
  return { $json: value };
}

export function decodeKeyValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeKeyValue);
  if (value === null || typeof value !== 'object') return value;
  const tagged = value as Record<string, unknown>;
  if (typeof tagged.$bigint === 'string') return BigInt(tagged.$bigint);
  if (typeof tagged.$date === 'string') return new Date(tagged.$date);
  if (typeof tagged.$bytes === 'string') return Buffer.from(tagged.$bytes, 'base64');
  if (typeof tagged.$number === 'string') return Number(tagged.$number);
  if ('$json' in tagged) return tagged.$json;
  return value;
}
