/**
 * `@mcp/migrate-core`: plan, lock and run schema and data migrations across sharded PostgreSQL and
 * MongoDB. This root is the host service's API. Engine adapters live in `@mcp/migrate-postgres` and
 * `@mcp/migrate-mongodb`; the adapter SPI and the utilities adapter authors use in
 * `@mcp/migrate-core/engine`; in-memory adapters for tests in `@mcp/migrate-core/testing`.
 */

// Defining and loading migrations.
export {
  defineDataMigration,
  defineMigration,
  DEFAULT_BATCH_SIZE,
  isMigration,
  MAX_BATCH_SIZE,
} from './definition/migration.js';
export type {
  DataMigration,
  DataMigrationInput,
  EngineHandles,
  HandleOf,
  DefinedDataMigration,
  GroupedDataMigration,
  GroupedDataMigrationInput,
  GroupTransformContext,
  GroupTransformFn,
  Migration,
  MigrationContext,
  MigrationInput,
  MigrationScope,
  RowDataMigration,
  SchemaMigration,
  ScopeInput,
  ServerDataMigration,
  ServerDataMigrationInput,
  TransformContext,
  TransformFn,
} from './definition/migration.js';
export { loadMigrations, type LoadOptions } from './definition/load.js';
export type { PreserveInput } from './definition/preserve.js';

// The migrator.
export { createMigrator, Migrator } from './run/migrator.js';
export type {
  BackupInfo,
  BackupRetention,
  ControlOption,
  DataCheck,
  DirectoryOption,
  MigratorStatus,
  PurgeBackupsOptions,
  PurgedBackup,
  RepairAction,
  RepairChange,
  RepairOptions,
  RunMode,
  RunOptions,
  ShardStatus,
  VerifyOptions,
  VerifyReport,
} from './run/migrator.js';
export type { LockOptions, MigratorConfig, RetryOptions } from './run/config.js';
export { MIGRATOR_DEFAULTS } from './run/defaults.js';
export type { PurgedCopy, PurgePreservedOptions } from './run/preserve-steps.js';
export { DEFAULT_TARGET_BATCH_MS, type ThrottleOptions } from './data/throttle.js';
export { SDK_VERSION } from './version.js';

// Reports and status.
export {
  failureSummary,
  summarize,
  type RunReport,
  type ShardReport,
  type StepReport,
  type StepStatus,
} from './run/report.js';
export { StatusTracker, type ShardActivity, type ShardSnapshot, type StatusSnapshot } from './events/status-tracker.js';
export type { BatchEvent, MigratorEventName, MigratorEventPayload, MigratorEvents } from './events/events.js';

// Hooks.
export {
  VetoError,
  type AfterStepContext,
  type BeforeBatchContext,
  type BeforeRunContext,
  type HookName,
  type MigratorHooks,
  type StepHookContext,
} from './hooks/hooks.js';

// Plans and routers.
export {
  orderMigrations,
  plan,
  planRollback,
  shardsOf,
  waves,
  type DriftPolicy,
  type Plan,
  type PlanInput,
  type PlanStep,
  type RollbackStep,
  type RollbackTarget,
  type ShardPlan,
} from './plan/planner.js';
export {
  hashRouter,
  jumpHash,
  rangeRouter,
  tenantHash,
  type HashRouterOptions,
  type RangeBound,
  type RangeRouterOptions,
  type Router,
} from './router/router.js';

// Errors.
export {
  DefinitionError,
  errorMessage,
  ErrorCode,
  isMigrateError,
  LockTimeoutError,
  MigrateError,
  MigrationFailedError,
  PlanError,
  PreserveError,
  RollbackError,
  RunFailedError,
  serializeError,
  ShardUnavailableError,
  StaleLeaseError,
  ValidationError,
  type MigrateErrorOptions,
  type SerializedError,
} from './errors/errors.js';
export { redact, redactValue } from './errors/redact.js';

// Logging.
export { noopLogger, redactingLogger, type Logger } from './util/logger.js';

// Verifying data.
export {
  assertEqualData,
  compareData,
  type CompareOptions,
  type CompareResult,
  type DataSide,
  type KeyDifference,
} from './verify/compare.js';

// The adapter SPI types a host meets in its config, reports and verifications (the SPI itself, its
// base class and the adapter authors' utilities are in `@mcp/migrate-core/engine`).
export type {
  Checkpoint,
  CheckpointRange,
  ControlStore,
  DataStore,
  DataTarget,
  Direction,
  DirectoryOverrides,
  EngineAdapter,
  EngineCapabilities,
  EngineName,
  ErrorClass,
  ErrorReason,
  KeyRange,
  KeyValue,
  LedgerCounts,
  LedgerRecord,
  LockStatus,
  PreserveTarget,
  Row,
  ShardAdapter,
  ShardDescriptor,
  TenantDirectory,
} from './engine/spi.js';
export { LedgerState } from './engine/spi.js';
