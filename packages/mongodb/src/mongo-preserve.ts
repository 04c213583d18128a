/**
 * Preserved copies on a MongoDB shard, for schema migrations' `preserve`. Documents are read with
 * `promoteValues: false` (Int32, Long, Double and Decimal128 stay BSON wrappers, Binary stays
 * Binary, regular expressions stay BSON regexes), so writing them again keeps every BSON type:
 *
 * - a whole collection is copied document for document and restored by inserting the documents
 *   (a document `down` already recreated with the same `_id` is replaced by the saved one);
 * - fields are copied as `{ _id, field… }` and restored by `_id` with `$set` (and `$unset` of the
 *   fields a document did not have, so a default `down` added does not stay).
 *
 * Writes go in chunks of at most 50 statements on FerretDB, whose v1.24 never answers larger
 * ones. Copies live in the same database under `preserveCopyName(migrationId, target)`; the
 * `mcp_preserved` collection says which migration each belongs to, and a copy counts only once
 * its entry is marked complete (there are no transactions to make it atomic).
 */
import type { AnyBulkWriteOperation, Db, Document, FindOptions } from 'mongodb';
import { ErrorCode, PRESERVE_CATALOG, PreserveError, preserveCopyName } from '@mcp/migrate-core/engine';
import type {
  PreservedCopy,
  PreserveRestoreOptions,
  PreserveSaveOptions,
  PreserveStore,
  PreserveTarget,
} from '@mcp/migrate-core/engine';
import { chunkedBulkWrite, writeChunkSize } from './internal/bulk-write.js';
import { DUPLICATE_KEY_CODE, isNotFound } from './mongo-errors.js';
import { STORED } from './internal/stored-form.js';

/** Documents read per cursor batch and written per round of chunks. */
const PAGE = 1_000;
/** Reads that keep BSON types as stored (the decoding of internal/stored-form.ts). */
const RAW_TYPES: FindOptions = { ...STORED, batchSize: PAGE };

interface CatalogDoc {
  _id: string;
  migrationId: string;
  target: string;
  fields: string[] | null;
  rows: number;
  createdAt: Date;
  complete: boolean;
}

export class MongoPreserveStore implements PreserveStore {
  readonly #db: () => Promise<Db>;
  readonly #shardId: string;

  constructor(db: () => Promise<Db>, shardId: string) {
    this.#db = db;
    this.#shardId = shardId;
  }

