/**
 * A forward run of a data migration with `parallelism` > 1 on one shard: its key ranges
 * (key-ranges.ts) run at once, each as an ordinary batch loop (`runBatches`, or the server-side
 * loop) bounded above by its range's `to` and resumed from its own checkpoint `after`.
 *
 * Checkpoints. All ranges share ONE ledger record, whose checkpoint holds every range's `after`
 * and counts (`Checkpoint.ranges`); no range may ever write a record that puts another range's
 * `after` back (a whole-record write built from a stale copy would). Two schemes:
 *
 * - Where the shard's batch write writes one range of a checkpoint alone
 *   (`BatchWrite.rangeCheckpoints`: PostgreSQL, `jsonb_set` at the range's index in the batch's
 *   statement, concurrent statements ordered by the ledger row's lock), each range's batch carries
 *   only its own element: the ranges write at once, each batch atomic with its checkpoint. A batch
 *   that changed nothing writes nothing (its rows are read again after a crash, and change nothing).
 * - Elsewhere, a range's checkpoint write goes through one in-process queue that merges it into the
 *   latest record written: the record is built, under the queue, from what every range has written
 *   so far; with a batch write that carries whole records, the batch itself runs in the queue, so
 *   batch and checkpoint stay atomic (the ranges' reads and transforms still overlap).
 *
 * Either way a range's state enters the merged record only once its write succeeded, and once every
 * range has settled the merged record (exact then) is written whole.
 *
 * Throttle: the ranges share one pacer; each reserves its batch's rows before it runs (under a
 * second queue), so `maxRowsPerSecond` and the adaptive batch size hold for the sum of the ranges.
 * Events are summed too: each range's `batch` event is re-emitted with the shard's totals.
 *
 * One range failing stops the others (at their next batch) and fails the step; each range resumes
 * from its own checkpoint. A rollback runs as one range (see step-runner.ts).
 */
import type { Checkpoint, CheckpointRange, DataTarget, LedgerCounts, LedgerRecord } from '../engine/spi.js';
import { ErrorCode, MigrateError } from '../errors/errors.js';
import type { BatchEvent } from '../events/events.js';
import { isServerMigration } from '../definition/server-statement.js';
import { MAX_PARALLELISM } from '../definition/migration-schema.js';
import { fingerprint } from './batch-runner.js';
import type { BatchRunInput } from './batch-step.js';
import { rangesAt, sampleSplitKeys } from './key-ranges.js';
import { BatchPacer, type Pacer } from './throttle.js';

type Outcome = { record: LedgerRecord; counts: LedgerCounts };
type Runner = (input: BatchRunInput) => Promise<Outcome>;

/** Runs `input`'s forward step as `migration.parallelism` key ranges, each with `run`. */
export async function runParallel(input: BatchRunInput, run: Runner): Promise<Outcome> {
  const ranges = await rangesOf(input);
  const print = fingerprint(input.migration);
  const state = new RangeState(input, ranges, print);
  const controller = new AbortController();
  const stop = () => controller.abort(input.signal.reason);
  if (input.signal.aborted) stop();
  input.signal.addEventListener('abort', stop, { once: true });
  const shared = new BatchPacer(input.migration.batchSize, input.migration.maxRowsPerSecond, input.throttle);
  const paceQueue = new Queue();
  const emit = await summedEvents(input, ranges);
  let first: { error: unknown } | undefined;
  try {
    const outcomes = await Promise.allSettled(
      ranges.map((range, i) =>
        run({
          ...input,
          record: state.view(i),
          range: { to: range.to ?? undefined },
          pacer: new RangePacer(shared, paceQueue),
          signal: controller.signal,
          emit: (e) => emit(i, e),
          checkpoint: (record, write) => state.checkpoint(i, record, write),
          checkpointRange: state.ranged ? i : undefined,
        }).catch((error: unknown) => {
          // One range failing stops the others at their next batch; the step fails with the first error.
          first ??= { error };
          controller.abort(error);
          throw error;
        }),
      ),
    );
    // Every range has settled: the merged record is exact (see the module's comment).
    const settled = input.checkpoint(state.latest);
    if (first || outcomes.some((o) => o.status === 'rejected')) {
      await settled.catch(() => undefined);
      throw first!.error;
    }
    await settled;
    return { record: state.latest, counts: state.latest.counts! };
  } finally {
    input.signal.removeEventListener('abort', stop);
  }
}

