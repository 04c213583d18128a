/**
 * The batch engine: runs a data migration on one shard as keyset-paginated batches of
 * read → backup → transform → write → checkpoint, so that a crash re-does at most one batch, and
 * rolls it back with `reverse` or from the backup.
 *
 * Rules from the anchors' bugs: pagination starts with no lower bound (never 0); rows written must
 * equal rows meant to be written; a checkpoint carries a fingerprint and a resume with another is
 * refused; backups keep the FIRST copy of a row, so a re-done batch never overwrites an original
 * with an already transformed row, and a re-done batch transforms the saved originals again.
 *
 * Where the shard has `batchWrite`, a batch's backup, write and checkpoint are one atomic step, so
 * there is nothing to re-do; there, and only there, a migration may keep no backup (`backup:
 * false`). Where writes are compare-and-set, the next batch is read while the current one is
 * written (read-ahead.ts). Rows are read through one streaming read per loop (scan-session.ts), a
 * batch bounded in bytes as well as rows.
 */
import type { Checkpoint, DataTarget, KeyValue, LedgerCounts, LedgerRecord, Row, RowPatch } from '../engine/spi.js';
import { ErrorCode, MigrateError, MigrationFailedError } from '../errors/errors.js';
import { describeRow } from '../errors/classify.js';
import type { DataMigration } from '../definition/migration.js';
import { hasReverse } from '../definition/grouping.js';
import { canonicalEncode, looseCanonicalEncode } from '../util/canonical.js';
import { sha256 } from '../util/row-set-hash.js';
import { throwIfAborted } from '../util/time.js';
import { SDK_VERSION } from '../version.js';
import { apply } from './apply-transform.js';
import { backupTarget, OriginalsReader } from './backup.js';
import {
  keyOf,
  nothingLeft,
  patchOf,
  type BatchCounts,
  type BatchFn,
  type BatchRunInput,
  type BatchSpan,
  type PreparedBatch,
  type PrepareFn,
} from './batch-step.js';
import { prepareGroups, reverseGroupBatch } from './group-batches.js';
import { ReadAhead } from './read-ahead.js';
import { DEFAULT_MAX_BATCH_BYTES, ScanSession } from './scan-session.js';
import { downBatch } from './reverse-batches.js';
import { BatchPacer, type Pacer } from './throttle.js';
import { writeBatch } from './write-batch.js';

export type { BatchRunInput } from './batch-step.js';

/**
 * What a checkpoint must match to be resumed: the migration's checksum, batch size and SDK version
 * (and `groupBy`, `backup: false` and `parallelism` > 1, where declared). The rate ceiling is left out on purpose:
 * slowing a migration down must not block its resume.
 */
export function fingerprint(m: DataMigration): string {
  const parts: unknown[] = [m.checksum, m.batchSize, SDK_VERSION];
  // A grouped migration's checkpoints fall on its group boundaries: `groupBy` is part of what they mean.
  if (m.groupBy) parts.push(m.groupBy);
  // Rows before a checkpoint made without a backup have no saved originals: a resume must keep none either.
  if (m.backup === false) parts.push('no-backup');
  // A parallel run's checkpoint holds one `after` per key range: only a run with as many ranges can resume it.
  if ((m.parallelism ?? 1) > 1) parts.push({ parallelism: m.parallelism });
  return sha256(JSON.stringify(parts)).slice(0, 32);
}

/** Whether a run of `m` on this shard keeps a backup: unless `backup: false` and the shard's batch write carries checkpoints. */
export function keepsBackup(m: DataMigration, shard: BatchRunInput['shard']): boolean {
  const bulk = shard.capabilities.batchWrite ? shard.data.batchWrite : undefined;
  return m.backup !== false || bulk?.checkpoints !== true;
}

/** How `m` prepares a batch in `direction`: one row at a time, or whole groups (rollback from backup is row by row either way). */
function prepareOf(m: DataMigration, direction: 'up' | 'down'): PrepareFn {
  if (direction === 'up') return m.groupBy ? prepareGroups : prepareRows;
  return readInCommit(m.groupBy && m.reverseGroup ? reverseGroupBatch : downBatch);
}

/** A batch that reads and writes in `commit` (rollback batches are not prepared ahead). */
const readInCommit =
  (fn: BatchFn): PrepareFn =>
  async (input) => ({ last: undefined, done: false, commit: (batch) => fn(input, batch) });

/** Runs one direction of a data migration on one shard to the end. Returns the final counts. */
export async function runBatches(input: BatchRunInput): Promise<{ record: LedgerRecord; counts: LedgerCounts }> {
  const run = startRun(input);
  let out: Awaited<ReturnType<typeof loop>>;
  try {
    out = await loop(input, run);
  } finally {
    // On every way out, once a batch read ahead (if any) is done reading through it.
    run.ahead.discard();
    await run.ahead.idle();
    await run.window.scan.close().catch(() => undefined);
  }
  if (input.direction === 'down') await input.shard.data.drop(run.window.backup);
  return out;
}

