/**
 * `@mcp/migrate-core`: plan, lock and run schema and data migrations across sharded PostgreSQL and
 * MongoDB. Engine adapters live in `@mcp/migrate-postgres` and `@mcp/migrate-mongodb`; in-memory
 * adapters for tests in `@mcp/migrate-core/testing`.
 */
export * from './definition/migration.js';
export * from './definition/migration-schema.js';
export * from './definition/checksum.js';
export * from './definition/validate-migration.js';
export * from './definition/load.js';
export { normalizePreserve, preserveCopyName, PRESERVE_CATALOG, type PreserveInput } from './definition/preserve.js';
export * from './engine/index.js';
export * from './errors/errors.js';
export {
  describeRow,
  isConnectionLoss,
  asShardUnavailable,
  stepFailure,
  type StepFailureContext,
} from './errors/classify.js';
export * from './events/events.js';
export { acquireLock, type AcquireOptions } from './lock/acquire.js';
export * from './events/status-tracker.js';
export {
  VetoError,
  type AfterStepContext,
  type BeforeBatchContext,
  type BeforeRunContext,
  type HookName,
  type MigratorHooks,
  type StepHookContext,
} from './hooks/hooks.js';
export * from './plan/planner.js';
export * from './router/router.js';
export * from './run/config.js';
export * from './run/migrator.js';
export type { PurgedCopy, PurgePreservedOptions } from './run/preserve-steps.js';
export * from './run/report.js';
export * from './data/throttle.js';
export { fingerprint, runBatches, type BatchRunInput } from './data/batch-runner.js';
export { assertBackupTarget, backupName, backupTarget } from './data/backup.js';
export * from './util/canonical.js';
export * from './util/typed-encode.js';
export * from './util/row-set-hash.js';
export * from './engine/key-order.js';
export * from './util/same-value.js';
export * from './util/logger.js';
export * from './errors/redact.js';
export { connectionSecrets, MIN_SECRET_LENGTH, Scrubber, secretForms } from './util/scrubber.js';
export { sleep } from './util/time.js';
export { SDK_VERSION } from './version.js';
export * from './verify/compare.js';
export { cloneValue } from './util/clone.js';
