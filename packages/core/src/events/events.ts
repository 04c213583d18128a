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
  readonly runId: string;
}

export interface BatchEvent extends Base {
  readonly migrationId: string;
  readonly shardId: string;
  readonly direction: 'up' | 'down';
  /** Rows/documents read so far in this run of the migration on this shard (resumed work included). */
  readonly processed: number;
  readonly written: number;
  readonly total: number | undefined;
  /** Rows per second over the last batches. */
  readonly rate: number;
  /** Seconds left at the current rate, when `total` is known. */
  readonly eta: number | undefined;
  readonly batchSize: number;
  readonly throttled: boolean;
}

export interface MigratorEvents {
  'run:start': (e: Base & { readonly mode: string; readonly runnerId: string }) => void;
  'run:done': (e: Base & { readonly report: RunReport }) => void;
  plan: (e: Base & { readonly plan: Plan }) => void;
  'lock:wait': (e: Base & { readonly lock: string; readonly holder: LockStatus | null }) => void;
  'lock:acquired': (e: Base & { readonly lock: string; readonly token: number }) => void;
  'lock:released': (e: Base & { readonly lock: string }) => void;
  'migration:start': (e: Base & { readonly migrationId: string; readonly shards: number }) => void;
  'shard:start': (
    e: Base & { readonly migrationId: string; readonly shardId: string; readonly action: 'apply' | 'resume' },
  ) => void;
  batch: (e: BatchEvent) => void;
  'shard:retry': (
    e: Base & {
      readonly migrationId: string;
      readonly shardId: string;
      readonly attempt: number;
      readonly error: SerializedError;
    },
  ) => void;
  'shard:done': (
    e: Base & { readonly migrationId: string; readonly shardId: string; readonly durationMs: number },
  ) => void;
  'shard:failed': (
    e: Base & { readonly migrationId: string; readonly shardId: string; readonly error: SerializedError },
  ) => void;
  'migration:done': (
    e: Base & { readonly migrationId: string; readonly applied: readonly string[]; readonly failed: readonly string[] },
  ) => void;
  'rollback:start': (e: Base & { readonly migrations: readonly string[] }) => void;
  'rollback:shard': (
    e: Base & {
      readonly migrationId: string;
      readonly shardId: string;
      readonly status: 'done' | 'failed';
      readonly error?: SerializedError;
    },
  ) => void;
  'rollback:done': (e: Base & { readonly report: RunReport }) => void;
  pause: (e: { readonly paused: boolean }) => void;
}

export type MigratorEventName = keyof MigratorEvents;
export type MigratorEventPayload<K extends MigratorEventName> = Parameters<MigratorEvents[K]>[0];
