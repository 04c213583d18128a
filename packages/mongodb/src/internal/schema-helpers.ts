/**
 * Idempotent schema helpers for migrations: each can run twice (a step re-done after a crash, a
 * second runner) and leaves the same result. They use only what FerretDB v1.24 supports too.
 *
 * ### Examples
 * ```js
 * export default defineMigration({
 *   id: '0002-messages-indexes', engine: 'mongodb',
 *   up: async (db) => {
 *     await ensureCollection(db, 'messages');
 *     await ensureIndex(db, 'messages', { tenant_id: 1, conversation_id: 1, created_at: -1 });
 *     await ensureIndex(db, 'messages', { message_id: 1 }, { unique: true });
 *   },
 *   down: async (db) => dropCollectionIfExists(db, 'messages'),
 * });
 * ```
 */
import type { CreateIndexesOptions, Db, Document, IndexDescription, IndexSpecification } from 'mongodb';
import { canonicalEncode, ErrorCode, MigrateError } from '@mcp/migrate-core/engine';
import { isAlreadyExists, isNotFound } from '../mongo-errors.js';

/** An index key: field → `1`, `-1` (or `'text'`, `'hashed'`, `'2dsphere'` where the server has them). Field order matters. */
export type IndexKeys = Readonly<Record<string, 1 | -1 | 'text' | 'hashed' | '2dsphere'>>;

/** Creates collection `name` unless it exists. Returns `true` when it created it. */
export async function ensureCollection(db: Db, name: string): Promise<boolean> {
  try {
    await db.createCollection(name);
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) return false;
    throw error;
  }
}

