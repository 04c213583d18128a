/**
 * The batch primitives of one shard for the batch engine: keyset scans on the key (default `_id`,
 * composite keys by a compound sort), writes of only what a transform changed, idempotent bulk
 * upserts that fail loudly, first-copy-wins backups that keep raw BSON types and restore exactly,
 * and counts and checksums per key range.
 *
 * Documents are read as raw BSON (see `stored-form.ts`): transforms get the driver's usual promoted
 * values, while backups, restores, checksums and the untouched parts of a write use the document as
 * stored, so no BSON type changes on the way (Long stays Long, Double 1.0 stays Double).
 *
 * Checksums are computed in the client with core's `RowSetHash` over `typedEncode` of the stored
 * form, streaming through a cursor, so memory stays flat, the hash does not depend on field order,
 * and a type-only change (Int32 ↔ Long ↔ Double, Decimal128 scale) changes it (FerretDB has no
 * server-side hashing stage to lean on anyway).
 */
import type { AnyBulkWriteOperation, BulkWriteResult, Db, Document } from 'mongodb';
import {
  canonicalEncode, MigrationFailedError, RowSetHash, typedEncode,
  type BatchStore, type DataTarget, type KeyRange, type KeyValue, type RangeChecksum, type Row, type RowPatch, type TargetInfo,
} from '@mcp/migrate-core';
import { describe, DUPLICATE_KEY_CODE, errorCode, isNotFound } from './mongo-errors.js';
import { keyFilter, keyOf, keySort, rangeQuery } from './keyset.js';
import { inspectCollection } from './mongo-inspect.js';
import { decodeRow, decodeStored, patchWrite, RAW_READ, storedDocument } from './stored-form.js';

/** Documents per cursor batch when streaming a checksum. */
export const CHECKSUM_CURSOR_BATCH = 1_000;

/**
 * Write statements per command on FerretDB: v1.24 (SQLite handler) never answers an `update` or
 * `delete` command with 100 or more statements (99 work), so bulk writes are sent in chunks there.
 * On MongoDB a bulk write is one `bulkWrite` call (the driver splits at `maxWriteBatchSize`).
 */
export const FERRETDB_WRITE_CHUNK = 50;

const chunkSizes = new WeakMap<object, Promise<number>>();

/** How many write statements to send per command to the server of `db` (cached per client). */
export function writeChunkSize(db: Db): Promise<number> {
  const key = (db as unknown as { client?: object }).client ?? db;
  let size = chunkSizes.get(key);
  if (!size) {
    size = db.command({ buildInfo: 1 }).then(
      (info) => (typeof info.ferretdbVersion === 'string' ? FERRETDB_WRITE_CHUNK : Number.POSITIVE_INFINITY),
      () => FERRETDB_WRITE_CHUNK,
    );
    chunkSizes.set(key, size);
  }
  return size;
}

/** Sums of the counts of the chunks of one logical bulk write. */
export interface BulkCounts {
  matchedCount: number;
  upsertedCount: number;
  deletedCount: number;
  insertedCount: number;
}

/**
 * One logical unordered bulk write, sent as one `bulkWrite` (MongoDB) or in chunks (FerretDB).
 * Throws what the driver throws, with `firstIndex` set to the chunk's offset so that the
 * `writeErrors[].index` of the error can be mapped back to `ops`.
 */
export async function chunkedBulkWrite(db: Db, collection: string, ops: AnyBulkWriteOperation<Document>[]): Promise<BulkCounts> {
  const size = await writeChunkSize(db);
  const total: BulkCounts = { matchedCount: 0, upsertedCount: 0, deletedCount: 0, insertedCount: 0 };
  for (let start = 0; start < ops.length; start += Math.min(size, ops.length)) {
    const chunk = size >= ops.length ? ops : ops.slice(start, start + size);
    let result: BulkWriteResult;
    try {
      result = await db.collection(collection).bulkWrite(chunk, { ordered: false, ignoreUndefined: true });
    } catch (error) {
      if (typeof error === 'object' && error !== null) Object.assign(error, { firstIndex: start });
      throw error;
    }
    total.matchedCount += result.matchedCount;
    total.upsertedCount += result.upsertedCount;
    total.deletedCount += result.deletedCount;
    total.insertedCount += result.insertedCount;
  }
  return total;
}

export class MongoBatchStore implements BatchStore {
  readonly #db: () => Promise<Db>;
  readonly #shardId: string;
  /** Backup collections whose key index exists (only needed for keys other than `_id`). */
  readonly #indexedBackups = new Set<string>();

