/**
 * The shapes of migration definitions: what `defineMigration` / `defineDataMigration` take
 * ({@link MigrationInput}, {@link DataMigrationInput}) and the frozen objects they return.
 */
import type { EngineName, PreserveTarget, Row, ServerUpdateDocument, ShardDescriptor } from '../engine/spi.js';
import type { MemoryShard } from '../testing/memory-shard.js';
import type { Logger } from '../util/logger.js';
import type { PreserveInput } from './preserve.js';

/**
 * The native handle a schema step's `up`/`down` receive, by engine name. Each adapter package adds
 * its engine when it is imported anywhere in the program (`@mcp/migrate-postgres`: `postgres` is
 * pg's `PoolClient`; `@mcp/migrate-mongodb`: `mongodb` is the driver's `Db`, whose transaction
 * session is `mongoSession(db)`). A third-party adapter adds its own the same way:
 *
 * ```ts
 * declare module '@mcp/migrate-core' {
 *   interface EngineHandles {
 *     cassandra: CassandraClient;
 *   }
 * }
 * ```
 *
 * The name decides the type, not the adapter behind it: a `memoryEngine({ name: 'postgres' })`
 * hands a step typed `PoolClient` a `MemoryShard` at run time, so a schema step written for pg does
 * not run there (only data migrations run on every engine).
 */
export interface EngineHandles {
  /** `memoryEngine()` under its default name. */
  memory: MemoryShard;
}

/**
 * The handle of engine `E`: its {@link EngineHandles} entry, or `unknown` for a name no imported
 * adapter registered (narrow it, pass the type to `defineMigration<Handle>`, or augment
 * `EngineHandles`), so that a handle is never `any` by accident.
 */
export type HandleOf<E> = string extends E ? unknown : E extends keyof EngineHandles ? EngineHandles[E] : unknown;

/**
 * Refuses (the `engine` field becomes `never`) a handle type that the registered handle of engine
 * `E` is not assignable to, e.g. `up(db: Db)` on `engine: 'postgres'`.
 */
export type HandleCheck<Handle, E> = E extends keyof EngineHandles
  ? [EngineHandles[E]] extends [Handle]
    ? unknown
    : { readonly engine: never }
  : unknown;

/** What a migration's `up`/`down` receive besides the native handle. */
export interface MigrationContext {
  readonly shard: ShardDescriptor;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** For tenant-scoped migrations: the tenants of `scope.tenants` that live on this shard. */
  readonly tenants: readonly string[] | undefined;
}

/** Where a migration runs: every shard of its engine (default), named shards, or the shards of some tenants. */
export type MigrationScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'shards'; readonly shards: readonly string[] }
  | { readonly kind: 'tenants'; readonly tenants: readonly string[] };

export type ScopeInput = 'all' | { readonly shards: readonly string[] } | { readonly tenants: readonly string[] };

type Step<Handle> = (handle: Handle, ctx: MigrationContext) => unknown;

export interface MigrationInput<Handle = any, E extends EngineName = EngineName> {
  /** Stable, unique id; sorts the migrations that do not depend on each other. `[A-Za-z0-9][A-Za-z0-9_.-]*`. */
  readonly id: string;
  /** The engine whose shards run it; also types the handle of `up`/`down` (see {@link EngineHandles}). */
  readonly engine: E;
  readonly description?: string | undefined;
  /** Ids that must be applied first, on every shard they run on, across engines too. */
  readonly dependsOn?: readonly string[] | undefined;
  readonly scope?: ScopeInput | undefined;
  /**
   * Bump it when you edit `up`/`down` of a migration that is already applied somewhere: the checksum
   * hashes what you declared (id, engine, scope, settings, this version; the file text when loaded
   * from a directory), never the compiled function text, so it is the same under tsx, tsc or a bundler.
   */
  readonly version?: number | string | undefined;
  /** Run in a transaction where the engine supports it. Default `true`; `false` for e.g. `CREATE INDEX CONCURRENTLY`. */
  readonly transaction?: boolean | undefined;
  readonly up: Step<Handle>;
  readonly down?: Step<Handle> | undefined;
  /** What `up` destroys: copied server-side before `up`, written back exactly on rollback. See docs/guides/preserve.md. */
  readonly preserve?: readonly PreserveInput[] | undefined;
}

export interface SchemaMigration<Handle = any> {
  readonly kind: 'schema';
  readonly id: string;
  readonly engine: EngineName;
  readonly description: string;
  readonly dependsOn: readonly string[];
  readonly scope: MigrationScope;
  readonly transaction: boolean;
  readonly up: Step<Handle>;
  readonly down: Step<Handle> | undefined;
  readonly preserve: readonly PreserveTarget[];
  /** `v2:` + sha256 of what was declared (see {@link MigrationInput.version}); recorded when applied, compared for drift. */
  readonly checksum: string;
}

