/**
 * What every room of the migrator shares: one value handed to the extracted functions instead of
 * long positional parameter lists. The `Migrator` facade builds it once in its constructor.
 */
import type { ShardAdapter, ShardDescriptor } from '../engine/index.js';
import type { Migration } from '../definition/migration.js';
import type { MigratorEventName, MigratorEventPayload } from '../events/events.js';
import type { PauseGate } from '../data/throttle.js';
import type { StatusTracker } from '../events/status-tracker.js';
import type { Logger } from '../util/logger.js';
import type { Scrubber } from '../util/scrubber.js';
import type { MigratorConfig } from './config.js';

export const DEFAULTS = { concurrency: 4, canaryShards: 1, ttlMs: 30_000, retries: 3, minTimeoutMs: 100, maxTimeoutMs: 2_000 };

export interface ShardRef {
  readonly descriptor: ShardDescriptor;
  readonly adapter: ShardAdapter;
}

export interface MigratorContext {
  readonly name: string;
  readonly runnerId: string;
  readonly config: MigratorConfig;
  /** Scrubbing logger tagged with the set and the runner. */
  readonly log: Logger;
  readonly scrubber: Scrubber;
  /** Every shard, in configured order, with its (scrubbing) adapter. */
  readonly shards: readonly ShardRef[];
  readonly gate: PauseGate;
  readonly tracker: StatusTracker;
  /** Emits a scrubbed event; a listener that throws is logged and ignored. */
  emit<K extends MigratorEventName>(name: K, payload: MigratorEventPayload<K>): void;
  /** The migrations, loaded once (a failed load is retried on the next call). */
  load(): Promise<readonly Migration[]>;
}

export function shardOf(ctx: MigratorContext, id: string): ShardRef {
  return ctx.shards.find((s) => s.descriptor.id === id)!;
}

export function concurrencyOf(ctx: MigratorContext): number {
  return ctx.config.concurrency ?? DEFAULTS.concurrency;
}

export function onFailureOf(ctx: MigratorContext): 'halt' | 'continue' {
  return ctx.config.onFailure ?? 'halt';
}

export function ttlOf(ctx: MigratorContext): number {
  return ctx.config.lock?.ttlMs ?? DEFAULTS.ttlMs;
}
