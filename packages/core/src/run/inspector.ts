/**
 * The inspector: reads the shards' ledgers and locks and says where the set stands (`status`,
 * `verify`, the data check) and what `run()` does in its `verify` and `wait` modes. Changes nothing.
 */
import type { KeyValue, LedgerRecord, LockStatus, PreservedCopy } from '../engine/spi.js';
import { ErrorCode, RunFailedError, serializeError, type SerializedError } from '../errors/errors.js';
import { describeRow } from '../errors/classify.js';
import { isLegacyChecksum } from '../definition/checksum.js';
import type { StatusSnapshot } from '../events/status-tracker.js';
import { plan as makePlan, type Plan } from '../plan/planner.js';
import { sleep, throwIfAborted } from '../util/time.js';
import { backupsOf, type BackupInfo } from './backups.js';
import { shardOf, type MigratorContext } from './context.js';
import { runLockName, shardLockName } from '../lock/lease-keeper.js';
import { directoryOverrides, readLedgers } from './ledger-reader.js';
import { preflight, skippedNote } from './preflight.js';
import { listPreserved } from './preserve-steps.js';
import { finishRun, shardReport } from './report-builder.js';
import { summarize, type RunReport } from './report.js';

/** One shard in `status()`. */
export interface ShardStatus {
  readonly shardId: string;
  readonly engine: string;
  /** Where it is, credentials removed (e.g. `postgres://***@db-0:5432/chat`). */
  readonly location: string | undefined;
  /** False when its ledger could not be read; `error` says why. */
  readonly reachable: boolean;
  readonly error: SerializedError | null;
  /** This shard's lease (held while a runner works on it), or `null`. */
  readonly lock: LockStatus | null;
  /** Its ledger: a record per migration that ran here, with `drift` when the code's checksum differs. */
  readonly migrations: readonly (LedgerRecord & { readonly drift: boolean })[];
  /** Ids of the migrations a run would apply here, in order. */
  readonly pending: readonly string[];
  /** Backups of data migrations that exist on this shard (not rolled back, not purged), per its ledger. */
  readonly backups: readonly BackupInfo[];
  /** Copies kept for schema migrations' `preserve`, until `purgePreserved()`. */
  readonly preserved: readonly PreservedCopy[];
}

/** What `status()` returns: where every shard stands. */
export interface MigratorStatus {
  /** The migrator's `name`. */
  readonly set: string;
  /** What this migrator is doing now (state, per-shard rate, throttling), folded from its events. */
  readonly live: StatusSnapshot;
  /** Who holds the run lock, or `null`. */
  readonly runLock: LockStatus | null;
  /** Why `run()` would refuse to plan (missing from code, cycle, unknown dependency), or `null`. Drift shows per record. */
  readonly planError: SerializedError | null;
  readonly shards: readonly ShardStatus[];
}

/** One data migration's `verify` predicate checked over its table on one shard. */
export interface DataCheck {
  readonly shardId: string;
  readonly migrationId: string;
  /** Rows/documents read. */
  readonly rows: number;
  /** Keys of rows whose `verify` predicate failed, with the reason (at most 100 per shard). */
  readonly failures: readonly { readonly key: KeyValue; readonly reason: string }[];
}

export interface VerifyOptions {
  readonly signal?: AbortSignal;
  /** Also scan the tables of applied data migrations and check their `verify` predicates. Default `false`. */
  readonly data?: boolean;
}

/** What `verify()` returns. */
export interface VerifyReport {
  /** True when `problems` is empty. */
  readonly ok: boolean;
  /** With `verify({ data: true })`: the data checks, else empty. */
  readonly data: readonly DataCheck[];
  /** Migrations a run would apply, by shard. */
  readonly pending: readonly { shardId: string; migrationId: string }[];
  /** Migrations whose ledger record is `failed`, with the error. */
  readonly failed: readonly { shardId: string; migrationId: string; error: SerializedError | null }[];
  /** Applied migrations whose code changed since. */
  readonly drifted: readonly { shardId: string; migrationId: string }[];
  /** Why `run()` would refuse to plan (a cycle, an unknown dependency), or `null`. */
  readonly planError: SerializedError | null;
  /** Every reason `ok` is false, one line each (unreachable shards, pending, failed, drifted, data failures). */
  readonly problems: readonly string[];
}

/**
 * The facade's public (scrubbing) `status`, which `wait` and `verify` modes go through: one status
 * per check, from which both the verdict and the applied list are derived.
 */
export interface Inspection {
  status(options?: { signal?: AbortSignal }): Promise<MigratorStatus>;
}