  async save(
    migrationId: string,
    targets: readonly PreserveTarget[],
    options: PreserveSaveOptions,
  ): Promise<PreservedCopy[]> {
    const db = await this.#db();
    const out: PreservedCopy[] = [];
    for (const target of targets) {
      if (options.signal?.aborted)
        throw new PreserveError(
          ErrorCode.Aborted,
          `Preserving for "${migrationId}" on shard "${this.#shardId}" was aborted`,
          { migrationId, shardId: this.#shardId },
        );
      out.push(await this.#saveOne(db, migrationId, target, options.reuse));
    }
    return out;
  }

  async restore(
    migrationId: string,
    targets: readonly PreserveTarget[],
    options: PreserveRestoreOptions = {},
  ): Promise<number> {
    const db = await this.#db();
    // Every copy is checked before anything is written.
    const entries = await Promise.all(targets.map((t) => this.#complete(db, migrationId, t)));
    let n = 0;
    for (const [i, target] of targets.entries()) {
      if (options.signal?.aborted)
        throw new PreserveError(
          ErrorCode.Aborted,
          `Restoring for "${migrationId}" on shard "${this.#shardId}" was aborted`,
          { migrationId, shardId: this.#shardId },
        );
      n += target.columns
        ? await this.#restoreFields(db, migrationId, target, entries[i]!)
        : await this.#restoreCollection(db, target, entries[i]!);
    }
    return n;
  }

  async drop(migrationId: string, targets?: readonly PreserveTarget[]): Promise<PreservedCopy[]> {
    const db = await this.#db();
    const filter: Document = { migrationId };
    if (targets) filter._id = { $in: targets.map((t) => preserveCopyName(migrationId, t)) };
    const entries = await db.collection<CatalogDoc>(PRESERVE_CATALOG).find(filter).toArray();
    for (const e of entries) {
      await db.dropCollection(e._id).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
      await db.collection<CatalogDoc>(PRESERVE_CATALOG).deleteOne({ _id: e._id });
    }
    return entries.map(toCopy);
  }

  async list(): Promise<PreservedCopy[]> {
    const db = await this.#db();
    const entries = await db.collection<CatalogDoc>(PRESERVE_CATALOG).find({}).sort({ createdAt: 1, _id: 1 }).toArray();
    return entries.map(toCopy);
  }

  // ---------------------------------------------------------------------------------------------

  async #saveOne(db: Db, migrationId: string, target: PreserveTarget, reuse: boolean): Promise<PreservedCopy> {
    const copy = preserveCopyName(migrationId, target);
    const catalog = db.collection<CatalogDoc>(PRESERVE_CATALOG);
    const existing = await catalog.findOne({ _id: copy });
    // A retry keeps the first attempt's copy: that attempt's `up` may have destroyed part of the target.
    if (reuse && existing?.complete) return toCopy(existing);
    const missing = await this.#missing(db, target);
    if (missing) {
      throw new PreserveError(
        ErrorCode.PreserveTarget,
        `Migration "${migrationId}": field "preserve": ${missing.problem} on shard "${this.#shardId}"; nothing was run`,
        {
          migrationId,
          shardId: this.#shardId,
          field: missing.field,
        },
      );
    }
    const entry: CatalogDoc = {
      _id: copy,
      migrationId,
      target: target.name,
      fields: target.columns ? [...target.columns] : null,
      rows: 0,
      createdAt: new Date(),
      complete: false,
    };
    await catalog.replaceOne({ _id: copy }, entry, { upsert: true });
    await db.dropCollection(copy).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    const projection = target.columns
      ? Object.fromEntries([['_id', 1], ...target.columns.map((f) => [f, 1])])
      : undefined;
    let rows = 0;
    await pages(db, target.name, projection, async (docs) => {
      await chunkedBulkWrite(
        db,
        copy,
        docs.map((document) => ({ insertOne: { document } })),
      );
      rows += docs.length;
    });
    await catalog.updateOne({ _id: copy }, { $set: { complete: true, rows } });
    return toCopy({ ...entry, rows, complete: true });
  }

  /** Why `target` cannot be copied, or `undefined`. A field no document has is a typo, unless the collection is empty. */
  async #missing(db: Db, target: PreserveTarget): Promise<{ problem: string; field: string } | undefined> {
    const found = await db.listCollections({ name: target.name }, { nameOnly: true }).toArray();
    if (found.length === 0) return { problem: `collection "${target.name}" does not exist`, field: target.name };
    const collection = db.collection(target.name);
    const empty = (await collection.findOne({}, { projection: { _id: 1 } })) === null;
    for (const f of target.columns ?? []) {
      const field = `${target.name}.${f}`;
      if (f === '_id')
        return { problem: `field "_id" of "${target.name}" is the key documents are restored by`, field };
      if (!empty && (await collection.findOne({ [f]: { $exists: true } }, { projection: { _id: 1 } })) === null) {
        return { problem: `no document of "${target.name}" has field "${f}"`, field };
      }
    }
    return undefined;
  }

  async #complete(db: Db, migrationId: string, target: PreserveTarget): Promise<CatalogDoc> {
    const copy = preserveCopyName(migrationId, target);
    const entry = await db.collection<CatalogDoc>(PRESERVE_CATALOG).findOne({ _id: copy, complete: true });
    const exists = entry && (await db.listCollections({ name: copy }, { nameOnly: true }).toArray()).length > 0;
    if (!entry || !exists) {
      throw new PreserveError(
        ErrorCode.PreserveMissing,
        `Rollback of "${migrationId}" on shard "${this.#shardId}": the preserved copy ${copy} of "${target.name}" is missing (purged?)`,
        {
          migrationId,
          shardId: this.#shardId,
          field: target.name,
        },
      );
    }
    return entry;
  }

  async #restoreCollection(db: Db, target: PreserveTarget, entry: CatalogDoc): Promise<number> {
    let n = 0;
    await pages(db, entry._id, undefined, async (docs) => {
      n += await insertOrReplace(db, target.name, docs);
    });
    return n;
  }

  async #restoreFields(db: Db, migrationId: string, target: PreserveTarget, entry: CatalogDoc): Promise<number> {
    const found = await db.listCollections({ name: target.name }, { nameOnly: true }).toArray();
    if (found.length === 0) {
      throw new PreserveError(
        ErrorCode.PreserveRestore,
        `Rollback of "${migrationId}" on shard "${this.#shardId}": collection "${target.name}" does not exist after "down"; the copy is kept`,
        {
          migrationId,
          shardId: this.#shardId,
          field: target.name,
        },
      );
    }
    const fields = target.columns!;
    let n = 0;
    await pages(db, entry._id, undefined, async (docs) => {
      const ops: AnyBulkWriteOperation<Document>[] = docs.map((doc) => {
        const set = Object.fromEntries(fields.filter((f) => Object.hasOwn(doc, f)).map((f) => [f, doc[f]]));
        const unset = Object.fromEntries(fields.filter((f) => !Object.hasOwn(doc, f)).map((f) => [f, '']));
        const update: Document = {};
        if (Object.keys(set).length) update.$set = set;
        if (Object.keys(unset).length) update.$unset = unset;
        return { updateOne: { filter: { _id: doc._id }, update } };
      });
      n += (await chunkedBulkWrite(db, target.name, ops)).matchedCount;
    });
    return n;
  }
}

