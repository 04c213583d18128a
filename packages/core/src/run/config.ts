/**
 * `createMigrator` options, validated with zod: a bad option is a `DefinitionError` naming the
 * field, thrown before anything connects or applies.
 */
import { z } from 'zod';
import { verifyEngineAdapter, type EngineAdapter, type LockProvider, type TenantDirectory } from '../engine/spi.js';
import { DefinitionError, ErrorCode } from '../errors/errors.js';
import { firstIssue } from '../errors/zod-issue.js';
import type { DriftPolicy } from '../plan/planner.js';
import type { Router } from '../router/router.js';
import type { Migration } from '../definition/migration.js';
import { validateMigration } from '../definition/validate-migration.js';
import { checkBackupNames } from '../definition/backup-names.js';
import type { Logger } from '../util/logger.js';
import type { ThrottleOptions } from '../data/throttle.js';
import type { MigratorHooks } from '../hooks/hooks.js';
import type { BackupRetention } from './backups.js';
import { checkPreserveSupport } from './preserve-steps.js';
import type { ControlOption } from './control-store.js';

/** The `retry` option of `createMigrator`: retries of transient errors (p-retry, exponential back-off). */
export interface RetryOptions {
  /** Retries after the first attempt of a step that failed with a retryable error. Default `3`. */
  readonly retries?: number | undefined;
  /** Wait before the first retry, in ms; it doubles with each one. Default `100`. */
  readonly minTimeoutMs?: number | undefined;
  /** Longest wait between two retries, in ms. Default `2000`. */
  readonly maxTimeoutMs?: number | undefined;
}

/** The `lock` option of `createMigrator`: the run lock's and the shard leases' settings. */
export interface LockOptions {
  /** A lease not renewed for this long (ms) is free: another runner takes over a dead holder's work. Default `30000`. */
  readonly ttlMs?: number | undefined;
  /**
   * The longest this runner waits (ms) for a lock held by another, then `MIGRATE_LOCK_TIMEOUT`.
   * Without it, a runner waits as long as the holder is alive (its heartbeat advances) and gives up
   * only on a dead holder (one whose lease was not renewed for `ttlMs`). Default: none.
   */
  readonly waitMs?: number | undefined;
}

export interface MigratorConfig {
  /** One adapter per engine, keyed by engine name (`postgres`, `mongodb`). */
  readonly engines: Readonly<Record<string, EngineAdapter<any>>>;
  /** Definitions (the main way), or a directory to load them from. */
  readonly migrations: readonly Migration[] | string;
  /** Shard routing for tenant-scoped migrations and tenant moves. */
  readonly router?: Router | undefined;
  /** Name of this migration set: lock names and reports carry it. Default `'default'`. */
  readonly name?: string | undefined;
  /** Shards migrated at once. Default `4`. */
  readonly concurrency?: number | undefined;
  /** `all`, or `canary`: the first `canaryShards` shards first, stop if they fail. Default `'all'`. */
  readonly strategy?: 'all' | 'canary' | undefined;
  /** Shards in the canary group. Default `1`. */
  readonly canaryShards?: number | undefined;
  /** `halt`: stop starting new work after a failure. `continue`: finish healthy shards. Default `'halt'`. */
  readonly onFailure?: 'halt' | 'continue' | undefined;
  /** What to do when an applied migration's checksum changed: refuse the plan (`fail`) or log a warning (`warn`). Default `'fail'`. */
  readonly drift?: DriftPolicy | undefined;
  /** Retries of transient errors (a lost connection, a lock timeout): see {@link RetryOptions}. */
  readonly retry?: RetryOptions | undefined;
  /** The run lock's and the shard leases' settings: see {@link LockOptions}. */
  readonly lock?: LockOptions | undefined;
  /**
   * The control store: the run lock and the tenant directory (a `TenantDirectory`, or a function
   * returning the placements, read-only). What is not given here comes from the engine whose adapter
   * offers `control()` with the highest `controlPreference` (PostgreSQL, then MongoDB, then memory,
   * each on its first shard; ties in the order of `engines`); failing that, the first engine's first
   * shard holds the lock.
   */
  readonly control?: ControlOption | undefined;
  /**
   * How long data migrations' backups (the saved originals a rollback without `reverse` restores)
   * are kept once applied. `'keep'`: until `migrator.purgeBackups()`. `{ olderThanMs }`: each
   * `run()` also purges the backups of migrations applied at least that long ago; after that,
   * rolling them back needs `reverse`. Default `'keep'`.
   */
  readonly backupRetention?: BackupRetention | undefined;
  /** Throttling and adaptive batch sizing of data migrations. */
  readonly throttle?: ThrottleOptions | undefined;
  /**
   * Awaited host functions that may veto or delay the run, a step or a batch (`beforeRun`,
   * `beforeStep`, `afterStep`, `beforeBatch`): throw to veto. Events only observe; see docs/guides/hooks.md.
   */
  readonly hooks?: MigratorHooks | undefined;
  /** Identifies this runner in locks and ledgers. Default: `<hostname>:<pid>:<random>`. */
  readonly runnerId?: string | undefined;
  /** Receives redacted log lines, `ctx.log` of migrations included. Default: none (nothing is printed). */
  readonly logger?: Logger | undefined;
  /**
   * More secrets to scrub (API keys a migration uses, a vault token): with the engines' own
   * passwords, replaced by `***` (as given and URL-encoded) in every error, event, log line, ledger
   * row, report and status. Strings shorter than 4 characters are not scrubbed exactly.
   */
  readonly secrets?: readonly string[] | undefined;
}

