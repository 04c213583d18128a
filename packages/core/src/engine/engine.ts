/**
 * The engine adapter contract: what a database needs to supply so that the planner, orchestrator
 * and batch engine can run migrations on it. One {@link EngineAdapter} per engine (PostgreSQL,
 * MongoDB, memory), one {@link ShardAdapter} per shard of it.
 *
 * Reading one adapter teaches all of them: each supplies a {@link LedgerStore}, a {@link LockProvider},
 * a {@link BatchStore} and `execute` for schema steps. The conformance suite in the repository's
 * `test/` folder runs the same tests over every adapter.
 */

/** The engines the platform runs. Other names are allowed for third-party adapters. */
export type EngineName = 'postgres' | 'mongodb' | (string & {});

/** What an engine can do. Flags default to `false`; features behind them are feature-detected. */
export interface EngineCapabilities {
  /** Schema steps can run in a transaction (PostgreSQL: yes; MongoDB: only on a replica set). */
  readonly transactions: boolean;
  /** DDL is transactional, so a failed schema step leaves nothing behind (PostgreSQL: yes). */
  readonly transactionalDdl: boolean;
  /** The engine can capture changes made during a copy (PostgreSQL triggers, MongoDB change streams). */
  readonly changeCapture: boolean;
}

/** A shard as the migrator reports it: id and engine, and a redacted location for humans. */
export interface ShardDescriptor {
  readonly id: string;
  readonly engine: EngineName;
  /** Host/database with credentials removed, e.g. `postgres://***@db-0:5432/chat`. */
  readonly location?: string | undefined;
}

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
   * Classifies a driver error once for the orchestrator: `true` when retrying the same step may
   * succeed (a dropped connection, a lock or serialization timeout). Optional: without it, only
   * errors that carry `retryable: true` are retried.
   */
  isRetryable?(error: unknown): boolean;
  /**
   * Every secret this adapter was configured with (connection-string passwords, `password`
   * options, `sslpassword`, auth passwords), as given. The migrator scrubs them, and their encoded
   * forms, from every string that leaves the SDK. Optional: without it only the patterns apply.
   */
  secrets?(): readonly string[];
}

export type Direction = 'up' | 'down';

