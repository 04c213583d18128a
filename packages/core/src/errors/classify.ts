/**
 * What a failed step's error means, decided once for every engine: a lost connection (as the
 * engine adapter's `classifyError` or a Node socket code says) is the shard being unavailable
 * (`MIGRATE_SHARD_UNAVAILABLE`, retryable), not the migration being wrong; a failing `down` is a
 * rollback failure (`MIGRATE_ROLLBACK`) on every engine; anything else a step throws is
 * `MIGRATE_MIGRATION_FAILED`. And how a row is named in messages: `row ["3"]`.
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
/**
 * An engine adapter's `classifyError` (see `engine/error-reason.ts`), as far as this file reads it:
 * the engine's own codes (SQLSTATEs, MongoDB error names and codes, a driver's messages) are known
 * only to its adapter, which maps them to a reason; core reads the reason, never the codes.
 */
export type ClassifyError = (error: unknown) => { readonly reason: string };

/**
 * True when `error` (or anything in its `cause` chain) says the server could not be reached or went
 * away: the SDK's own `MIGRATE_SHARD_UNAVAILABLE`, a Node socket code, or an error the engine's
 * `classifyError` calls `connection-lost`.
 */
export function isConnectionLoss(error: unknown, classifyError?: ClassifyError): boolean {
  const seen = new Set<unknown>();
  for (
    let e: unknown = error;
    typeof e === 'object' && e !== null && !seen.has(e);
    e = (e as { cause?: unknown }).cause
  ) {
    seen.add(e);
    const { code } = e as { code?: unknown };
    if (isMigrateError(e) && e.code === ErrorCode.ShardUnavailable) return true;
    if (typeof code === 'string' && NODE_CODES.has(code)) return true;
    if (classifyError?.(e).reason === 'connection-lost') return true;
    const nested = (e as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.some((n) => isConnectionLoss(n, classifyError))) return true;
  }
  return false;
}

/**
 * The error of a shard that could not be reached or read, as `MIGRATE_SHARD_UNAVAILABLE` naming the
 * shard (a `MigrateError` an adapter already threw is kept).
 */
export function asShardUnavailable(shardId: string, cause: unknown, classifyError?: ClassifyError): MigrateError {
  if (isMigrateError(cause)) return cause;
  const what = isConnectionLoss(cause, classifyError) ? 'is unreachable' : 'could not be read';
  return new ShardUnavailableError(`Shard "${shardId}" ${what}: ${errorMessage(cause)}`, { shardId, cause });
}

export interface StepFailureContext {
  readonly migrationId: string;
  readonly shardId: string;
  readonly direction: 'up' | 'down';
  /** The engine adapter's `classifyError`, which recognises its driver's lost connections. */
  readonly classifyError?: ClassifyError | undefined;
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
  if (isConnectionLoss(cause, at.classifyError)) {
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
