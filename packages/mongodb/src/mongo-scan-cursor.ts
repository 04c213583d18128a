/**
 * `MongoScanCursor`: the data store's streaming read (`DataStore.openScan`). ONE sorted `find` per
 * scan — `find(filter).sort(key).batchSize(…)`, read as raw BSON and decoded as `scan` decodes
 * (the promoted row, its stored form and its raw size attached) — where each keyset page
 * (`find({ _id: { $gt } }).sort().limit()`) is a new query: FerretDB v1.24 pushes neither the range
 * nor the sort down, so every page reads and sorts the whole collection, and a scan page by page
 * grows quadratically (20k documents in pages of 1,000: 14.5–17 s; one cursor: 1.6 s).
 *
 * Re-opened with `$gt` the last key it returned only when a read fails for a reason a retry may
 * cure (the server forgot an idle cursor, a connection dropped), once per failure; the batch engine
 * re-opens it from its checkpoint after anything else. FerretDB reads a snapshot when the cursor
 * opens; MongoDB reads each batch as it comes (a document changed after the cursor passed its key
 * is not seen either way).
 */
import type { Db, FindCursor } from 'mongodb';
import type { DataTarget, KeyValue, Row, ScanCursor } from '@mcp/migrate-core/engine';
import { errorCode, isRetryable } from './mongo-errors.js';
import { keyOf, keySort, rangeQuery } from './internal/keyset.js';
import { decodeRow, RAW_READ } from './internal/stored-form.js';

/**
 * Most documents per server batch (`find`/`getMore`). Each batch asks for what the caller's `next`
 * still needs, no more: the batch engine sizes its pulls by bytes (a first pull of 16 rows, then
 * what fits its byte bound), and FerretDB v1.24 does not end a batch at 16 MB as MongoDB does (40
 * documents of 1 MB come in one reply), so a fixed batch of 1,000 could hold a gigabyte.
 */
export const SCAN_CURSOR_BATCH = 1_000;

/** CursorNotFound: the server dropped a cursor left idle (10 minutes on MongoDB) or killed it. */
const CURSOR_NOT_FOUND = 43;

export class MongoScanCursor implements ScanCursor {
  readonly #db: () => Promise<Db>;
  readonly #target: DataTarget;
  /** Key of the last document returned (where a re-opened cursor starts). */
  #position: KeyValue | undefined;
  #cursor: FindCursor | undefined;
  #ended = false;

  constructor(db: () => Promise<Db>, target: DataTarget, after: KeyValue | undefined) {
    this.#db = db;
    this.#target = target;
    this.#position = after;
  }

  async next(limit: number): Promise<Row[]> {
    const out: Row[] = [];
    let retried = false;
    while (out.length < limit && !this.#ended) {
      const want = Math.min(limit - out.length, SCAN_CURSOR_BATCH);
      const cursor = this.#cursor ?? (this.#cursor = await this.#open(want));
      const buffered = cursor.readBufferedDocuments(limit - out.length) as unknown as Uint8Array[];
      if (buffered.length) {
        for (const bytes of buffered) this.#take(out, bytes);
        continue;
      }
      let bytes: Uint8Array | null;
      try {
        batchSizeOf(cursor, want);
        bytes = (await cursor.next()) as unknown as Uint8Array | null;
      } catch (error) {
        // Once per failure: a second one in a row is the caller's to handle.
        if (retried || !(isRetryable(error) || errorCode(error) === CURSOR_NOT_FOUND)) throw error;
        retried = true;
        await this.#drop();
        continue;
      }
      retried = false;
      if (bytes === null) {
        this.#ended = true;
        await this.#drop();
      } else this.#take(out, bytes);
    }
    return out;
  }

  async close(): Promise<void> {
    this.#ended = true;
    await this.#drop();
  }

  #take(out: Row[], bytes: Uint8Array): void {
    const row = decodeRow(bytes);
    out.push(row);
    this.#position = keyOf(this.#target.key, row);
  }

  /** The cursor from the position: everything after the last key returned, within the filter. */
  async #open(batchSize: number): Promise<FindCursor> {
    const db = await this.#db();
    const after = this.#position;
    const query = rangeQuery(this.#target.key, this.#target.filter, after ? { after } : undefined);
    return db
      .collection(this.#target.name)
      .find(query, RAW_READ)
      .sort(keySort(this.#target.key))
      .batchSize(batchSize) as unknown as FindCursor;
  }

  async #drop(): Promise<void> {
    const cursor = this.#cursor;
    this.#cursor = undefined;
    await cursor?.close().catch(() => undefined);
  }
}

/**
 * Sets the size of the cursor's next `getMore`. The driver reads it from the cursor's options at
 * each fetch but offers `batchSize()` only before the first; without that internal field (another
 * driver) the size chosen at open stays.
 */
function batchSizeOf(cursor: FindCursor, size: number): void {
  const options = (cursor as unknown as { cursorOptions?: { batchSize?: number } }).cursorOptions;
  if (options && typeof options === 'object') options.batchSize = Math.max(1, size);
}
