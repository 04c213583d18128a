/**
 * The batch engine: runs a data migration on one shard as keyset-paginated batches of
 * read → backup → transform → write → checkpoint, so that a crash re-does at most one batch, and
 * rolls it back with `reverse` or from the backup.
 *
 * Rules from the anchors' bugs: pagination starts with no lower bound (never 0); rows written must
 * equal rows meant to be written; a checkpoint carries a fingerprint and a resume with another is
 * refused; backups keep the FIRST copy of a row, so a re-done batch never overwrites an original
 * with an already transformed row, and a re-done batch transforms the saved originals again.
 */
import type { Checkpoint, DataTarget, KeyValue, LedgerCounts, LedgerRecord, Row, RowPatch } from '../engine/spi.js';
import { ErrorCode, MigrateError, MigrationFailedError } from '../errors/errors.js';
import { describeRow } from '../errors/classify.js';
import type { DataMigration, TransformFn } from '../definition/migration.js';
import { hasReverse } from '../definition/grouping.js';
import { canonicalEncode, looseCanonicalEncode } from '../util/canonical.js';
import { sha256 } from '../util/row-set-hash.js';
import { cloneValue } from '../util/clone.js';
import { sameValue } from '../util/same-value.js';
import { throwIfAborted } from '../util/time.js';
import { SDK_VERSION } from '../version.js';
import { backupTarget, originals, restoreOriginals, saveOriginals, type BatchWindow } from './backup.js';
import {
  checkWritten,
  keyOf,
  patchOf,
  writeBatch,
  type BatchFn,
  type BatchResult,
  type BatchRunInput,
} from './batch-step.js';
import { reverseGroupBatch, upGroupBatch } from './group-batches.js';
import { BatchPacer } from './throttle.js';

export type { BatchRunInput } from './batch-step.js';

/**
 * What a checkpoint must match to be resumed: the migration's checksum, batch size and SDK version.
 * The rate ceiling is left out on purpose: slowing a migration down must not block its resume.
 */
export function fingerprint(m: DataMigration): string {
  // A grouped migration's checkpoints fall on its group boundaries: `groupBy` is part of what they mean.
  const parts = m.groupBy ? [m.checksum, m.batchSize, SDK_VERSION, m.groupBy] : [m.checksum, m.batchSize, SDK_VERSION];
  return sha256(JSON.stringify(parts)).slice(0, 32);
}

/** The batch of `m` in `direction`: one row at a time, or whole groups (rollback from backup is row by row either way). */
function batchOf(m: DataMigration, direction: 'up' | 'down'): BatchFn {
  if (direction === 'up') return m.groupBy ? upGroupBatch : upBatch;
  if (m.groupBy && m.reverseGroup) return reverseGroupBatch;
  return downBatch;
}

