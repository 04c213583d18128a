/**
 * Writing one batch's changes: in one atomic step where the shard has `batchWrite`
 * (batch-commit.ts), else the originals saved, then the patches written, in separate calls.
 */
import { canonicalEncode } from '../util/canonical.js';
import type { Row } from '../engine/spi.js';
import { saveOriginals } from './backup.js';
import { commitBatch } from './batch-commit.js';
import {
  checkWritten,
  keyOf,
  type Batch,
  type BatchResult,
  type BatchRunInput,
  type BatchWriteInput,
} from './batch-step.js';

/**
 * Writes the changes of a batch read as `current`: saves the first copies of the rows it changes,
 * then writes them; in one atomic step where the shard has `batchWrite` (see batch-commit.ts).
 * With `compareAndSet`, a row that changed between the read and the write ends the batch: the rows
 * before `cut(at)` (`at` is the first conflicting row) are done, the rest is read again next
 * time, and the stale saved copies of the conflicting rows are removed from the backup.
 */
export async function writeBatch(
  input: BatchRunInput,
  batch: Batch,
  current: readonly Row[],
  changes: BatchWriteInput,
): Promise<BatchResult> {
  const { target, backup, after } = batch;
  const { shard } = input;
  const { changed, earlier, done } = changes;
  const last = keyOf(target, current.at(-1)!);
  if (shard.capabilities.batchWrite && shard.data.batchWrite) return commitBatch(input, batch, current, changes);
  if (batch.keepsBackup) await saveOriginals(shard, target, backup, changes.firstCopies);
  const cas = shard.capabilities.compareAndSet ? shard.data.compareAndSet : undefined;
  if (cas && changed.length) {
    const result = await cas.writeIfUnchanged(target, changed);
    if (result.conflicts.length) {
      // The saved copies of the refused rows are stale: drop them, so the rows are backed up afresh.
      if (batch.keepsBackup) await shard.data.remove(backup, result.conflicts);
      // Rows after the cut may have been written (and saved): the next batches look for their copies.
      batch.originals.conflicted();
      const conflicted = new Set(result.conflicts.map((k) => canonicalEncode(k)));
      const at = current.findIndex((row) => conflicted.has(canonicalEncode(keyOf(target, row))));
      const cut = changes.cut(at);
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
