/**
 * Classification of driver errors: node-postgres `DatabaseError`s carry a SQLSTATE in `code`;
 * socket errors carry a Node `code` such as `ECONNRESET`. {@link classifyError} maps them to the
 * SDK's engine-neutral reasons (core's migrator asks it through `engine.classifyError`);
 * {@link isRetryable} says whether running the same operation again may succeed.
 */
import { errorClass, type ErrorClass, type ErrorReason } from '@mcp/migrate-core/engine';

/** Individual SQLSTATEs and their reasons. */
const STATES: ReadonlyMap<string, ErrorReason> = new Map<string, ErrorReason>([
  ['40001', 'serialization'], // serialization_failure
  ['40P01', 'serialization'], // deadlock_detected
  ['55P03', 'lock-timeout'], // lock_not_available (lock_timeout)
  ['57P01', 'connection-lost'], // admin_shutdown
  ['57P02', 'connection-lost'], // crash_shutdown
  ['57P03', 'connection-lost'], // cannot_connect_now (starting up)
  ['53300', 'connection-lost'], // too_many_connections
  ['53400', 'connection-lost'], // configuration_limit_exceeded
  ['42P01', 'missing-object'], // undefined_table
  ['42704', 'missing-object'], // undefined_object
  ['42703', 'missing-object'], // undefined_column
  ['42883', 'missing-object'], // undefined_function
  ['3F000', 'missing-object'], // invalid_schema_name
  ['23505', 'duplicate-key'], // unique_violation
  ['42501', 'permission'], // insufficient_privilege
]);

/** SQLSTATE classes (first two characters) and their reasons, for states not listed above. */
const CLASSES: ReadonlyMap<string, ErrorReason> = new Map<string, ErrorReason>([
  ['08', 'connection-lost'], // connection exception
  ['28', 'permission'], // invalid authorization specification
  ['22', 'invalid-input'], // data exception
  ['23', 'invalid-input'], // integrity constraint violation (other than unique)
  ['42', 'invalid-input'], // syntax error or access rule violation
]);

/** Node socket error codes that are transient. */
const RETRYABLE_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Messages node-postgres uses for a connection lost without a code. */
const RETRYABLE_MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /timeout exceeded when trying to connect/i,
];

/** The SQLSTATE of a PostgreSQL error (5 characters), or `undefined`. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * The SDK's reason for a driver error, from the first SQLSTATE in its `cause` chain (`08…`
 * connection exception, 57P01–57P03 shutdown/start-up and 53300/53400 too many connections:
 * `connection-lost`; 40001/40P01: `serialization`; 55P03 `lock_timeout`: `lock-timeout`; 42P01 …:
 * `missing-object`; 23505: `duplicate-key`; 42501/28…: `permission`; 22…/23…/42…: `invalid-input`),
 * or from a socket code (`ECONNRESET`, …) or node-postgres's lost-connection messages. The first
 * three reasons are retryable.
 */
export function classifyError(error: unknown): ErrorClass {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e !== 'object') break;
    const state = sqlState(e);
    if (state) return errorClass(STATES.get(state) ?? CLASSES.get(state.slice(0, 2)) ?? 'unknown');
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NODE_CODES.has(code)) return errorClass('connection-lost');
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && RETRYABLE_MESSAGES.some((r) => r.test(message)))
      return errorClass('connection-lost');
  }
  return errorClass('unknown');
}

/**
 * True when the error is transient: connection loss (SQLSTATE class 08, `ECONNRESET`, …),
 * serialization failure or deadlock (40001, 40P01), `lock_timeout` (55P03), server shutdown or
 * start-up (57P01–57P03), too many connections (53300). Looks through `cause` chains.
 */
export function isRetryable(error: unknown): boolean {
  return classifyError(error).retryable;
}

/** `42601 syntax error at or near "SELEC"` — the SQLSTATE first, when there is one. */
export function describePgError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlState(error);
  return state ? `${state} ${message}` : message;
}