/** Runs one direction of a data migration on one shard to the end. Returns the final counts. */
export async function runBatches(input: BatchRunInput): Promise<{ record: LedgerRecord; counts: LedgerCounts }> {
  const { migration: m, direction } = input;
  const target: DataTarget = { ...m.target, filter: m.filter, migrationId: m.id };
  const print = fingerprint(m);
  let record = input.record;
  const cp = record.checkpoint;
  if (cp && cp.fingerprint !== print) {
    throw new MigrateError(
      ErrorCode.CheckpointMismatch,
      `Data migration "${m.id}" on shard "${input.shard.id}": its checkpoint was made by a different version of the migration (fingerprint ${cp.fingerprint} ≠ ${print}); restore the code it ran with, or restart it from the first key with repair({ resetCheckpoints: true })`,
      { migrationId: m.id, shardId: input.shard.id, field: 'checkpoint' },
    );
  }
  const resuming = cp !== null && cp !== undefined && cp.direction === direction;
  let after: KeyValue | undefined = resuming && cp.after ? cp.after : undefined;
  const counts = { ...(resuming && record.counts ? record.counts : { read: 0, written: 0, skipped: 0 }) };
  const backup = backupTarget(target, m.id);
  const pacer = new BatchPacer(m.batchSize, m.maxRowsPerSecond, input.throttle);
  const total =
    direction === 'down' && !hasReverse(m) ? undefined : await input.shard.data.count(target).catch(() => undefined);
  const batch = batchOf(m, direction);
  const started = Date.now();
  const readAtStart = counts.read;
  let conflicts = 0;
  let lastConflict = '';

  for (;;) {
    throwIfAborted(input.signal);
    await input.gate.wait(input.signal);
    await pacer.pace(input.signal);
    await input.beforeBatch?.(after, pacer.size);
    const t0 = Date.now();
    const size = pacer.size;
    const { rows, last, conflict, done } = await batch(input, { target, backup, after, size });
    if (conflict) {
      // Another writer changed a row between this batch's read and its write: the batch stopped
      // before that row, which is read again next time. A row that keeps changing fails the step.
      conflicts = canonicalEncode(conflict) === lastConflict ? conflicts + 1 : 1;
      lastConflict = canonicalEncode(conflict);
      if (conflicts > MAX_CONFLICT_RETRIES) {
        throw new MigrationFailedError(
          `Data migration "${m.id}" on shard "${input.shard.id}": ${describeRow(conflict)} changed under ${MAX_CONFLICT_RETRIES} batches in a row; retry when its writer is quieter`,
          { migrationId: m.id, shardId: input.shard.id, retryable: true },
        );
      }
      if (last === undefined || (after !== undefined && canonicalEncode(last) === canonicalEncode(after))) continue;
    }
    if (last === undefined) break;
    counts.read += rows.read;
    counts.written += rows.written;
    counts.skipped += rows.read - rows.written;
    after = last;
    const checkpoint: Checkpoint = { after: [...last], fingerprint: print, direction };
    record = await input.checkpoint({ ...record, checkpoint, counts: { ...counts } });
    pacer.record(rows.read, Date.now() - t0);
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (counts.read - readAtStart) / elapsed : 0;
    input.emit({
      runId: input.runId,
      migrationId: m.id,
      shardId: input.shard.id,
      direction,
      processed: counts.read,
      written: counts.written,
      total,
      rate: Math.round(rate),
      eta: total !== undefined && rate > 0 ? Math.max(0, (total - counts.read) / rate) : undefined,
      batchSize: size,
      throttled: pacer.throttled,
    });
    if (done && !conflict) break;
  }
  if (direction === 'down') await input.shard.data.drop(backup);
  return { record, counts };
}

/** How often the same row may change under a batch before the step fails (retryable). */
const MAX_CONFLICT_RETRIES = 20;

async function upBatch(input: BatchRunInput, window: BatchWindow): Promise<BatchResult> {
  const { target, backup, after, size } = window;
  const { shard, migration: m } = input;
  const current = await shard.data.scan(target, after, size);
  if (current.length === 0) return { rows: { read: 0, written: 0 }, last: undefined, done: true };
  // A batch re-done after a crash finds some of its rows already backed up (and maybe written).
  const saved = await originals(shard, backup, after, current);
  const changed: RowPatch[] = [];
  const firstCopies: Row[] = [];
  // Rows an earlier attempt already wrote: counted as written now, since that attempt's counts were
  // never checkpointed.
  const earlier = new Set<string>();
  for (const row of current) {
    const id = canonicalEncode(keyOf(target, row));
    const original = saved.get(id);
    const next = original ? await redo(row, original, input, target) : await apply(m.transform!, row, input, target);
    if (next === DONE_EARLIER) {
      earlier.add(id);
      continue;
    }
    if (next === null) continue;
    const patch = patchOf(target, row, next);
    if (!patch) continue;
    if (!original) firstCopies.push(row);
    changed.push(patch);
  }
  await saveOriginals(shard, target, backup, firstCopies);
  // Everything before the first conflicting row is done; the rest is read again.
  return writeBatch(input, window, current, { changed, earlier, done: current.length < size, cut: (at) => at });
}

