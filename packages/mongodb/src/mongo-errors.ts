/**
 * Classification of MongoDB driver and server errors into what the SDK needs to know: may the same
 * operation succeed if retried (`isRetryable`), is it a duplicate key, does the thing already
 * exist or is it already gone. Duck-typed on `name`, `code` and error labels, so it works when the
 * host and this package resolve different copies of the driver.
 */
import { redact, ShardUnavailableError } from '@mcp/migrate-core';

/** Server codes after which the same operation may succeed (the driver's retryable-write set, plus timeouts). */
const RETRYABLE_CODES = new Set<number>([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  133, // FailedToSatisfyReadPreference
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

const RETRYABLE_NAMES = new Set<string>([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoWriteConcernError',
]);

const RETRYABLE_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'ResetPool', 'PoolRequestedRetry'];

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
 * True when retrying the same operation may succeed: network errors and timeouts, server selection
 * failures, errors labelled `RetryableWriteError` / `TransientTransactionError`, and the
 * primary-changed codes (`NotWritablePrimary`, `PrimarySteppedDown`, …). Duplicate keys, validation
 * errors and everything else are permanent. The migrator calls this as `engine.isRetryable`.
 */
export function isRetryable(error: unknown): boolean {
  const e = asDriverError(error);
  if (!e) return false;
  if (typeof e.name === 'string' && RETRYABLE_NAMES.has(e.name)) return true;
  if (RETRYABLE_LABELS.some((label) => hasLabel(e, label))) return true;
  const code = errorCode(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
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
  return new ShardUnavailableError(`Shard "${shardId}" (mongodb, ${location}) is unreachable: ${describe(error)}`, { shardId, cause: sanitized(error) });
}

function sanitized(error: unknown): Error {
  const copy = new Error(describe(error));
  const e = asDriverError(error);
  if (typeof e?.name === 'string') copy.name = e.name;
  const code = errorCode(error);
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}
