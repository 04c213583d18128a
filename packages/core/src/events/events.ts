/**
 * Typed events. Events only observe (eventemitter3 does not await listeners): whatever must veto or
 * finish first is a hook instead. A listener that throws is logged and ignored, never allowed to
 * break a run. Payloads are JSON-safe and redacted.
 */
import type { LockStatus } from '../engine/spi.js';
import type { SerializedError } from '../errors/errors.js';
import type { Plan } from '../plan/planner.js';
import type { RunReport } from '../run/report.js';

interface Base {
  /** The run (or rollback) this event belongs to: the `runId` of its report. */
  readonly runId: string;
}

/** The payload of `batch`: a data migration's progress on one shard, after each batch. */
export interface BatchEvent extends Base {
  readonly migrationId: string;
  readonly shardId: string;
  /** `up` while applying, `down` while rolling back. */
  readonly direction: 'up' | 'down';
  /** Rows/documents read so far in this run of the migration on this shard (resumed work included). */
  readonly processed: number;
  /** Rows/documents written so far: read rows the transform changed (`null`, `undefined` or an equal row is not written). */
  readonly written: number;
  /** The rows/documents of the table/collection when the run started there (`undefined` when not counted: a rollback from the backup). */
  readonly total: number | undefined;
  /** Rows read per second in this run on this shard so far. */
  readonly rate: number;
  /** Seconds left at the current rate, when `total` is known. */
  readonly eta: number | undefined;
  /** The size this batch was read with, as the throttle adapted it. */
  readonly batchSize: number;
  /** True when the rate ceiling or the `pressure` signal delayed this batch. */
  readonly throttled: boolean;
}

/**
 * Every event of the migrator, with its payload (`migrator.on(name, listener)`). The reference page
 * docs/reference/events.md is generated from this interface.
 */
export interface MigratorEvents {
  /** `run()` started, in any mode (before its lock is taken). */
  'run:start': (
    e: Base & {
      /** The run's `mode` (`apply` unless `run({ mode })` said otherwise). */
      readonly mode: RunReport['mode'];
      /** This migrator's `runnerId`. */
      readonly runnerId: string;
    },
  ) => void;
  /** `run()` ended, with its report; emitted also when it then throws `RunFailedError`. */
  'run:done': (
    e: Base & {
      /** What `run()` returns (or its `RunFailedError` carries). */
      readonly report: RunReport;
    },
  ) => void;
  /** The plan `run()` is about to apply, once it holds the run lock. */
  plan: (
    e: Base & {
      /** What `migrator.plan()` would return now. */
      readonly plan: Plan;
    },
  ) => void;
  /**
   * This runner waits for a lock another runner holds: the run lock (once per run) or a shard's
   * lease (once per wait).
   */
  'lock:wait': (
    e: Base & {
      /** The lock's name. */
      readonly lock: string;
      /** Who holds it, as far as the lock provider knows. */
      readonly holder: LockStatus | null;
    },
  ) => void;
  /** `run()` took the run lock. */
  'lock:acquired': (
    e: Base & {
      /** The lock's name. */
      readonly lock: string;
      /** The fencing token of this lease: every ledger write carries it. */
      readonly token: number;
    },
  ) => void;
  /** `run()` released the run lock. */
  'lock:released': (
    e: Base & {
      /** The lock's name. */
      readonly lock: string;
    },
  ) => void;
  /** A migration's first step of this run starts. */
  'migration:start': (
    e: Base & {
      readonly migrationId: string;
      /** Shards it is to run on in this run. */
      readonly shards: number;
    },
  ) => void;
  /** A migration starts on one shard. */
  'shard:start': (
    e: Base & {
      readonly migrationId: string;
      readonly shardId: string;
      /** `resume` when an earlier run left it `running` or `failed` there (a data migration resumes at its checkpoint). */
      readonly action: 'apply' | 'resume';
    },
  ) => void;
  /** A data migration's progress on one shard, after each batch (applying and rolling back). */
  batch: (e: BatchEvent) => void;
  /** A step failed with a retryable error (a lost connection, a lock timeout) and is tried again. */
  'shard:retry': (
    e: Base & {
      readonly migrationId: string;
      readonly shardId: string;
      /** The attempt that failed (1 for the first). */
      readonly attempt: number;
      readonly error: SerializedError;
    },
  ) => void;
  /** A migration was applied on one shard. */
  'shard:done': (
    e: Base & {
      readonly migrationId: string;
      readonly shardId: string;
      /** From the step's start on this shard (retries included) to its ledger record written `applied`. */
      readonly durationMs: number;
    },
  ) => void;
  /** A migration failed on one shard (after its retries, or vetoed by a hook). */
  'shard:failed': (
    e: Base & { readonly migrationId: string; readonly shardId: string; readonly error: SerializedError },
  ) => void;
  /** A migration has run on every shard it was to run on in this run. */
  'migration:done': (
    e: Base & {
      readonly migrationId: string;
      /** The shards where it was applied. */
      readonly applied: readonly string[];
      /** The shards where it failed. */
      readonly failed: readonly string[];
    },
  ) => void;
  /** `rollback()` starts, with the migrations it rolls back, latest first. */
  'rollback:start': (
    e: Base & {
      /** Their ids, in the order they are rolled back. */
      readonly migrations: readonly string[];
    },
  ) => void;
  /** A migration was rolled back on one shard, or its rollback failed there. */
  'rollback:shard': (
    e: Base & {
      readonly migrationId: string;
      readonly shardId: string;
      readonly status: 'done' | 'failed';
      /** Why it failed, when `status` is `failed`. */
      readonly error?: SerializedError;
    },
  ) => void;
  /** `rollback()` ended, with its report; emitted also when it then throws `RunFailedError`. */
  'rollback:done': (
    e: Base & {
      /** What `rollback()` returns (or its `RunFailedError` carries); rolled-back steps count as `applied`. */
      readonly report: RunReport;
    },
  ) => void;
  /** `pause()` (`paused: true`) or `resume()` (`paused: false`) was called. No `runId`: it concerns every run. */
  pause: (e: {
    /** The state now: `true` after `pause()`, `false` after `resume()`. */
    readonly paused: boolean;
  }) => void;
}

export type MigratorEventName = keyof MigratorEvents;
export type MigratorEventPayload<K extends MigratorEventName> = Parameters<MigratorEvents[K]>[0];
