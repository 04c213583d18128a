/**
 * The migrator: plans and runs migrations over every shard of every engine, coordinated by a run
 * lock in the control store, with per-shard leases whose fencing tokens guard every ledger write.
 *
 * `run()` is idempotent and safe to call from every replica at startup: one runner holds the run
 * lock and applies; the others wait for it, then find nothing pending and return.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import type { ShardDescriptor } from '../engine/index.js';
import {
  ErrorCode, MigrateError, serializeError,
} from '../errors/errors.js';
import type { Migration } from '../definition/migration.js';
import { loadMigrations } from '../definition/load.js';
import type { MigratorEventName, MigratorEventPayload, MigratorEvents } from '../events/events.js';
import { plan as makePlan, type Plan, type RollbackTarget } from '../plan/planner.js';
import { noopLogger, type Logger } from '../util/logger.js';
import { Scrubber, scrubbingLogger, scrubbingShard, scrubMethods } from '../util/scrubber.js';
import { PauseGate } from '../data/throttle.js';
import { StatusTracker } from '../events/status-tracker.js';
import { type PurgeBackupsOptions, type PurgedBackup } from './backups.js';
import { type RepairChange, type RepairOptions } from './repair.js';
import { directoryOverrides, readLedgers } from './ledger-reader.js';
import { inspectStatus, runVerify, runWait, verifyStatus, type MigratorStatus, type VerifyOptions, type VerifyReport } from './inspector.js';
import { finishRollback, finishRun, markUnavailable, newReport, type RunMode } from './report-builder.js';
import { type MigratorContext, type ShardRef } from './context.js';
import { acquireRunLock, startHeartbeat, runLockName, shardLease } from '../lock/lease-keeper.js';
import { rollbackUnderLock } from './rollback-controller.js';
import { purgeBackupsOn, repairLedgers } from './housekeeping.js';
import { applyUnderLock } from './run-controller.js';
import { validateConfig, validateMigrations, type MigratorConfig } from './config.js';
import type { RunReport } from './report.js';
import { purgePreservedCopies, type PurgedCopy, type PurgePreservedOptions } from './preserve-steps.js';

export type { RepairAction, RepairChange, RepairOptions } from './repair.js';
export { fenceOf } from '../lock/lease-keeper.js';
export type { RunMode } from './report-builder.js';
export type { DataCheck, MigratorStatus, ShardStatus, VerifyOptions, VerifyReport } from './inspector.js';
export type { BackupInfo, BackupRetention, PurgeBackupsOptions, PurgedBackup } from './backups.js';
import { validateOptions } from './options.js';
import { preflight } from './preflight.js';

export interface RunOptions {
  /**
   * `apply` (default): the run-lock holder applies, the others wait for it and return.
   * `wait`: never apply; wait until another runner has applied everything (or `timeoutMs`).
   * `verify`: fail fast with `MIGRATE_PENDING` if anything is pending, drifted or failed.
   */
  readonly mode?: RunMode;
  readonly signal?: AbortSignal;
  /**
   * Gives up (abort) after this long. Default: no limit. A step still running then is reported
   * `failed` with `MIGRATE_TIMEOUT`, never `applied`, even if it ignores `ctx.signal` and finishes later.
   */
  readonly timeoutMs?: number;
}

export class Migrator extends EventEmitter<MigratorEvents> {
  readonly name: string;
  readonly runnerId: string;
  readonly #config: MigratorConfig;
  readonly #log: Logger;
  readonly #shards: readonly ShardRef[];
  readonly #gate = new PauseGate();
  readonly #tracker = new StatusTracker();
  readonly #scrubber: Scrubber;
  readonly #ctx: MigratorContext;
  #migrations: Promise<readonly Migration[]> | undefined;
  #closed = false;

  constructor(config: MigratorConfig) {
    super();
    validateConfig(config);
    if (Array.isArray(config.migrations)) validateMigrations(config.migrations, config.engines);
    this.#config = config;
    this.name = config.name ?? 'default';
    // Every secret the SDK was given: scrubbed exactly from events, logs, ledger rows, results and errors.
    this.#scrubber = new Scrubber([...(config.secrets ?? []), ...Object.values(config.engines).flatMap((e) => e.secrets?.() ?? [])]);
    // The host chooses the runner id, and it is stored (ledger rows, lock owners) and shown (events,
    // reports, status): scrubbed once here, so every place that writes or shows it has the same text.
    this.runnerId = this.#scrubber.text(config.runnerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`);
    this.#log = scrubbingLogger(config.logger ?? noopLogger, this.#scrubber, { set: this.name, runner: this.runnerId });
    this.#tracker.attach(this);
    this.#shards = Object.values(config.engines).flatMap((engine) => engine.shards.map((d) => ({ descriptor: d, adapter: scrubbingShard(engine.shard(d.id), this.#scrubber) })));
    this.#ctx = {
      name: this.name, runnerId: this.runnerId, config, log: this.#log, scrubber: this.#scrubber, shards: this.#shards, gate: this.#gate, tracker: this.#tracker,
      emit: (name, payload) => this.#emit(name, payload),
      load: () => this.#load(),
    };
    scrubMethods(this, ['plan', 'run', 'rollback', 'status', 'verify', 'repair'], this.#scrubber);
  }

