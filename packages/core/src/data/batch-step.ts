/**
 * What one batch of a data migration works with and returns, shared by the row-at-a-time batches
 * (batch-runner.ts) and the grouped ones (group-batches.ts).
 */
import type {
  DataTarget,
  Direction,
  Fence,
  KeyValue,
  LedgerRecord,
  Row,
  RowPatch,
  ShardAdapter,
  ShardDescriptor,
} from '../engine/spi.js';
import { MigrationFailedError } from '../errors/errors.js';
import type { DataMigration } from '../definition/migration.js';
import type { BatchEvent } from '../events/events.js';
import { diffRow } from '../util/same-value.js';
import type { BatchWindow, OriginalsReader } from './backup.js';
import type { ScanSession } from './scan-session.js';
import type { Pacer, PauseGate, ThrottleOptions } from './throttle.js';

export interface BatchRunInput {
  readonly migration: DataMigration;
  readonly shard: ShardAdapter;
  readonly descriptor: ShardDescriptor;
  readonly direction: Direction;
  readonly fence: Fence;
  /** The ledger record as it stands; its checkpoint is where to resume. */
  readonly record: LedgerRecord;
  readonly runId: string;
  readonly gate: PauseGate;
  readonly throttle: ThrottleOptions;
  readonly signal: AbortSignal;
  readonly emit: (e: BatchEvent) => void;
  /** Awaited before each batch (the host's `beforeBatch` hook): may delay, or throw to stop the step at its last checkpoint. */
  readonly beforeBatch?: ((after: KeyValue | undefined, batchSize: number) => Promise<void>) | undefined;
  /**
   * Writes the record (fenced): with the ledger, or with `write` when given (a batch write that
   * carries the record; it resolves `false` when it wrote nothing, and so does this, or the record
   * it wrote when that is not `record`: a range's counts are known only once it ran). The runner
   * calls it after every batch with the new checkpoint.
   */
  readonly checkpoint: (
    record: LedgerRecord,
    write?: (record: LedgerRecord) => Promise<boolean | LedgerRecord>,
  ) => Promise<boolean>;
  /**
   * One key range of a parallel run (parallel-runner.ts): the loop reads only keys up to `to`
   * (inclusive; `undefined`: unbounded). `record.checkpoint.after` is then the range's own.
   */
  readonly range?: { readonly to: KeyValue | undefined } | undefined;
  /**
   * A parallel run's range index, given where the shard's batch write writes one range of a
   * checkpoint alone (`BatchWrite.rangeCheckpoints`): its batch writes carry it.
   */
  readonly checkpointRange?: number | undefined;
  /** The pacer to share with the other ranges of a parallel run (else the loop makes its own). */
  readonly pacer?: Pacer | undefined;
}

/** Rows a batch read and wrote. */
export interface BatchCounts {
  readonly read: number;
  readonly written: number;
}

/** The rows of one batch as read, and whether nothing is left after them. */
export interface Page {
  readonly rows: Row[];
  readonly done: boolean;
}

/** A batch's window and what a batch reads it with. */
export interface BatchSpan extends BatchWindow {
  /** Saved originals of the batch's rows (read only while there may be any). */
  readonly originals: OriginalsReader;
  /**
   * The loop's streaming read of the rows the batches work through (the backup's, when restoring
   * from it): `scan.at(after)` is a reader standing at the batch's start.
   */
  readonly scan: ScanSession;
  /**
   * A rollback of a partly applied run that kept no backup: the last key that run finished (`null`:
   * none). Rows after it were never transformed and are not reversed. `undefined` otherwise.
   */
  readonly upTo?: KeyValue | null | undefined;
}

/** One batch as the runner hands it to a {@link BatchFn} or a prepared batch's `commit`. */
export interface Batch extends BatchSpan {
  /** The ledger record that checkpoints this batch done with `rows` up to `last`. */
  readonly checkpointFor: (rows: BatchCounts, last: KeyValue) => LedgerRecord;
}

/**
 * A batch read and transformed, not written yet: `commit` writes it. Preparing is only reading
 * and computing, so a prepared batch may be dropped (a conflict before it, a pause) and prepared again.
 */
export interface PreparedBatch {
  /** Key of its last row; `undefined` when it read nothing (or reads in `commit`). */
  readonly last: KeyValue | undefined;
  /** Nothing is left after it. */
  readonly done: boolean;
  commit(batch: Batch): Promise<BatchResult>;
}

/** Reads and transforms the batch after `span.after`. */
export type PrepareFn = (input: BatchRunInput, span: BatchSpan) => Promise<PreparedBatch>;

/** A batch that read nothing: the step is over. */
export const nothingLeft: PreparedBatch = {
  last: undefined,
  done: true,
  commit: async () => ({ rows: { read: 0, written: 0 }, last: undefined, done: true }),
};

export interface BatchResult {
  readonly rows: BatchCounts;
  /** Key of the last row done; `undefined` when there was nothing (more) to read. */
  readonly last: KeyValue | undefined;
  /** Key of the first row that changed between read and write (compare-and-set adapters only). */
  readonly conflict?: KeyValue | undefined;
  /** Nothing is left after `last`: the step is over (unless `conflict`). */
  readonly done: boolean;
  /** The record that checkpoints this batch, when the batch's write already wrote it. */
  readonly checkpointed?: LedgerRecord | undefined;
}

/** One batch: reads after `batch.after` and does it. */
export type BatchFn = (input: BatchRunInput, batch: Batch) => Promise<BatchResult>;

export const keyOf = (target: DataTarget, row: Row): KeyValue => target.key.map((k) => row[k]);

/**
 * The patch that turns `before` into `after`: only the fields whose value changed (types
 * included), so untouched values are never written back. `null` when nothing changed.
 */
export function patchOf(target: DataTarget, before: Row, after: Row): RowPatch | null {
  const { set, unset } = diffRow(before, after);
  if (Object.keys(set).length === 0 && unset.length === 0) return null;
  return { key: keyOf(target, before), before, set, unset };
}

export function checkWritten(input: BatchRunInput, written: number, expected: number): void {
  if (written !== expected) {
    throw new MigrationFailedError(
      `Data migration "${input.migration.id}" on shard "${input.shard.id}": wrote ${written} of ${expected} rows in a batch; refusing to continue (a write that silently drops rows is data loss)`,
      { migrationId: input.migration.id, shardId: input.shard.id },
    );
  }
}

/** What a batch changes: the patches to write, and the rows an earlier attempt already wrote (canonical keys). */
export interface BatchChanges {
  readonly changed: readonly RowPatch[];
  readonly earlier: ReadonlySet<string>;
  /** Rows to save into the backup before they change (rows of `changed` without a saved copy). */
  readonly firstCopies: readonly Row[];
}

/** What {@link writeBatch} writes: a batch's changes, whether it ends the step, and where a conflict cuts it. */
export interface BatchWriteInput extends BatchChanges {
  readonly done: boolean;
  /** The index in the batch's rows where a conflict at row `at` cuts it: `at` itself, or the start of its group. */
  readonly cut: (at: number) => number;
}