/** What a schema step's `execute` is told about the step. */
export interface StepOptions {
  readonly migrationId: string;
  readonly direction: Direction;
  /** Run inside a transaction. Ignored (runs without one) when the engine lacks `transactions`. */
  readonly transaction: boolean;
  readonly signal?: AbortSignal | undefined;
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
  readonly data: BatchStore;
  /**
   * Runs a schema step: calls `fn` with the native handle (a `pg` client, a MongoDB `Db`, a memory
   * shard), in a transaction when `options.transaction` and the engine supports it. A thrown error
   * rolls the transaction back and is rethrown unchanged (the adapter may wrap it keeping `cause`).
   */
  execute(options: StepOptions, fn: (handle: Handle) => Promise<void>): Promise<void>;
  /**
   * Optional: server-side copies of what a schema migration's `preserve` names (see
   * {@link PreserveStore}). A migration with `preserve` is refused on an engine whose shards lack it.
   */
  readonly preserved?: PreserveStore | undefined;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Preserved copies (schema migrations' `preserve`)

/** A table/collection, or some of its columns/fields, a schema migration destroys. */
export interface PreserveTarget {
  /** `table`, `schema.table` (PostgreSQL) or a collection name. */
  readonly name: string;
  /** Absent: the whole table/collection. Else the columns/top-level fields, restored by key. */
  readonly columns?: readonly string[] | undefined;
}

/** One copy a shard keeps, as `status()` lists it. */
export interface PreservedCopy {
  readonly migrationId: string;
  /** The target as the migration named it. */
  readonly target: string;
  /** `null` for a whole table/collection. */
  readonly columns: readonly string[] | null;
  /** Where the copy is: `schema.table` beside the table, or a collection in the same database. */
  readonly copy: string;
  readonly rows: number;
  readonly createdAt: string;
  /** `false` while a copy is being taken (or when taking it was interrupted): it is not used then. */
  readonly complete: boolean;
}

export interface PreserveSaveOptions {
  /**
   * `true` when an earlier attempt of this migration may already have run `up` in part: a complete
   * copy is then kept as it is (the target may be half destroyed). `false`: a fresh copy is taken.
   */
  readonly reuse: boolean;
  readonly signal?: AbortSignal | undefined;
  /**
   * The native handle of the schema step, given when the step runs in a transaction: an adapter
   * that can (PostgreSQL) takes the copy in that transaction, so the copy and `up` commit or fail
   * together and no write lands between them.
   */
  readonly handle?: unknown;
}

export interface PreserveRestoreOptions {
  readonly signal?: AbortSignal | undefined;
  /** As for {@link PreserveSaveOptions.handle}: the restore then commits or fails with `down`. */
  readonly handle?: unknown;
}

/**
 * Copies kept in the shard itself, in the server (PostgreSQL `CREATE TABLE … AS SELECT`; MongoDB
 * documents read without promoting BSON numbers and inserted as read), so that no value
 * round-trips through JavaScript types. Errors are `PreserveError`s naming migration, shard and target.
 */
export interface PreserveStore {
  /**
   * Copies each target under a name derived from the migration id (`preserveCopyName`). A target
   * that does not exist (table/collection, or a column/field no row has) is refused with
   * `MIGRATE_PRESERVE_TARGET`, unless `reuse` and a complete copy of it exists.
   */
  save(migrationId: string, targets: readonly PreserveTarget[], options: PreserveSaveOptions): Promise<PreservedCopy[]>;
  /**
   * Writes the copies back after `down` recreated the shape: a whole table's rows / collection's
   * documents are inserted; columns/fields are set by primary key / `_id`. Throws
   * `MIGRATE_PRESERVE_MISSING` when a copy is gone, `MIGRATE_PRESERVE_RESTORE` when the shape
   * cannot take it back exactly (a column missing or of another type). Returns rows written.
   */
  restore(migrationId: string, targets: readonly PreserveTarget[], options?: PreserveRestoreOptions): Promise<number>;
  /** Drops the copies of `migrationId` (all of its copies when `targets` is absent). Returns what it dropped. */
  drop(migrationId: string, targets?: readonly PreserveTarget[]): Promise<PreservedCopy[]>;
  /** Every copy on this shard. */
  list(): Promise<PreservedCopy[]>;
}

// ---------------------------------------------------------------------------------------------
// Ledger

export const LedgerState = {
  Pending: 'pending',
  Running: 'running',
  Applied: 'applied',
  Failed: 'failed',
  RolledBack: 'rolled_back',
} as const;
export type LedgerState = (typeof LedgerState)[keyof typeof LedgerState];

/** Where a data migration stopped, and what it was running when it did. */
export interface Checkpoint {
  /** Key of the last row whose batch was fully written; `null` before the first batch. */
  readonly after: readonly unknown[] | null;
  /** Fingerprint of the migration (checksum, batch settings, SDK version): a resume must match it. */
  readonly fingerprint: string;
  /** `up` or `down`: a rollback in progress checkpoints too. */
  readonly direction: Direction;
}

export interface LedgerCounts {
  readonly read: number;
  readonly written: number;
  readonly skipped: number;
  /**
   * Set by `migrator.purgeBackups()` when it dropped this data migration's backup: a rollback
   * without `reverse` is refused from then on. Kept in `counts` so every ledger store persists it.
   */
  readonly backupPurgedAt?: string | undefined;
}

/** One record per migration per shard, kept in the shard itself (`mcp_migrations`). */
export interface LedgerRecord {
  readonly id: string;
  readonly state: LedgerState;
  readonly checksum: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly runnerId: string | null;
  readonly checkpoint: Checkpoint | null;
  readonly counts: LedgerCounts | null;
  readonly error: { readonly code: string; readonly message: string; readonly causeCode?: string | undefined } | null;
  /** Order in which records were applied on this shard (monotonic), used by rollback. */
  readonly seq: number;
}

/** A fencing token of a lease: ledger writes carry it and are refused once a newer lease exists. */
export interface Fence {
  readonly lockName: string;
  readonly token: number;
}

export interface LedgerStore {
  /** Creates the ledger (and fencing state) if absent; safe when several runners call it at once. */
  init(): Promise<void>;
  /** Every record on this shard, in no particular order. */
  list(): Promise<LedgerRecord[]>;
  /**
   * Inserts or replaces the record with `record.id`, only if `fence.token` is still the newest token
   * issued for `fence.lockName` on this shard; otherwise throws `StaleLeaseError` and writes nothing.
   */
  put(record: LedgerRecord, fence: Fence): Promise<void>;
  /** Deletes a record under the same fencing rule (used by `repair`). */
  delete(id: string, fence: Fence): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Lock

export interface AcquireOptions {
  /** Who asks: the runner id (host, pid, random). Shown by `status()`. */
  readonly owner: string;
  /** How long the lease lives without a heartbeat. The SDK renews it every `ttlMs / 3`. */
  readonly ttlMs: number;
  /** How long to wait for a held lock before `LockTimeoutError`. `0` tries once. */
  readonly waitMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Called (at most every poll) while waiting, with the current holder when it is known. */
  readonly onWait?: ((holder: LockStatus | null) => void) | undefined;
}

/**
 * A held lock. `token` is a fencing token: strictly greater than every token issued before for the
 * same name on the same shard, so a stale holder (paused, partitioned) is refused by
 * {@link LedgerStore.put} once another runner took the lock.
 */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  /** Extends the lease; throws `StaleLeaseError` when it was lost (expired and taken over). */
  renew(): Promise<void>;
  /** Releases the lock; idempotent; never throws for a lease already lost. */
  release(): Promise<void>;
}

export interface LockStatus {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  readonly since: string;
  readonly heartbeatAt: string;
  /** `null` when the server releases the lock with the holder's session (PostgreSQL advisory lock). */
  readonly expiresAt: string | null;
}

export interface LockProvider {
  /** Takes the lock, waiting up to `waitMs`. Throws `LockTimeoutError` naming the holder. */
  acquire(name: string, options: AcquireOptions): Promise<Lease>;
  /** The current holder, or `null` when the lock is free. */
  status(name: string): Promise<LockStatus | null>;
  /** Clears the lock whoever holds it and bumps the fence, so the old holder's writes are refused. */
  forceRelease(name: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Batch primitives

/** A row or document. */
export type Row = Record<string, unknown>;
/** A key value: one entry per key column/field, in `DataTarget.key` order. */
export type KeyValue = readonly unknown[];

/** A table or collection and its key (primary key columns, or `['_id']`). */
export interface DataTarget {
  readonly name: string;
  readonly key: readonly string[];
  /** Equality filter `{ field: value }` (MongoDB adapters may accept a full query document). */
  readonly filter?: Readonly<Record<string, unknown>> | undefined;
  /** The data migration this target belongs to, when there is one: adapters name it in refusals. */
  readonly migrationId?: string | undefined;
}

/**
 * One row a transform (or `reverse`) changed: its key, the row exactly as `scan` returned it (the
 * same object, so an adapter may keep what it read beside it, e.g. raw BSON or a row version), the
 * fields whose value differs with their new values, and the fields the new row no longer has.
 */
export interface RowPatch {
  readonly key: KeyValue;
  readonly before: Row;
  readonly set: Readonly<Row>;
  readonly unset: readonly string[];
}

/** A half-open key range `(after, upTo]`; an absent bound means unbounded. */
export interface KeyRange {
  readonly after?: KeyValue | undefined;
  readonly upTo?: KeyValue | undefined;
}

export interface RangeChecksum {
  readonly count: number;
  /** Order-independent hash of the rows in the range (hex). Equal rows ⇒ equal hash, per adapter. */
  readonly hash: string;
}

/** What {@link BatchStore.inspect} finds out about a data migration's target on one shard. */
export interface TargetInfo {
  /** The table/collection exists. */
  readonly exists: boolean;
  /**
   * The key identifies one row: PostgreSQL, the key columns are exactly the columns of the primary
   * key or of a non-partial unique index whose columns are all NOT NULL; MongoDB, the key is `_id`
   * or exactly the fields of a non-partial, non-sparse unique index. `undefined` when the server
   * cannot tell (pg-mem): then nothing is refused. `false` when the target does not exist.
   */
  readonly uniqueKey: boolean | undefined;
  /** Column names (PostgreSQL), when known; absent for schemaless collections. */
  readonly columns?: readonly string[] | undefined;
}

export interface BatchStore {
  /**
   * Optional: whether `target` exists and its key is unique on this shard. The migrator calls it
   * before a data migration's first batch on a shard, and refuses the step (nothing written) when
   * the target is missing (`MIGRATE_TARGET_MISSING`, unless `ifMissing: 'skip'`) or the key does not
   * identify one row (`MIGRATE_KEY_NOT_UNIQUE`). Without it, neither is checked.
   */
  inspect?(target: DataTarget): Promise<TargetInfo>;
  /**
   * Up to `limit` rows with key strictly greater than `after` (or from the very first key when
   * `after` is undefined — never from 0), ascending by key, collation-safe (bytewise for text).
   */
  scan(target: DataTarget, after: KeyValue | undefined, limit: number): Promise<Row[]>;
  /**
   * Idempotent upsert by key of whole rows, in as few round trips as the engine allows. Returns
   * rows written. Used where there is no row to compare with (a restore through JS, a copy); the
   * batch engine writes a transform's output with {@link BatchStore.update}.
   */
  write(target: DataTarget, rows: readonly Row[]): Promise<number>;
  /**
   * Writes ONLY what a transform changed: for each patch, the columns/fields in `set` (PostgreSQL
   * `UPDATE … SET` of those columns; MongoDB `$set`, plus `$unset` of `unset`), by key, so that a
   * value the transform did not touch never round-trips through JavaScript and keeps its exact
   * stored bytes and type. A row that no longer exists is not brought back. Returns rows written.
   * An adapter refuses, with a typed error naming the migration's field, a column the table does
   * not have or an `unset` it cannot express (PostgreSQL has no "absent column").
   */
  update(target: DataTarget, patches: readonly RowPatch[]): Promise<number>;
  /**
   * Optional compare-and-set form of {@link BatchStore.update}: applies each patch only where the
   * stored row is still the one `scan` returned as `before` (compared by the server's own form of
   * the row, never through values JS cannot carry exactly), in as few round trips as the engine
   * allows. Returns the keys it did NOT write because the row changed (or vanished) in between.
   * When an adapter has it, the batch engine uses it, so a write by the application between a
   * batch's read and its write is never overwritten: the batch is re-read from the first
   * conflicting key instead.
   */
  writeIfUnchanged?(target: DataTarget, patches: readonly RowPatch[]): Promise<{ written: number; conflicts: KeyValue[] }>;
  /**
   * Removes saved copies from backup `backup` by key. Required with `writeIfUnchanged`: the copies
   * of rows whose write was refused are stale and are taken again when those rows are re-read.
   */
  backupRemove?(target: DataTarget, backup: string, keys: readonly KeyValue[]): Promise<number>;
  /** Deletes rows by key; returns rows deleted. */
  remove(target: DataTarget, keys: readonly KeyValue[]): Promise<number>;
  /** Saves originals into backup `backup` (a table/collection the adapter names), idempotent by key. */
  backupWrite(target: DataTarget, backup: string, rows: readonly Row[]): Promise<number>;
  /** Reads saved originals, ascending by key, like `scan`. */
  backupScan(target: DataTarget, backup: string, after: KeyValue | undefined, limit: number): Promise<Row[]>;
  /**
   * Optional: writes the next `limit` saved originals after `after` back into the table, in the
   * server, so that values the driver cannot carry exactly (PostgreSQL timestamp microseconds)
   * are restored exactly. Returns the rows restored and the last key restored (`undefined` when
   * none was left), or `null` when this shard cannot (the batch engine then restores through JS).
   */
  backupRestore?(target: DataTarget, backup: string, after: KeyValue | undefined, limit: number): Promise<{ restored: number; last: KeyValue | undefined } | null>;
  /** Drops the backup. Idempotent. */
  backupDrop(target: DataTarget, backup: string): Promise<void>;
  count(target: DataTarget, range?: KeyRange): Promise<number>;
  checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum>;
}
