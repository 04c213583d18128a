/**
 * `MongoServerUpdate`: the `serverUpdate` capability of a MongoDB shard — a data migration's
 * `update` (an update-operator document, or a pipeline where the server takes one) run by the
 * server with `updateMany` over each key range `(after, upTo]` within the migration's `filter`.
 *
 * Ranges are read from ONE sorted cursor per target (documents as stored, raw BSON), re-opened
 * with `$gt` only when the runner jumps (a resume, a retry) or the cursor is lost: so the reads
 * stay linear on FerretDB, where a keyset `find … sort … limit` scans the whole collection.
 *
 * Per range, with a backup: the saved originals of documents in the range are written back first
 * when there can be any (after a resume: a range applied but not checkpointed is rewritten from
 * its originals, never updated twice); the range's documents, as the cursor read them, are saved
 * (first copy wins); `updateMany` runs; the copies of documents whose stored bytes it did not
 * change are dropped. No transaction (FerretDB and standalone servers have none): an update that
 * fails half-way leaves its range partly updated, and the retry or the next run re-does the range
 * from its originals, so each document is still updated exactly once.
 *
 * `check` refuses `sql`, and an update the server refuses (FerretDB v1.24: any pipeline, "BSON
 * field 'update.updates.u' is the wrong type 'array'"), by a trial `updateMany` that matches
 * nothing, before anything is written.
 */
import { Buffer } from 'node:buffer';
import type { AnyBulkWriteOperation, Db, Document, FindCursor } from 'mongodb';
import { canonicalEncode, compareKeys, DefinitionError, MigrationFailedError } from '@mcp/migrate-core/engine';
import type {
  DataStore,
  DataTarget,
  KeyRange,
  KeyValue,
  ServerRange,
  ServerStatement,
  ServerUpdate,
} from '@mcp/migrate-core/engine';
import { chunkedBulkWrite } from './internal/bulk-write.js';
import { keyFilter, keySort, rangeQuery } from './internal/keyset.js';
import { decodeRow, decodeStored, RAW_READ } from './internal/stored-form.js';
import { classifyError, describe, errorCode } from './mongo-errors.js';

/** The open key-ordered cursor of a target, and where the last range it gave ended. */
interface Reader {
  readonly target: string;
  readonly cursor: FindCursor<Uint8Array>;
  /** Canonical key of the last document handed out (`''` before the first). */
  last: string;
  /** Canonical upper bound of the cursor (a parallel run's key range; `''`: none). */
  readonly bound: string;
  exhausted: boolean;
}

/** The documents of the last range read, kept for its backup (raw bytes, by canonical key). */
interface ReadRange {
  readonly target: string;
  readonly upTo: string;
  readonly docs: Map<string, Uint8Array>;
}

export class MongoServerUpdate implements ServerUpdate {
  readonly #db: () => Promise<Db>;
  readonly #shardId: string;
  readonly #store: DataStore;
  #reader: Reader | undefined;
  #read: ReadRange | undefined;
  /** Per target: the last range applied by this process, and up to which key saved originals may need writing back. */
  readonly #applied = new Map<string, { upTo: string; redoUntil: KeyValue | undefined }>();

  constructor(db: () => Promise<Db>, shardId: string, store: DataStore) {
    this.#db = db;
    this.#shardId = shardId;
    this.#store = store;
  }

  async check(target: DataTarget, statement: ServerStatement): Promise<void> {
    const field = statement.sql !== undefined ? 'sql' : 'update';
    const refuse = (why: string): never => {
      throw new DefinitionError(
        `Data migration "${target.migrationId ?? target.name}" on shard "${this.#shardId}": field "${field}": ${why}; nothing was applied`,
        { migrationId: target.migrationId, shardId: this.#shardId, field },
      );
    };
    if (statement.sql !== undefined) refuse('MongoDB runs "update" (update operators or a pipeline), not SQL');
    const db = await this.#db();
    const pipeline = Array.isArray(statement.update);
    try {
      // Matches nothing: the server parses the update and refuses what it does not take.
      await db.collection(target.name).updateMany({ _id: { $in: [] } }, statement.update as Document);
    } catch (error) {
      if (classifyError(error).retryable) throw error;
      const server = await db.command({ buildInfo: 1 }).catch(() => ({}) as Document);
      const who = typeof server.ferretdbVersion === 'string' ? `FerretDB ${server.ferretdbVersion}` : 'this server';
      refuse(
        pipeline
          ? `${who} does not take update pipelines (${describe(error)}); write it with update operators ($set, $unset, $inc, $rename, …)`
          : `${who} refuses this update (${describe(error)})`,
      );
    }
  }

  nextRange(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue) {
    return this.#next(target, { after, upTo }, limit, true);
  }

  async #next(
    target: DataTarget,
    range: KeyRange,
    limit: number,
    retry: boolean,
  ): Promise<{ upTo: KeyValue; rows: number } | undefined> {
    const reader = await this.#readerAt(target, range);
    const docs = new Map<string, Uint8Array>();
    let upTo: KeyValue | undefined;
    while (docs.size < limit && !reader.exhausted) {
      let bytes: Uint8Array | null;
      try {
        bytes = await reader.cursor.next();
      } catch (error) {
        // A cursor lost on the server (timed out while paused, a failover): re-opened at the next call.
        this.#reader = undefined;
        if (docs.size) break;
        if (!retry || !classifyError(error).retryable) throw error;
        return this.#next(target, range, limit, false);
      }
      if (bytes === null) {
        reader.exhausted = true;
        break;
      }
      const stored = decodeStored(bytes);
      upTo = target.key.map((k) => stored[k]);
      reader.last = canonicalEncode(upTo);
      docs.set(reader.last, bytes);
    }
    if (upTo === undefined) return undefined;
    this.#read = { target: target.name, upTo: canonicalEncode(upTo), docs };
    return { upTo, rows: docs.size };
  }

