/**
 * Keyset predicates over a (possibly composite) key, for scans, counts and checksums of a key range.
 *
 * MongoDB compares values of different BSON types by "type bracketing": `{ _id: { $gt: 5 } }`
 * matches only numbers, although a sort puts strings and ObjectIds after every number. So "after
 * key k" is `k' > k within k's type, OR k' of a type that sorts later`, and likewise for "up to".
 * Without this, a collection whose `_id`s mix numbers, strings and ObjectIds would lose every
 * document of a type other than the first batch's (FerretDB v1.24 brackets the same way).
 */
import type { Filter } from 'mongodb';
import type { KeyRange, KeyValue } from '@mcp/migrate-core/engine';

type Doc = Record<string, unknown>;

/**
 * BSON types in MongoDB's comparison order, by the `$type` aliases both MongoDB and FerretDB v1.24
 * accept (FerretDB rejects `minKey`, `maxKey`, `symbol`, `decimal`, `javascript`; none of those is
 * a sensible key).
 */
const TYPE_ORDER = [
  'null',
  'number',
  'string',
  'object',
  'array',
  'binData',
  'objectId',
  'bool',
  'date',
  'timestamp',
  'regex',
] as const;
type TypeAlias = (typeof TYPE_ORDER)[number];

/** The `$type` alias of a JS/BSON value as the driver serialises it. */
export function bsonTypeOf(value: unknown): TypeAlias {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    default:
      break;
  }
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'binData';
  const bson = (value as { _bsontype?: unknown })._bsontype;
  switch (bson) {
    case 'ObjectId':
    case 'ObjectID':
      return 'objectId';
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 'number';
    case 'Binary':
    case 'UUID':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    default:
      return 'object';
  }
}

function typesAfter(value: unknown): TypeAlias[] {
  return TYPE_ORDER.slice(TYPE_ORDER.indexOf(bsonTypeOf(value)) + 1);
}

function typesBefore(value: unknown): TypeAlias[] {
  return TYPE_ORDER.slice(0, TYPE_ORDER.indexOf(bsonTypeOf(value)));
}

/** `field > value` in sort order, across types. */
function greater(field: string, value: unknown): Doc {
  const later = typesAfter(value);
  const alternatives: Doc[] = [];
  if (bsonTypeOf(value) !== 'null') alternatives.push({ [field]: { $gt: value } });
  if (later.length) alternatives.push({ [field]: { $type: later } });
  if (alternatives.length === 0) return { [field]: { $in: [] } };
  return alternatives.length === 1 ? alternatives[0]! : { $or: alternatives };
}

/** `field < value` in sort order, across types (a missing field sorts as null). */
function less(field: string, value: unknown): Doc {
  const earlier = typesBefore(value);
  const alternatives: Doc[] = [];
  if (bsonTypeOf(value) !== 'null') alternatives.push({ [field]: { $lt: value } });
  for (const t of earlier) alternatives.push(t === 'null' ? { [field]: null } : { [field]: { $type: [t] } });
  if (alternatives.length === 0) return { [field]: { $in: [] } };
  return alternatives.length === 1 ? alternatives[0]! : { $or: alternatives };
}

function equal(field: string, value: unknown): Doc {
  return { [field]: value === undefined ? null : value };
}

/**
 * Rows whose key is strictly greater than `after` (lexicographic over the key fields):
 * `k1 > a1 OR (k1 = a1 AND k2 > a2) OR …`.
 */
export function afterKey(key: readonly string[], after: KeyValue): Doc {
  return lexicographic(key, after, greater, false);
}

/** Rows whose key is less than or equal to `upTo`. */
export function upToKey(key: readonly string[], upTo: KeyValue): Doc {
  return lexicographic(key, upTo, less, true);
}

function lexicographic(
  key: readonly string[],
  bound: KeyValue,
  strict: (f: string, v: unknown) => Doc,
  inclusive: boolean,
): Doc {
  if (bound.length !== key.length) {
    throw new TypeError(
      `key bound has ${bound.length} value(s) for a key of ${key.length} field(s) (${key.join(', ')})`,
    );
  }
  const branches: Doc[] = [];
  for (let i = 0; i < key.length; i++) {
    const prefix = key.slice(0, i).map((f, j) => equal(f, bound[j]));
    branches.push(and([...prefix, strict(key[i]!, bound[i])]));
  }
  if (inclusive) branches.push(and(key.map((f, j) => equal(f, bound[j]))));
  return branches.length === 1 ? branches[0]! : { $or: branches };
}

/** Conjunction of query documents, flattening the trivial cases. */
export function and(parts: readonly (Doc | undefined)[]): Doc {
  const present = parts.filter((p): p is Doc => p !== undefined && Object.keys(p).length > 0);
  if (present.length === 0) return {};
  if (present.length === 1) return present[0]!;
  return { $and: present };
}

/** The query of a key range `(after, upTo]`, within an optional filter. */
export function rangeQuery(
  key: readonly string[],
  filter: Readonly<Doc> | undefined,
  range: KeyRange | undefined,
): Filter<Doc> {
  return and([
    filter ? { ...filter } : undefined,
    range?.after ? afterKey(key, range.after) : undefined,
    range?.upTo ? upToKey(key, range.upTo) : undefined,
  ]) as Filter<Doc>;
}

/** Ascending sort on the key fields. */
export function keySort(key: readonly string[]): Record<string, 1> {
  return Object.fromEntries(key.map((k) => [k, 1 as const]));
}

/** Equality filter selecting one document by its key. */
export function keyFilter(key: readonly string[], row: Readonly<Doc>): Doc {
  return Object.fromEntries(key.map((k) => [k, row[k] ?? null]));
}

/** The key value of a row. */
export function keyOf(key: readonly string[], row: Readonly<Doc>): unknown[] {
  return key.map((k) => row[k]);
}
