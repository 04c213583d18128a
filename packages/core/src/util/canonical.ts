/**
 * Canonical, length-prefixed encodings of JSON/BSON-like values. Plain concatenation collides
 * (`'ab' + 'c'` = `'a' + 'bc'`; data-diff had such collisions), so every value is written as
 * `tag:length:bytes`.
 *
 * Two encodings, for two jobs:
 * - {@link canonicalEncode} is for **key identity**: types are normalised so that one key read
 *   through different representations agrees (NULL and undefined are one marker, an Int32, a Long,
 *   a Double and a Decimal128 of the same number are one number, `-0` is `0`). The batch engine,
 *   the memory engine and the transformers compare keys and filters with it.
 * - {@link typedEncode} is for **checksums and row comparison**: every stored type keeps its own
 *   tag and exact text (Int32 5, Long 5, Double 5 and Decimal128 `5.0` differ; `-0` is not `0`;
 *   Decimal128 `1.50` is not `1.5`), so a verification sees a value whose type or bytes changed.
 * Both sort object fields by code point: field order is not compared.
 *
 * Typed encoding: ./typed-encode.ts; the row-set hash: ./row-set-hash.ts; the key order: ../engine/key-order.ts.
 */

export function canonicalEncode(value: unknown): string {
  const out: string[] = [];
  encodeInto(value, out, false);
  return out.join('');
}

/**
 * Like {@link canonicalEncode}, but a string holding a plain decimal number encodes as that number,
 * so that a value as a transform returned it (`247`) and as a driver reads it back (`'247'` for a
 * bigint or numeric column) compare equal.
 */
export function looseCanonicalEncode(value: unknown): string {
  const out: string[] = [];
  encodeInto(value, out, true);
  return out.join('');
}

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** Writes one `tag:length:text` part. */
export function part(out: string[], tag: string, text: string): void {
  out.push(tag, String(text.length), ':', text);
}

function encodeInto(value: unknown, out: string[], loose: boolean): void {
  if (value === null || value === undefined) return void out.push('n;');
  switch (typeof value) {
    case 'string':
      return loose && DECIMAL.test(value) ? part(out, 'd', canonicalDecimalText(value)) : part(out, 's', value);
    case 'boolean':
      return void out.push(value ? 't;' : 'f;');
    case 'number':
      return part(out, 'd', canonicalNumber(value));
    case 'bigint':
      return part(out, 'd', value.toString());
    case 'object':
      break;
    default:
      return part(out, 'x', String(value));
  }
  if (value instanceof Date) return part(out, 'D', Number.isNaN(value.getTime()) ? 'NaN' : value.toISOString());
  if (Array.isArray(value)) {
    out.push('a', String(value.length), '[');
    for (const item of value) encodeInto(item, out, loose);
    return void out.push(']');
  }
  if (value instanceof Uint8Array) return part(out, 'b', Buffer.from(value).toString('base64'));
  if (value instanceof Map || value instanceof Set) return collectionInto(value, out, canonicalEncode);
  const bsonType = (value as { _bsontype?: unknown })._bsontype;
  if (typeof bsonType === 'string') return encodeBson(bsonType, value, out);
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  out.push('o', String(entries.length), '{');
  for (const [k, v] of entries) {
    part(out, 'k', k);
    encodeInto(v, out, loose);
  }
  out.push('}');
}

/**
 * A Map or Set, its entries each encoded whole with `encode` and sorted, so insertion order is not
 * compared. Shared by both encodings (each passes itself).
 */
export function collectionInto(
  value: Map<unknown, unknown> | Set<unknown>,
  out: string[],
  encode: (v: unknown) => string,
): void {
  if (value instanceof Map) {
    const entries = [...value]
      .map(([k, v]) => [encode(k), encode(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out.push('M', String(entries.length), '{');
    for (const [k, v] of entries) out.push(k, v);
    return void out.push('}');
  }
  const items = [...value].map((v) => encode(v)).sort();
  out.push('S', String(items.length), '[', ...items, ']');
}

function encodeBson(type: string, value: object, out: string[]): void {
  switch (type) {
    case 'ObjectId':
    case 'ObjectID':
      return part(out, 'O', (value as { toHexString(): string }).toHexString());
    case 'Decimal128':
      return part(out, 'd', canonicalDecimalText(String(value)));
    case 'Long':
      return part(out, 'd', String(value));
    case 'Int32':
    case 'Double':
      return part(out, 'd', canonicalNumber(Number((value as { valueOf(): number }).valueOf())));
    case 'Binary':
      return part(out, 'b', Buffer.from((value as { buffer: Uint8Array }).buffer).toString('base64'));
    case 'UUID':
      return part(out, 'U', (value as { toHexString(): string }).toHexString());
    default:
      return part(out, 'x', `${type}:${String(value)}`);
  }
}

/** Numbers as canonical text: integers without exponent where exact, `-0` as `0`. */
export function canonicalNumber(n: number): string {
  if (Object.is(n, -0)) return '0';
  if (!Number.isFinite(n)) return String(n);
  // Every integral double as exact digits, so a number and a bigint of the same value agree.
  if (Number.isInteger(n)) return BigInt(n).toString();
  return String(n);
}

function canonicalDecimalText(text: string): string {
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!match) return text;
  const [, sign, int = '', frac = ''] = match;
  const i = int.replace(/^0+(?=\d)/, '') || '0';
  const f = frac.replace(/0+$/, '');
  const body = f ? `${i}.${f}` : i;
  return body === '0' ? '0' : `${sign}${body}`;
}
