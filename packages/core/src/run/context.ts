/**
 * What every room of the migrator shares: one value handed to the extracted functions instead of
 * long positional parameter lists. The `Migrator` facade builds it once in its constructor.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ControlStore, EngineAdapter, ShardAdapter, ShardDescriptor } from '../engine/spi.js';
import { bindToEngine } from '../definition/checksum.js';
import type { Migration } from '../definition/migration.js';
import { loadMigrations } from '../definition/load.js';
import { serializeError } from '../errors/errors.js';
import type { MigratorEventName, MigratorEventPayload } from '../events/events.js';
import { PauseGate } from '../data/throttle.js';
import { StatusTracker } from '../events/status-tracker.js';
import { noopLogger, type Logger } from '../util/logger.js';
import { Scrubber, scrubbingLogger, scrubbingShard } from '../util/scrubber.js';
import { validateMigrations, type MigratorConfig } from './config.js';
import { resolveControlStore } from './control-store.js';
import { MIGRATOR_DEFAULTS } from './defaults.js';

export interface ShardRef {
  readonly descriptor: ShardDescriptor;
  readonly adapter: ShardAdapter;
  /** The shard's engine adapter: `classifyError`, `terms`, `compareKeys`. */
  readonly engine: EngineAdapter;
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
  /** The run lock and the tenant directory (see `control-store.ts`). */
  readonly control: ControlStore;
  /** Emits a scrubbed event; a listener that throws is logged and ignored. */
  emit<K extends MigratorEventName>(name: K, payload: MigratorEventPayload<K>): void;
  /** The migrations, loaded once (a failed load is retried on the next call). */
  load(): Promise<readonly Migration[]>;
}

export function shardOf(ctx: MigratorContext, id: string): ShardRef {
  return ctx.shards.find((s) => s.descriptor.id === id)!;
}

export function concurrencyOf(ctx: MigratorContext): number {
  return ctx.config.concurrency ?? MIGRATOR_DEFAULTS.concurrency;
}

export function onFailureOf(ctx: MigratorContext): 'halt' | 'continue' {
  return ctx.config.onFailure ?? MIGRATOR_DEFAULTS.onFailure;
}

export function ttlOf(ctx: MigratorContext): number {
  return ctx.config.lock?.ttlMs ?? MIGRATOR_DEFAULTS.lock.ttlMs;
}

/** Delivers an event to the migrator's listeners (EventEmitter's `emit`). */
export type RawEmit = (name: string, payload: unknown) => unknown;

/**
 * The context of a migrator over a validated `config`: its name and runner id, the scrubber of
 * every configured secret, scrubbing logger and shards, the control store, and `emit`/`load`.
 */
export function createContext(config: MigratorConfig, rawEmit: RawEmit): MigratorContext {
  const name = config.name ?? MIGRATOR_DEFAULTS.name;
  // Every secret the SDK was given: scrubbed exactly from events, logs, ledger rows, results and errors.
  const scrubber = new Scrubber([
    ...(config.secrets ?? []),
    ...Object.values(config.engines).flatMap((e) => e.secrets?.() ?? []),
  ]);
  // The host chooses the runner id, and it is stored (ledger rows, lock owners) and shown (events,
  // reports, status): scrubbed once here, so every place that writes or shows it has the same text.
  const runnerId = scrubber.text(config.runnerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`);
  const log = scrubbingLogger(config.logger ?? noopLogger, scrubber, { set: name, runner: runnerId });
  const shards = Object.values(config.engines).flatMap((engine) =>
    engine.shards.map((d) => ({ descriptor: d, adapter: scrubbingShard(engine.shard(d.id), scrubber), engine })),
  );
  return {
    name,
    runnerId,
    config,
    log,
    scrubber,
    shards,
    gate: new PauseGate(),
    tracker: new StatusTracker(),
    control: resolveControlStore(config),
    emit: (event, payload) => {
      try {
        rawEmit(event, scrubber.value(payload));
      } catch (error) {
        log.error(`a listener of "${event}" threw; ignored`, { error: serializeError(error) });
      }
    },
    load: migrationLoader(config),
  };
}

/**
 * Loads the migrations once (a failed load is retried on the next call), checks them against the
 * engines, and binds each to its engine's adapter (a data migration without a key gets the
 * adapter's `defaultKey`).
 */
function migrationLoader(config: MigratorConfig): () => Promise<readonly Migration[]> {
  let loading: Promise<readonly Migration[]> | undefined;
  return () => {
    loading ??= (async () => {
      const source = config.migrations;
      const migrations = typeof source === 'string' ? await loadMigrations(source) : source;
      validateMigrations(migrations, config.engines);
      return migrations.map((m) => bindToEngine(m, config.engines[m.engine]!));
    })();
    loading.catch(() => (loading = undefined));
    return loading;
  };
}