/** What a data migration's `transform`/`reverse` receive besides the row. */
export interface TransformContext {
  readonly shard: ShardDescriptor;
  readonly migrationId: string;
}

export type TransformFn = (row: Row, ctx: TransformContext) => Row | null | undefined | Promise<Row | null | undefined>;

/** What a grouped data migration's `transformGroup`/`reverseGroup` receive besides the group's rows. */
export interface GroupTransformContext extends TransformContext {
  /** The group's `groupBy` fields and their values, e.g. `{ tenant_id: 't1' }`. */
  readonly group: Readonly<Row>;
}

/**
 * A grouped transform: ALL the rows of one group (rows that share their `groupBy` values), in key
 * order, to the same rows changed (same keys: non-key fields may change, no row added or dropped),
 * or `null`/`undefined` to leave the group as it is.
 */
export type GroupTransformFn = (
  rows: readonly Row[],
  ctx: GroupTransformContext,
) => readonly Row[] | null | undefined | Promise<readonly Row[] | null | undefined>;

/** What every data migration declares, one row at a time or grouped. */
interface DataMigrationInputBase {
  readonly id: string;
  readonly engine: EngineName;
  readonly description?: string | undefined;
  readonly dependsOn?: readonly string[] | undefined;
  readonly scope?: ScopeInput | undefined;
  /** Bump it when you edit `transform`/`reverse` after it was applied somewhere (see {@link MigrationInput.version}). */
  readonly version?: number | string | undefined;
  /** MongoDB collection to rewrite (give `collection` or `table`, not both). */
  readonly collection?: string | undefined;
  /** PostgreSQL table to rewrite. */
  readonly table?: string | undefined;
  /**
   * Key for keyset pagination. Composite keys as an array. Default: the engine adapter's
   * `defaultKey` (`_id` on MongoDB, `id` on PostgreSQL and memory engines).
   */
  readonly key?: string | readonly string[] | undefined;
  /** Equality filter `{ field: value }`: only matching rows are read. */
  readonly filter?: Readonly<Record<string, unknown>> | undefined;
  /** Rows per batch to start with (1–100000). Default 1000; adapted to `targetBatchMs` within bounds. */
  readonly batchSize?: number | undefined;
  /** Upper bound of rows per second for this migration, per shard (each shard is its own database). Default: unbounded. */
  readonly maxRowsPerSecond?: number | undefined;
  /**
   * Postcondition every row must meet once applied, checked by `migrator.verify({ data: true })`:
   * return `true` when the row is right, `false` or a reason string when not.
   */
  readonly verify?: ((row: Row) => boolean | string) | undefined;
  /**
   * What to do on a shard where the table/collection does not exist when the migration is about to
   * run there: `fail` (default) refuses the step with `MIGRATE_TARGET_MISSING`; `skip` records the
   * migration as applied there with nothing to transform, and a note saying why (see the guide).
   */
  readonly ifMissing?: 'fail' | 'skip' | undefined;
  /**
   * `false` keeps no backup of the rows a batch changes: faster, and no backup table/collection
   * to store. Needs an exact `reverse` (`reverseGroup`, `reverseSql`, `reverseUpdate`), which
   * rollback then uses. Honoured where the engine writes a batch (a range, for `sql`) and its
   * checkpoint atomically (PostgreSQL); elsewhere the backup is
   * kept all the same, since without it a crash between a batch's write and its checkpoint would
   * transform those rows twice. See "Skipping the backup" in docs/guides/data-migrations.md.
   * Default `true`.
   */
  readonly backup?: boolean | undefined;
  /**
   * Key ranges run at once on each shard (1–64): the table/collection is split into this many
   * ranges (split points sampled from the key space when the run starts and kept in its
   * checkpoint), each with its own checkpoint; `maxRowsPerSecond` and the throttle hold for their
   * sum. Not with `groupBy` or `backup: false`. A run is resumed with the parallelism it started
   * with. See "Parallel key ranges" in docs/guides/data-migrations.md. Default `1`.
   */
  readonly parallelism?: number | undefined;
}

/** What `defineDataMigration` takes for a migration that transforms one row at a time. */
export interface DataMigrationInput extends DataMigrationInputBase {
  /** Returns the new row, or `null`/`undefined` to leave it. Must not change the key. */
  readonly transform: TransformFn;
  /** Exact inverse of `transform`. Without it, rollback restores the originals saved before each batch. */
  readonly reverse?: TransformFn | undefined;
  readonly groupBy?: undefined;
  readonly transformGroup?: undefined;
  readonly reverseGroup?: undefined;
}

/**
 * A grouped data migration: its transform sees all the rows of one group at once (e.g. all the
 * key/value rows of a tenant), and a batch never splits a group. See docs/guides/data-migrations.md.
 */
