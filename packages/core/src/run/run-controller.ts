/**
 * The run controller: applies a plan wave by wave, shards in parallel (up to `concurrency`), the
 * canary shards of a wave first under the `canary` strategy, and stops on a failure under `halt`.
 * It runs under the run lock, which the facade holds.
 */
import PQueue from 'p-queue';
import { serializeError } from '../errors/errors.js';
import type { Migration } from '../definition/migration.js';
import { plan as makePlan, type Plan } from '../plan/planner.js';
import { upgradeLegacyChecksums } from './checksum-upgrade.js';
import { concurrencyOf, onFailureOf, shardOf, type MigratorContext } from './context.js';
import { MIGRATOR_DEFAULTS } from './defaults.js';
import { DependencyGate } from './dependencies.js';
import { purgeBackupsOn } from './housekeeping.js';
import { shardLease } from '../lock/lease-keeper.js';
import { directoryOverrides, readLedgers } from './ledger-reader.js';
import { preflight } from './preflight.js';
import { shardReport } from './report-builder.js';
import { beforeRunHook } from './step-hooks.js';
import type { RunReport } from './report.js';
import { notRun, runShard, type PlanRun, type ShardTask } from './shard-runner.js';

export interface RunInput {
  readonly migrations: readonly Migration[];
  readonly report: RunReport;
  readonly signal: AbortSignal | undefined;
}

/** Everything `run()` does while it holds the run lock: plan, preflight, apply, then backup retention. */
export async function applyUnderLock(ctx: MigratorContext, input: RunInput): Promise<void> {
  const { migrations, report, signal } = input;
  const { plan, unreachable } = await planUnderLock(ctx, input);
  const reachable = ctx.shards.map((r) => r.descriptor).filter((s) => !unreachable.has(s.id));
  if (unreachable.size > 0 && onFailureOf(ctx) === 'halt') {
    for (const sp of plan.shards.filter((s) => !unreachable.has(s.shardId))) {
      const sr = shardReport(report, sp.shardId);
      for (const step of sp.steps)
        sr.migrations.push({
          migrationId: step.migrationId,
          status: 'not-run',
          reason: 'halted: a shard is unreachable',
        });
    }
    return;
  }
  // Refuses a missing table or a non-unique key before anything is applied on any shard.
  await preflight(
    plan,
    migrations,
    ctx.shards.filter((r) => !unreachable.has(r.descriptor.id)),
  );
  await beforeRunHook(ctx, { runId: report.runId, plan, signal }, unreachable);
  await executePlan(ctx, { plan, migrations, report, signal, reachable: new Set(reachable.map((s) => s.id)) });
  const retention = ctx.config.backupRetention ?? MIGRATOR_DEFAULTS.backupRetention;
  if (retention !== 'keep') {
    // Housekeeping: a purge that fails leaves the backups for the next run and fails nothing.
    await purgeBackupsOn(ctx, {
      shardIds: reachable.map((s) => s.id),
      options: { olderThanMs: retention.olderThanMs, signal },
      runId: report.runId,
    }).catch((error: unknown) => {
      ctx.log.warn('backup retention: purging old backups failed; the next run tries again', {
        error: serializeError(error),
      });
    });
  }
}

/**
 * The startup fast path: every ledger read without the run lock, and when every shard is reachable
 * and has nothing to apply (no pending, running or failed step, no checksum to upgrade, no warning,
 * no backup retention due), the report of applied-as-skipped migrations is filled and `true`
 * returned: the lock is not taken. A ledger that says "applied" is final, so no other runner can
 * make this answer wrong. In any other case nothing is changed and the caller takes the lock.
 */
export async function settledWithoutLock(ctx: MigratorContext, input: RunInput): Promise<boolean> {
  if ((ctx.config.backupRetention ?? MIGRATOR_DEFAULTS.backupRetention) !== 'keep') return false;
  const { ledgers, unreachable } = await readLedgers(ctx, input.signal);
  if (unreachable.size > 0) return false;
  let plan: Plan;
  try {
    plan = makePlan({
      migrations: input.migrations,
      shards: ctx.shards.map((r) => r.descriptor),
      ledgers,
      router: ctx.config.router,
      overrides: await directoryOverrides(ctx),
      drift: ctx.config.drift,
    });
  } catch {
    return false; // A refused plan is reported by the locked path, as before.
  }
  const idle = plan.shards.every((s) => s.steps.length === 0);
  if (!idle || plan.warnings.length > 0 || (plan.checksumUpgrades ?? []).length > 0) return false;
  ctx.emit('plan', { runId: input.report.runId, plan });
  for (const sp of plan.shards) {
    const sr = shardReport(input.report, sp.shardId);
    for (const id of sp.applied) sr.migrations.push({ migrationId: id, status: 'skipped' });
  }
  return true;
}

