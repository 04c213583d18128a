/**
 * `@mcp/migrate-core/engine`: the adapter SPI — what a database supplies so that the planner, the
 * run controller and the batch engine can run migrations on it — and the utilities adapter authors
 * use (encodings and row-set hashes for checksums, row comparison, secret scrubbing, the errors an
 * adapter throws, the lock loop). Host services import from the root, `@mcp/migrate-core`.
 */
// The SPI itself: one explicit list, in ./spi.ts, which core's own modules import too.
export * from './spi.js';

// Encodings, hashes and the key order.
export { canonicalEncode, canonicalNumber, looseCanonicalEncode } from '../util/canonical.js';
export { attachStoredForm, storedFormOf, typedEncode } from '../util/typed-encode.js';
export { attachRowSize, rowSizeOf } from '../util/row-size.js';
export { RowSetHash, sha256 } from '../util/row-set-hash.js';
export { compareKeys, compareScalar, compareUtf8 } from './key-order.js';
export { evenSplits } from '../data/key-ranges.js';
export { diffRow, sameValue, type RowDiff } from '../util/same-value.js';
export { cloneValue } from '../util/clone.js';

// Secrets: what an adapter declares (`secrets()`), and the scrubber core wraps shards with.
export { connectionSecrets, MIN_SECRET_LENGTH, Scrubber, secretForms } from '../util/scrubber.js';

// The errors an adapter throws or recognises (the classes themselves are on the root too).
export {
  DefinitionError,
  ErrorCode,
  isMigrateError,
  LockTimeoutError,
  MigrateError,
  MigrationFailedError,
  PreserveError,
  ShardUnavailableError,
  StaleLeaseError,
  ValidationError,
  type MigrateErrorOptions,
} from '../errors/errors.js';
export { redact, redactValue } from '../errors/redact.js';
export {
  asShardUnavailable,
  describeRow,
  isConnectionLoss,
  stepFailure,
  type ClassifyError,
  type StepFailureContext,
} from '../errors/classify.js';

// Locks, backups and preserved copies: names and loops shared with core.
export { acquireLock, DEFAULT_LOCK_POLL_MS, type AcquireOptions } from '../lock/acquire.js';
export { fenceOf } from '../lock/fence.js';
export { assertBackupTarget, backupName, backupTarget } from '../data/backup.js';
export { PRESERVE_CATALOG, preserveCopyName } from '../definition/preserve.js';
export { sleep } from '../util/time.js';
