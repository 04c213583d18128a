/**
 * Preparing the next batch while the current one is written: one batch read and transformed
 * ahead, so that the scan's round trip and the transform's CPU time hide behind the write (on
 * PostgreSQL the read and the write run on two connections of the pool). Only where writes are
 * compare-and-set: a row read ahead that changes before its batch is written is then a conflict,
 * read again, never overwritten. A prepared batch is used only by the batch that starts exactly
 * where it was read from; anything else (a conflict cut the batch short, a pause) discards it.
 */
import type { KeyValue } from '../engine/spi.js';
import { canonicalEncode } from '../util/canonical.js';
import type { PreparedBatch } from './batch-step.js';

/** A batch prepared ahead: the batch size it was read with, and the preparation. */
export interface PendingBatch {
  readonly size: number;
  readonly prepared: Promise<PreparedBatch>;
}

export class ReadAhead {
  #pending: (PendingBatch & { readonly after: string }) | undefined;
  /** Settles when the last preparation started has (used, discarded or dropped by `take`). */
  #idle: Promise<unknown> = Promise.resolve();

  /** Starts `prepare` (the batch after `after`, of `size` rows), replacing any batch prepared before. */
  start(after: KeyValue, size: number, prepare: () => Promise<PreparedBatch>): void {
    const prepared = prepare();
    // Settled later or never awaited (discarded): its failure surfaces only if the batch uses it.
    this.#idle = prepared.catch(() => undefined);
    this.#pending = { after: canonicalEncode(after), size, prepared };
  }

  /**
   * Resolves once no preparation is running: a discarded one may still be reading through the
   * loop's scan, which reads one batch at a time.
   */
  idle(): Promise<unknown> {
    return this.#idle;
  }

  /** The batch prepared after `after`, if that is where it was read from; it is gone either way. */
  take(after: KeyValue | undefined): PendingBatch | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending || after === undefined || pending.after !== canonicalEncode(after)) return undefined;
    return pending;
  }

  discard(): void {
    this.#pending = undefined;
  }
}
