/** What the batch engine reads and writes: rows of a table or documents of a collection. */

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