/** `plan()`, the dry run: reads every ledger (an unreachable shard throws), plans, and pre-flights the plan. */
export async function dryRun(ctx: MigratorContext, signal: AbortSignal | undefined): Promise<Plan> {
  const migrations = await ctx.load();
  const { ledgers, unreachable } = await readLedgers(ctx, signal);
  if (unreachable.size) throw [...unreachable.values()][0]!;
  const { router, drift } = ctx.config;
  const plan = makePlan({
    migrations,
    shards: ctx.shards.map((r) => r.descriptor),
    ledgers,
    router,
    overrides: await directoryOverrides(ctx),
    drift,
  });
  await preflight(plan, migrations, ctx.shards);
  return plan;
}

/** Ledgers, locks and reachability of every shard, with drift and pending migrations. */
export async function inspectStatus(ctx: MigratorContext, signal: AbortSignal | undefined): Promise<MigratorStatus> {
  const migrations = await ctx.load();
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const { ledgers, unreachable } = await readLedgers(ctx, signal);
  let pendingByShard = new Map<string, string[]>();
  let planError: SerializedError | null = null;
  try {
    const p = makePlan({
      migrations,
      shards: ctx.shards.map((r) => r.descriptor).filter((s) => !unreachable.has(s.id)),
      ledgers,
      router: ctx.config.router,
      overrides: await directoryOverrides(ctx),
      drift: 'warn',
    });
    pendingByShard = new Map(p.shards.map((s) => [s.shardId, s.steps.map((x) => x.migrationId)]));
  } catch (error) {
    // A refused plan (missing from code, cycle) still leaves ledgers worth showing.
    planError = serializeError(error);
  }
  const shards = await Promise.all(
    ctx.shards.map(async (ref): Promise<ShardStatus> => {
      const id = ref.descriptor.id;
      const records = ledgers.get(id) ?? [];
      return {
        shardId: id,
        engine: ref.descriptor.engine,
        location: ref.descriptor.location,
        reachable: !unreachable.has(id),
        error: unreachable.has(id) ? serializeError(unreachable.get(id)) : null,
        lock: unreachable.has(id) ? null : await ref.adapter.lock.status(shardLockName(ctx, id)).catch(() => null),
        migrations: records
          .sort((a, b) => a.seq - b.seq)
          .map((r) => ({
            ...r,
            drift:
              r.state === 'applied' &&
              byId.has(r.id) &&
              byId.get(r.id)!.checksum !== r.checksum &&
              !isLegacyChecksum(r.checksum),
          })),
        pending: pendingByShard.get(id) ?? [],
        backups: backupsOf(records, byId),
        preserved: unreachable.has(id) ? [] : await listPreserved(ref.adapter).catch(() => []),
      };
    }),
  );
  const runLock = await ctx.control.lock.status(runLockName(ctx)).catch(() => null);
  return { set: ctx.name, live: ctx.tracker.snapshot(), runLock, planError, shards };
}

/** Everything applied, nothing drifted or failed, every shard reachable, from a status; `data` also scans. */
export async function verifyStatus(
  ctx: MigratorContext,
  status: MigratorStatus,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const data = options.data ? await checkData(ctx, status, options.signal) : [];
  const pending = status.shards.flatMap((s) => s.pending.map((migrationId) => ({ shardId: s.shardId, migrationId })));
  const failed = status.shards.flatMap((s) =>
    s.migrations
      .filter((m) => m.state === 'failed')
      .map((m) => ({
        shardId: s.shardId,
        migrationId: m.id,
        error: m.error ? { name: 'MigrationError', ...m.error } : null,
      })),
  );
  const drifted = status.shards.flatMap((s) =>
    s.migrations.filter((m) => m.drift).map((m) => ({ shardId: s.shardId, migrationId: m.id })),
  );
  const planError = status.planError && status.planError.code !== ErrorCode.MissingFromCode ? status.planError : null;
  const problems = [
    ...status.shards
      .filter((s) => !s.reachable)
      .map((s) => `shard "${s.shardId}" is unreachable: ${s.error?.message ?? ''}`),
    // An applied migration missing from code is what an older replica sees during a rolling deploy: not a readiness problem.
    ...(planError ? [`the plan is refused: ${planError.message}`] : []),
    ...pending.map((p) => `"${p.migrationId}" is pending on shard "${p.shardId}"`),
    ...failed.map((f) => `"${f.migrationId}" failed on shard "${f.shardId}"`),
    ...drifted.map((d) => `"${d.migrationId}" drifted on shard "${d.shardId}"`),
    ...data
      .filter((d) => d.failures.length)
      .map(
        (d) =>
          `"${d.migrationId}" on shard "${d.shardId}": ${d.failures.length} row(s) fail its verify predicate, first ${describeRow(d.failures[0]!.key)}: ${d.failures[0]!.reason}`,
      ),
  ];
  return { ok: problems.length === 0, data, pending, failed, drifted, planError, problems };
}