/**
 * The ranges to run: those of the checkpoint when resuming, else new ones cut at split keys
 * sampled now and written to the ledger before any range starts.
 */
async function rangesOf(input: BatchRunInput): Promise<readonly CheckpointRange[]> {
  const { migration: m, shard } = input;
  const print = fingerprint(m);
  const cp = input.record.checkpoint;
  if (cp && cp.direction === 'up') {
    if (cp.fingerprint === print && cp.ranges?.length) return cp.ranges;
    // The parallelism the checkpoint was made with, when only that differs (a small table may have had fewer ranges).
    const was = Array.from({ length: MAX_PARALLELISM }, (_, i) => i + 1).find(
      (p) => fingerprint({ ...m, parallelism: p }) === cp.fingerprint,
    );
    const why =
      was !== undefined && was !== m.parallelism
        ? `its run was started with parallelism ${was}, not ${m.parallelism} (a resume keeps its key ranges); resume it with "parallelism: ${was}"`
        : `its checkpoint was made by a different version of the migration (fingerprint ${cp.fingerprint} ≠ ${print}); restore the code it ran with`;
    throw new MigrateError(
      ErrorCode.CheckpointMismatch,
      `Data migration "${m.id}" on shard "${shard.id}": ${why}, or restart it from the first key with repair({ resetCheckpoints: true })`,
      { migrationId: m.id, shardId: shard.id, field: 'checkpoint' },
    );
  }
  const target: DataTarget = { ...m.target, filter: m.filter, migrationId: m.id };
  // A server-side migration's ranges compare in the statement's order, which may not be the scans' (PostgreSQL text keys).
  const su = isServerMigration(m) ? shard.data.serverUpdate : undefined;
  const splits = su?.splitKeys
    ? await su.splitKeys(target, m.parallelism)
    : await sampleSplitKeys(shard, target, m.parallelism);
  const ranges = rangesAt(splits);
  const checkpoint: Checkpoint = { after: null, fingerprint: print, direction: 'up', ranges };
  await input.checkpoint({ ...input.record, checkpoint, counts: sum(ranges, input.record.counts) });
  return ranges;
}

const sum = (ranges: readonly CheckpointRange[], base: LedgerCounts | null): LedgerCounts => ({
  ...(base ?? {}),
  read: ranges.reduce((n, r) => n + r.read, 0),
  written: ranges.reduce((n, r) => n + r.written, 0),
  skipped: ranges.reduce((n, r) => n + r.skipped, 0),
});

/** The ranges as the ledger has them, and the queue their checkpoint writes go through. */
class RangeState {
  readonly #input: BatchRunInput;
  readonly #print: string;
  readonly #queue = new Queue();
  #ranges: readonly CheckpointRange[];
  latest: LedgerRecord;
  /** The shard's batch write writes one range of a checkpoint alone. */
  readonly ranged: boolean;

  constructor(input: BatchRunInput, ranges: readonly CheckpointRange[], print: string) {
    this.#input = input;
    this.#print = print;
    this.#ranges = ranges;
    this.latest = this.#merged(input.record, ranges);
    const bulk = input.shard.capabilities.batchWrite ? input.shard.data.batchWrite : undefined;
    // A server-side migration's ranges checkpoint with whole-record writes: they keep the queue.
    this.ranged = bulk?.checkpoints === true && bulk.rangeCheckpoints === true && !isServerMigration(input.migration);
  }

