/**
 * Canonical, length-prefixed encodings of JSON/BSON-like values, and the order-independent row-set
 * hash built on them. Plain concatenation collides (`'ab' + 'c'` = `'a' + 'bc'`; data-diff had such
 * collisions), so every value is written as `tag:length:bytes`.
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
function collectionInto(
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

/**
 * Type-tagged encoding for checksums: unlike {@link canonicalEncode}, nothing is normalised except
 * object field order. JS numbers (`N`), bigints (`I`) and each BSON numeric type (`i` Int32, `l`
 * Long, `f` Double, `m` Decimal128) have their own tag and exact text, `-0` included; Binary keeps
 * its subtype; Dates their milliseconds; Timestamps both halves; regular expressions their flags.
 * Adapters hash values as stored (MongoDB: read without promoting numbers), so equal digests mean
 * equal types as well as equal values.
 */
export function typedEncode(value: unknown): string {
  const out: string[] = [];
  typedInto(value, out);
  return out.join('');
}

function exactNumber(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

function typedInto(value: unknown, out: string[]): void {
  if (value === null || value === undefined) return void out.push('n;');
  switch (typeof value) {
    case 'string':
      return part(out, 's', value);
    case 'boolean':
      return void out.push(value ? 't;' : 'f;');
    case 'number':
      return part(out, 'N', exactNumber(value));
    case 'bigint':
      return part(out, 'I', value.toString());
    case 'object':
      break;
    default:
      return part(out, 'x', String(value));
  }
  if (value instanceof Date) return part(out, 'D', String(value.getTime()));
  if (Array.isArray(value)) {
    out.push('a', String(value.length), '[');
    for (const item of value) typedInto(item, out);
    return void out.push(']');
  }
  if (value instanceof Uint8Array) return part(out, 'b', Buffer.from(value).toString('base64'));
  if (value instanceof RegExp) return part(out, 'R', `${value.source}/${value.flags}`);
  if (value instanceof Map || value instanceof Set) return collectionInto(value, out, typedEncode);
  const bsonType = (value as { _bsontype?: unknown })._bsontype;
  if (typeof bsonType === 'string') return typedBson(bsonType, value, out);
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  // Another class's instance: its class name is part of its type.
  if (proto !== Object.prototype && proto !== null) part(out, 'c', proto.constructor?.name ?? '?');
  typedFields(value as Record<string, unknown>, out);
}

function typedFields(value: Record<string, unknown>, out: string[]): void {
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  out.push('o', String(entries.length), '{');
  for (const [k, v] of entries) {
    part(out, 'k', k);
    typedInto(v, out);
  }
  out.push('}');
}

function typedBson(type: string, value: object, out: string[]): void {
  const v = value as Record<string, unknown> & { toString(): string };
  switch (type) {
    case 'ObjectId':
    case 'ObjectID':
      return part(out, 'O', (value as { toHexString(): string }).toHexString());
    case 'Int32':
      return part(out, 'i', String(Number(v.valueOf())));
    case 'Double':
      return part(out, 'f', exactNumber(Number(v.valueOf())));
    case 'Long':
      return part(out, 'l', `${String(value)}${v.unsigned === true ? 'u' : ''}`);
    case 'Decimal128':
      // toString() is exact: it keeps the scale ("1.50") and the sign of zero ("-0").
      return part(out, 'm', String(value));
    case 'Binary':
    case 'UUID': {
      // `position` is the length in use: the buffer of a Binary built by `put` may be larger.
      const bin = value as { sub_type?: number; buffer?: Uint8Array; position?: number };
      const bytes = bin.buffer ?? new Uint8Array();
      const used = typeof bin.position === 'number' ? bytes.subarray(0, bin.position) : bytes;
      return part(out, 'B', `${bin.sub_type ?? 0}:${Buffer.from(used).toString('base64')}`);
    }
    case 'Timestamp': {
      const ts = value as { t?: number; i?: number; high?: number; low?: number };
      return part(out, 'T', ts.t !== undefined ? `${ts.t}:${ts.i}` : `${ts.high}:${ts.low}`);
    }
    case 'BSONRegExp':
      return part(out, 'R', `${String(v.pattern)}/${String(v.options)}`);
    case 'MinKey':
    case 'MaxKey':
      return part(out, 'K', type);
    default: {
      // Code, DBRef, BSONSymbol, …: the type name, then the value's enumerable fields.
      part(out, 'X', type);
      const fields =
        typeof (value as { toJSON?: unknown }).toJSON === 'function'
          ? (value as { toJSON(): unknown }).toJSON()
          : { ...v };
      return typedInto(fields, out);
    }
  }
}

const STORED_FORM = Symbol.for('@mcp/migrate.storedForm');

/**
 * Attaches to a row the form in which it is stored, when the JS values an adapter hands out hide it
 * (MongoDB: a document read without promoting Int32/Long/Double to JS numbers). The form is computed
 * once, on first use. Kept as a non-enumerable symbol property, so copies, spreads, JSON and
 * transforms never see it, and found across copies of this package (a global symbol).
 */
export function attachStoredForm<T extends object>(row: T, form: () => unknown): T {
  let cached: { value: unknown } | undefined;
  const get = () => (cached ??= { value: form() }).value;
  Object.defineProperty(row, STORED_FORM, { value: get, enumerable: false, configurable: true });
  return row;
}

/** The stored form attached to `row` by its adapter, else `row` itself. */
export function storedFormOf(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return row;
  const get = (row as { [STORED_FORM]?: unknown })[STORED_FORM];
  return typeof get === 'function' ? (get as () => unknown)() : row;
}

/** sha256 of a string, hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const MASK = (1n << 128n) - 1n;

/**
 * Order-independent hash of a multiset of rows: the sum modulo 2^128 of each row's sha256 (first
 * 128 bits). Sum rather than XOR, so that a duplicated row does not cancel out.
 *
 * Each row is encoded with `encode`: {@link canonicalEncode} by default (type-normalised), or
 * {@link typedEncode} for a checksum that sees types (`new RowSetHash(typedEncode)`), which the
 * MongoDB and memory adapters use.
 */
export class RowSetHash {
  #sum = 0n;
  #count = 0;
  readonly #encode: (row: unknown) => string;

  constructor(encode: (row: unknown) => string = canonicalEncode) {
    this.#encode = encode;
  }

  add(row: unknown): this {
    const digest = createHash('sha256').update(this.#encode(row)).digest();
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

/**
 * The SDK's key order: MongoDB's BSON comparison order, which every built-in engine agrees with on
 * the values its keys hold (a PostgreSQL key column has one type; strings by code point, as
 * `COLLATE "C"`). Types first — null < numbers (number, bigint, Long, Int32, Double, Decimal128,
 * compared by value) < strings < objects < arrays < binary < ObjectId < booleans < dates <
 * timestamps < regular expressions — then values within the type. It is the default
 * `EngineAdapter.compareKeys` and the memory engine's order.
 */
export function compareKeys(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareScalar(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** BSON type brackets, in comparison order. */
const Rank = {
  Null: 0,
  Number: 1,
  String: 2,
  Object: 3,
  Array: 4,
  Binary: 5,
  ObjectId: 6,
  Boolean: 7,
  Date: 8,
  Timestamp: 9,
  RegExp: 10,
  Other: 11,
} as const;
type Rank = (typeof Rank)[keyof typeof Rank];

const bsonType = (v: object): unknown => (v as { _bsontype?: unknown })._bsontype;

function rank(v: unknown): Rank {
  if (v === null || v === undefined) return Rank.Null;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return Rank.Number;
    case 'string':
      return Rank.String;
    case 'boolean':
      return Rank.Boolean;
    case 'object':
      break;
    default:
      return Rank.Other;
  }
  if (v instanceof Date) return Rank.Date;
  if (v instanceof RegExp) return Rank.RegExp;
  if (Array.isArray(v)) return Rank.Array;
  if (v instanceof Uint8Array) return Rank.Binary;
  switch (bsonType(v)) {
    case undefined:
      return Rank.Object;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return Rank.Number;
    case 'Binary':
    case 'UUID':
      return Rank.Binary;
    case 'ObjectId':
    case 'ObjectID':
      return Rank.ObjectId;
    case 'Timestamp':
      return Rank.Timestamp;
    case 'BSONRegExp':
      return Rank.RegExp;
    default:
      return Rank.Other;
  }
}

/** A number-like value as a number or (integers beyond 2^53) a bigint, for ordering. */
function numeric(v: unknown): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  const type = bsonType(v as object);
  if (type === 'Long') return BigInt(String(v));
  if (type === 'Decimal128') return Number(String(v));
  return Number((v as { valueOf(): unknown }).valueOf());
}

/** The bytes of a binary value, and its BSON subtype (0 for plain bytes). */
function bytesOf(v: unknown): { bytes: Uint8Array; subtype: number } {
  if (v instanceof Uint8Array) return { bytes: v, subtype: 0 };
  const b = v as { buffer?: Uint8Array; sub_type?: number; position?: number };
  const bytes = b.buffer instanceof Uint8Array ? b.buffer.subarray(0, b.position ?? b.buffer.length) : new Uint8Array();
  return { bytes, subtype: b.sub_type ?? 0 };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** BSON object order: field by field (type, then name, then value), then the shorter first. */
function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ea = Object.entries(a).filter(([, v]) => v !== undefined);
  const eb = Object.entries(b).filter(([, v]) => v !== undefined);
  for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
    const [ka, va] = ea[i]!;
    const [kb, vb] = eb[i]!;
    const c = rank(va) - rank(vb) || compareUtf8(ka, kb) || compareScalar(va, vb);
    if (c !== 0) return c;
  }
  return ea.length - eb.length;
}

const sign = (x: number | bigint, y: number | bigint): number => (x < y ? -1 : x > y ? 1 : 0);

/** One key value against another, in the order of {@link compareKeys}. */
export function compareScalar(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case Rank.Null:
      return 0;
    case Rank.Number:
      return sign(numeric(a), numeric(b));
    case Rank.String:
      // Bytewise (code point) order, like COLLATE "C": both sides of a copy must agree on it.
      return compareUtf8(a as string, b as string);
    case Rank.Object:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
    case Rank.Array:
      return compareKeys(a as unknown[], b as unknown[]);
    case Rank.Binary: {
      // BSON: the shorter first, then the subtype, then the bytes.
      const x = bytesOf(a);
      const y = bytesOf(b);
      return x.bytes.length - y.bytes.length || x.subtype - y.subtype || compareBytes(x.bytes, y.bytes);
    }
    case Rank.ObjectId:
      return compareUtf8(hexOf(a), hexOf(b));
    case Rank.Boolean:
      return Number(a) - Number(b);
    case Rank.Date:
      return sign((a as Date).getTime(), (b as Date).getTime());
    case Rank.Timestamp:
      return sign(BigInt(String(a)), BigInt(String(b)));
    default:
      return compareUtf8(String(a), String(b));
  }
}

const hexOf = (v: unknown): string => String((v as { toHexString?: () => string }).toHexString?.() ?? v);

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