/** The batches, each after the last checkpoint, until one finds nothing left. */
async function loop(
  input: BatchRunInput,
  run: ReturnType<typeof startRun>,
): Promise<{ record: LedgerRecord; counts: LedgerCounts }> {
  const { pacer, ahead } = run;
  let { record, after, counts } = run;
  const conflicts = new ConflictCount(input);
  const checkpointFor = (rows: BatchCounts, last: KeyValue): LedgerRecord => ({
    ...record,
    checkpoint: run.checkpointAt(last),
    counts: add(counts, rows),
  });
  for (;;) {
    throwIfAborted(input.signal);
    // A batch prepared before a pause may be long stale: prepare it again.
    if (input.gate.paused) ahead.discard();
    await input.gate.wait(input.signal);
    await pacer.pace(input.signal);
    const pending = ahead.take(after);
    const size = pending?.size ?? pacer.size;
    await input.beforeBatch?.(after, size);
    const t0 = Date.now();
    const span = { ...run.window, after, size };
    // A batch read ahead and then discarded may still be reading: the next read comes after it, never beside it.
    const prepared = await (pending?.prepared ?? ahead.idle().then(() => run.prepare(input, span)));
    // The next batch is read and transformed while this one is written.
    const next = prepared.last;
    if (run.readAhead && next && !prepared.done)
      ahead.start(next, size, () => run.prepare(input, { ...run.window, after: next, size }));
    const { rows, last, conflict, done, checkpointed } = await prepared.commit({ ...span, checkpointFor });
    if (conflict) {
      ahead.discard();
      // The batch read ahead may have looked for saved originals after the conflict was seen, past
      // the rows now read again: once it is done, the next batch looks for them again.
      await ahead.idle();
      run.window.originals.conflicted();
      conflicts.add(conflict);
      if (last === undefined || (after !== undefined && canonicalEncode(last) === canonicalEncode(after))) continue;
    }
    if (last === undefined) break;
    if (checkpointed) record = checkpointed;
    else {
      const next = checkpointFor(rows, last);
      await input.checkpoint(next);
      record = next;
    }
    counts = add(counts, rows);
    after = last;
    pacer.record(rows.read, Date.now() - t0);
    await run.progress(counts, size);
    if (done && !conflict) break;
  }
  return { record, counts };
}

const add = (counts: LedgerCounts, rows: BatchCounts): LedgerCounts => ({
  ...counts,
  read: counts.read + rows.read,
  written: counts.written + rows.written,
  skipped: counts.skipped + rows.read - rows.written,
});

/** Where a run starts, and what it works with. */
function startRun(input: BatchRunInput) {
  const { migration: m, direction, shard } = input;
  const target: DataTarget = { ...m.target, filter: m.filter, migrationId: m.id };
  const print = fingerprint(m);
  const record = input.record;
  const cp = record.checkpoint;
  if (cp && cp.fingerprint !== print) {
    const way =
      cp.backup === false
        ? 'restore the code it ran with and let it finish, or roll it back (its rows up to the checkpoint are reversed; it kept no backup, so it cannot restart from the first key)'
        : 'restore the code it ran with, or restart it from the first key with repair({ resetCheckpoints: true })';
    throw new MigrateError(
      ErrorCode.CheckpointMismatch,
      `Data migration "${m.id}" on shard "${shard.id}": its checkpoint was made by a different version of the migration (fingerprint ${cp.fingerprint} ≠ ${print}); ${way}`,
      { migrationId: m.id, shardId: shard.id, field: 'checkpoint' },
    );
  }
  const resuming = cp !== null && cp !== undefined && cp.direction === direction;
  const backup = backupTarget(target, m.id);
  const keeps = keepsBackup(m, shard);
  // The bound of a rollback of a partly applied run without backup (see reverse-batches.ts).
  const upTo = resuming && direction === 'down' && cp.upTo !== undefined ? cp.upTo : undefined;
  const mark: Partial<Checkpoint> = direction === 'up' ? (keeps ? {} : { backup: false }) : upToMark(upTo);
  // Counted while the first batch reads (on a server without pushdown both read the whole table);
  // a parallel run's range leaves the total to the parallel runner, which reports the sum.
  const total: Promise<number | undefined> =
    (direction === 'down' && !hasReverse(m)) || input.range
      ? Promise.resolve(undefined)
      : shard.data.count(target).catch(() => undefined);
  // A rollback without `reverse` (or `reverseGroup`) reads the backup and writes it back.
  const restores = direction === 'down' && !m.reverse && !(m.groupBy && m.reverseGroup);
  const to = input.range?.to;
  const scan = new ScanSession({
    shard,
    main: restores ? backup : target,
    maxBatchBytes: input.throttle.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    to,
  });
  // Originals are looked for even by a run that keeps none: an earlier attempt may have saved some.
  const window = {
    target,
    backup,
    keepsBackup: keeps,
    upTo,
    to,
    originals: new OriginalsReader(shard, backup, to),
    scan,
  };
  const counts: LedgerCounts = { ...(resuming && record.counts ? record.counts : { read: 0, written: 0, skipped: 0 }) };
  const pacer = input.pacer ?? new BatchPacer(m.batchSize, m.maxRowsPerSecond, input.throttle);
  return {
    record,
    after: (resuming && cp.after ? cp.after : undefined) as KeyValue | undefined,
    counts,
    pacer,
    ahead: new ReadAhead(),
    window,
    prepare: prepareOf(m, direction),
    // Preparing ahead is safe only where a batch's write is compare-and-set (see read-ahead.ts).
    readAhead: direction === 'up' && shard.capabilities.compareAndSet === true,
    checkpointAt: (last: KeyValue): Checkpoint => ({ after: [...last], fingerprint: print, direction, ...mark }),
    progress: progressReporter(input, total, counts.read, pacer),
  };
}

