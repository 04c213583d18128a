/**
 * The read of one batch loop (one direction of a data migration on one shard): a streaming reader
 * of the rows the batches work through (the target; its backup for a restore; see row-reader.ts),
 * kept open from batch to batch while it stands where the next batch starts. The batch read ahead
 * (read-ahead.ts) reads through it too, after the batch before it and never beside it.
 *
 * Re-opened from the batch's `after` (the last checkpoint) when it does not stand there (a
 * compare-and-set conflict cut the batch: the rows after the cut must come from the server again),
 * and when it is older than its age bound (a server may read a snapshot at open, and a row read
 * long ago is written back from a stale read); a new loop opens a new one (a resume, a retry after
 * an error: never trusted past a write that failed). Closed on every exit of the loop.
 */
import type { DataTarget, KeyValue, ShardAdapter } from '../engine/spi.js';
import { MIGRATOR_DEFAULTS } from '../run/defaults.js';
import { canonicalEncode } from '../util/canonical.js';
import { openCursor, RowReader, type SizeEstimate } from './row-reader.js';

/** Default byte bound of a batch's read (`throttle.maxBatchBytes`). */
export const DEFAULT_MAX_BATCH_BYTES: number = MIGRATOR_DEFAULTS.throttle.maxBatchBytes;
/** A reader is re-opened once older than this… */
export const MIN_READ_AGE_MS = 30_000;
/** …or than this many times what its first pull took, when that is longer (re-opening costs that much). */
export const OPEN_COST_FACTOR = 10;

export interface ScanSessionOptions {
  readonly shard: ShardAdapter;
  /** What the batches read: the migration's target, or its backup when restoring from it. */
  readonly main: DataTarget;
  /** A read stops once its rows' size passes this many bytes. */
  readonly maxBatchBytes: number;
  /** The upper bound of a parallel run's key range (inclusive): read by keyset scans bounded by it. */
  readonly to?: KeyValue | undefined;
  /** Clock, for tests. */
  readonly now?: () => number;
}

const sameKey = (a: KeyValue | undefined, b: KeyValue | undefined) =>
  a === undefined || b === undefined ? a === b : canonicalEncode(a) === canonicalEncode(b);

export class ScanSession {
  readonly #options: ScanSessionOptions;
  readonly #size: SizeEstimate = { average: undefined };
  #after: KeyValue | undefined;
  #rows: RowReader | undefined;
  #rowsOpenedAt = 0;

  constructor(options: ScanSessionOptions) {
    this.#options = options;
  }

  /**
   * Called before each batch with its `after`: the reader goes on when it stands there and is
   * fresh, else it is closed and the next read re-opens it at `after`.
   */
  async start(after: KeyValue | undefined): Promise<void> {
    this.#after = after;
    const rows = this.#rows;
    if (rows && (!sameKey(rows.position, after) || this.#stale(rows))) await this.reset();
    this.#rows?.mark();
  }

  /** Closes the reader; the next read opens a new one at the batch's `after`. */
  async reset(): Promise<void> {
    const open = this.#rows;
    this.#rows = undefined;
    await open?.close();
  }

  /** The reader standing at `after`, the start of a batch ({@link start}, then {@link rows}). */
  async at(after: KeyValue | undefined): Promise<RowReader> {
    await this.start(after);
    return this.rows;
  }

  /** The reader of the rows the batches work through, at the batch's `after` (opened on first use). */
  get rows(): RowReader {
    if (!this.#rows) {
      this.#rows = this.#open(this.#options.main);
      this.#rowsOpenedAt = this.#now();
    }
    return this.#rows;
  }

  /** Closes what is open; idempotent. */
  close(): Promise<void> {
    return this.reset();
  }

  #open(target: DataTarget): RowReader {
    const { shard, maxBatchBytes, to } = this.#options;
    return new RowReader(openCursor(shard, target, this.#after, to), target, this.#after, {
      maxBytes: maxBatchBytes,
      size: this.#size,
    });
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  #stale(reader: RowReader): boolean {
    const age = this.#now() - this.#rowsOpenedAt;
    return age > Math.max(MIN_READ_AGE_MS, OPEN_COST_FACTOR * (reader.firstPullMs ?? 0));
  }
}