  constructor(db: () => Promise<Db>, shardId: string) {
    this.#db = db;
    this.#shardId = shardId;
  }

  /** Whether the collection exists and the key is unique (see mongo-inspect.ts). */
  async inspect(target: DataTarget): Promise<TargetInfo> {
    return inspectCollection(await this.#db(), target);
  }

  async scan(target: DataTarget, after: KeyValue | undefined, limit: number): Promise<Row[]> {
    return this.#page(target.name, target.key, target.filter, after, limit);
  }

  /**
   * One unordered `bulkWrite` of `replaceOne(key, doc, { upsert: true })`, each document as stored
   * when it was read by this adapter (a backup page), else as given. Throws on any write error.
   */
  async write(target: DataTarget, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    const ops: AnyBulkWriteOperation<Document>[] = rows.map((row) => ({
      replaceOne: { filter: keyFilter(target.key, row), replacement: storedDocument(row) ?? row, upsert: true },
    }));
    const result = await this.#bulk(target.name, ops, rows, target.key, 'write');
    return result.matchedCount + result.upsertedCount;
  }

  /**
   * One unordered bulk of `updateOne(key, { $set: changed, $unset: dropped })`, with dotted paths
   * into changed sub-documents: fields the transform did not change are not sent, so they keep their
   * stored BSON types (see `patchWrite` for the cases that need a replacement). A document that no
   * longer exists is not brought back. Throws on any write error.
   *
   * There is no `writeIfUnchanged` on MongoDB: see docs/guides/mongodb.md ("Compare-and-set").
   */
  async update(target: DataTarget, patches: readonly RowPatch[]): Promise<number> {
    if (patches.length === 0) return 0;
    const rows = patches.map((p) => Object.fromEntries(target.key.map((k, i) => [k, p.key[i]])) as Row);
    const ops = patches.map((p) => patchWrite(target.key, p));
    const result = await this.#bulk(target.name, ops, rows, target.key, 'update');
    return result.matchedCount;
  }

  async remove(target: DataTarget, keys: readonly KeyValue[]): Promise<number> {
    if (keys.length === 0) return 0;
    const rows = keys.map((k) => Object.fromEntries(target.key.map((f, i) => [f, k[i]])) as Row);
    const ops: AnyBulkWriteOperation<Document>[] = rows.map((row) => ({ deleteOne: { filter: keyFilter(target.key, row) } }));
    return (await this.#bulk(target.name, ops, rows, target.key, 'remove')).deletedCount;
  }

  /**
   * Saves originals, the first copy of a row winning, with unordered inserts into the backup
   * collection whose key is unique: a row already saved fails with E11000 and is counted as saved
   * (the saved copy is the original); any other write error fails the batch.
   *
   * Not `updateOne(key, { $setOnInsert: doc }, { upsert: true })`: FerretDB v1.24 drops top-level
   * `null` fields set by `$setOnInsert` (so the restore would not be exact), and there every
   * upsert scans the whole collection while an insert does not.
   */
  async backupWrite(target: DataTarget, backup: string, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.#ensureBackupIndex(target, backup);
    const db = await this.#db();
    try {
      // The document as stored, not its promoted JS form: the backup must keep every BSON type.
      const docs = rows.map((r) => ({ ...(storedDocument(r) ?? r) }));
      const result = await db.collection(backup).insertMany(docs, { ordered: false, ignoreUndefined: true });
      return result.insertedCount;
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.length === 0) throw error;
      const others = writeErrors.filter((w) => errorCode(w) !== DUPLICATE_KEY_CODE);
      if (others.length) throw bulkFailure(this.#shardId, backup, rows, target.key, 'backup', error);
      const inserted = Number((error as { result?: { insertedCount?: unknown } }).result?.insertedCount ?? Number.NaN);
      return inserted + writeErrors.length;
    }
  }

  async backupScan(target: DataTarget, backup: string, after: KeyValue | undefined, limit: number): Promise<Row[]> {
    return this.#page(backup, target.key, undefined, after, limit);
  }

  /**
   * Restores the next `limit` saved originals after `after`: each saved document replaces the
   * current one by key (or comes back when it was deleted), decoded without promotion, so every
   * BSON type is restored. In chunks of at most 50 statements on FerretDB (see `chunkedBulkWrite`).
   */
  async backupRestore(target: DataTarget, backup: string, after: KeyValue | undefined, limit: number): Promise<{ restored: number; last: KeyValue | undefined }> {
    const db = await this.#db();
    const query = rangeQuery(target.key, undefined, after ? { after } : undefined);
    const raw = (await db.collection(backup).find(query, RAW_READ).sort(keySort(target.key)).limit(limit).toArray()) as unknown as Uint8Array[];
    if (raw.length === 0) return { restored: 0, last: undefined };
    const rows = raw.map(decodeRow);
    const ops: AnyBulkWriteOperation<Document>[] = raw.map((bytes, i) => ({
      replaceOne: { filter: keyFilter(target.key, rows[i]!), replacement: decodeStored(bytes), upsert: true },
    }));
    const result = await this.#bulk(target.name, ops, rows, target.key, 'restore');
    return { restored: result.matchedCount + result.upsertedCount, last: keyOf(target.key, rows.at(-1)!) };
  }

  async backupDrop(_target: DataTarget, backup: string): Promise<void> {
    const db = await this.#db();
    await db.dropCollection(backup).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    this.#indexedBackups.delete(backup);
  }

  async count(target: DataTarget, range?: KeyRange): Promise<number> {
    const db = await this.#db();
    return db.collection(target.name).countDocuments(rangeQuery(target.key, target.filter, range));
  }

  async checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum> {
    const db = await this.#db();
    const hash = new RowSetHash(typedEncode);
    const cursor = db.collection(target.name).find(rangeQuery(target.key, target.filter, range), RAW_READ).batchSize(CHECKSUM_CURSOR_BATCH);
    try {
      for await (const bytes of cursor) hash.add(decodeStored(bytes as unknown as Uint8Array));
    } finally {
      await cursor.close();
    }
    return { count: hash.count, hash: hash.digest() };
  }

  async #page(collection: string, key: readonly string[], filter: DataTarget['filter'], after: KeyValue | undefined, limit: number): Promise<Row[]> {
    const db = await this.#db();
    const query = rangeQuery(key, filter, after ? { after } : undefined);
    const raw = (await db.collection(collection).find(query, RAW_READ).sort(keySort(key)).limit(limit).toArray()) as unknown as Uint8Array[];
    return raw.map(decodeRow);
  }

  async #ensureBackupIndex(target: DataTarget, backup: string): Promise<void> {
    if (target.key.length === 1 && target.key[0] === '_id') return;
    if (this.#indexedBackups.has(backup)) return;
    const db = await this.#db();
    await db.collection(backup).createIndex(keySort(target.key), { unique: true });
    this.#indexedBackups.add(backup);
  }

  async #bulk(collection: string, ops: AnyBulkWriteOperation<Document>[], rows: readonly Row[], key: readonly string[], what: string): Promise<BulkCounts> {
    const db = await this.#db();
    try {
      return await chunkedBulkWrite(db, collection, ops);
    } catch (error) {
      // Write errors (a unique index violation, a validation failure) fail the batch for good; a
      // dropped connection is rethrown as is, for the migrator's retry (the write is idempotent).
      if (hasWriteErrors(error)) throw bulkFailure(this.#shardId, collection, rows, key, what, error);
      throw error;
    }
  }
}

function hasWriteErrors(error: unknown): boolean {
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  return Array.isArray(writeErrors) && writeErrors.length > 0;
}

/** A `MigrationFailedError` naming the keys whose writes failed (a network error names none). */
export function bulkFailure(shardId: string, collection: string, rows: readonly Row[], key: readonly string[], what: string, error: unknown): MigrationFailedError {
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  const offset = Number((error as { firstIndex?: unknown } | null)?.firstIndex ?? 0);
  const failed = Array.isArray(writeErrors)
    ? writeErrors.map((w: { index?: unknown }) => {
      const row = typeof w.index === 'number' ? rows[offset + w.index] : undefined;
      return row ? canonicalKey(key, row) : '?';
    })
    : [];
  const keys = failed.length ? `; failed key(s): ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ` and ${failed.length - 10} more` : ''}` : '';
  return new MigrationFailedError(
    `Bulk ${what} of ${rows.length} document(s) into "${collection}" on shard "${shardId}" failed${keys}: ${describe(error)}`,
    { shardId, cause: error, retryable: false },
  );
}

function canonicalKey(key: readonly string[], row: Row): string {
  const values = keyOf(key, row);
  return values.length === 1 ? stringify(values[0]) : `(${values.map(stringify).join(', ')})`;
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v && typeof v === 'object' && typeof (v as { toHexString?: unknown }).toHexString === 'function') return `ObjectId(${(v as { toHexString(): string }).toHexString()})`;
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? canonicalEncode(v) : String(v);
}
