/**
 * The SDK's key order ({@link compareKeys}): MongoDB's BSON comparison order, and strings by code
 * point ({@link compareUtf8}), as `COLLATE "C"`.
 */

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
