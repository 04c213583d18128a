/**
 * `MongoDataStore`: the documents of one shard, for the batch engine: keyset scans on the key (default `_id`,
 * composite keys by a compound sort) and one streaming cursor per scan (`openScan`), writes of only what a transform changed, idempotent bulk
 * upserts that fail loudly, first-copy-wins backups that keep raw BSON types and restore exactly
 * (a backup page is written back as stored, so MongoDB needs no `serverCopy`),
 * and counts and checksums per key range.
 *
 * Documents are read as raw BSON (see `internal/stored-form.ts`): transforms get the driver's usual promoted
 * values, while backups, restores, checksums and the untouched parts of a write use the document as
 * stored, so no BSON type changes on the way (Long stays Long, Double 1.0 stays Double).
 *
 * Checksums are computed in the client with core's `RowSetHash` over `typedEncode` of the stored
 * form, streaming through a cursor, so memory stays flat, the hash does not depend on field order,
 * and a type-only change (Int32 ↔ Long ↔ Double, Decimal128 scale) changes it (FerretDB has no
 * server-side hashing stage to lean on anyway).
 */
import type { AnyBulkWriteOperation, Db, Document } from 'mongodb';
import { assertBackupTarget, evenSplits, RowSetHash, typedEncode } from '@mcp/migrate-core/engine';
import type {
  DataStore,
  DataTarget,
  KeyRange,
  KeyValue,
  RangeChecksum,
  Row,
  RowPatch,
  ScanCursor,
  TargetInfo,
} from '@mcp/migrate-core/engine';
import { bulkFailure, chunkedBulkWrite, hasWriteErrors, type BulkCounts } from './internal/bulk-write.js';
import { DUPLICATE_KEY_CODE, errorCode, isNotFound } from './mongo-errors.js';
import { keyFilter, keySort, rangeQuery } from './internal/keyset.js';
import { inspectCollection } from './internal/inspect.js';
import { decodeRow, decodeStored, patchWrite, RAW_READ, storedDocument } from './internal/stored-form.js';
import { MongoServerUpdate } from './mongo-server-update.js';
import { MongoScanCursor } from './mongo-scan-cursor.js';

/** Documents per cursor batch when streaming a checksum. */
export const CHECKSUM_CURSOR_BATCH = 1_000;

export class MongoDataStore implements DataStore {
  readonly #db: () => Promise<Db>;
  readonly #shardId: string;
  /** Backup collections whose key index exists (only needed for keys other than `_id`). */
  readonly #indexedBackups = new Set<string>();

  /** `update` migrations, per key range in the server (see mongo-server-update.ts). */
  readonly serverUpdate: MongoServerUpdate;

  constructor(db: () => Promise<Db>, shardId: string) {
    this.#db = db;
    this.#shardId = shardId;
    this.serverUpdate = new MongoServerUpdate(db, shardId, this);
  }

