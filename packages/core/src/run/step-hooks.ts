/**
 * Where a run awaits the host's hooks (`createMigrator({ hooks })`, see hooks/hooks.ts): before the
 * run, around each step, before each batch. Kept here so that the run controller, the step runner
 * and the batch runner each call them in one line.
 *
 * Order with the events of the same moments: `plan` → beforeRun → `migration:start` → beforeStep →
 * `shard:start` → (beforeBatch → `batch`)… → `shard:done` / `shard:failed` → afterStep →
 * `migration:done`. A step vetoed by beforeStep emits `shard:failed` (`rollback:shard` when rolling
 * back) and no `shard:start`.
 */
import type { Direction, KeyValue } from '../engine/spi.js';
import { serializeError } from '../errors/errors.js';
import type { Migration } from '../definition/migration.js';
import { runHook, type StepHookContext } from '../hooks/hooks.js';
import type { Plan } from '../plan/planner.js';
import type { MigratorContext, ShardRef } from './context.js';
import type { StepReport } from './report.js';

/** One migration on one shard, as the step runner has it. */
interface HookedStep {
  readonly migration: Migration;
  readonly ref: ShardRef;
  readonly runId: string;
  readonly signal: AbortSignal | undefined;
}

const never = (signal: AbortSignal | undefined): AbortSignal => signal ?? new AbortController().signal;

/**
 * Awaits `beforeRun` when the plan has something to apply on a reachable shard (a run with nothing
 * to do never asks). Its veto rejects with `MIGRATE_VETOED` before any step has started.
 */
export async function beforeRunHook(
  ctx: MigratorContext,
  at: { runId: string; plan: Plan; signal: AbortSignal | undefined },
  unreachable: ReadonlyMap<string, unknown>,
): Promise<void> {
  if (!at.plan.shards.some((s) => s.steps.length > 0 && !unreachable.has(s.shardId))) return;
  await runHook(ctx.config.hooks, 'beforeRun', { runId: at.runId, plan: at.plan, signal: never(at.signal) });
}

/**
 * Runs `work` (one step, which writes its ledger record and emits its events) between `beforeStep`
 * and `afterStep`. A veto returns the step `failed` with `MIGRATE_VETOED` without running `work`;
 * an `afterStep` throw is added to the step's report as `hookError` (the step stays as it ended).
 */
export async function hookedStep(
  ctx: MigratorContext,
  step: HookedStep,
  direction: Direction,
  work: () => Promise<StepReport>,
): Promise<StepReport> {
  const hooks = ctx.config.hooks;
  if (!hooks?.beforeStep && !hooks?.afterStep) return work();
  const { migration: m, ref, runId } = step;
  const shardId = ref.descriptor.id;
  const base: StepHookContext = {
    runId,
    migrationId: m.id,
    shardId,
    engine: ref.descriptor.engine,
    direction,
    kind: m.kind,
    signal: never(step.signal),
  };
  const t0 = Date.now();
  try {
    await runHook(hooks, 'beforeStep', base);
  } catch (cause) {
    const error = serializeError(cause);
    ctx.log.warn(`"${m.id}" on shard "${shardId}" was not started: ${error.message}`, { error });
    if (direction === 'up') ctx.emit('shard:failed', { runId, migrationId: m.id, shardId, error });
    else ctx.emit('rollback:shard', { runId, migrationId: m.id, shardId, status: 'failed', error });
    return { migrationId: m.id, status: 'failed', error, durationMs: Date.now() - t0, attempts: 0 };
  }
  const outcome = await work();
  try {
    await runHook(hooks, 'afterStep', { ...base, outcome });
    return outcome;
  } catch (cause) {
    const hookError = serializeError(cause);
    ctx.log.error(hookError.message, { error: hookError });
    return { ...outcome, hookError };
  }
}

/** The batch runner's `beforeBatch` callback for one data step, or `undefined` without that hook. */
export function batchHook(
  ctx: MigratorContext,
  step: HookedStep,
  direction: Direction,
): ((after: KeyValue | undefined, batchSize: number) => Promise<void>) | undefined {
  const hooks = ctx.config.hooks;
  if (!hooks?.beforeBatch) return undefined;
  const { migration: m, ref, runId } = step;
  return (after, batchSize) =>
    runHook(hooks, 'beforeBatch', {
      runId,
      migrationId: m.id,
      shardId: ref.descriptor.id,
      direction,
      after: after === undefined ? undefined : [...after],
      batchSize,
      signal: never(step.signal),
    });
}
