/**
 * The engine adapter contract: what a database needs to supply so that the planner, run controller
 * and batch engine can run migrations on it. One {@link EngineAdapter} per engine (PostgreSQL,
 * MongoDB, memory), one {@link ShardAdapter} per shard of it.
 *
 * Reading one adapter teaches all of them: each supplies a {@link LedgerStore}, a {@link LockProvider},
 * a {@link DataStore} and `execute` for schema steps. The conformance suite in the repository's
 * `test/` folder runs the same tests over every adapter.
 */

import type { EngineCapabilities } from './capabilities.js';
import type { ControlStore } from './control-store.js';
import type { DataStore, KeyValue } from './data-store.js';
import type { ErrorClass } from './error-reason.js';
import type { Direction, LedgerStore } from './ledger-store.js';
import type { LockProvider } from './lock-provider.js';
import type { PreserveStore } from './preserve-store.js';

import type { EngineName } from './engine-name.js';

export type { EngineName };

/** A shard as the migrator reports it: id and engine, and a redacted location for humans. */
export interface ShardDescriptor {
  readonly id: string;
  readonly engine: EngineName;
  /** Host/database with credentials removed, e.g. `postgres://***@db-0:5432/chat`. */
  readonly location?: string | undefined;
}

/**
 * The factory of one engine's shards. Third-party adapters start from `engineAdapterDefaults` (or
 * extend `EngineAdapterBase`) for `capabilities`, `classifyError`, `defaultKey` and `compareKeys`;
 * `createMigrator` checks every adapter with `verifyEngineAdapter` before anything connects.
 */
export interface EngineAdapter<Handle = unknown> {
  readonly name: EngineName;
  readonly capabilities: EngineCapabilities;
  /** The shards of this engine, in their configured order (the canary order). */
  readonly shards: readonly ShardDescriptor[];
  /** The adapter of one shard. Throws `MIGRATE_CONFIG` for an unknown id. Does not connect. */
  shard(id: string): ShardAdapter<Handle>;
  /** Closes every connection this adapter opened (never a pool or client the host passed in). */
  close(): Promise<void>;
  /**
   * Classifies a driver error once, into an engine-neutral reason and whether retrying the same
   * operation may succeed (a lost connection, a lock or serialization timeout). Core decides retries
   * from this alone (a `MigrateError` carries its own `retryable`). Default: `unknown`, retryable
   * only when the error says `retryable: true`.
   */
  classifyError(error: unknown): ErrorClass;
  /**
   * The key of a data migration that declares none (`['id']` on PostgreSQL, `['_id']` on MongoDB).
   * Resolved when `createMigrator` binds the migrations to their engines. Default `['id']`.
   */
  readonly defaultKey: readonly string[];
  /**
   * The order of key values on this engine's servers (negative, zero, positive), the order `scan`
   * returns rows in. Core orders and compares keys only with it (range splitting in `compareData`).
   * Default: the SDK's key order (`compareKeys` of the root package, MongoDB's BSON type order).
   */
  compareKeys(a: KeyValue, b: KeyValue): number;
  /**
   * The control store this engine offers (the run lock and the tenant directory, on its first
   * shard). Optional: the migrator uses the configured `control`, else the offering engine with the
   * highest {@link EngineAdapter.controlPreference} (ties: the order of `engines`).
   */
  control?(): ControlStore;
  /**
   * How strongly this engine's control store should be preferred when `createMigrator` chooses one:
   * higher wins. Default 0. PostgreSQL gives 2 (a session-bound advisory lock the server releases
   * with a dead holder), MongoDB 1. Every replica must choose the same store, so the choice never
   * depends on the order of keys in a host's `engines` object between engines that differ here.
   */
  readonly controlPreference?: number | undefined;
  /**
   * How messages name this engine's things: `target` is `table` or `collection` (also the field a
   * refusal names), `uniqueKey` says what a data migration's key must be. Default: `table`, and a
   * key must be "exactly the fields of a unique index".
   */
  readonly terms?: EngineTerms | undefined;
  /**
   * Every secret this adapter was configured with (connection-string passwords, `password`
   * options, `sslpassword`, auth passwords), as given. The migrator scrubs them, and their encoded
   * forms, from every string that leaves the SDK. Optional: without it only the patterns apply.
   */
  secrets?(): readonly string[];
}

/** How refusals name an engine's things (see {@link EngineAdapter.terms}). */
export interface EngineTerms {
  /** `table` or `collection`: the noun, and the definition field a refusal names. */
  readonly target: string;
  /** What a data migration's key must be on this engine, e.g. `it must be "_id" or …`. */
  readonly uniqueKey: string;
}

/** What a schema step's `execute` is told about the step. */
export interface StepOptions {
  readonly migrationId: string;
  readonly direction: Direction;
  /** Run inside a transaction. Ignored (runs without one) when the engine lacks `transactions`. */
  readonly transaction: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** Runs a shard's schema steps: the one role of a shard that hands out the native handle. */
export interface SchemaExecutor<Handle = unknown> {
  /**
   * Runs a schema step: calls `fn` with the native handle (a `pg` client, a MongoDB `Db`, a memory
   * shard), in a transaction when `options.transaction` and the engine supports it. A thrown error
   * rolls the transaction back and is rethrown unchanged (the adapter may wrap it keeping `cause`).
   */
  execute(options: StepOptions, fn: (handle: Handle) => Promise<void>): Promise<void>;
}

export interface ShardAdapter<Handle = unknown> {
  readonly id: string;
  readonly engine: EngineName;
  /**
   * Connects; idempotent. Throws a `ShardUnavailableError` that names the shard and never contains
   * credentials.
   */
  connect(signal?: AbortSignal): Promise<void>;
  readonly ledger: LedgerStore;
  readonly lock: LockProvider;
  readonly data: DataStore;
  /**
   * What this shard can do: its engine's `capabilities`, with a flag turned off where `connect()`
   * found the server cannot (see `EngineCapabilities`). Core reads it after connecting.
   */
  readonly capabilities: EngineCapabilities;
  /** Runs schema steps on this shard. */
  readonly executor: SchemaExecutor<Handle>;
  /**
   * Optional: server-side copies of what a schema migration's `preserve` names (see
   * {@link PreserveStore}). A migration with `preserve` is refused on an engine whose shards lack it.
   */
  readonly preserved?: PreserveStore | undefined;
  close(): Promise<void>;
}
