/**
 * The adapter SPI itself — what a database supplies so that the planner, the run controller and the
 * batch engine can run migrations on it — as core's own modules import it. The published entry
 * `@mcp/migrate-core/engine` (./index.ts) is this plus the utilities adapter authors use.
 */
export type { EngineCapabilities } from './capabilities.js';
export type {
  EngineAdapter,
  EngineName,
  EngineTerms,
  ShardAdapter,
  ShardDescriptor,
  SchemaExecutor,
  StepOptions,
} from './engine-adapter.js';
export {
  DEFAULT_TERMS,
  EngineAdapterBase,
  engineAdapterDefaults,
  type EngineAdapterDefaults,
} from './engine-adapter-base.js';
export { errorClass, isRetryableReason, unclassified, type ErrorClass, type ErrorReason } from './error-reason.js';
export { CAPABILITY_MEMBERS, verifyEngineAdapter, type VerifyAdapterOptions } from './verify-adapter.js';
export type { ControlStore, DirectoryOverrides, TenantDirectory } from './control-store.js';
export { LedgerState } from './ledger-store.js';
export type {
  Checkpoint,
  CheckpointRange,
  Direction,
  Fence,
  LedgerCounts,
  LedgerRecord,
  LedgerStore,
} from './ledger-store.js';
export type { Lease, LockProvider, LockStatus, TryAcquireOptions } from './lock-provider.js';
export type {
  BatchWrite,
  BatchWriteRequest,
  BatchWriteResult,
  CompareAndSet,
  DataStore,
  DataTarget,
  KeyRange,
  KeyValue,
  RangeChecksum,
  Row,
  RowPatch,
  ScanCursor,
  ServerCopy,
  ServerCheckpoint,
  ServerRange,
  ServerStatement,
  ServerUpdate,
  ServerUpdateDocument,
  TargetInfo,
} from './data-store.js';
export type {
  PreservedCopy,
  PreserveRestoreOptions,
  PreserveSaveOptions,
  PreserveStore,
  PreserveTarget,
} from './preserve-store.js';
