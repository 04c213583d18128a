/**
 * The step runner: applies one migration on one shard (with the retry policy and the step deadline)
 * or rolls one back, keeping the shard's ledger record in step with what happened.
 */
import pRetry, { type Options as RetryOptions } from 'p-retry';
import type { Fence, Lease, LedgerRecord } from '../engine/spi.js';
import { ErrorCode, isMigrateError, MigrateError, serializeError } from '../errors/errors.js';
import { stepFailure } from '../errors/classify.js';
import type { DataMigration, Migration, MigrationContext } from '../definition/migration.js';
import type { PlanStep } from '../plan/planner.js';
import { fingerprint, runBatches } from '../data/batch-runner.js';
import { runServerBatches } from '../data/server-batches.js';
import { runParallel } from '../data/parallel-runner.js';
import type { BatchRunInput } from '../data/batch-step.js';
import { isServerMigration } from '../definition/server-statement.js';
import { noopLogger } from '../util/logger.js';
import { scrubbingLogger } from '../util/scrubber.js';
import { throwIfAborted } from '../util/time.js';
import { type MigratorContext, type ShardRef } from './context.js';
import { MIGRATOR_DEFAULTS } from './defaults.js';
import { fenceOf, shardLease, type Heartbeat } from '../lock/lease-keeper.js';
import { beforeFirstBatch, skippedNote } from './preflight.js';
import { restorePreserved, savePreserved } from './preserve-steps.js';
import type { StepReport } from './report.js';
import { deadlineError, StepDeadline } from './step-deadline.js';
import { batchHook, hookedStep } from './step-hooks.js';

/** One migration on one shard, within a run. */
export interface StepInput {
  readonly migration: Migration;
  readonly ref: ShardRef;
  readonly runId: string;
  readonly signal: AbortSignal | undefined;
}

export interface ApplyInput extends StepInput {
  readonly step: PlanStep;
  /** The shard's lease, held by the shard runner for all its steps. */
  readonly lease: Lease;
  readonly heartbeat: Heartbeat;
}

export interface RollbackInput extends StepInput {
  /** The shard's ledger as read when the rollback was planned (used when the record is gone since). */
  readonly records: readonly LedgerRecord[];
}

/** What an apply has got to so far: the ledger record as last written, and its attempts. */
interface ApplyState {
  record: LedgerRecord;
  attempts: number;
  /** p-retry rejects with the abort reason even after an attempt that succeeded: the step was done then. */
  succeeded: boolean;
  /** A record left `running` or `failed` by an earlier run: its checkpoint and preserved copies are reused. */
  readonly resumed: boolean;
  /** When the step started (`Date.now()`), for its duration. */
  readonly t0: number;
}

/** Marks an error as one that p-retry must not retry. */
class Permanent extends Error {
  constructor(readonly inner: unknown) {
    super('permanent');
  }
}

/** Applies one migration on one shard, between the host's `beforeStep` and `afterStep` hooks. */
export function applyStep(ctx: MigratorContext, input: ApplyInput): Promise<StepReport> {
  return hookedStep(ctx, input, 'up', () => applyOne(ctx, input));
}

async function applyOne(ctx: MigratorContext, input: ApplyInput): Promise<StepReport> {
  const { migration: m, ref, runId } = input;
  const shardId = ref.descriptor.id;
  const fence = fenceOf(input.lease);
  const t0 = Date.now();
  ctx.emit('shard:start', { runId, migrationId: m.id, shardId, action: input.step.action });
  const records = await ref.adapter.ledger.list();
  const existing = records.find((r) => r.id === m.id);
  const resumed = existing?.state === 'running' || existing?.state === 'failed';
  const state: ApplyState = {
    record: {
      id: m.id,
      state: 'running',
      checksum: m.checksum,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      runnerId: ctx.runnerId,
      checkpoint: resumed ? existing.checkpoint : null,
      counts: resumed ? existing.counts : null,
      error: null,
      seq: Math.max(0, ...records.map((r) => r.seq)) + 1,
    },
    attempts: 0,
    succeeded: false,
    resumed,
    t0,
  };
  const deadline = new StepDeadline(input.signal);
  try {
    await ref.adapter.ledger.put(state.record, fence);
    await withRetries(ctx, input, state, () => attemptApply(ctx, input, state, deadline));
    state.record = {
      ...state.record,
      state: 'applied',
      finishedAt: new Date().toISOString(),
      checkpoint: m.kind === 'data' ? state.record.checkpoint : null,
    };
    await ref.adapter.ledger.put(state.record, fence);
    const durationMs = Date.now() - t0;
    ctx.emit('shard:done', { runId, migrationId: m.id, shardId, durationMs });
    const note = skippedNote(state.record);
    return {
      migrationId: m.id,
      status: note ? 'skipped' : 'applied',
      ...(note ? { reason: note } : {}),
      durationMs,
      attempts: state.attempts,
      ...(state.record.counts ? { counts: state.record.counts } : {}),
    };
  } catch (cause) {
    return recordFailure(ctx, input, state, cause);
  }
}

