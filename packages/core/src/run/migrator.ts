/**
 * The migrator: plans and runs migrations over every shard of every engine, coordinated by a run
 * lock in the control store, with per-shard leases whose fencing tokens guard every ledger write.
 *
 * `run()` is idempotent and safe to call from every replica at startup: one runner holds the run
 * lock and applies; the others wait for it, then find nothing pending and return.
 */
import { EventEmitter } from 'eventemitter3';
import type { ShardDescriptor, TenantDirectory } from '../engine/spi.js';
import { ErrorCode, MigrateError } from '../errors/errors.js';
import type { MigratorEvents } from '../events/events.js';
import type { Plan, RollbackTarget } from '../plan/planner.js';
import { scrubMethods } from '../util/scrubber.js';
import { type PurgeBackupsOptions, type PurgedBackup } from './backups.js';
import { type RepairChange, type RepairOptions } from './repair.js';
import {
  dryRun,
  inspectStatus,
  runVerify,
  runWait,
  verifyStatus,
  type MigratorStatus,
  type VerifyOptions,
  type VerifyReport,
} from './inspector.js';
import { finishRollback, finishRun, newReport } from './report-builder.js';
import { createContext, type MigratorContext } from './context.js';
import { shardLease } from '../lock/lease-keeper.js';
import { rollbackUnderLock } from './rollback-controller.js';
import { purgeAllBackups, repairLedgers } from './housekeeping.js';
import { applyUnderLock, settledWithoutLock } from './run-controller.js';
import { withRunLock } from './run-lock.js';
import { validateConfig, validateMigrations, type MigratorConfig } from './config.js';
import type { RunReport } from './report.js';
import { purgePreservedCopies, type PurgedCopy, type PurgePreservedOptions } from './preserve-steps.js';
import { validateOptions, withTimeout, type RunOptions } from './options.js';
import { CALL_DEFAULTS } from './defaults.js';

export type { RepairAction, RepairChange, RepairOptions } from './repair.js';
export { fenceOf } from '../lock/lease-keeper.js';
export type { RunMode } from './report-builder.js';
export type { RunOptions } from './options.js';
export type { DataCheck, MigratorStatus, ShardStatus, VerifyOptions, VerifyReport } from './inspector.js';
export type { BackupInfo, BackupRetention, PurgeBackupsOptions, PurgedBackup } from './backups.js';
export type { ControlOption, DirectoryOption } from './control-store.js';

export class Migrator extends EventEmitter<MigratorEvents> {
  readonly name: string;
  readonly runnerId: string;
  readonly #ctx: MigratorContext;
  #closed = false;

  constructor(config: MigratorConfig) {
    super();
    validateConfig(config);
    if (Array.isArray(config.migrations)) validateMigrations(config.migrations, config.engines);
    this.#ctx = createContext(config, (name, payload) =>
      (this.emit as (n: string, p: unknown) => boolean)(name, payload),
    );
    this.name = this.#ctx.name;
    this.runnerId = this.#ctx.runnerId;
    this.#ctx.tracker.attach(this);
    scrubMethods(this, ['plan', 'run', 'rollback', 'status', 'verify', 'repair'], this.#ctx.scrubber);
  }

  /** Every shard, in configured order (engines in `engines` order). */
  get shards(): readonly ShardDescriptor[] {
    return this.#ctx.shards.map((s) => s.descriptor);
  }

  /** The tenant directory of the control store: where tenant moves place tenants; the router's overrides. */
  get directory(): TenantDirectory {
    return this.#ctx.control.directory;
  }

  /** Pauses every running data migration between batches. Schema steps in flight finish. */
  pause(): void {
    this.#ctx.gate.pause();
    this.#ctx.emit('pause', { paused: true });
  }

  /** Lets the data migrations `pause()` held continue. */
  resume(): void {
    this.#ctx.gate.resume();
    this.#ctx.emit('pause', { paused: false });
  }

