/**
 * Classification of driver errors: node-postgres `DatabaseError`s carry a SQLSTATE in `code`;
 * socket errors carry a Node `code` such as `ECONNRESET`. {@link isRetryable} says whether running
 * the same operation again may succeed; core's migrator asks it through `engine.isRetryable`.
 */

/** SQLSTATE classes (first two characters) that are transient. */
const RETRYABLE_CLASSES = new Set([
  '08', // connection exception
]);

/** Individual SQLSTATEs that are transient. */
const RETRYABLE_STATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
]);

/** Node socket error codes that are transient. */
const RETRYABLE_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** Messages node-postgres uses for a connection lost without a code. */
const RETRYABLE_MESSAGES = [/Connection terminated/i, /Client has encountered a connection error/i, /timeout exceeded when trying to connect/i];

/** The SQLSTATE of a PostgreSQL error (5 characters), or `undefined`. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * True when the error is transient: connection loss (SQLSTATE class 08, `ECONNRESET`, …),
 * serialization failure or deadlock (40001, 40P01), `lock_timeout` (55P03), server shutdown or
 * start-up (57P01–57P03), too many connections (53300). Looks through `cause` chains.
 */
export function isRetryable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e !== 'object') return false;
    const state = sqlState(e);
    if (state) return RETRYABLE_STATES.has(state) || RETRYABLE_CLASSES.has(state.slice(0, 2));
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NODE_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && RETRYABLE_MESSAGES.some((r) => r.test(message))) return true;
  }
  return false;
}

/** `42601 syntax error at or near "SELEC"` — the SQLSTATE first, when there is one. */
export function describePgError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlState(error);
  return state ? `${state} ${message}` : message;
}