/** One attempt: the schema step in its transaction (saving preserved copies first), or the data step's batches. */
async function attemptApply(
  ctx: MigratorContext,
  input: ApplyInput,
  state: ApplyState,
  deadline: StepDeadline,
): Promise<void> {
  const { migration: m, ref, signal } = input;
  const what = { migrationId: m.id, shardId: ref.descriptor.id };
  if (m.kind === 'schema') {
    const mctx = migrationContext(ctx, input, input.step);
    await deadline.race(
      ref.adapter.executor.execute(
        { migrationId: m.id, direction: 'up', transaction: m.transaction, signal },
        async (handle) => {
          await savePreserved(m, ref.adapter, handle, { reuse: state.attempts > 1 || state.resumed, signal });
          await m.up(handle, mctx);
        },
      ),
      what,
    );
    return;
  }
  const skipped = await beforeFirstBatch(m, ref, state.record);
  state.record =
    skipped ??
    (
      await deadline.race(
        runData(ctx, {
          migration: m,
          ref,
          runId: input.runId,
          signal,
          direction: 'up',
          fence: fenceOf(input.lease),
          record: state.record,
          onCheckpoint: (r) => (state.record = r),
          guard: () => deadline.guard(what),
        }),
        what,
      )
    ).record;
}

/** Runs `attempt` under the retry policy: retryable errors are retried with backoff, others end the step. */
async function withRetries(
  ctx: MigratorContext,
  input: ApplyInput,
  state: ApplyState,
  attempt: () => Promise<void>,
): Promise<void> {
  const { ref, signal } = input;
  const what = { migrationId: input.migration.id, shardId: ref.descriptor.id };
  await pRetry(
    async () => {
      state.attempts++;
      input.heartbeat.check();
      throwIfAborted(signal);
      try {
        await attempt();
        state.succeeded = true;
      } catch (error) {
        if (!isRetryable(ref, error)) throw new Permanent(error);
        throw error;
      }
    },
    retryOptions(ctx, input, state),
  ).catch((error: unknown) => {
    if (state.succeeded) return;
    if (error instanceof Permanent) throw error.inner;
    // p-retry rejects with the bare abort reason: name the step and say it timed out.
    throw signal?.aborted && !isMigrateError(error) ? deadlineError(signal, what) : error;
  });
}

function retryOptions(ctx: MigratorContext, input: ApplyInput, state: ApplyState): RetryOptions {
  const { migration: m, runId, signal } = input;
  const shardId = input.ref.descriptor.id;
  return {
    retries: ctx.config.retry?.retries ?? MIGRATOR_DEFAULTS.retry.retries,
    minTimeout: ctx.config.retry?.minTimeoutMs ?? MIGRATOR_DEFAULTS.retry.minTimeoutMs,
    maxTimeout: ctx.config.retry?.maxTimeoutMs ?? MIGRATOR_DEFAULTS.retry.maxTimeoutMs,
    randomize: true,
    signal,
    shouldRetry: ({ error }) => !(error instanceof Permanent),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (state.succeeded || error instanceof Permanent || retriesLeft === 0) return;
      ctx.log.warn(`retrying "${m.id}" on shard "${shardId}"`, {
        attempt: attemptNumber,
        error: serializeError(error),
      });
      ctx.emit('shard:retry', {
        runId,
        migrationId: m.id,
        shardId,
        attempt: attemptNumber,
        error: serializeError(error),
      });
    },
  };
}

/** Records a failed apply in the ledger (unless the lease went stale: the record is another runner's now) and reports it. */
async function recordFailure(
  ctx: MigratorContext,
  input: ApplyInput,
  state: ApplyState,
  cause: unknown,
): Promise<StepReport> {
  const { migration: m, ref, runId } = input;
  const shardId = ref.descriptor.id;
  const error = serializeError(
    stepFailure(cause, {
      migrationId: m.id,
      shardId,
      direction: 'up',
      classifyError: (e) => ref.engine.classifyError(e),
    }),
  );
  if (!(cause instanceof MigrateError && cause.code === ErrorCode.StaleLease)) {
    await ref.adapter.ledger
      .put({ ...state.record, state: 'failed', finishedAt: new Date().toISOString(), error }, fenceOf(input.lease))
      .catch((e: unknown) => {
        ctx.log.error(`could not record failure of "${m.id}" on shard "${shardId}"`, { error: serializeError(e) });
      });
  }
  ctx.log.error(`migration "${m.id}" failed on shard "${shardId}"`, { error });
  ctx.emit('shard:failed', { runId, migrationId: m.id, shardId, error });
  return { migrationId: m.id, status: 'failed', error, durationMs: Date.now() - state.t0, attempts: state.attempts };
}

/** Rolls one migration back on one shard under its own lease: `down` (schema), or `reverse` / the backup (data). */
export function rollbackStep(ctx: MigratorContext, input: RollbackInput): Promise<StepReport> {
  return hookedStep(ctx, input, 'down', () => rollbackOne(ctx, input));
}