/** Streams `collection` in `_id` order, as stored, `PAGE` documents at a time. */
async function pages(
  db: Db,
  collection: string,
  projection: Document | undefined,
  fn: (docs: Document[]) => Promise<void>,
): Promise<void> {
  const cursor = db.collection(collection).find({}, { ...RAW_TYPES, ...(projection ? { projection } : {}) });
  try {
    let page: Document[] = [];
    for await (const doc of cursor) {
      page.push(doc);
      if (page.length < PAGE) continue;
      await fn(page);
      page = [];
    }
    if (page.length) await fn(page);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

/**
 * Inserts `docs` in chunks; a document whose `_id` is already there (`down` recreated it) is
 * replaced by the saved one, so the collection ends as it was saved.
 */
async function insertOrReplace(db: Db, collection: string, docs: readonly Document[]): Promise<number> {
  const size = Math.min(await writeChunkSize(db), docs.length);
  let n = 0;
  for (let start = 0; start < docs.length; start += size) {
    const chunk = docs.slice(start, start + size);
    try {
      n += (
        await db.collection(collection).bulkWrite(
          chunk.map((document) => ({ insertOne: { document } })),
          { ordered: false },
        )
      ).insertedCount;
    } catch (error) {
      const raw = (error as { writeErrors?: unknown }).writeErrors;
      const failed = (Array.isArray(raw) ? raw : raw ? [raw] : []) as { index: number; code: number }[];
      if (failed.length === 0 || failed.some((w) => w.code !== DUPLICATE_KEY_CODE)) throw error;
      n += chunk.length - failed.length;
      const again = failed.map((w) => chunk[w.index]!);
      await chunkedBulkWrite(
        db,
        collection,
        again.map((d) => ({ replaceOne: { filter: { _id: d._id } as Document, replacement: d, upsert: true } })),
      );
      n += again.length;
    }
  }
  return n;
}

function toCopy(e: CatalogDoc): PreservedCopy {
  return {
    migrationId: e.migrationId,
    target: e.target,
    columns: e.fields,
    copy: e._id,
    rows: e.rows,
    createdAt: e.createdAt.toISOString(),
    complete: e.complete,
  };
}
