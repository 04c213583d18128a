/**
 * Classification of MongoDB driver and server errors into what the SDK needs to know: may the same
 * operation succeed if retried (`isRetryable`), is it a duplicate key, does the thing already
 * exist or is it already gone. Duck-typed on `name`, `code` and error labels, so it works when the
 * host and this package resolve different copies of the driver.
 */
import { redact, ShardUnavailableError } from '@mcp/migrate-core/engine';
import { errorClass, type ErrorClass, type ErrorReason } from '@mcp/migrate-core/engine';

/** Server codes after which the same operation may succeed (the driver's retryable-write set, plus timeouts), by reason. */
const RETRYABLE_CODES = new Map<number, ErrorReason>([
  [6, 'connection-lost'], // HostUnreachable
  [7, 'connection-lost'], // HostNotFound
  [89, 'connection-lost'], // NetworkTimeout
  [91, 'connection-lost'], // ShutdownInProgress
  [112, 'serialization'], // WriteConflict
  [133, 'connection-lost'], // FailedToSatisfyReadPreference
  [189, 'connection-lost'], // PrimarySteppedDown
  [262, 'lock-timeout'], // ExceededTimeLimit
  [9001, 'connection-lost'], // SocketException
  [10107, 'connection-lost'], // NotWritablePrimary
  [11600, 'connection-lost'], // InterruptedAtShutdown
  [11602, 'connection-lost'], // InterruptedDueToReplStateChange
  [13435, 'connection-lost'], // NotPrimaryNoSecondaryOk
  [13436, 'connection-lost'], // NotPrimaryOrSecondary
]);

/** Server codes of permanent errors, by reason. */
const PERMANENT_CODES = new Map<number, ErrorReason>([
  [13, 'permission'], // Unauthorized
  [18, 'permission'], // AuthenticationFailed
  [2, 'invalid-input'], // BadValue
  [9, 'invalid-input'], // FailedToParse
  [14, 'invalid-input'], // TypeMismatch
  [121, 'invalid-input'], // DocumentValidationFailure
]);

/** Driver error names of an unreachable or vanished server. */
const CONNECTION_NAMES = new Set<string>([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/** Error labels after which the same operation may succeed, by reason. */
const RETRYABLE_LABELS: readonly (readonly [string, ErrorReason])[] = [
  ['RetryableWriteError', 'connection-lost'],
  ['TransientTransactionError', 'serialization'],
  ['ResetPool', 'connection-lost'],
  ['PoolRequestedRetry', 'connection-lost'],
];

/** Server codes of "it already exists": NamespaceExists, IndexOptionsConflict, IndexKeySpecsConflict. */
export const ALREADY_EXISTS_CODES: ReadonlySet<number> = new Set([48, 85, 86]);
/** Server codes of "it is not there": NamespaceNotFound, IndexNotFound. */
export const NOT_FOUND_CODES: ReadonlySet<number> = new Set([26, 27]);
export const DUPLICATE_KEY_CODE = 11000;

interface DriverErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly errorLabels?: unknown;
  readonly errorLabelSet?: unknown;
  hasErrorLabel?(label: string): boolean;
}

function asDriverError(error: unknown): DriverErrorLike | null {
  return typeof error === 'object' && error !== null ? (error as DriverErrorLike) : null;
}

/** The numeric server code of a driver error, if it has one. */
export function errorCode(error: unknown): number | undefined {
  const code = asDriverError(error)?.code;
  return typeof code === 'number' ? code : undefined;
}

function hasLabel(e: DriverErrorLike, label: string): boolean {
  if (typeof e.hasErrorLabel === 'function') {
    try {
      if (e.hasErrorLabel(label)) return true;
    } catch {
      // a foreign object with an odd hasErrorLabel: fall through to the plain fields
    }
  }
  if (e.errorLabelSet instanceof Set && e.errorLabelSet.has(label)) return true;
  return Array.isArray(e.errorLabels) && e.errorLabels.includes(label);
}

/**
 * The SDK's reason for a driver error: network errors, server selection failures and the
 * primary-changed codes (`NotWritablePrimary`, `PrimarySteppedDown`, …) are `connection-lost`;
 * `WriteConflict` and `TransientTransactionError` `serialization`; `ExceededTimeLimit`
 * `lock-timeout`; a write-concern error is retryable without a reason (`unknown`). Those are
 * retryable. E11000 is `duplicate-key`, `NamespaceNotFound`/`IndexNotFound` `missing-object`,
 * `Unauthorized`/`AuthenticationFailed` `permission`, `BadValue`, parse and validation errors
 * `invalid-input`; everything else `unknown`. The migrator calls this as `engine.classifyError`.
 */
export function classifyError(error: unknown): ErrorClass {
  const e = asDriverError(error);
  if (!e) return errorClass('unknown');
  if (typeof e.name === 'string' && CONNECTION_NAMES.has(e.name)) return errorClass('connection-lost');
  if (e.name === 'MongoWriteConcernError') return { reason: 'unknown', retryable: true };
  const label = RETRYABLE_LABELS.find(([l]) => hasLabel(e, l));
  if (label) return errorClass(label[1]);
  const code = errorCode(error);
  const reason = code === undefined ? undefined : (RETRYABLE_CODES.get(code) ?? PERMANENT_CODES.get(code));
  if (reason) return errorClass(reason);
  if (isDuplicateKey(error)) return errorClass('duplicate-key');
  if (isNotFound(error)) return errorClass('missing-object');
  return errorClass('unknown');
}

/**
 * True when retrying the same operation may succeed: network errors and timeouts, server selection
 * failures, errors labelled `RetryableWriteError` / `TransientTransactionError`, and the
 * primary-changed codes (`NotWritablePrimary`, `PrimarySteppedDown`, …). Duplicate keys, validation
 * errors and everything else are permanent. See {@link classifyError}.
 */
export function isRetryable(error: unknown): boolean {
  return classifyError(error).retryable;
}

/** E11000 duplicate key, from a single write or any write of a bulk write. */
export function isDuplicateKey(error: unknown): boolean {
  if (errorCode(error) === DUPLICATE_KEY_CODE) return true;
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  return Array.isArray(writeErrors) && writeErrors.some((w) => errorCode(w) === DUPLICATE_KEY_CODE);
}

export function isAlreadyExists(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && ALREADY_EXISTS_CODES.has(code);
}

export function isNotFound(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && NOT_FOUND_CODES.has(code);
}

/** The message of anything thrown, redacted. */
export function describe(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}

/**
 * A `ShardUnavailableError` naming the shard and its redacted location. Its `cause` is a redacted
 * copy (name, code, message) of the driver's error, so that printing the error with its cause
 * (e.g. `util.inspect`) cannot show a connection string's credentials either.
 */
export function shardUnavailable(shardId: string, location: string, error: unknown): ShardUnavailableError {
  return new ShardUnavailableError(`Shard "${shardId}" (mongodb, ${location}) is unreachable: ${describe(error)}`, {
    shardId,
    cause: sanitized(error),
  });
}

function sanitized(error: unknown): Error {
  const copy = new Error(describe(error));
  const e = asDriverError(error);
  if (typeof e?.name === 'string') copy.name = e.name;
  const code = errorCode(error);
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}