  /** Every shard, in configured order (engines in `engines` order). */
  get shards(): readonly ShardDescriptor[] {
    return this.#shards.map((s) => s.descriptor);
  }

  /** Pauses every running data migration between batches. Schema steps in flight finish. */
  pause(): void {
    this.#gate.pause();
    this.#emit('pause', { paused: true });
  }

  resume(): void {
    this.#gate.resume();
    this.#emit('pause', { paused: false });
  }

  get paused(): boolean {
    return this.#gate.paused;
  }

  /** The dry run: what `run()` would do now. Reads ledgers; takes no lock; changes nothing. */
  async plan(options: { signal?: AbortSignal } = {}): Promise<Plan> {
    this.#ensureOpen();
    validateOptions('plan', options);
    const migrations = await this.#load();
    const { ledgers, unreachable } = await readLedgers(this.#ctx, options.signal);
    if (unreachable.size) throw [...unreachable.values()][0]!;
    const plan = makePlan({ migrations, shards: this.shards, ledgers, router: this.#config.router, overrides: await directoryOverrides(this.#ctx), drift: this.#config.drift });
    await preflight(plan, migrations, this.#shards.map((r) => ({ id: r.descriptor.id, adapter: r.adapter })));
    return plan;
  }

  /**
   * Plans and applies everything pending on every shard. Never calls `process.exit`. Returns a
   * report; throws `RunFailedError` (carrying the report) when a step failed or was not run, a
   * `PlanError` when the plan is refused, `MIGRATE_PENDING` in `verify` mode.
   */
  async run(options: RunOptions = {}): Promise<RunReport> {
    this.#ensureOpen();
    validateOptions('run', options);
    const mode = options.mode ?? 'apply';
    const signal = withTimeout(options.signal, options.timeoutMs);
    const report = newReport(this.#ctx, 'run', mode);
    this.#emit('run:start', { runId: report.runId, mode, runnerId: this.runnerId });
    const migrations = await this.#load();
    if (mode === 'verify') return runVerify(this.#ctx, this, report);
    if (mode === 'wait') return runWait(this.#ctx, this, report, signal);

    const runLock = runLockName(this.#ctx);
    const lease = await acquireRunLock(this.#ctx, {
      signal,
      onWait: (holder) => {
        if (!report.waitedForLock) this.#emit('lock:wait', { runId: report.runId, lock: runLock, holder });
        report.waitedForLock = true;
      },
    }).catch((error: unknown) => markUnavailable(report, error));
    if (!lease) return finishRun(this.#ctx, report);
    this.#emit('lock:acquired', { runId: report.runId, lock: runLock, token: lease.token });
    const heartbeat = startHeartbeat(this.#ctx, lease);
    try {
      await applyUnderLock(this.#ctx, { migrations, report, signal });
    } finally {
      heartbeat.stop();
      await lease.release().catch(() => undefined);
      this.#emit('lock:released', { runId: report.runId, lock: runLock });
    }
    return finishRun(this.#ctx, report);
  }

  /**
   * Rolls back the last `steps` migrations (default 1), or every migration after `to`. Each shard
   * where one is applied runs its `down` (schema), or `reverse` / the backup (data), latest first.
   * Refuses up front, changing nothing, when a schema migration to roll back has no `down`.
   */
  async rollback(target: RollbackTarget = { steps: 1 }, options: { signal?: AbortSignal } = {}): Promise<RunReport> {
    this.#ensureOpen();
    validateOptions('rollbackTarget', target);
    validateOptions('rollback', options);
    const migrations = await this.#load();
    const report = newReport(this.#ctx, 'rollback', 'apply');
    const lease = await acquireRunLock(this.#ctx, { signal: options.signal })
      .catch((error: unknown) => markUnavailable(report, error));
    if (!lease) return finishRollback(this.#ctx, report);
    const heartbeat = startHeartbeat(this.#ctx, lease);
    try {
      await rollbackUnderLock(this.#ctx, { target, migrations, report, signal: options.signal });
    } finally {
      heartbeat.stop();
      await lease.release().catch(() => undefined);
    }
    return finishRollback(this.#ctx, report);
  }

  /** Ledgers, locks and reachability of every shard, with drift and pending migrations. Changes nothing. */
  async status(options: { signal?: AbortSignal } = {}): Promise<MigratorStatus> {
    this.#ensureOpen();
    validateOptions('status', options);
    return inspectStatus(this.#ctx, options.signal);
  }

  /** Checks that everything is applied, nothing drifted or failed, every shard reachable. Never throws for those: see `ok`. */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    validateOptions('verify', options);
    const status = await this.status({ ...(options.signal ? { signal: options.signal } : {}) });
    return verifyStatus(this.#ctx, status, options);
  }

  /**
   * Accepts the current definitions' checksums for applied migrations that drifted; with
   * `forgetMissing`, deletes ledger records of migrations missing from code; with
   * `resetCheckpoints`, drops checkpoints made by another version of a data migration (see
   * `run/repair.ts`). Returns what it changed.
   */
  async repair(options: RepairOptions = {}): Promise<RepairChange[]> {
    this.#ensureOpen();
    return repairLedgers(this.#ctx, options);
  }

  /**
   * Drops the backups of applied data migrations (all, or `migrationIds`, or those applied at least
   * `olderThanMs` ago) on every shard, and records it in their ledgers: rolling them back then needs
   * `reverse` (a rollback that would need the backup is refused with `MIGRATE_ROLLBACK`). Returns
   * what it dropped. Takes the run lock, so it never races a run.
   */
  async purgeBackups(options: PurgeBackupsOptions = {}): Promise<PurgedBackup[]> {
    this.#ensureOpen();
    const lease = await acquireRunLock(this.#ctx, { signal: options.signal });
    const heartbeat = startHeartbeat(this.#ctx, lease);
    try {
      const { unreachable } = await readLedgers(this.#ctx, options.signal, true);
      if (unreachable.size) throw [...unreachable.values()][0]!;
      return await purgeBackupsOn(this.#ctx, { shardIds: this.shards.map((s) => s.id), options, runId: 'purge' });
    } finally {
      heartbeat.stop();
      await lease.release().catch(() => undefined);
    }
  }

  /**
   * Drops the copies kept for schema migrations' `preserve` (of `migrationIds`, default all) on
   * every shard, and returns them. Rolling back a migration whose copies were purged is refused.
   */
  async purgePreserved(options: PurgePreservedOptions = {}): Promise<PurgedCopy[]> {
    this.#ensureOpen();
    return purgePreservedCopies(this.#shards, options, (ref) => shardLease(this.#ctx, ref, 'purge-preserved', options.signal));
  }

  /** Closes every engine adapter (they close only connections they opened). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#gate.resume();
    await Promise.allSettled(Object.values(this.#config.engines).map((e) => e.close()));
    this.removeAllListeners();
  }

  // ----------------------------------------------------------------------------------------------

  #load(): Promise<readonly Migration[]> {
    this.#migrations ??= (async () => {
      const source = this.#config.migrations;
      if (typeof source !== 'string') return source as readonly Migration[];
      const loaded = await loadMigrations(source);
      validateMigrations(loaded, this.#config.engines);
      return loaded;
    })();
    this.#migrations.catch(() => (this.#migrations = undefined));
    return this.#migrations;
  }

  #emit<K extends MigratorEventName>(name: K, payload: MigratorEventPayload<K>): void {
    try {
      (this.emit as (n: string, p: unknown) => boolean)(name, this.#scrubber.value(payload));
    } catch (error) {
      this.#log.error(`a listener of "${name}" threw; ignored`, { error: serializeError(error) });
    }
  }

  #ensureOpen(): void {
    if (this.#closed) throw new MigrateError(ErrorCode.Closed, 'This migrator was closed');
  }
}

function withTimeout(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  if (timeoutMs === undefined) return signal;
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/**
 * Creates a migrator. Validates the options and the definitions at once (a `DefinitionError` names
 * the field); connects nothing until the first call.
 *
 * ### Examples
 * ```ts
 * const migrator = createMigrator({ engines: { postgres: postgresEngine({ shards }) }, migrations });
 * migrator.on('batch', (e) => log.info(`${e.shardId} ${e.processed}/${e.total}`));
 * await migrator.run();
 * ```
 */
export function createMigrator(config: MigratorConfig): Migrator {
  return new Migrator(config);
}
