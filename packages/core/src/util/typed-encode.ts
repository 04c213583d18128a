/**
 * The type-tagged encoding of values, for checksums and row comparison (see ./canonical.ts for the
 * type-normalised one used for key identity), and the stored form adapters attach to rows.
 */
import { collectionInto, part } from './canonical.js';

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
