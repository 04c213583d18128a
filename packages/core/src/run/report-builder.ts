/**
 * Building a run's report: a fresh one listing every shard, the shared ending of `run()` and
 * `rollback()` (summarize, announce, throw when not ok), and marking a down control store.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, isMigrateError, RunFailedError, serializeError } from '../errors/errors.js';
import type { MigratorContext } from './context.js';
import { failureSummary, summarize, type RunReport, type ShardReport } from './report.js';

export type RunMode = 'apply' | 'wait' | 'verify';

export function newReport(ctx: MigratorContext, kind: 'run' | 'rollback', mode: RunMode): RunReport {
  return {
    runId: randomUUID(),
    kind,
    mode,
    runnerId: ctx.runnerId,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    durationMs: 0,
    ok: false,
    waitedForLock: false,
    shards: ctx.shards.map((s) => ({ shardId: s.descriptor.id, engine: s.descriptor.engine, migrations: [] })),
    totals: { applied: 0, skipped: 0, failed: 0, notRun: 0 },
  };
}

/** Ends a run: summarizes, emits `run:done`, throws `RunFailedError` (carrying the report) unless ok. */
export function finishRun(ctx: MigratorContext, report: RunReport): RunReport {
  summarize(report);
  ctx.emit('run:done', { runId: report.runId, report });
  if (!report.ok) throw new RunFailedError(failureSummary(report), report);
  return report;
}

/** Ends a rollback like `finishRun`, announcing `rollback:done`. */
export function finishRollback(ctx: MigratorContext, report: RunReport): RunReport {
  summarize(report);
  ctx.emit('rollback:done', { runId: report.runId, report });
  if (!report.ok) throw new RunFailedError(failureSummary(report), report);
  return report;
}

/** The control store's shard is down: report it like any unreachable shard (nothing done); rethrows anything else. */
export function markUnavailable(report: RunReport, error: unknown): null {
  if (!isMigrateError(error) || error.code !== ErrorCode.ShardUnavailable) throw error;
  const shard = report.shards.find((s) => s.shardId === error.shardId) ?? report.shards[0]!;
  shard.error = serializeError(error);
  return null;
}

/** The shard's entry of the report (every configured shard has one from `newReport`). */
export function shardReport(report: RunReport, shardId: string): ShardReport {
  return report.shards.find((s) => s.shardId === shardId)!;
}