const positiveInt = (max: number) =>
  z.number().int('must be an integer').min(1, 'must be at least 1').max(max, `must be at most ${max}`);
const fn = z.custom<(...a: unknown[]) => unknown>((v) => typeof v === 'function', 'must be a function');

/** The schema `createMigrator` validates its options with (the reference page prints its bounds). */
export const configSchema = z.strictObject({
  engines: z.record(
    z.string(),
    z.custom<EngineAdapter>(
      (v) => typeof v === 'object' && v !== null,
      'must be an engine adapter (postgresEngine(), mongoEngine(), memoryEngine())',
    ),
  ),
  migrations: z.union([z.array(z.unknown()), z.string().min(1)]),
  router: z
    .custom<Router>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Router).route === 'function',
      'must be a router (hashRouter(), rangeRouter())',
    )
    .optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must match [A-Za-z0-9][A-Za-z0-9_.-]*')
    .optional(),
  concurrency: positiveInt(256).optional(),
  strategy: z.enum(['all', 'canary']).optional(),
  canaryShards: positiveInt(1000).optional(),
  onFailure: z.enum(['halt', 'continue']).optional(),
  drift: z.enum(['fail', 'warn']).optional(),
  retry: z
    .strictObject({
      retries: z.number().int().min(0).max(20).optional(),
      minTimeoutMs: z.number().min(0).optional(),
      maxTimeoutMs: z.number().min(0).optional(),
    })
    .optional(),
  lock: z
    .strictObject({
      ttlMs: z.number().int().min(100, 'must be at least 100').optional(),
      waitMs: z.number().int().min(0).optional(),
    })
    .optional(),
  control: z
    .strictObject({
      lock: z
        .custom<LockProvider>((v) => typeof (v as LockProvider)?.tryAcquire === 'function', 'must be a LockProvider')
        .optional(),
      directory: z
        .custom<TenantDirectory>(
          (v) => typeof v === 'function' || typeof (v as TenantDirectory | null)?.list === 'function',
          'must be a TenantDirectory or a function',
        )
        .optional(),
    })
    .optional(),
  backupRetention: z.union([z.literal('keep'), z.strictObject({ olderThanMs: z.number().int().min(0) })]).optional(),
  throttle: z
    .strictObject({
      targetBatchMs: z.number().positive().optional(),
      minBatchSize: positiveInt(1_000_000).optional(),
      maxBatchSize: positiveInt(1_000_000).optional(),
      pressure: fn.optional(),
      pressureBackoffMs: z.number().min(0).optional(),
      maxBatchBytes: z.number().int().min(1).optional(),
    })
    .optional(),
  hooks: z
    .strictObject({
      beforeRun: fn.optional(),
      beforeStep: fn.optional(),
      afterStep: fn.optional(),
      beforeBatch: fn.optional(),
    })
    .optional(),
  runnerId: z.string().min(1).max(200).optional(),
  secrets: z.array(z.string()).optional(),
  logger: z
    .custom<Logger>(
      (v) => typeof (v as Logger)?.info === 'function' && typeof (v as Logger)?.error === 'function',
      'must have debug/info/warn/error methods',
    )
    .optional(),
});

