/**
 * The defaults of `createMigrator`'s options and of the migrator's calls, in one place: the code
 * reads them from here, and docs/reference/configuration.md is generated from them
 * (`pnpm run docs:reference`), so the page, the option docs and the behaviour cannot disagree.
 * A leaf of the module on purpose (no imports): the data, plan and run rooms all read it.
 */

/** The default of every `createMigrator` option that has a fixed one (the others are computed or absent). */
export const MIGRATOR_DEFAULTS = Object.freeze({
  name: 'default',
  concurrency: 4,
  strategy: 'all',
  canaryShards: 1,
  onFailure: 'halt',
  drift: 'fail',
  retry: Object.freeze({ retries: 3, minTimeoutMs: 100, maxTimeoutMs: 2_000 }),
  lock: Object.freeze({ ttlMs: 30_000 }),
  backupRetention: 'keep',
  throttle: Object.freeze({
    targetBatchMs: 500,
    minBatchSize: 10,
    maxBatchSize: 10_000,
    pressureBackoffMs: 1_000,
    maxBatchBytes: 8 * 1024 * 1024,
  }),
} as const);

/** The defaults of the migrator's calls' options (`run(options)`, `rollback(target)`). */
export const CALL_DEFAULTS = Object.freeze({
  run: Object.freeze({ mode: 'apply' }),
  rollback: Object.freeze({ steps: 1 }),
} as const);
