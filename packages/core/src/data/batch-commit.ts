/**
 * A batch written with the shard's `batchWrite` capability: the originals saved, the patches
 * written and (where the capability says so) the checkpoint put, in one atomic step. On a conflict
 * nothing is written: the batch is cut before the first conflicting row (or its group) and that
 * prefix is written, again in one step, until a prefix goes through or nothing is left of it.
 * So, unlike a write in several calls, no row after the cut is ever written, and a checkpoint is
 * never behind a row the batch wrote (a crash re-does nothing).
 */
import type { BatchWrite, BatchWriteRequest, BatchWriteResult, LedgerRecord, Row } from '../engine/spi.js';
import { MigrationFailedError } from '../errors/errors.js';
import { describeRow } from '../errors/classify.js';
import { canonicalEncode } from '../util/canonical.js';
import {
  checkWritten,
  keyOf,
  type Batch,
  type BatchCounts,
  type BatchResult,
  type BatchRunInput,
  type BatchWriteInput,
} from './batch-step.js';

/** See the module's comment. `current` is the batch's rows as read; `changes` what it writes of them. */
export async function commitBatch(
  input: BatchRunInput,
  batch: Batch,
  current: readonly Row[],
  changes: BatchWriteInput,
): Promise<BatchResult> {
  const { target, after } = batch;
  const bulk = input.shard.data.batchWrite!;
  const compareAndSet = input.shard.capabilities.compareAndSet === true;
  let rows = current;
  let conflict: BatchResult['conflict'];
  for (;;) {
    const part = partOf(changes, rows, rows === current ? undefined : new Set(rows.map((r) => idOf(batch, r))));
    const last = keyOf(target, rows.at(-1)!);
    const done = changes.done && rows === current;
    if (part.patches.length === 0) return { rows: part.counts, last, conflict, done };
    const request: BatchWriteRequest = {
      target,
      patches: part.patches,
      compareAndSet,
      range: { after, upTo: last },
      backup:
        batch.keepsBackup && part.firstCopies.length
          ? { target: batch.backup, keys: part.firstCopies.map((row) => keyOf(target, row)) }
          : undefined,
    };
    const { result, checkpointed } = await apply(input, bulk, request, batch.checkpointFor(part.counts, last));
    if (result.conflicts.length === 0) {
      checkWritten(input, result.written, part.patches.length);
      return { rows: part.counts, last, conflict, done, checkpointed };
    }
    if (!compareAndSet) vanished(input, result);
    const conflicted = new Set(result.conflicts.map((k) => canonicalEncode(k)));
    const at = rows.findIndex((row) => conflicted.has(idOf(batch, row)));
    if (at < 0) throw new Error(`batchWrite of "${target.name}" reported a conflict on a row the batch did not write`);
    conflict ??= keyOf(target, rows[at]!);
    const cut = changes.cut(at);
    if (cut === 0) return { rows: { read: 0, written: 0 }, last: after, conflict, done: false };
    rows = rows.slice(0, cut);
  }
}

const idOf = (batch: Batch, row: Row): string => canonicalEncode(keyOf(batch.target, row));

/** The part of `changes` in `rows` (all of them when `ids` is undefined), and its counts. */
function partOf(
  changes: BatchWriteInput,
  rows: readonly Row[],
  ids: ReadonlySet<string> | undefined,
): { patches: BatchWriteInput['changed']; firstCopies: readonly Row[]; counts: BatchCounts } {
  if (!ids) {
    const written = changes.changed.length + changes.earlier.size;
    return { ...changes, patches: changes.changed, counts: { read: rows.length, written } };
  }
  const patches = changes.changed.filter((p) => ids.has(canonicalEncode(p.key)));
  // A first copy is the `before` of its patch: the very row object.
  const befores = new Set<Row>(patches.map((p) => p.before));
  const firstCopies = changes.firstCopies.filter((row) => befores.has(row));
  const earlier = [...changes.earlier].filter((id) => ids.has(id)).length;
  return { patches, firstCopies, counts: { read: rows.length, written: patches.length + earlier } };
}

/** One atomic write of `request`, carrying `record` where the capability writes checkpoints. */
async function apply(
  input: BatchRunInput,
  bulk: BatchWrite,
  request: BatchWriteRequest,
  record: LedgerRecord,
): Promise<{ result: BatchWriteResult; checkpointed?: LedgerRecord | undefined }> {
  if (!bulk.checkpoints) return { result: await bulk.apply(request) };
  let result: BatchWriteResult | undefined;
  const written = await input.checkpoint(record, async (r) => {
    result = await bulk.apply({
      ...request,
      checkpoint: { record: r, fence: input.fence, range: input.checkpointRange },
    });
    return result.conflicts.length === 0;
  });
  return { result: result!, checkpointed: written ? record : undefined };
}

/** Without compare-and-set, a conflict is a row that vanished: the batch would silently drop it. */
function vanished(input: BatchRunInput, result: BatchWriteResult): never {
  const { migration: m, shard } = input;
  throw new MigrationFailedError(
    `Data migration "${m.id}" on shard "${shard.id}": ${describeRow(result.conflicts[0]!)} vanished between the batch's read and its write; nothing of the batch was written, refusing to continue (a write that silently drops rows is data loss)`,
    { migrationId: m.id, shardId: shard.id },
  );
}