async function checkData(
  ctx: MigratorContext,
  status: MigratorStatus,
  signal: AbortSignal | undefined,
): Promise<DataCheck[]> {
  const migrations = await ctx.load();
  const out: DataCheck[] = [];
  for (const s of status.shards.filter((x) => x.reachable)) {
    for (const record of s.migrations.filter((r) => r.state === 'applied')) {
      const m = migrations.find((x) => x.id === record.id);
      if (m?.kind !== 'data' || !m.verify || skippedNote(record)) continue;
      const target = { ...m.target, filter: m.filter };
      const store = shardOf(ctx, s.shardId).adapter.data;
      const failures: { key: KeyValue; reason: string }[] = [];
      let rows = 0;
      let after: KeyValue | undefined;
      for (;;) {
        throwIfAborted(signal);
        const page = await store.scan(target, after, 1000);
        for (const row of page) {
          rows++;
          const verdict = m.verify(row);
          if (verdict !== true && failures.length < 100)
            failures.push({
              key: target.key.map((k) => row[k]),
              reason: typeof verdict === 'string' ? verdict : 'predicate returned false',
            });
        }
        if (page.length < 1000) break;
        after = target.key.map((k) => page.at(-1)![k]);
      }
      out.push({ shardId: s.shardId, migrationId: m.id, rows, failures });
    }
  }
  return out;
}

/** `run({ mode: 'verify' })`: fails fast with `MIGRATE_PENDING` unless everything is applied. */
export async function runVerify(ctx: MigratorContext, inspection: Inspection, report: RunReport): Promise<RunReport> {
  const status = await inspection.status();
  const v = await verifyStatus(ctx, status, {});
  for (const p of v.pending)
    shardReport(report, p.shardId).migrations.push({
      migrationId: p.migrationId,
      status: 'not-run',
      reason: 'pending',
    });
  for (const f of v.failed)
    shardReport(report, f.shardId).migrations.push({
      migrationId: f.migrationId,
      status: 'failed',
      error: f.error ?? undefined,
    });
  if (v.ok) recordApplied(status, report, new Set());
  summarize(report);
  if (!v.ok) {
    throw new RunFailedError(
      `Not ready: ${v.problems.slice(0, 5).join('; ')}${v.problems.length > 5 ? `; and ${v.problems.length - 5} more` : ''}`,
      report,
      { code: ErrorCode.Pending },
    ) as never;
  }
  ctx.emit('run:done', { runId: report.runId, report });
  return report;
}

/** `run({ mode: 'wait' })`: polls until another runner applied everything; gives up when waiting is pointless. */
export async function runWait(
  ctx: MigratorContext,
  inspection: Inspection,
  report: RunReport,
  signal: AbortSignal | undefined,
): Promise<RunReport> {
  let waitedFor: Set<string> | undefined;
  for (;;) {
    throwIfAborted(signal);
    const status = await inspection.status({ ...(signal ? { signal } : {}) });
    const v = await verifyStatus(ctx, status, {});
    if (v.ok) {
      recordApplied(status, report, waitedFor ?? new Set());
      return finishRun(ctx, report);
    }
    // What was pending when this runner started waiting is what another runner applies meanwhile.
    waitedFor ??= new Set(v.pending.map((p) => `${p.shardId}\u0000${p.migrationId}`));
    report.waitedForLock = true;
    if (v.failed.length || v.drifted.length || v.planError) {
      throw new RunFailedError(
        `Waiting is pointless: ${[...(v.planError ? [`the plan is refused: ${v.planError.message}`] : []), ...v.failed.map((f) => `"${f.migrationId}" failed on "${f.shardId}"`), ...v.drifted.map((d) => `"${d.migrationId}" drifted on "${d.shardId}"`)].join('; ')}`,
        summarize(report),
      );
    }
    await sleep(250, signal);
  }
}

/** A `wait`/`verify` report lists what is applied on each shard (skipped: nothing for this runner to do), saying which were applied while it waited. */
function recordApplied(status: MigratorStatus, report: RunReport, waitedFor: ReadonlySet<string>): void {
  for (const shard of status.shards) {
    const sr = shardReport(report, shard.shardId);
    for (const r of shard.migrations.filter((x) => x.state === 'applied')) {
      const waited = waitedFor.has(`${shard.shardId}\u0000${r.id}`);
      sr.migrations.push({
        migrationId: r.id,
        status: 'skipped',
        reason: waited ? 'applied by another runner while this one waited' : 'already applied',
      });
    }
  }
}
