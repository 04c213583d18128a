/**
 * Typed errors. Every error the SDK throws is a {@link MigrateError} with a stable `code`, the ids
 * of the migration and shard it concerns (when there are some), and the original error as `cause`.
 * Messages are redacted: they never contain a connection string's credentials or a secret.
 *
 * Use {@link isMigrateError} rather than `instanceof` when the CLI and an adapter may each resolve
 * their own copy of core.
 */
import { redact } from './redact.js';

export const ErrorCode = {
  Definition: 'MIGRATE_DEFINITION',
  Config: 'MIGRATE_CONFIG',
  Duplicate: 'MIGRATE_DUPLICATE',
  Cycle: 'MIGRATE_CYCLE',
  UnknownDependency: 'MIGRATE_UNKNOWN_DEPENDENCY',
  Drift: 'MIGRATE_DRIFT',
  MissingFromCode: 'MIGRATE_MISSING_FROM_CODE',
  LockTimeout: 'MIGRATE_LOCK_TIMEOUT',
  StaleLease: 'MIGRATE_STALE_LEASE',
  ShardUnavailable: 'MIGRATE_SHARD_UNAVAILABLE',
  MigrationFailed: 'MIGRATE_MIGRATION_FAILED',
  RunFailed: 'MIGRATE_RUN_FAILED',
  ValidationFailed: 'MIGRATE_VALIDATION_FAILED',
  Rollback: 'MIGRATE_ROLLBACK',
  CheckpointMismatch: 'MIGRATE_CHECKPOINT_MISMATCH',
  Pending: 'MIGRATE_PENDING',
  Aborted: 'MIGRATE_ABORTED',
  Timeout: 'MIGRATE_TIMEOUT',
  Closed: 'MIGRATE_CLOSED',
  /** Something that is not a `MigrateError` was thrown (a bug, or a host callback's own error); see `causeCode` and the message. */
  Unexpected: 'MIGRATE_UNEXPECTED',
  PreserveUnsupported: 'MIGRATE_PRESERVE_UNSUPPORTED',
  PreserveTarget: 'MIGRATE_PRESERVE_TARGET',
  PreserveMissing: 'MIGRATE_PRESERVE_MISSING',
  PreserveRestore: 'MIGRATE_PRESERVE_RESTORE',
  BackupNameCollision: 'MIGRATE_BACKUP_NAME_COLLISION',
  KeyNotUnique: 'MIGRATE_KEY_NOT_UNIQUE',
  TargetMissing: 'MIGRATE_TARGET_MISSING',
  /** A `beforeRun`, `beforeStep` or `beforeBatch` hook threw: it refused the run, the step or the next batch. */
  Vetoed: 'MIGRATE_VETOED',
  /** An `afterStep` hook threw; the step it followed is not undone. */
  HookFailed: 'MIGRATE_HOOK_FAILED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface MigrateErrorOptions {
  readonly migrationId?: string | undefined;
  readonly shardId?: string | undefined;
  readonly field?: string | undefined;
  readonly cause?: unknown;
  /** True when retrying the same operation may succeed (a dropped connection, a lock timeout). */
  readonly retryable?: boolean | undefined;
}

const BRAND = Symbol.for('@mcp/migrate/MigrateError');

export class MigrateError extends Error {
  readonly code: ErrorCode;
  readonly migrationId: string | undefined;
  readonly shardId: string | undefined;
  readonly field: string | undefined;
  readonly retryable: boolean;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: MigrateErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.migrationId = options.migrationId;
    this.shardId = options.shardId;
    this.field = options.field;
    this.retryable = options.retryable ?? false;
  }

  /** A JSON-safe summary, as stored in ledgers and reports. */
  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/** Invalid migration definition or migrator configuration. Nothing was applied. */
export class DefinitionError extends MigrateError {
  constructor(message: string, options: MigrateErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.Definition, message, options);
  }
}

/** The plan cannot be made: a cycle, a duplicate, drift, or an applied migration missing from code. */
export class PlanError extends MigrateError {}

export class LockTimeoutError extends MigrateError {
  constructor(message: string, options: MigrateErrorOptions = {}) {
    super(ErrorCode.LockTimeout, message, { retryable: true, ...options });
  }
}

/** A write was made with a fencing token older than the current lease's: the writer lost its lease. */
export class StaleLeaseError extends MigrateError {
  constructor(message: string, options: MigrateErrorOptions = {}) {
    super(ErrorCode.StaleLease, message, options);
  }
}

export class ShardUnavailableError extends MigrateError {
  constructor(message: string, options: MigrateErrorOptions = {}) {
    super(ErrorCode.ShardUnavailable, message, { retryable: true, ...options });
  }
}

export class MigrationFailedError extends MigrateError {
  constructor(message: string, options: MigrateErrorOptions = {}) {
    super(ErrorCode.MigrationFailed, message, options);
  }
}

export class ValidationError extends MigrateError {
  readonly ranges: readonly unknown[];
  constructor(message: string, options: MigrateErrorOptions & { ranges?: readonly unknown[] } = {}) {
    super(ErrorCode.ValidationFailed, message, options);
    this.ranges = options.ranges ?? [];
  }
}

export class RollbackError extends MigrateError {
  constructor(message: string, options: MigrateErrorOptions = {}) {
    super(ErrorCode.Rollback, message, options);
  }
}

/**
 * A `preserve` problem: the engine cannot keep copies, a target is missing at `up` time, a copy is
 * missing at rollback (purged), or `down` did not recreate what the copy must go back into.
 * `field` names the table/collection (and column/field) concerned.
 */
export class PreserveError extends MigrateError {}

/** Thrown by `run()` / `rollback()` when some step failed; carries the full report. */
export class RunFailedError<R = unknown> extends MigrateError {
  readonly report: R;
  constructor(message: string, report: R, options: MigrateErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.RunFailed, message, options);
    this.report = report;
  }
}

export function isMigrateError(error: unknown): error is MigrateError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** An error as reports, events, ledgers and `status()` hold it: JSON-safe and redacted. */
export interface SerializedError {
  /** The class name (`MigrationFailedError`, …; a driver's or host's own for `MIGRATE_UNEXPECTED`). */
  readonly name: string;
  /** An `ErrorCode` (see docs/reference/errors.md). */
  readonly code: string;
  readonly message: string;
  /** A driver's own code (SQLSTATE, MongoDB error code), when the cause has one. */
  readonly causeCode?: string | undefined;
}

/** Turns anything thrown into a small, redacted, JSON-safe record. */
export function serializeError(error: unknown): SerializedError {
  if (isMigrateError(error)) {
    const causeCode = driverCode(error.cause);
    return { name: error.name, code: error.code, message: error.message, ...(causeCode ? { causeCode } : {}) };
  }
  if (error instanceof Error) {
    const causeCode = driverCode(error);
    return {
      name: error.name,
      code: ErrorCode.Unexpected,
      message: redact(error.message),
      ...(causeCode ? { causeCode } : {}),
    };
  }
  return { name: 'Error', code: ErrorCode.Unexpected, message: redact(String(error)) };
}

/** The code of the first error in the chain that is not the SDK's own (the driver's SQLSTATE, socket or server code). */
function driverCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  while (isMigrateError(error) && !seen.has(error)) {
    seen.add(error);
    error = error.cause;
  }
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

export function errorMessage(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}
