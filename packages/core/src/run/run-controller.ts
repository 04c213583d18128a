/**
 * The run controller: applies a plan wave by wave, shards in parallel (up to `concurrency`), the
 * canary shards of a wave first under the `canary` strategy, and stops on a failure under `halt`.
 */
import PQueue from 'p-queue';
import type { Migration } from '../definition/migration.js';
import type { Plan } from '../plan/planner.js';
import { concurrencyOf, DEFAULTS, type MigratorContext } from './context.js';
import { DependencyGate } from './dependencies.js';
import { shardReport } from './report-builder.js';
import type { RunReport } from './report.js';
import { notRun, runShard, type PlanRun, type ShardTask } from './shard-runner.js';

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
    report, signal: input.signal, byId: new Map(input.migrations.map((m) => [m.id, m])), deps: new DependencyGate(plan, input.migrations),
    remaining: countRemaining(plan, reachable), started: new Set(), halted: false,
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
  const canary = ctx.config.strategy === 'canary' ? tasks.slice(0, ctx.config.canaryShards ?? DEFAULTS.canaryShards) : [];
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
