/**
 * Throttling of data migrations: a rows/s ceiling, adaptive batch size toward a time target, back-off
 * when the host's `pressure()` signal rises, and `pause()`/`resume()` shared by every running batch loop.
 */
import { MIGRATOR_DEFAULTS } from '../run/defaults.js';
import { abortError, sleep, throwIfAborted } from '../util/time.js';

export interface ThrottleOptions {
  /** Batch duration to aim for, in ms; batches grow when faster and halve when much slower. Default `500`. */
  readonly targetBatchMs?: number;
  /** Smallest batch the adaptation may choose. Default `10`. */
  readonly minBatchSize?: number;
  /** Largest batch the adaptation may choose (at least the migration's own `batchSize`). Default `10000`. */
  readonly maxBatchSize?: number;
  /**
   * Host-supplied load signal in [0, 1] (e.g. replication lag / budget). Above 0.5 the batch halves
   * and the loop waits `pressure × pressureBackoffMs` before the next batch. Default: none.
   */
  readonly pressure?: () => number | Promise<number>;
  /** The wait at full pressure, in ms (see `pressure`). Default `1000`. */
  readonly pressureBackoffMs?: number;
  /**
   * A batch's read stops early once its rows pass this many bytes (their size as read where the
   * adapter knows it, e.g. raw BSON, else an estimate), however many rows the batch size allows, so
   * a batch of large rows stays bounded in memory (at least one row is always read; a `groupBy`
   * group is read whole). Default `8388608` (8 MiB).
   */
  readonly maxBatchBytes?: number;
}

export const DEFAULT_TARGET_BATCH_MS: number = MIGRATOR_DEFAULTS.throttle.targetBatchMs;
const { minBatchSize: MIN_BATCH, maxBatchSize: MAX_BATCH, pressureBackoffMs: BACKOFF_MS } = MIGRATOR_DEFAULTS.throttle;

/** Pause switch shared by a migrator's batch loops. */
export class PauseGate {
  #paused = false;
  #waiters: (() => void)[] = [];

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves at once when not paused, else when resumed (or rejects on abort). */
  async wait(signal?: AbortSignal): Promise<void> {
    while (this.#paused) {
      throwIfAborted(signal);
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortError(signal!));
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }
}

/** What a batch loop paces itself with: a {@link BatchPacer}, or a parallel run's share of one. */
export interface Pacer {
  readonly size: number;
  readonly throttled: boolean;
  pace(signal?: AbortSignal): Promise<void>;
  record(rows: number, ms: number): void;
}

/** Chooses each batch's size and the pause before it. One per running migration per shard. */
export class BatchPacer implements Pacer {
  #size: number;
  readonly #min: number;
  readonly #max: number;
  readonly #target: number;
  readonly #maxRate: number | undefined;
  readonly #options: ThrottleOptions;
  #windowStart = Date.now();
  #windowRows = 0;
  throttled = false;

  constructor(initial: number, maxRowsPerSecond: number | undefined, options: ThrottleOptions = {}) {
    this.#options = options;
    this.#min = Math.max(1, options.minBatchSize ?? MIN_BATCH);
    // With a rate ceiling, a batch never holds more than one target period's worth of rows, so the
    // ceiling is kept batch by batch rather than only on average.
    const ceiling =
      maxRowsPerSecond === undefined
        ? Infinity
        : Math.max(1, Math.floor((maxRowsPerSecond * (options.targetBatchMs ?? DEFAULT_TARGET_BATCH_MS)) / 1000));
    this.#max = Math.max(this.#min, Math.min(ceiling, options.maxBatchSize ?? Math.max(MAX_BATCH, initial)));
    this.#size = Math.min(this.#max, Math.max(this.#min, initial));
    this.#target = options.targetBatchMs ?? DEFAULT_TARGET_BATCH_MS;
    this.#maxRate = maxRowsPerSecond;
  }

  get size(): number {
    return this.#size;
  }

  /** Records a finished batch and adapts the size: ×1.5 when under half the target, ½ when over twice it. */
  record(rows: number, ms: number): void {
    this.#windowRows += rows;
    if (ms < this.#target / 2) this.#size = Math.min(this.#max, Math.ceil(this.#size * 1.5));
    else if (ms > this.#target * 2) this.#size = Math.max(this.#min, Math.floor(this.#size / 2));
  }

  /**
   * Counts `rows` as read now (positive: a batch about to run; negative: giving that back before
   * {@link record}), so that concurrent ranges sharing this pacer see each other's batches.
   */
  reserve(rows: number): void {
    this.#windowRows = Math.max(0, this.#windowRows + rows);
  }

  /** Halves the batch after a failed attempt. */
  shrink(): void {
    this.#size = Math.max(this.#min, Math.floor(this.#size / 2));
  }

  /** Waits as long as the rate ceiling and the pressure signal ask for. */
  async pace(signal?: AbortSignal): Promise<void> {
    this.throttled = false;
    if (this.#maxRate !== undefined) {
      const elapsed = (Date.now() - this.#windowStart) / 1000;
      // Counts the coming batch too, so the rate measured right after it stays under the ceiling.
      const ahead = (this.#windowRows + this.#size) / this.#maxRate - elapsed;
      if (ahead > 0) {
        this.throttled = true;
        await sleep(ahead * 1000, signal);
      }
      if (elapsed > 5) {
        this.#windowStart = Date.now();
        this.#windowRows = 0;
      }
    }
    if (this.#options.pressure) {
      const p = Math.min(1, Math.max(0, Number(await this.#options.pressure()) || 0));
      if (p > 0.5) {
        this.throttled = true;
        this.#size = Math.max(this.#min, Math.floor(this.#size / 2));
        await sleep(p * (this.#options.pressureBackoffMs ?? BACKOFF_MS), signal);
      }
    }
  }
}