async function rollbackOne(ctx: MigratorContext, input: RollbackInput): Promise<StepReport> {
  const { migration: m, ref, runId, signal } = input;
  const shardId = ref.descriptor.id;
  const t0 = Date.now();
  let lease: Lease | undefined;
  try {
    lease = await shardLease(ctx, ref, runId, signal);
    const fence = fenceOf(lease);
    let record =
      (await ref.adapter.ledger.list()).find((r) => r.id === m.id) ?? input.records.find((r) => r.id === m.id)!;
    if (m.kind === 'schema') {
      const mctx = migrationContext(ctx, input, undefined);
      await ref.adapter.executor.execute(
        { migrationId: m.id, direction: 'down', transaction: m.transaction, signal },
        async (handle) => {
          await m.down!(handle, mctx);
          await restorePreserved(m, ref.adapter, handle, signal);
        },
      );
    } else if (!skippedNote(record)) {
      // A rollback starts from the first key whatever the forward run's checkpoint says (even one
      // made by another version of the migration); only a rollback in progress is resumed.
      const down = record.checkpoint?.direction === 'down' ? record : rollbackStart(m, record);
      record = (await runData(ctx, { migration: m, ref, runId, signal, direction: 'down', fence, record: down }))
        .record;
    }
    await ref.adapter.ledger.put(
      { ...record, state: 'rolled_back', finishedAt: new Date().toISOString(), checkpoint: null, error: null },
      fence,
    );
    ctx.emit('rollback:shard', { runId, migrationId: m.id, shardId, status: 'done' });
    return { migrationId: m.id, status: 'applied', durationMs: Date.now() - t0 };
  } catch (cause) {
    const error = serializeError(
      stepFailure(cause, {
        migrationId: m.id,
        shardId,
        direction: 'down',
        classifyError: (e) => ref.engine.classifyError(e),
      }),
    );
    ctx.emit('rollback:shard', { runId, migrationId: m.id, shardId, status: 'failed', error });
    return { migrationId: m.id, status: 'failed', error, durationMs: Date.now() - t0 };
  } finally {
    await lease?.release().catch(() => undefined);
  }
}

/**
 * The record a rollback of data migration `m` starts from. A partly applied run that kept no
 * backup changed the rows up to its checkpoint and none after: the rollback reverses up to there
 * (its checkpoints carry the bound, so that a resumed rollback keeps it).
 */
function rollbackStart(m: DataMigration, record: LedgerRecord): LedgerRecord {
  const cp = record.checkpoint;
  if (record.state === 'applied' || cp?.direction !== 'up' || cp.backup !== false)
    return { ...record, checkpoint: null, counts: null };
  const checkpoint = { after: null, fingerprint: fingerprint(m), direction: 'down' as const, backup: false as const };
  return { ...record, checkpoint: { ...checkpoint, upTo: cp.after }, counts: null };
}

interface DataRunInput extends StepInput {
  readonly migration: DataMigration;
  readonly direction: 'up' | 'down';
  readonly fence: Fence;
  readonly record: LedgerRecord;
  /** Told every checkpoint once it is in the ledger. */
  readonly onCheckpoint?: (r: LedgerRecord) => void;
  /** Throws before a checkpoint is written when the step must stop (its deadline passed). */
  readonly guard?: () => void;
}

function runData(ctx: MigratorContext, input: DataRunInput): ReturnType<typeof runBatches> {
  const { ref, fence } = input;
  const run = isServerMigration(input.migration) ? runServerBatches : runBatches;
  // A forward run with parallelism runs its key ranges at once; a rollback runs as one range.
  const parallel =
    input.direction === 'up' && ((input.migration.parallelism ?? 1) > 1 || input.record.checkpoint?.ranges);
  return (parallel ? (b: BatchRunInput) => runParallel(b, run) : run)({
    migration: input.migration,
    shard: ref.adapter,
    descriptor: ref.descriptor,
    direction: input.direction,
    fence,
    record: input.record,
    runId: input.runId,
    gate: ctx.gate,
    throttle: ctx.config.throttle ?? {},
    signal: input.signal ?? new AbortController().signal,
    emit: (e) => ctx.emit('batch', e),
    beforeBatch: batchHook(ctx, input, input.direction),
    checkpoint: async (next, write) => {
      input.guard?.();
      let wrote = next;
      if (!write) await ref.adapter.ledger.put(next, fence);
      else {
        const written = await write(next);
        if (written === false) return false;
        if (written !== true) wrote = written;
      }
      input.onCheckpoint?.(wrote);
      return true;
    },
  });
}

function migrationContext(ctx: MigratorContext, input: StepInput, step: PlanStep | undefined): MigrationContext {
  return {
    shard: input.ref.descriptor,
    log: scrubbingLogger(ctx.config.logger ?? noopLogger, ctx.scrubber, {
      set: ctx.name,
      migration: input.migration.id,
      shard: input.ref.descriptor.id,
    }),
    signal: input.signal ?? new AbortController().signal,
    tenants: step?.tenants,
  };
}

/** A `MigrateError` says itself (a stale lease never is); anything else is what the engine adapter classifies it as. */
function isRetryable(ref: ShardRef, error: unknown): boolean {
  if (error instanceof MigrateError) return error.retryable && error.code !== ErrorCode.StaleLease;
  return ref.engine.classifyError(error).retryable;
}
