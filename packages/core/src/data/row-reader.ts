/**
 * Reading rows in key order, as the batch engine does: through the adapter's streaming cursor
 * (`DataStore.openScan`) when the shard offers one, else through a cursor core builds on `scan`
 * (one keyset page per pull), so both go through the same code. A {@link RowReader} puts rows back
 * (a grouped batch reads one row ahead), knows the key it stands at, and bounds each read in bytes
 * as well as rows.
 */
import type { DataStore, DataTarget, KeyValue, Row, ScanCursor, ShardAdapter } from '../engine/spi.js';
import { rowSizeOf } from '../util/row-size.js';

const keyOf = (target: DataTarget, row: Row): KeyValue => target.key.map((k) => row[k]);

/** A cursor on `scan`: each pull is the page after the last key it returned. */
export function keysetCursor(
  store: DataStore,
  target: DataTarget,
  after: KeyValue | undefined,
  to?: KeyValue,
): ScanCursor {
  let position = after;
  let ended = false;
  return {
    async next(limit) {
      if (ended) return [];
      const rows = await store.scan(target, position, limit, to);
      if (rows.length < limit) ended = true;
      if (rows.length) position = keyOf(target, rows.at(-1)!);
      return rows;
    },
    async close() {
      ended = true;
    },
  };
}

/**
 * The shard's own cursor (capability `openScan`: flag AND method), else {@link keysetCursor}; a
 * key range of a parallel run (`to`) is read by keyset scans bounded by it.
 */
export function openCursor(
  shard: ShardAdapter,
  target: DataTarget,
  after: KeyValue | undefined,
  to?: KeyValue,
): ScanCursor {
  const data = shard.data;
  if (to === undefined && shard.capabilities.openScan && typeof data.openScan === 'function')
    return data.openScan(target, after);
  return keysetCursor(data, target, after, to);
}

/**
 * Rows pulled from a fresh reader before the row size is known: bounds the first pull in bytes
 * when rows are large (16 rows of 1 MB), and is more than the batches of most small tables.
 */
export const PROBE_ROWS = 16;

/** What readers of one batch loop share: the average row size seen so far (bytes). */
export interface SizeEstimate {
  average: number | undefined;
}

export class RowReader {
  readonly #cursor: ScanCursor;
  readonly #target: DataTarget;
  readonly #maxBytes: number;
  readonly #size: SizeEstimate;
  /** Rows read and put back, in key order: handed out first. */
  #buffer: Row[] = [];
  #ended = false;
  /** The key before the first row of {@link #trail}. */
  #base: KeyValue | undefined;
  /** Rows handed out since {@link mark} (what `unread` may put back). */
  #trail: Row[] = [];
  /** How long the first pull took: the server's cost of opening the read. */
  firstPullMs: number | undefined;

  constructor(cursor: ScanCursor, target: DataTarget, after: KeyValue | undefined, bounds: ReaderBounds) {
    this.#cursor = cursor;
    this.#target = target;
    this.#base = after;
    this.#maxBytes = bounds.maxBytes;
    this.#size = bounds.size;
  }

  /** Key of the last row handed out and not put back (the open position before any). */
  get position(): KeyValue | undefined {
    const last = this.#trail.at(-1);
    return last ? keyOf(this.#target, last) : this.#base;
  }

  /** Nothing is left: the cursor ended and no row was put back. */
  get done(): boolean {
    return this.#ended && this.#buffer.length === 0;
  }

  /** Forgets the rows handed out so far: they can no longer be put back. */
  mark(): void {
    this.#base = this.position;
    this.#trail = [];
  }

  /**
   * The next rows after {@link position}: at most `limit`, fewer at the end or once their size
   * passes the byte bound (never fewer than one row while any is left). Rows put back come first.
   */
  async read(limit: number): Promise<Row[]> {
    const out: Row[] = [];
    let bytes = 0;
    /** Takes rows from the front of `from` while the read is open; returns how many it took. */
    const take = (from: readonly Row[]): number => {
      let n = 0;
      while (n < from.length && out.length < limit && (out.length === 0 || bytes < this.#maxBytes)) {
        bytes += rowSizeOf(from[n]!);
        out.push(from[n++]!);
      }
      return n;
    };
    this.#buffer.splice(0, take(this.#buffer));
    while (out.length < limit && bytes < this.#maxBytes && !this.#ended) {
      const average = this.#size.average;
      const budget = average === undefined ? PROBE_ROWS : Math.ceil((this.#maxBytes - bytes) / Math.max(1, average));
      const want = Math.max(1, Math.min(limit - out.length, budget));
      const t0 = Date.now();
      const rows = await this.#cursor.next(want);
      this.firstPullMs ??= Date.now() - t0;
      if (rows.length < want) this.#ended = true;
      if (rows.length) {
        const mean = rows.reduce((sum, row) => sum + rowSizeOf(row), 0) / rows.length;
        // The running estimate follows the table: the latest pull weighs as much as all before it.
        this.#size.average = average === undefined ? mean : (average + mean) / 2;
      }
      // Rows past the byte bound (a first pull, before the size was known) wait for the next read.
      this.#buffer.unshift(...rows.slice(take(rows)));
    }
    this.#trail.push(...out);
    return out;
  }

  /**
   * Puts back `rows`, the last rows handed out (in their order), to be read again first; the
   * position moves back to the row before them.
   */
  unread(rows: readonly Row[]): void {
    if (rows.length === 0) return;
    const from = this.#trail.length - rows.length;
    if (from < 0 || rows.some((row, i) => this.#trail[from + i] !== row))
      throw new Error('RowReader.unread: only the last rows read can be put back, in their order');
    this.#trail.length = from;
    this.#buffer.unshift(...rows);
  }

  close(): Promise<void> {
    this.#ended = true;
    this.#buffer = [];
    return this.#cursor.close();
  }
}

export interface ReaderBounds {
  /** A read stops once its rows' size passes this (bytes). */
  readonly maxBytes: number;
  readonly size: SizeEstimate;
}
