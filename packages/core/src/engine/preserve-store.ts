/** Preserved copies: what a schema migration's `preserve` keeps in the shard itself. */

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
