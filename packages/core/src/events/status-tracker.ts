/**
 * StatusTracker folds the migrator's events into a live snapshot that a CLI, a dashboard or a
 * metrics exporter can read at any time (`tracker.snapshot()`), without keeping its own state.
 */
import type { EventEmitter } from 'eventemitter3';
import type { MigratorEvents } from './events.js';
import type { SerializedError } from '../errors/errors.js';

export type ShardActivity = 'idle' | 'running' | 'done' | 'failed';

export interface ShardSnapshot {
  readonly shardId: string;
  state: ShardActivity;
  migrationId: string | null;
  processed: number;
  total: number | undefined;
  rate: number;
  eta: number | undefined;
  batchSize: number | undefined;
  /** True while the last batch waited for the rate ceiling or the pressure signal. */
  throttled: boolean;
  applied: number;
  failed: number;
  lastError: SerializedError | null;
  updatedAt: string;
}

export interface StatusSnapshot {
  runId: string | null;
  state: 'idle' | 'waiting-for-lock' | 'running' | 'paused' | 'done' | 'failed';
  startedAt: string | null;
  pending: number;
  shards: Record<string, ShardSnapshot>;
}

export class StatusTracker {
  #snapshot: StatusSnapshot = { runId: null, state: 'idle', startedAt: null, pending: 0, shards: {} };

  /** Subscribes to an emitter (a migrator). Returns a function that unsubscribes. */
  attach(emitter: Pick<EventEmitter<MigratorEvents>, 'on' | 'off'>): () => void {
    const handlers: { [K in keyof MigratorEvents]?: MigratorEvents[K] } = {
      'run:start': (e) => {
        this.#snapshot = {
          runId: e.runId,
          state: 'running',
          startedAt: new Date().toISOString(),
          pending: 0,
          shards: {},
        };
      },
      'lock:wait': () => void (this.#snapshot.state = 'waiting-for-lock'),
      'lock:acquired': () => void (this.#snapshot.state = 'running'),
      plan: (e) => void (this.#snapshot.pending = e.plan.pending),
      'shard:start': (e) =>
        Object.assign(this.#shard(e.shardId), {
          state: 'running',
          migrationId: e.migrationId,
          processed: 0,
          total: undefined,
          rate: 0,
          eta: undefined,
        }),
      batch: (e) =>
        Object.assign(this.#shard(e.shardId), {
          processed: e.processed,
          total: e.total,
          rate: e.rate,
          eta: e.eta,
          batchSize: e.batchSize,
          throttled: e.throttled,
        }),
      'shard:done': (e) => {
        const s = this.#shard(e.shardId);
        s.state = 'done';
        s.applied++;
        this.#snapshot.pending = Math.max(0, this.#snapshot.pending - 1);
      },
      'shard:failed': (e) =>
        Object.assign(this.#shard(e.shardId), {
          state: 'failed',
          lastError: e.error,
          failed: this.#shard(e.shardId).failed + 1,
        }),
      pause: (e) => void (this.#snapshot.state = e.paused ? 'paused' : 'running'),
      'run:done': (e) => void (this.#snapshot.state = e.report.ok ? 'done' : 'failed'),
    };
    for (const [name, fn] of Object.entries(handlers)) emitter.on(name as keyof MigratorEvents, fn as never);
    return () => {
      for (const [name, fn] of Object.entries(handlers)) emitter.off(name as keyof MigratorEvents, fn as never);
    };
  }

  /** A deep copy of the current state. */
  snapshot(): StatusSnapshot {
    return structuredClone(this.#snapshot);
  }

  #shard(shardId: string): ShardSnapshot {
    const now = new Date().toISOString();
    const s = (this.#snapshot.shards[shardId] ??= {
      shardId,
      state: 'idle',
      migrationId: null,
      processed: 0,
      total: undefined,
      rate: 0,
      eta: undefined,
      batchSize: undefined,
      throttled: false,
      applied: 0,
      failed: 0,
      lastError: null,
      updatedAt: now,
    });
    s.updatedAt = now;
    return s;
  }
}