/** Drops collection `name` if it exists. Returns `true` when it dropped it. */
export async function dropCollectionIfExists(db: Db, name: string): Promise<boolean> {
  const exists = (await db.listCollections({ name }, { nameOnly: true }).toArray()).length > 0;
  if (!exists) return false;
  try {
    await db.dropCollection(name);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Options compared when deciding whether an existing index equals the requested one. */
const COMPARED_OPTIONS = [
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'collation',
  'hidden',
] as const;

/**
 * Creates an index unless an equal one (same keys in the same order, same options) exists; returns
 * its name. An existing index on the same keys with OTHER options, or another index under the
 * requested name, is an error: silently keeping either would leave a schema different from the
 * migration's (FerretDB v1.24 does not report that conflict itself; MongoDB does, codes 85/86).
 */
export async function ensureIndex(
  db: Db,
  collection: string,
  keys: IndexKeys,
  options: CreateIndexesOptions = {},
): Promise<string> {
  const coll = db.collection(collection);
  const wanted = { ...options };
  const existing = await findIndex(db, collection, keys, wanted);
  if (existing) return existing;
  try {
    return await coll.createIndex(keys as IndexSpecification, wanted);
  } catch (error) {
    // Another runner created it meanwhile: accept it when it is equal.
    if (isAlreadyExists(error)) {
      const raced = await findIndex(db, collection, keys, wanted);
      if (raced) return raced;
    }
    throw error;
  }
}

/** The name of an existing index equal to the requested one; throws on a conflicting one; `undefined` when none. */
async function findIndex(
  db: Db,
  collection: string,
  keys: IndexKeys,
  options: CreateIndexesOptions,
): Promise<string | undefined> {
  const indexes = await listIndexes(db, collection);
  const byKeys = indexes.find((i) => sameKeys(i.key, keys));
  if (byKeys) {
    const differs = COMPARED_OPTIONS.filter(
      (o) => !sameOption(o, (byKeys as unknown as Record<string, unknown>)[o], (options as Record<string, unknown>)[o]),
    );
    if (differs.length === 0 && (options.name === undefined || options.name === byKeys.name)) return byKeys.name;
    const why = differs.length
      ? `different ${differs.map((d) => `"${d}"`).join(', ')}`
      : `another name ("${byKeys.name ?? ''}")`;
    throw new MigrateError(
      ErrorCode.MigrationFailed,
      `ensureIndex on "${collection}": index ${JSON.stringify(keys)} already exists with ${why}; drop it first (dropIndexIfExists) to change it`,
      { field: 'index' },
    );
  }
  const byName = options.name === undefined ? undefined : indexes.find((i) => i.name === options.name);
  if (byName) {
    throw new MigrateError(
      ErrorCode.MigrationFailed,
      `ensureIndex on "${collection}": an index named "${options.name}" already exists with other keys ${JSON.stringify(byName.key)}`,
      { field: 'index' },
    );
  }
  return undefined;
}

function sameOption(option: (typeof COMPARED_OPTIONS)[number], existing: unknown, wanted: unknown): boolean {
  switch (option) {
    case 'unique':
    case 'sparse':
    case 'hidden':
      return Boolean(existing) === Boolean(wanted);
    case 'expireAfterSeconds':
      return (
        (existing === undefined ? undefined : Number(existing)) === (wanted === undefined ? undefined : Number(wanted))
      );
    case 'collation':
      // The server expands a collation with defaults: compare the fields that were asked for.
      if (wanted === undefined) return existing === undefined;
      return (
        typeof existing === 'object' &&
        existing !== null &&
        Object.entries(wanted as Record<string, unknown>).every(
          ([k, v]) => canonicalEncode((existing as Record<string, unknown>)[k]) === canonicalEncode(v),
        )
      );
    default:
      return canonicalEncode(existing ?? null) === canonicalEncode(wanted ?? null);
  }
}

/** Drops an index by name or by key if it exists. Returns `true` when it dropped one. */
export async function dropIndexIfExists(db: Db, collection: string, index: string | IndexKeys): Promise<boolean> {
  const indexes = await listIndexes(db, collection);
  const found = indexes.find((i) => (typeof index === 'string' ? i.name === index : sameKeys(i.key, index)));
  if (!found?.name) return false;
  try {
    await db.collection(collection).dropIndex(found.name);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export interface RenameFieldOptions {
  /** Documents per `updateMany`. Default 1000. */
  readonly batchSize?: number | undefined;
  /** Only documents matching this filter as well. */
  readonly filter?: Readonly<Document> | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Renames field `from` to `to` in every document of `collection` with batched `$rename`s: each
 * batch picks the next `batchSize` document ids that still have `from` and renames them. Resumable
 * (a re-run finds only what is left) and idempotent. Returns how many documents it changed.
 */
export async function renameField(
  db: Db,
  collection: string,
  from: string,
  to: string,
  options: RenameFieldOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1_000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new MigrateError(ErrorCode.Definition, `renameField: field "batchSize": must be a positive integer`, {
      field: 'batchSize',
    });
  if (from === to) return 0;
  const coll = db.collection(collection);
  const pending = { ...options.filter, [from]: { $exists: true } };
  let renamed = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const ids = (
      await coll
        .find(pending, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(batchSize)
        .toArray()
    ).map((d) => d._id);
    if (ids.length === 0) return renamed;
    const { modifiedCount } = await coll.updateMany(
      { _id: { $in: ids }, [from]: { $exists: true } },
      { $rename: { [from]: to } },
    );
    if (modifiedCount === 0) {
      throw new MigrateError(
        ErrorCode.MigrationFailed,
        `renameField: renaming "${from}" to "${to}" in "${collection}" made no progress on ${ids.length} document(s)`,
      );
    }
    renamed += modifiedCount;
  }
}

async function listIndexes(db: Db, collection: string): Promise<IndexDescription[]> {
  try {
    return (await db.collection(collection).listIndexes().toArray()) as IndexDescription[];
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** Same fields in the same order with the same directions (a server may return `1` as a double). */
function sameKeys(a: unknown, b: IndexKeys): boolean {
  if (typeof a !== 'object' || a === null) return false;
  const ea = Object.entries(a as Record<string, unknown>);
  const eb = Object.entries(b);
  return (
    ea.length === eb.length &&
    ea.every(([k, v], i) => {
      const [kb, vb] = eb[i]!;
      return k === kb && (typeof vb === 'string' ? v === vb : Number(v) === vb);
    })
  );
}
