/**
 * What a failed step's error means, decided once for every engine: a lost connection is the shard
 * being unavailable (`MIGRATE_SHARD_UNAVAILABLE`, retryable), not the migration being wrong; a
 * failing `down` is a rollback failure (`MIGRATE_ROLLBACK`) on every engine; anything else a step
 * throws is `MIGRATE_MIGRATION_FAILED`. And how a row is named in messages: `row ["3"]`.
 */
import {
  errorMessage,
  isMigrateError,
  ErrorCode,
  MigrationFailedError,
  RollbackError,
  ShardUnavailableError,
  type MigrateError,
} from './errors.js';

/** Node socket codes of a connection that could not be made or was lost. */
const NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** PostgreSQL: connection exceptions (class 08) and server shutdown / start-up (57P01–57P03). */
const SQLSTATES = /^(08...|57P0[123])$/;
/** MongoDB driver errors of an unreachable or vanished server. */
const MONGO_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);
/** node-postgres messages of a lost connection without a code. */
const MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /timeout exceeded when trying to connect/i,
];

/** True when `error` (or anything in its `cause` chain) says the server could not be reached or went away. */
export function isConnectionLoss(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (
    let e: unknown = error;
    typeof e === 'object' && e !== null && !seen.has(e);
    e = (e as { cause?: unknown }).cause
  ) {
    seen.add(e);
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (isMigrateError(e) && e.code === ErrorCode.ShardUnavailable) return true;
    if (typeof code === 'string' && (NODE_CODES.has(code) || SQLSTATES.test(code))) return true;
    if (typeof name === 'string' && MONGO_NAMES.has(name)) return true;
    if (typeof message === 'string' && MESSAGES.some((r) => r.test(message))) return true;
    const nested = (e as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.some((n) => isConnectionLoss(n))) return true;
  }
  return false;
}

/**
 * The error of a shard that could not be reached or read, as `MIGRATE_SHARD_UNAVAILABLE` naming the
 * shard (a `MigrateError` an adapter already threw is kept).
 */
export function asShardUnavailable(shardId: string, cause: unknown): MigrateError {
  if (isMigrateError(cause)) return cause;
  const what = isConnectionLoss(cause) ? 'is unreachable' : 'could not be read';
  return new ShardUnavailableError(`Shard "${shardId}" ${what}: ${errorMessage(cause)}`, { shardId, cause });
}

export interface StepFailureContext {
  readonly migrationId: string;
  readonly shardId: string;
  readonly direction: 'up' | 'down';
}

/**
 * The typed error of a step that failed on a shard. A `MigrateError` keeps its code, except that a
 * lost connection becomes `MIGRATE_SHARD_UNAVAILABLE` and a failing `down` (which an executor may
 * have wrapped as `MIGRATE_MIGRATION_FAILED`) becomes `MIGRATE_ROLLBACK`.
 */
export function stepFailure(cause: unknown, at: StepFailureContext): MigrateError {
  const options = { migrationId: at.migrationId, shardId: at.shardId, cause };
  const doing = at.direction === 'up' ? `applying "${at.migrationId}"` : `rolling back "${at.migrationId}"`;
  const keeps = isMigrateError(cause) && cause.code !== ErrorCode.MigrationFailed && cause.code !== ErrorCode.Rollback;
  if (keeps) return cause;
  if (isConnectionLoss(cause)) {
    return new ShardUnavailableError(
      `Shard "${at.shardId}" became unreachable while ${doing}: ${errorMessage(cause)}`,
      options,
    );
  }
  if (isMigrateError(cause) && (at.direction === 'up' || cause.code === ErrorCode.Rollback)) return cause;
  if (at.direction === 'down') {
    const message = isMigrateError(cause)
      ? cause.message
      : `Rollback of "${at.migrationId}" failed on shard "${at.shardId}": ${errorMessage(cause)}`;
    return new RollbackError(message, options);
  }
  return new MigrationFailedError(
    `Migration "${at.migrationId}" failed on shard "${at.shardId}": ${errorMessage(cause)}`,
    options,
  );
}

/**
 * How every message names a row: `row ` and the JSON array of its key values (`row ["3"]`,
 * `row [7,"eu"]`). Values JSON cannot carry are written as their string form (bigint `12`, an
 * ObjectId's hex, a Date's ISO text, bytes as hex).
 */
export function describeRow(values: readonly unknown[] | unknown): string {
  const list = Array.isArray(values) ? values : [values];
  return `row ${JSON.stringify(list, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (
      typeof v === 'object' &&
      v !== null &&
      (v as { type?: unknown }).type === 'Buffer' &&
      Array.isArray((v as { data?: unknown }).data)
    ) {
      return Buffer.from((v as { data: number[] }).data).toString('hex');
    }
    return v;
  })}`;
}
