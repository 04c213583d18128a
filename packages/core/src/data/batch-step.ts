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
import { canonicalEncode } from '../util/canonical.js';
import { diffRow } from '../util/same-value.js';
import type { BatchWindow } from './backup.js';
import type { PauseGate, ThrottleOptions } from './throttle.js';

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
  /** Writes the record (fenced); the runner calls it after every batch with the new checkpoint. */
  readonly checkpoint: (record: LedgerRecord) => Promise<LedgerRecord>;
}

export interface BatchResult {
  readonly rows: { read: number; written: number };
  /** Key of the last row done; `undefined` when there was nothing (more) to read. */
  readonly last: KeyValue | undefined;
  /** Key of the first row that changed between read and write (compare-and-set adapters only). */
  readonly conflict?: KeyValue | undefined;
  /** Nothing is left after `last`: the step is over (unless `conflict`). */
  readonly done: boolean;
}

/** One batch: reads after `window.after` and does it. */
export type BatchFn = (input: BatchRunInput, window: BatchWindow) => Promise<BatchResult>;

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
}

/**
 * Writes the changes of a batch read as `current`. With `compareAndSet`, a row that changed
 * between the read and the write ends the batch: the rows before `cut(at)` (`at` is the first
 * conflicting row; `cut` is `at` itself, or the start of its group) are done, the rest is read
 * again next time, and the stale saved copies of the conflicting rows are removed from the backup.
 */
export async function writeBatch(
  input: BatchRunInput,
  window: BatchWindow,
  current: readonly Row[],
  batch: BatchChanges & { readonly done: boolean; readonly cut: (at: number) => number },
): Promise<BatchResult> {
  const { target, backup, after } = window;
  const { shard } = input;
  const { changed, earlier, done } = batch;
  const last = keyOf(target, current.at(-1)!);
  const cas = shard.capabilities.compareAndSet ? shard.data.compareAndSet : undefined;
  if (cas && changed.length) {
    const result = await cas.writeIfUnchanged(target, changed);
    if (result.conflicts.length) {
      // The saved copies of the refused rows are stale: drop them, so the rows are backed up afresh.
      await shard.data.remove(backup, result.conflicts);
      const conflicted = new Set(result.conflicts.map((k) => canonicalEncode(k)));
      const at = current.findIndex((row) => conflicted.has(canonicalEncode(keyOf(target, row))));
      const cut = batch.cut(at);
      const finished = current.slice(0, cut);
      // Rows after the cut that were written are read again and then count as done earlier.
      const changedKeys = new Set(changed.map((c) => canonicalEncode(c.key)));
      const written = finished
        .map((row) => canonicalEncode(keyOf(target, row)))
        .filter((id) => earlier.has(id) || changedKeys.has(id)).length;
      return {
        rows: { read: finished.length, written },
        last: cut > 0 ? keyOf(target, finished.at(-1)!) : after,
        conflict: keyOf(target, current[at]!),
        done: false,
      };
    }
    checkWritten(input, result.written, changed.length);
    return { rows: { read: current.length, written: result.written + earlier.size }, last, done };
  }
  const written = changed.length ? await shard.data.update(target, changed) : 0;
  checkWritten(input, written, changed.length);
  return { rows: { read: current.length, written: written + earlier.size }, last, done };
}