  /** The record range `i`'s loop starts from: its own `after` (or its lower bound) and counts. */
  view(i: number): LedgerRecord {
    const r = this.#ranges[i]!;
    const after = r.after ?? r.from;
    const checkpoint: Checkpoint | null = after ? { after, fingerprint: this.#print, direction: 'up' } : null;
    return { ...this.latest, checkpoint, counts: { read: r.read, written: r.written, skipped: r.skipped } };
  }

  /** Range `i`'s checkpoint (`record` as its loop built it), merged under the queue; see the module's comment. */
  checkpoint(
    i: number,
    record: LedgerRecord,
    write?: (record: LedgerRecord) => Promise<boolean | LedgerRecord>,
  ): Promise<boolean> {
    if (this.ranged) return this.#rangedCheckpoint(i, record, write);
    return this.#queue.run(async () => {
      const ranges = this.#with(i, record);
      const merged = this.#merged(record, ranges);
      const ok = await this.#input.checkpoint(merged, write);
      if (!ok) return false;
      this.#ranges = ranges;
      this.latest = merged;
      return true;
    });
  }

  /** Range `i`'s checkpoint where batch writes carry one range alone: no queue, no whole-record write. */
  async #rangedCheckpoint(
    i: number,
    record: LedgerRecord,
    write?: (record: LedgerRecord) => Promise<boolean | LedgerRecord>,
  ): Promise<boolean> {
    const mine = this.#with(i, record)[i]!;
    // A batch that changed nothing: a whole-record write could put back what other ranges' batches wrote.
    if (write && !(await this.#input.checkpoint(this.#merged(record, this.#with(i, record)), write))) return false;
    this.#ranges = this.#ranges.map((r, j) => (j === i ? mine : r));
    this.latest = this.#merged(record, this.#ranges);
    return true;
  }

  /** The ranges with range `i` as `record` (its loop's view) has it. */
  #with(i: number, record: LedgerRecord): CheckpointRange[] {
    const c = record.counts;
    return this.#ranges.map((r, j) =>
      j === i
        ? {
            ...r,
            after: record.checkpoint?.after ?? r.after,
            read: c?.read ?? 0,
            written: c?.written ?? 0,
            skipped: c?.skipped ?? 0,
          }
        : r,
    );
  }

  #merged(record: LedgerRecord, ranges: readonly CheckpointRange[]): LedgerRecord {
    const checkpoint: Checkpoint = { after: null, fingerprint: this.#print, direction: 'up', ranges };
    return { ...record, checkpoint, counts: sum(ranges, record.counts) };
  }
}

/** Runs its tasks one at a time, in order. */
class Queue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** A range's share of the shard's pacer: its batch's rows are reserved, under a queue, before it runs. */
class RangePacer implements Pacer {
  readonly #shared: BatchPacer;
  readonly #queue: Queue;
  #reserved = 0;

  constructor(shared: BatchPacer, queue: Queue) {
    this.#shared = shared;
    this.#queue = queue;
  }

  /** The size reserved for the coming batch (the shared size may have moved since). */
  get size(): number {
    return this.#reserved || this.#shared.size;
  }

  get throttled(): boolean {
    return this.#shared.throttled;
  }

  pace(signal?: AbortSignal): Promise<void> {
    return this.#queue.run(async () => {
      this.#release();
      await this.#shared.pace(signal);
      this.#reserved = this.#shared.size;
      this.#shared.reserve(this.#reserved);
    });
  }

  record(rows: number, ms: number): void {
    this.#release();
    this.#shared.record(rows, ms);
  }

  #release(): void {
    this.#shared.reserve(-this.#reserved);
    this.#reserved = 0;
  }
}

/** Re-emits each range's `batch` event with the shard's totals (rows read and written by all ranges). */
async function summedEvents(input: BatchRunInput, ranges: readonly CheckpointRange[]) {
  const { migration: m } = input;
  const total = await input.shard.data.count({ ...m.target, filter: m.filter }).catch(() => undefined);
  const processed = ranges.map((r) => r.read);
  const written = ranges.map((r) => r.written);
  const atStart = processed.reduce((a, b) => a + b, 0);
  const started = Date.now();
  return (i: number, e: BatchEvent) => {
    processed[i] = e.processed;
    written[i] = e.written;
    const read = processed.reduce((a, b) => a + b, 0);
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (read - atStart) / elapsed : 0;
    input.emit({
      ...e,
      processed: read,
      written: written.reduce((a, b) => a + b, 0),
      total,
      rate: Math.round(rate),
      eta: total !== undefined && rate > 0 ? Math.max(0, (total - read) / rate) : undefined,
    });
  };
}
