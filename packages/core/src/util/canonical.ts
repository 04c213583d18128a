/**
 * Canonical, length-prefixed, type-tagged encoding of JSON/BSON-like values, and the
 * order-independent row-set hash built on it.
 *
 * Plain concatenation collides (`'ab' + 'c'` = `'a' + 'bc'`; data-diff had such collisions), so
 * every value is written as `tag:length:bytes`. Types are normalised so that both sides of a
 * comparison agree: NULL and undefined are one marker, numbers are canonical text, dates are UTC
 * milliseconds, object fields are sorted by code point, ObjectIds and Decimal128 by their hex/text.
 */
import { createHash } from 'node:crypto';

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

function part(out: string[], tag: string, text: string): void {
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
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [canonicalEncode(k), canonicalEncode(v)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out.push('M', String(entries.length), '{');
    for (const [k, v] of entries) out.push(k, v);
    return void out.push('}');
  }
  if (value instanceof Set) {
    const items = [...value].map((v) => canonicalEncode(v)).sort();
    out.push('S', String(items.length), '[', ...items, ']');
    return;
  }
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

/** sha256 of a string, hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const MASK = (1n << 128n) - 1n;

/**
 * Order-independent hash of a multiset of rows: the sum modulo 2^128 of each row's sha256 (first
 * 128 bits). Sum rather than XOR, so that a duplicated row does not cancel out.
 */
export class RowSetHash {
  #sum = 0n;
  #count = 0;

  add(row: unknown): this {
    const digest = createHash('sha256').update(canonicalEncode(row)).digest();
    this.#sum = (this.#sum + BigInt(`0x${digest.subarray(0, 16).toString('hex')}`)) & MASK;
    this.#count += 1;
    return this;
  }

  get count(): number {
    return this.#count;
  }

  digest(): string {
    return this.#sum.toString(16).padStart(32, '0');
  }
}

/** Total order used for keys by the memory engine and by range splitting: mirrors adapters' order. */
export function compareKeys(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareScalar(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function rank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number' || typeof v === 'bigint') return 1;
  if (typeof v === 'string') return 2;
  if (typeof v === 'object' && typeof (v as { _bsontype?: unknown })._bsontype === 'string') return 3;
  if (v instanceof Date) return 4;
  return 5;
}

export function compareScalar(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (ra === 4) return (a as Date).getTime() - (b as Date).getTime();
  // Bytewise (code point) order, like COLLATE "C": both sides of a copy must agree on it.
  const sa = ra === 3 ? String((a as { toHexString?: () => string }).toHexString?.() ?? a) : String(a);
  const sb = ra === 3 ? String((b as { toHexString?: () => string }).toHexString?.() ?? b) : String(b);
  return compareUtf8(sa, sb);
}

/**
 * Orders strings by code point, which is the order of their UTF-8 bytes: what `COLLATE "C"`,
 * MongoDB and FerretDB use. Plain `<` compares UTF-16 code units, which puts U+E000–U+FFFF after
 * characters outside the BMP (emoji) and so disagrees with the databases.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (D800–DFFF) above E000–FFFF, so code units compare as code points do. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