  /** Whether the collection exists and the key is unique (see internal/inspect.ts). */
  async inspect(target: DataTarget): Promise<TargetInfo> {
    return inspectCollection(await this.#db(), target);
  }

  /** Documents as stored (raw BSON kept beside each, see internal/stored-form.ts); a missing backup has none. */
  async scan(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue): Promise<Row[]> {
    const db = await this.#db();
    const query = rangeQuery(target.key, target.filter, after || upTo ? { after, upTo } : undefined);
    const raw = (await db
      .collection(target.name)
      .find(query, RAW_READ)
      .sort(keySort(target.key))
      .limit(limit)
      .toArray()) as unknown as Uint8Array[];
    return raw.map(decodeRow);
  }

  /** Keys at even positions: a sorted, key-only `find` with `skip` per split (see `DataStore.splitKeys`). */
  async splitKeys(target: DataTarget, parts: number): Promise<KeyValue[]> {
    const collection = (await this.#db()).collection(target.name);
    const count = await collection.countDocuments(rangeQuery(target.key, target.filter, undefined));
    const keys: KeyValue[] = [];
    for (const at of evenSplits(count, parts)) {
      const [doc] = await collection
        .find(rangeQuery(target.key, target.filter, undefined), RAW_READ)
        .sort(keySort(target.key))
        .skip(at)
        .limit(1)
        .toArray();
      if (doc) keys.push(target.key.map((k) => decodeRow(doc as unknown as Uint8Array)[k]));
    }
    return keys;
  }

  /** One sorted cursor over the scan (see mongo-scan-cursor.ts): what `scan` would return page by page. */
  openScan(target: DataTarget, after: KeyValue | undefined): ScanCursor {
    return new MongoScanCursor(this.#db, target, after);
  }

  async count(target: DataTarget, range?: KeyRange): Promise<number> {
    const db = await this.#db();
    return db.collection(target.name).countDocuments(rangeQuery(target.key, target.filter, range));
  }

  async checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum> {
    const db = await this.#db();
    const hash = new RowSetHash(typedEncode);
    const cursor = db
      .collection(target.name)
      .find(rangeQuery(target.key, target.filter, range), RAW_READ)
      .batchSize(CHECKSUM_CURSOR_BATCH);
    try {
      for await (const bytes of cursor) hash.add(decodeStored(bytes as unknown as Uint8Array));
    } finally {
      await cursor.close();
    }
    return { count: hash.count, hash: hash.digest() };
  }

  /**
   * One unordered `bulkWrite` of `replaceOne(key, doc, { upsert: true })`, each document as stored
   * when it was read by this adapter (a backup page: so a restore brings back every BSON type),
   * else as given. Throws on any write error. Into a backup, see {@link #save}.
   */
  async write(target: DataTarget, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    if (target.backupOf) return this.#save(target, rows);
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
   * There is no compare-and-set on MongoDB: see docs/guides/mongodb.md ("Compare-and-set").
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
    const ops: AnyBulkWriteOperation<Document>[] = rows.map((row) => ({
      deleteOne: { filter: keyFilter(target.key, row) },
    }));
    return (await this.#bulk(target.name, ops, rows, target.key, 'remove')).deletedCount;
  }

  async drop(target: DataTarget): Promise<void> {
    assertBackupTarget(target, this.#shardId);
    const db = await this.#db();
    await db.dropCollection(target.name).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    this.#indexedBackups.delete(target.name);
  }

  /**
   * Saves originals into a backup, the first copy of a row winning, with unordered inserts into
   * the backup collection whose key is unique: a row already saved fails with E11000 and is counted
   * as saved (the saved copy is the original); any other write error fails the batch.
   *
   * Not `updateOne(key, { $setOnInsert: doc }, { upsert: true })`: FerretDB v1.24 drops top-level
   * `null` fields set by `$setOnInsert` (so the restore would not be exact), and there every
   * upsert scans the whole collection while an insert does not.
   */
  async #save(backup: DataTarget, rows: readonly Row[]): Promise<number> {
    await this.#ensureBackupIndex(backup);
    const db = await this.#db();
    try {
      // The document as stored, not its promoted JS form: the backup must keep every BSON type.
      const docs = rows.map((r) => ({ ...(storedDocument(r) ?? r) }));
      const result = await db.collection(backup.name).insertMany(docs, { ordered: false, ignoreUndefined: true });
      return result.insertedCount;
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.length === 0) throw error;
      const others = writeErrors.filter((w) => errorCode(w) !== DUPLICATE_KEY_CODE);
      if (others.length) throw bulkFailure(this.#shardId, backup.name, rows, backup.key, 'backup', error);
      const inserted = Number((error as { result?: { insertedCount?: unknown } }).result?.insertedCount ?? Number.NaN);
      return inserted + writeErrors.length;
    }
  }

  async #ensureBackupIndex(backup: DataTarget): Promise<void> {
    if (backup.key.length === 1 && backup.key[0] === '_id') return;
    if (this.#indexedBackups.has(backup.name)) return;
    const db = await this.#db();
    await db.collection(backup.name).createIndex(keySort(backup.key), { unique: true });
    this.#indexedBackups.add(backup.name);
  }

  async #bulk(
    collection: string,
    ops: AnyBulkWriteOperation<Document>[],
    rows: readonly Row[],
    key: readonly string[],
    what: string,
  ): Promise<BulkCounts> {
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