  get paused(): boolean {
    return this.#ctx.gate.paused;
  }

  /** The dry run: what `run()` would do now. Reads ledgers; takes no lock; changes nothing. */
  async plan(options: { signal?: AbortSignal } = {}): Promise<Plan> {
    this.#ensureOpen();
    validateOptions('plan', options);
    return dryRun(this.#ctx, options.signal);
  }

  /**
   * Plans and applies everything pending on every shard. Never calls `process.exit`. Returns a
   * report; throws `RunFailedError` (carrying the report) when a step failed or was not run, a
   * `PlanError` when the plan is refused, `MIGRATE_PENDING` in `verify` mode. When every shard is
   * reachable and nothing is pending, it answers from the ledgers without taking the run lock.
   */
  async run(options: RunOptions = {}): Promise<RunReport> {
    this.#ensureOpen();
    validateOptions('run', options);
    const mode = options.mode ?? CALL_DEFAULTS.run.mode;
    const signal = withTimeout(options.signal, options.timeoutMs);
    const report = newReport(this.#ctx, 'run', mode);
    this.#ctx.emit('run:start', { runId: report.runId, mode, runnerId: this.runnerId });
    const migrations = await this.#ctx.load();
    if (mode === 'verify') return runVerify(this.#ctx, this, report);
    if (mode === 'wait') return runWait(this.#ctx, this, report, signal);
    // Every replica calls run() at startup: when nothing is pending, answer from the ledgers alone.
    if (!(await settledWithoutLock(this.#ctx, { migrations, report, signal }))) {
      await withRunLock(this.#ctx, { signal, report, announce: true }, () =>
        applyUnderLock(this.#ctx, { migrations, report, signal }),
      );
    }
    return finishRun(this.#ctx, report);
  }

  /**
   * Rolls back the last `steps` migrations (default 1), or every migration after `to`. Each shard
   * where one is applied runs its `down` (schema), or `reverse` / the backup (data), latest first.
   * Refuses up front, changing nothing, when a schema migration to roll back has no `down`.
   */
  async rollback(
    target: RollbackTarget = CALL_DEFAULTS.rollback,
    options: { signal?: AbortSignal } = {},
  ): Promise<RunReport> {
    this.#ensureOpen();
    validateOptions('rollbackTarget', target);
    validateOptions('rollback', options);
    const migrations = await this.#ctx.load();
    const report = newReport(this.#ctx, 'rollback', 'apply');
    await withRunLock(this.#ctx, { signal: options.signal, report }, () =>
      rollbackUnderLock(this.#ctx, { target, migrations, report, signal: options.signal }),
    );
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
   * `resetCheckpoints`, drops checkpoints made by another version of a data migration, so that it
   * starts again from the first key. Returns what it changed.
   */
  async repair(options: RepairOptions = {}): Promise<RepairChange[]> {
    this.#ensureOpen();
    validateOptions('repair', options);
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
    validateOptions('purgeBackups', options);
    return purgeAllBackups(this.#ctx, options);
  }

  /**
   * Drops the copies kept for schema migrations' `preserve` (of `migrationIds`, default all) on
   * every shard, and returns them. Rolling back a migration whose copies were purged is refused.
   */
  async purgePreserved(options: PurgePreservedOptions = {}): Promise<PurgedCopy[]> {
    this.#ensureOpen();
    validateOptions('purgePreserved', options);
    return purgePreservedCopies(this.#ctx.shards, options, (ref) =>
      shardLease(this.#ctx, ref, 'purge-preserved', options.signal),
    );
  }

  /** Closes every engine adapter (they close only connections they opened). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.gate.resume();
    await Promise.allSettled(Object.values(this.#ctx.config.engines).map((e) => e.close()));
    this.removeAllListeners();
  }

  #ensureOpen(): void {
    if (this.#closed) throw new MigrateError(ErrorCode.Closed, 'This migrator was closed');
  }
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