export function validateConfig(config: MigratorConfig): void {
  if (typeof config !== 'object' || config === null) {
    throw new DefinitionError('createMigrator: expected an options object', {
      code: ErrorCode.Config,
      field: '(root)',
    });
  }
  const result = configSchema.safeParse(config);
  if (!result.success) {
    const { field, detail } = firstIssue(result.error, 'option');
    throw new DefinitionError(`createMigrator: field "${field}": ${detail}`, { code: ErrorCode.Config, field });
  }
  const engines = Object.entries(config.engines);
  if (engines.length === 0)
    throw new DefinitionError('createMigrator: field "engines": configure at least one engine', {
      code: ErrorCode.Config,
      field: 'engines',
    });
  const seen = new Map<string, string>();
  for (const [key, adapter] of engines) {
    verifyEngineAdapter(adapter, { where: `createMigrator: field "engines.${key}"`, field: `engines.${key}` });
    if (adapter.name !== key) {
      throw new DefinitionError(`createMigrator: field "engines.${key}": adapter is for engine "${adapter.name}"`, {
        code: ErrorCode.Config,
        field: `engines.${key}`,
      });
    }
    if (adapter.shards.length === 0)
      throw new DefinitionError(`createMigrator: field "engines.${key}": has no shards`, {
        code: ErrorCode.Config,
        field: `engines.${key}`,
      });
    for (const s of adapter.shards) {
      const other = seen.get(s.id);
      if (other) {
        throw new DefinitionError(
          `createMigrator: field "engines.${key}": shard id "${s.id}" is also used by engine "${other}"; shard ids must be unique`,
          {
            code: ErrorCode.Config,
            shardId: s.id,
            field: `engines.${key}`,
          },
        );
      }
      seen.set(s.id, key);
    }
  }
  const t = config.throttle;
  if (t?.minBatchSize !== undefined && t.maxBatchSize !== undefined && t.minBatchSize > t.maxBatchSize) {
    throw new DefinitionError('createMigrator: field "throttle.minBatchSize": must not exceed throttle.maxBatchSize', {
      code: ErrorCode.Config,
      field: 'throttle.minBatchSize',
    });
  }
}

/**
 * Checks loaded definitions against the configured engines: each one again with the schema of
 * `define*` (a hand-built or edited object is refused like a bad input), then the set (backup names).
 */
export function validateMigrations(
  migrations: readonly unknown[],
  engines: Readonly<Record<string, EngineAdapter<any>>>,
): asserts migrations is readonly Migration[] {
  migrations.forEach((m, i) => {
    const kind = (m as Migration | null)?.kind;
    if (
      typeof m !== 'object' ||
      m === null ||
      (kind !== 'schema' && kind !== 'data') ||
      typeof (m as Migration).checksum !== 'string'
    ) {
      throw new DefinitionError(
        `createMigrator: field "migrations[${i}]": not a migration; build it with defineMigration() or defineDataMigration()`,
        {
          code: ErrorCode.Config,
          field: `migrations[${i}]`,
        },
      );
    }
    validateMigration(m, `createMigrator: migrations[${i}]`);
    const mig = m as Migration;
    if (!engines[mig.engine]) {
      throw new DefinitionError(
        `Migration "${mig.id}": field "engine": no engine "${mig.engine}" is configured (have: ${Object.keys(engines).join(', ')})`,
        {
          migrationId: mig.id,
          field: 'engine',
        },
      );
    }
    checkPreserveSupport(mig, engines[mig.engine]!);
  });
  checkBackupNames(migrations as readonly Migration[]);
}