/**
 * A row of a re-done batch whose original is in the backup. If it already holds what the transform
 * makes of the original, the earlier attempt's write stands and nothing is written (compared
 * loosely, since drivers read some types back differently: a bigint as a string). Otherwise the
 * original is transformed again: never the current row, which may be this migration's own output
 * in another representation, so a transform is never applied twice.
 */
const DONE_EARLIER = Symbol('done earlier');

async function redo(
  row: Row,
  original: Row,
  input: BatchRunInput,
  target: DataTarget,
): Promise<Row | null | typeof DONE_EARLIER> {
  const fromOriginal = await apply(input.migration.transform!, original, input, target);
  if (fromOriginal !== null && looseCanonicalEncode(fromOriginal) === looseCanonicalEncode(row)) return DONE_EARLIER;
  return fromOriginal;
}

async function downBatch(input: BatchRunInput, window: BatchWindow): Promise<BatchResult> {
  const { target, backup, after, size } = window;
  const { shard, migration: m } = input;
  if (m.reverse) {
    const current = await shard.data.scan(target, after, size);
    if (current.length === 0) return { rows: { read: 0, written: 0 }, last: undefined, done: true };
    // A migration that never completed transformed only the rows it saved a copy of (and maybe
    // not all of those): `reverse` must not run on rows the forward run never changed.
    const partial = input.record.state !== 'applied';
    const saved = partial ? await originals(shard, backup, after, current) : undefined;
    const changed: RowPatch[] = [];
    for (const row of current) {
      if (saved) {
        const original = saved.get(canonicalEncode(keyOf(target, row)));
        if (!original || sameValue(original, row)) continue;
      }
      const prev = await apply(m.reverse, row, input, target);
      const patch = prev === null ? null : patchOf(target, row, prev);
      if (patch) changed.push(patch);
    }
    const written = changed.length ? await shard.data.update(target, changed) : 0;
    checkWritten(input, written, changed.length);
    return {
      rows: { read: current.length, written },
      last: keyOf(target, current.at(-1)!),
      done: current.length < size,
    };
  }
  const restored = await restoreOriginals(shard, window);
  if (restored.last === undefined) return { rows: { read: 0, written: 0 }, last: undefined, done: true };
  checkWritten(input, restored.written, restored.read);
  return {
    rows: { read: restored.read, written: restored.written },
    last: restored.last,
    done: restored.read < size,
  };
}

async function apply(fn: TransformFn, row: Row, input: BatchRunInput, target: DataTarget): Promise<Row | null> {
  const before = canonicalEncode(keyOf(target, row));
  // Only for the error messages below: not computed for every row.
  const named = () => describeRow(keyOf(target, row));
  let next: Row | null | undefined;
  try {
    next = await fn(cloneValue(row), { shard: input.descriptor, migrationId: input.migration.id });
  } catch (error) {
    throw new MigrationFailedError(
      `Data migration "${input.migration.id}" on shard "${input.shard.id}": ${input.direction === 'up' ? 'transform' : 'reverse'} threw for ${named()}: ${error instanceof Error ? error.message : String(error)}`,
      { migrationId: input.migration.id, shardId: input.shard.id, cause: error },
    );
  }
  if (next === null || next === undefined) return null;
  if (typeof next !== 'object' || Array.isArray(next)) {
    throw new MigrationFailedError(
      `Data migration "${input.migration.id}": transform must return an object or null, got ${Array.isArray(next) ? 'an array' : typeof next} for ${named()}`,
      {
        migrationId: input.migration.id,
        shardId: input.shard.id,
        field: 'transform',
      },
    );
  }
  if (canonicalEncode(keyOf(target, next)) !== before) {
    throw new MigrationFailedError(
      `Data migration "${input.migration.id}" on shard "${input.shard.id}": transform changed the key (${target.key.join(', ')}) of ${named()}; keys must stay as they are`,
      { migrationId: input.migration.id, shardId: input.shard.id, field: 'key' },
    );
  }
  return next;
}