  async apply(target: DataTarget, range: ServerRange, statement: ServerStatement, backup: DataTarget | undefined) {
    const db = await this.#db();
    const collection = db.collection(target.name);
    const filter = rangeQuery(target.key, target.filter, range);
    try {
      if (backup) await this.#beforeUpdate(db, target, range, backup);
      const result = await collection.updateMany(filter, statement.update as Document);
      if (backup) await this.#dropUnchanged(db, target, range, backup);
      this.#applied.set(target.name, {
        upTo: canonicalEncode(range.upTo),
        redoUntil: this.#applied.get(target.name)?.redoUntil,
      });
      return { affected: result.modifiedCount };
    } catch (error) {
      // The range may be half-updated: the next apply looks for saved originals to write back.
      this.#applied.delete(target.name);
      throw new MigrationFailedError(
        `Data migration "${target.migrationId ?? target.name}" on shard "${this.#shardId}": the range up to ${JSON.stringify(range.upTo)} failed (${errorCode(error) !== undefined ? `code ${errorCode(error)}: ` : ''}${describe(error)}); the next attempt re-does it from its saved originals`,
        {
          migrationId: target.migrationId,
          shardId: this.#shardId,
          field: 'update',
          cause: error,
          retryable: classifyError(error).retryable,
        },
      );
    }
  }

  /** Writes back the saved originals in the range when there can be any, then saves the range's documents. */
  async #beforeUpdate(db: Db, target: DataTarget, range: ServerRange, backup: DataTarget): Promise<void> {
    const state = await this.#redoState(db, target, range, backup);
    if (state.redoUntil !== undefined) {
      const saved = (await db
        .collection(backup.name)
        .find(rangeQuery(target.key, undefined, range), RAW_READ)
        .toArray()) as unknown as Uint8Array[];
      const ops: AnyBulkWriteOperation<Document>[] = saved.map((bytes) => {
        const doc = decodeStored(bytes);
        return { replaceOne: { filter: keyFilter(target.key, doc), replacement: doc } };
      });
      if (ops.length) await chunkedBulkWrite(db, target.name, ops);
      if (compareKeys(range.upTo, state.redoUntil) >= 0) state.redoUntil = undefined;
    }
    const read = this.#read?.target === target.name && this.#read.upTo === canonicalEncode(range.upTo);
    const docs = read
      ? [...this.#read!.docs.values()]
      : ((await db
          .collection(target.name)
          .find(rangeQuery(target.key, target.filter, range), RAW_READ)
          .toArray()) as unknown as Uint8Array[]);
    // Re-done documents were just written back: their saved copy stands (first copy wins).
    await this.#store.write(backup, docs.map(decodeRow));
  }

  /**
   * Whether saved originals may lie in this range: only after a jump (a resume, a retry: the range
   * does not start where this process's last one ended), up to the last saved key past `after`.
   */
  async #redoState(db: Db, target: DataTarget, range: ServerRange, backup: DataTarget) {
    let state = this.#applied.get(target.name);
    const start = range.after ? canonicalEncode(range.after) : '';
    if (!state || state.upTo !== start) {
      const [last] = (await db
        .collection(backup.name)
        .find(rangeQuery(target.key, undefined, { after: range.after }), { projection: keySort(target.key) })
        .sort(Object.fromEntries(target.key.map((k) => [k, -1 as const])))
        .limit(1)
        .toArray()) as Document[];
      state = { upTo: start, redoUntil: last ? target.key.map((k) => last[k]) : undefined };
      this.#applied.set(target.name, state);
    }
    return state;
  }

  /** Drops the saved copies of the range's documents whose stored bytes the update left as they were. */
  async #dropUnchanged(db: Db, target: DataTarget, range: ServerRange, backup: DataTarget): Promise<void> {
    const saved = (await db
      .collection(backup.name)
      .find(rangeQuery(target.key, undefined, range), RAW_READ)
      .toArray()) as unknown as Uint8Array[];
    if (saved.length === 0) return;
    const now = new Map<string, Uint8Array>();
    const current = (await db
      .collection(target.name)
      .find(rangeQuery(target.key, undefined, range), RAW_READ)
      .toArray()) as unknown as Uint8Array[];
    for (const bytes of current) now.set(canonicalEncode(keyOf(target, bytes)), bytes);
    const unchanged = saved
      .filter((bytes) => {
        const after = now.get(canonicalEncode(keyOf(target, bytes)));
        return after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(bytes)) === 0;
      })
      .map((bytes) => keyOf(target, bytes));
    if (unchanged.length) await this.#store.remove(backup, unchanged);
  }

  /** The target's cursor, positioned after `range.after` up to `range.upTo` (re-opened unless it is exactly there). */
  async #readerAt(target: DataTarget, range: KeyRange): Promise<Reader> {
    const { after, upTo } = range;
    const at = after ? canonicalEncode(after) : '';
    const bound = upTo ? canonicalEncode(upTo) : '';
    const r = this.#reader;
    if (r && r.target === target.name && r.last === at && r.bound === bound && !r.exhausted) return r;
    await r?.cursor.close().catch(() => undefined);
    const db = await this.#db();
    const cursor = db
      .collection(target.name)
      .find(rangeQuery(target.key, target.filter, range), RAW_READ)
      .sort(keySort(target.key)) as unknown as FindCursor<Uint8Array>;
    this.#reader = { target: target.name, cursor, last: at, bound, exhausted: false };
    return this.#reader;
  }
}

const keyOf = (target: DataTarget, bytes: Uint8Array): KeyValue => {
  const doc = decodeStored(bytes);
  return target.key.map((k) => doc[k]);
};