export interface GroupedDataMigrationInput extends DataMigrationInputBase {
  /**
   * The field(s) whose values make a group: a prefix of `key` (with `key: ['tenant_id', 'settings_key']`,
   * `groupBy: 'tenant_id'`). Rows of a group are contiguous in key order, so a batch holds whole
   * groups, checkpoints fall between groups, and a crash re-does whole groups.
   */
  readonly groupBy: string | readonly string[];
  /** The group's rows, changed (same keys), or `null`/`undefined` to leave the group. See {@link GroupTransformFn}. */
  readonly transformGroup: GroupTransformFn;
  /** Exact inverse of `transformGroup`. Without it, rollback restores the originals saved before each batch. */
  readonly reverseGroup?: GroupTransformFn | undefined;
  readonly transform?: undefined;
  readonly reverse?: undefined;
}

/** A JS transform's fields, absent from a server-side migration. */
interface NoTransform {
  readonly transform?: undefined;
  readonly reverse?: undefined;
  readonly groupBy?: undefined;
  readonly transformGroup?: undefined;
  readonly reverseGroup?: undefined;
}

/**
 * A server-side data migration: the server rewrites each key range `(after, upTo]` itself, with
 * the same checkpoints, throttle, backup and rollback as a transform. See the guide's
 * "Server-side migrations".
 */
export type ServerDataMigrationInput = DataMigrationInputBase &
  NoTransform &
  (
    | {
        /**
         * PostgreSQL: ONE `UPDATE` whose `$1`/`$2` are the range's bounds, e.g. `UPDATE messages SET
         * status = lower(status) WHERE id > $1 AND id <= $2` (one key column). Trusted host code;
         * the bounds are bound, never spliced. It must not change the key.
         */
        readonly sql: string;
        /** Exact inverse of `sql`, same shape. Without it, rollback restores the saved originals. */
        readonly reverseSql?: string | undefined;
        readonly update?: undefined;
        readonly reverseUpdate?: undefined;
      }
    | {
        /**
         * MongoDB: an update-operator document (`{ $set: { … } }`) or, where the server takes them, a
         * pipeline, run with `updateMany` over each range of keys (within `filter`). It must not change the key.
         */
        readonly update: ServerUpdateDocument;
        /** Exact inverse of `update`. Without it, rollback restores the saved originals. */
        readonly reverseUpdate?: ServerUpdateDocument | undefined;
        readonly sql?: undefined;
        readonly reverseSql?: undefined;
      }
  );

/**
 * What `defineDataMigration` returns for `input`: a {@link GroupedDataMigration} for a grouped
 * input, a {@link ServerDataMigration} for `sql`/`update`, a {@link RowDataMigration} for a row
 * one, a {@link DataMigration} when the input's type says neither (`any`, `never`, a union).
 */
export type DefinedDataMigration<I> = [I] extends [never]
  ? DataMigration
  : I extends { readonly groupBy: string | readonly string[] }
    ? GroupedDataMigration
    : I extends { readonly sql: string } | { readonly update: ServerUpdateDocument }
      ? ServerDataMigration
      : RowDataMigration;

interface DataMigrationBase {
  readonly kind: 'data';
  readonly id: string;
  readonly engine: EngineName;
  readonly description: string;
  readonly dependsOn: readonly string[];
  readonly scope: MigrationScope;
  readonly target: { readonly name: string; readonly key: readonly string[] };
  readonly filter: Readonly<Record<string, unknown>> | undefined;
  readonly batchSize: number;
  readonly maxRowsPerSecond: number | undefined;
  readonly verify: ((row: Row) => boolean | string) | undefined;
  readonly ifMissing: 'fail' | 'skip';
  /** `false`: keep no backup (see {@link DataMigrationInputBase.backup}). */
  readonly backup: boolean;
  /** Key ranges run at once per shard (see {@link DataMigrationInputBase.parallelism}). */
  readonly parallelism: number;
  readonly checksum: string;
}

/** A defined data migration that transforms one row at a time. */
export interface RowDataMigration extends DataMigrationBase {
  readonly transform: TransformFn;
  readonly reverse: TransformFn | undefined;
  readonly groupBy?: undefined;
  readonly transformGroup?: undefined;
  readonly reverseGroup?: undefined;
}

/** A defined grouped data migration: `groupBy` is the key's first `groupBy.length` fields. */
export interface GroupedDataMigration extends DataMigrationBase {
  readonly groupBy: readonly string[];
  readonly transformGroup: GroupTransformFn;
  readonly reverseGroup: GroupTransformFn | undefined;
  readonly transform?: undefined;
  readonly reverse?: undefined;
}

/** A defined server-side data migration: `sql` (and `reverseSql`) or `update` (and `reverseUpdate`). */
export interface ServerDataMigration extends DataMigrationBase, NoTransform {
  readonly sql?: string | undefined;
  readonly reverseSql?: string | undefined;
  readonly update?: ServerUpdateDocument | undefined;
  readonly reverseUpdate?: ServerUpdateDocument | undefined;
}

export type DataMigration = RowDataMigration | GroupedDataMigration | ServerDataMigration;

export type Migration = SchemaMigration | DataMigration;
