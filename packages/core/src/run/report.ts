/** The structured result of `run()` and `rollback()`: per shard, per migration. */
import type { EngineName, LedgerCounts } from '../engine/spi.js';
import type { SerializedError } from '../errors/errors.js';

export type StepStatus =
  /** Applied (or rolled back, in a rollback report) by this run. */
  | 'applied'
  /** Nothing to do: already applied before this run. */
  | 'skipped'
  | 'failed'
  /** Not attempted: the run halted, a dependency failed, or the shard was unreachable. */
  | 'not-run';

/** One migration on one shard in a run or rollback. */
export interface StepReport {
  readonly migrationId: string;
  readonly status: StepStatus;
  /** Why it was skipped or not run (`already applied`, `halted after a failure`, a dependency, …). */
  readonly reason?: string | undefined;
  /** Why it failed (`failed`), redacted. */
  readonly error?: SerializedError | undefined;
  /** How long the step took on this shard, retries included. */
  readonly durationMs?: number | undefined;
  /** A data migration's rows read, written and left unchanged on this shard. */
  readonly counts?: LedgerCounts | undefined;
  /** Attempts made (more than 1 after retries of transient errors). */
  readonly attempts?: number | undefined;
  /** The `afterStep` hook threw (`MIGRATE_HOOK_FAILED`): the run is not `ok`, but the step stays as `status` says. */
  readonly hookError?: SerializedError | undefined;
}

/** One shard's part of a run or rollback. */
export interface ShardReport {
  readonly shardId: string;
  readonly engine: EngineName;
  /** Every migration of the plan on this shard, in the order they ran (or would have). */
  readonly migrations: StepReport[];
  /** The shard was unreachable (`MIGRATE_SHARD_UNAVAILABLE`): nothing ran there. */
  error?: SerializedError | undefined;
}

/** What `run()` and `rollback()` return, and what their `RunFailedError` carries as `report`. */
export interface RunReport {
  /** Unique per call; the events of the call carry it. */
  readonly runId: string;
  readonly kind: 'run' | 'rollback';
  /** The `run()` mode (`apply` for a rollback). */
  readonly mode: 'apply' | 'wait' | 'verify';
  /** The migrator's `runnerId`. */
  readonly runnerId: string;
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601. */
  finishedAt: string;
  durationMs: number;
  /** True when nothing failed and nothing was left not-run. */
  ok: boolean;
  /** True when another runner held the run lock and this one waited for it. */
  waitedForLock: boolean;
  /** Every shard, in configured order. */
  readonly shards: ShardReport[];
  /** The steps of every shard counted by status (`notRun` counts `not-run`). */
  totals: { applied: number; skipped: number; failed: number; notRun: number };
}

export function summarize(report: RunReport): RunReport {
  const totals = { applied: 0, skipped: 0, failed: 0, notRun: 0 };
  for (const shard of report.shards) {
    for (const m of shard.migrations) {
      if (m.status === 'not-run') totals.notRun++;
      else totals[m.status]++;
    }
  }
  report.totals = totals;
  report.ok =
    totals.failed === 0 &&
    totals.notRun === 0 &&
    report.shards.every((s) => !s.error && s.migrations.every((m) => !m.hookError));
  report.finishedAt = new Date().toISOString();
  report.durationMs = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
  return report;
}

/**
 * The message of a failed run or rollback: what went wrong first (each unreachable shard with its
 * cause, then each failed step with its error; at most three), then the totals.
 */
export function failureSummary(report: RunReport): string {
  const what = report.kind === 'run' ? 'Migration run' : 'Rollback';
  const unreachable = report.shards
    .filter((s) => s.error)
    .map((s) => `shard "${s.shardId}" is unavailable (${s.error!.code}): ${s.error!.message}`);
  const failed = report.shards.flatMap((s) =>
    s.migrations
      .filter((m) => m.status === 'failed')
      .map(
        (m) =>
          `"${m.migrationId}" failed on shard "${s.shardId}" (${m.error?.code ?? 'unknown'}): ${m.error?.message ?? 'no error recorded'}`,
      ),
  );
  const hooks = report.shards.flatMap((s) =>
    s.migrations.filter((m) => m.hookError).map((m) => `${m.hookError!.code}: ${m.hookError!.message}`),
  );
  const causes = [...unreachable, ...failed, ...hooks];
  const shown = causes.length
    ? causes.slice(0, 3).join('; ') + (causes.length > 3 ? `; and ${causes.length - 3} more` : '')
    : 'steps were not run';
  const t = report.totals;
  return `${what} failed: ${shown} (${t.applied} applied, ${t.skipped} skipped, ${t.failed} failed, ${t.notRun} not run)`;
}
