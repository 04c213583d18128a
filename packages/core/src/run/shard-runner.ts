/**
 * The shard runner: one shard's steps of one wave, in order, under the shard's lease (renewed by a
 * heartbeat). A failed step stops the shard; dependencies and a halt mark later steps not run.
 */
import type { Lease } from '../engine/spi.js';
import { serializeError } from '../errors/errors.js';
import type { Migration } from '../definition/migration.js';
import type { PlanStep, ShardPlan } from '../plan/planner.js';
import { onFailureOf, shardOf, type MigratorContext } from './context.js';
import type { DependencyGate } from './dependencies.js';
import { shardLease, startHeartbeat, type Heartbeat } from '../lock/lease-keeper.js';
import { shardReport } from './report-builder.js';
import type { RunReport, ShardReport } from './report.js';
import { applyStep } from './step-runner.js';

/** What the shard runners of one run share while they apply the plan. */
export interface PlanRun {
  readonly report: RunReport;
  readonly signal: AbortSignal | undefined;
  readonly byId: ReadonlyMap<string, Migration>;
  readonly deps: DependencyGate;
  /** Per migration: the shards it applied and failed on, and how many are left (for `migration:done`). */
  readonly remaining: Map<string, { applied: string[]; failed: string[]; left: number }>;
  /** Migrations whose `migration:start` was emitted. */
  readonly started: Set<string>;
  /** Set after a failure under `halt`, or a failure among the canary shards. */
  halted: boolean;
}

/** One shard's steps of one wave. */
export interface ShardTask {
  readonly sp: ShardPlan;
  readonly steps: readonly PlanStep[];
}

export function notRun(sr: ShardReport, steps: readonly PlanStep[], reason: string): void {
  for (const s of steps) sr.migrations.push({ migrationId: s.migrationId, status: 'not-run', reason });
}

/** Runs one shard's steps of a wave; `canary` says a failure here halts every other shard. */
export async function runShard(ctx: MigratorContext, run: PlanRun, task: ShardTask, canary: boolean): Promise<void> {
  const { sp, steps } = task;
  const sr = shardReport(run.report, sp.shardId);
  if (run.halted) return notRun(sr, steps, 'halted after a failure');
  const ref = shardOf(ctx, sp.shardId);
  let lease: Lease;
  try {
    lease = await shardLease(ctx, ref, run.report.runId, run.signal);
  } catch (error) {
    run.halted ||= onFailureOf(ctx) === 'halt';
    for (const s of steps)
      sr.migrations.push({ migrationId: s.migrationId, status: 'failed', error: serializeError(error) });
    return;
  }
  const heartbeat = startHeartbeat(ctx, lease);
  try {
    await runSteps(ctx, run, { task, sr, lease, heartbeat, canary });
  } finally {
    heartbeat.stop();
    await lease.release().catch(() => undefined);
  }
}

interface LeasedShard {
  readonly task: ShardTask;
  readonly sr: ShardReport;
  readonly lease: Lease;
  readonly heartbeat: Heartbeat;
  readonly canary: boolean;
}

async function runSteps(ctx: MigratorContext, run: PlanRun, shard: LeasedShard): Promise<void> {
  const { sp, steps } = shard.task;
  const { sr } = shard;
  const runId = run.report.runId;
  let shardFailed = false;
  for (const step of steps) {
    const m = run.byId.get(step.migrationId)!;
    const reason = shardFailed
      ? 'an earlier migration failed on this shard'
      : run.halted && onFailureOf(ctx) === 'halt'
        ? 'halted after a failure'
        : run.deps.blocker(m, sp.shardId);
    if (reason) {
      sr.migrations.push({ migrationId: m.id, status: 'not-run', reason });
      continue;
    }
    if (!run.started.has(m.id)) {
      run.started.add(m.id);
      ctx.emit('migration:start', { runId, migrationId: m.id, shards: run.remaining.get(m.id)?.left ?? 0 });
    }
    const result = await applyStep(ctx, {
      migration: m,
      step,
      ref: shardOf(ctx, sp.shardId),
      lease: shard.lease,
      runId,
      signal: run.signal,
      heartbeat: shard.heartbeat,
    });
    sr.migrations.push(result);
    const agg = run.remaining.get(m.id)!;
    agg.left--;
    if (result.status === 'failed') {
      shardFailed = true;
      agg.failed.push(sp.shardId);
      if (onFailureOf(ctx) === 'halt' || shard.canary) run.halted = true;
    } else {
      agg.applied.push(sp.shardId);
      run.deps.applied(m.id, sp.shardId);
    }
    if (agg.left === 0)
      ctx.emit('migration:done', { runId, migrationId: m.id, applied: agg.applied, failed: agg.failed });
  }
}