/**
 * Reads (creating) every ledger, plans, upgrades legacy checksums, announces the plan, and reports
 * what is already applied and what an unreachable shard cannot run.
 */
async function planUnderLock(
  ctx: MigratorContext,
  input: RunInput,
): Promise<{ plan: Plan; unreachable: ReadonlyMap<string, unknown> }> {
  const { migrations, report, signal } = input;
  const { ledgers, unreachable } = await readLedgers(ctx, signal, true);
  for (const [shardId, error] of unreachable) shardReport(report, shardId).error = serializeError(error);
  const plan = makePlan({
    migrations,
    shards: ctx.shards.map((r) => r.descriptor),
    ledgers,
    router: ctx.config.router,
    overrides: await directoryOverrides(ctx),
    drift: ctx.config.drift,
  });
  for (const w of plan.warnings) ctx.log.warn(w);
  const upgrades = (plan.checksumUpgrades ?? []).filter((u) => !unreachable.has(u.shardId));
  if (upgrades.length) {
    const n = await upgradeLegacyChecksums(
      upgrades,
      migrations,
      (id) => shardOf(ctx, id).adapter,
      (id) => shardLease(ctx, shardOf(ctx, id), report.runId, signal),
    );
    ctx.log.info(`upgraded ${n} ledger checksum(s) written by an older SDK to the compiler-independent format`);
  }
  ctx.emit('plan', { runId: report.runId, plan });
  for (const sp of plan.shards) {
    const sr = shardReport(report, sp.shardId);
    for (const id of sp.applied) sr.migrations.push({ migrationId: id, status: 'skipped' });
    if (unreachable.has(sp.shardId)) {
      for (const step of sp.steps)
        sr.migrations.push({ migrationId: step.migrationId, status: 'not-run', reason: 'shard unreachable' });
    }
  }
  return { plan, unreachable };
}

export interface ExecuteInput {
  readonly plan: Plan;
  readonly migrations: readonly Migration[];
  readonly report: RunReport;
  readonly signal: AbortSignal | undefined;
  /** Shards whose ledgers could be read; the others are already reported. */
  readonly reachable: ReadonlySet<string>;
}

export async function executePlan(ctx: MigratorContext, input: ExecuteInput): Promise<void> {
  const { plan, report, reachable } = input;
  const waves = [...new Set(plan.shards.flatMap((s) => s.steps.map((x) => x.wave)))].sort((a, b) => a - b);
  const run: PlanRun = {
    report,
    signal: input.signal,
    byId: new Map(input.migrations.map((m) => [m.id, m])),
    deps: new DependencyGate(plan, input.migrations),
    remaining: countRemaining(plan, reachable),
    started: new Set(),
    halted: false,
  };
  for (const wave of waves) {
    const tasks = plan.shards
      .filter((sp) => reachable.has(sp.shardId))
      .map((sp) => ({ sp, steps: sp.steps.filter((s) => s.wave === wave) }))
      .filter((t) => t.steps.length > 0);
    if (run.halted) {
      for (const t of tasks) notRun(shardReport(report, t.sp.shardId), t.steps, 'halted after a failure');
      continue;
    }
    await runWave(ctx, run, tasks);
  }
}

/** One wave: the canary group (if any), then the rest; a failed canary marks the rest not run. */
async function runWave(ctx: MigratorContext, run: PlanRun, tasks: readonly ShardTask[]): Promise<void> {
  const canary =
    (ctx.config.strategy ?? MIGRATOR_DEFAULTS.strategy) === 'canary'
      ? tasks.slice(0, ctx.config.canaryShards ?? MIGRATOR_DEFAULTS.canaryShards)
      : [];
  const groups = canary.length ? [canary, tasks.slice(canary.length)] : [tasks];
  for (const [gi, group] of groups.entries()) {
    const inCanary = gi === 0 && canary.length > 0;
    const queue = new PQueue({ concurrency: concurrencyOf(ctx) });
    for (const task of group) void queue.add(() => runShard(ctx, run, task, inCanary));
    await queue.onIdle();
    if (inCanary && run.halted) {
      for (const t of groups[1] ?? []) notRun(shardReport(run.report, t.sp.shardId), t.steps, 'canary failed');
      break;
    }
  }
}

/** How many reachable shards each migration is planned on. */
function countRemaining(plan: Plan, reachable: ReadonlySet<string>): PlanRun['remaining'] {
  const remaining: PlanRun['remaining'] = new Map();
  for (const sp of plan.shards) {
    if (!reachable.has(sp.shardId)) continue;
    for (const step of sp.steps) {
      const r = remaining.get(step.migrationId) ?? { applied: [], failed: [], left: 0 };
      r.left++;
      remaining.set(step.migrationId, r);
    }
  }
  return remaining;
}