const upToMark = (upTo: KeyValue | null | undefined): Partial<Checkpoint> =>
  upTo === undefined ? {} : { backup: false, upTo: upTo === null ? null : [...upTo] };

/** Emits a batch event after each checkpoint. */
function progressReporter(input: BatchRunInput, count: Promise<number | undefined>, readAtStart: number, pacer: Pacer) {
  const started = Date.now();
  return async (counts: LedgerCounts, size: number) => {
    const total = await count;
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (counts.read - readAtStart) / elapsed : 0;
    input.emit({
      runId: input.runId,
      migrationId: input.migration.id,
      shardId: input.shard.id,
      direction: input.direction,
      processed: counts.read,
      written: counts.written,
      total,
      rate: Math.round(rate),
      eta: total !== undefined && rate > 0 ? Math.max(0, (total - counts.read) / rate) : undefined,
      batchSize: size,
      throttled: pacer.throttled,
    });
  };
}

/** How often the same row may change under a batch before the step fails (retryable). */
const MAX_CONFLICT_RETRIES = 20;

/**
 * Another writer changed a row between a batch's read and its write: the batch stopped before that
 * row, which is read again next time. A row that keeps changing fails the step.
 */
class ConflictCount {
  readonly #input: BatchRunInput;
  #count = 0;
  #last = '';

  constructor(input: BatchRunInput) {
    this.#input = input;
  }

  add(conflict: KeyValue): void {
    const id = canonicalEncode(conflict);
    this.#count = id === this.#last ? this.#count + 1 : 1;
    this.#last = id;
    if (this.#count > MAX_CONFLICT_RETRIES) {
      const { migration: m, shard } = this.#input;
      throw new MigrationFailedError(
        `Data migration "${m.id}" on shard "${shard.id}": ${describeRow(conflict)} changed under ${MAX_CONFLICT_RETRIES} batches in a row; retry when its writer is quieter`,
        { migrationId: m.id, shardId: shard.id, retryable: true },
      );
    }
  }
}

/** The next rows, each transformed (a re-done row from its saved original); written by `commit`. */
async function prepareRows(input: BatchRunInput, span: BatchSpan): Promise<PreparedBatch> {
  const { target, after, size } = span;
  const { migration: m } = input;
  const reader = await span.scan.at(after);
  // At most `size` rows, fewer once their size passes the byte bound.
  const current = await reader.read(size);
  if (current.length === 0) return nothingLeft;
  // A batch re-done after a crash finds some of its rows already backed up (and maybe written).
  const saved = await span.originals.of(after, current);
  const changed: RowPatch[] = [];
  const firstCopies: Row[] = [];
  // Rows an earlier attempt already wrote: counted as written now, since that attempt's counts were
  // never checkpointed.
  const earlier = new Set<string>();
  for (const row of current) {
    const original = saved.size ? saved.get(canonicalEncode(keyOf(target, row))) : undefined;
    const next = original ? await redo(row, original, input, target) : await apply(m.transform!, row, input, target);
    if (next === DONE_EARLIER) {
      earlier.add(canonicalEncode(keyOf(target, row)));
      continue;
    }
    if (next === null) continue;
    const patch = patchOf(target, row, next);
    if (!patch) continue;
    if (!original) firstCopies.push(row);
    changed.push(patch);
  }
  const done = reader.done;
  return {
    last: keyOf(target, current.at(-1)!),
    done,
    // Everything before the first conflicting row is done; the rest is read again.
    commit: (batch) => writeBatch(input, batch, current, { changed, earlier, firstCopies, done, cut: (at) => at }),
  };
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
