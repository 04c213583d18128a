/**
 * Engine-neutral reasons for a driver error. Each adapter maps its driver's errors (SQLSTATEs,
 * server codes, socket codes) to one of these once, in `EngineAdapter.classifyError`; core reads
 * only reasons, never an engine's codes.
 */

/**
 * Why an operation failed, whatever the engine:
 * - `connection-lost`: the server could not be reached or went away (socket errors, shutdown, failover);
 * - `lock-timeout`: waiting for a lock took too long (PostgreSQL `lock_timeout`, a MongoDB lock wait);
 * - `serialization`: a concurrent transaction won (serialization failure, deadlock, write conflict);
 * - `missing-object`: the table, collection or index does not exist;
 * - `duplicate-key`: a unique key was violated;
 * - `permission`: the credentials may not do this;
 * - `invalid-input`: the statement or value is wrong (syntax, type, constraint other than a key);
 * - `unknown`: none of the above, or not classified.
 */
export type ErrorReason =
  | 'connection-lost'
  | 'lock-timeout'
  | 'serialization'
  | 'missing-object'
  | 'duplicate-key'
  | 'permission'
  | 'invalid-input'
  | 'unknown';

/** What `classifyError` says about one error: why it failed and whether running it again may succeed. */
export interface ErrorClass {
  readonly reason: ErrorReason;
  /** True when retrying the same operation may succeed. Usually {@link isRetryableReason} of `reason`. */
  readonly retryable: boolean;
}

const RETRYABLE: ReadonlySet<ErrorReason> = new Set<ErrorReason>(['connection-lost', 'lock-timeout', 'serialization']);

/** The reasons after which retrying may succeed: a lost connection, a lock timeout, a lost race. */
export function isRetryableReason(reason: ErrorReason): boolean {
  return RETRYABLE.has(reason);
}

/** `{ reason, retryable }` with `retryable` following the reason. */
export function errorClass(reason: ErrorReason): ErrorClass {
  return { reason, retryable: isRetryableReason(reason) };
}

/**
 * The classification of an error no adapter recognised: `unknown`, retryable only when the error
 * itself says so (`retryable: true`, as `MigrateError`s and some drivers' errors carry).
 */
export function unclassified(error: unknown): ErrorClass {
  return { reason: 'unknown', retryable: (error as { retryable?: unknown } | null)?.retryable === true };
}
