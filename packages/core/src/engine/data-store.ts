/** What the batch engine reads and writes: rows of a table or documents of a collection. */
import type { Fence, LedgerRecord } from './ledger-store.js';

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
  /**
   * Set on a backup: the target whose rows this one saves (core derives it, see `backupTarget`).
   * A backup lives beside its source (PostgreSQL: in the source table's schema), has the source's
   * key, and is created like the source by the first `write` or `serverCopy.copy` into it.
   */
  readonly backupOf?: DataTarget | undefined;
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

/** What {@link DataStore.inspect} finds out about a data migration's target on one shard. */
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

/**
 * The rows of one shard, as the batch engine reads and writes them: seven verbs on a
 * {@link DataTarget}, plus optional capabilities, each declared by the flag of the same name in
 * `EngineCapabilities` (core uses one only when the flag AND the object are there).
 *
 * A backup is just another target (`backupOf` set): the batch engine saves originals with `write`
 * (or `serverCopy.copy`), reads them with `scan`, and drops them with `drop`.
 */
export interface DataStore {
  /**
   * Up to `limit` rows with key strictly greater than `after` (or from the very first key when
   * `after` is undefined — never from 0), ascending by key, collation-safe (bytewise for text).
   * A backup that does not exist (yet) has no rows. With `upTo`, only rows with key at most
   * `upTo` (inclusive: the range `(after, upTo]`, bound in the query like `after`), for the key
   * ranges of a parallel run.
   */
  scan(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue): Promise<Row[]>;
  /** Rows of `target` (within its filter) in `range`. */
  count(target: DataTarget, range?: KeyRange): Promise<number>;
  /** Count and order-independent hash of the rows of `target` in `range`. */
  checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum>;
  /**
   * Idempotent whole-row upsert by key, in as few round trips as the engine allows; returns rows
   * written. On a backup target (`backupOf` set) the FIRST copy of a row wins: a row already
   * saved is kept, never overwritten (a re-done batch must not replace an original with its own
   * output), and the backup is created like its source on first use. The batch engine writes a
   * transform's output with {@link DataStore.update}, not with this.
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
  /** Deletes rows by key; returns rows deleted. */
  remove(target: DataTarget, keys: readonly KeyValue[]): Promise<number>;
  /**
   * Drops a backup (idempotent). Refuses, with a typed error, a target without `backupOf`: the
   * SDK never drops a table or collection of the application.
   */
  drop(target: DataTarget): Promise<void>;

  /**
   * Capability `inspect`: whether `target` exists and its key is unique on this shard. The
   * migrator calls it before a data migration's first batch on a shard, and refuses the step
   * (nothing written) when the target is missing (`MIGRATE_TARGET_MISSING`, unless
   * `ifMissing: 'skip'`) or the key does not identify one row (`MIGRATE_KEY_NOT_UNIQUE`).
   */
  inspect?(target: DataTarget): Promise<TargetInfo>;
  /**
   * Optional: up to `parts - 1` keys of `target` (within its filter) that cut it into `parts`
   * ranges of about equal row counts, ascending, distinct, read in the server (PostgreSQL:
   * `OFFSET` over the key index; MongoDB: a sorted `skip`). Core uses them as the bounds of a
   * parallel run's key ranges; without it, core walks the keys with `scan`.
   */
  splitKeys?(target: DataTarget, parts: number): Promise<KeyValue[]>;
  /** Capability `compareAndSet`: writes that never overwrite a concurrent change. */
  readonly compareAndSet?: CompareAndSet | undefined;
  /** Capability `serverCopy`: backups copied and restored inside the server, exactly. */
  readonly serverCopy?: ServerCopy | undefined;
  /** Capability `serverUpdate`: server-side data migrations (`sql` / `update`) run per key range. */
  readonly serverUpdate?: ServerUpdate | undefined;
  /** Capability `batchWrite`: a batch's backup, write (and checkpoint) in one atomic step. */
  readonly batchWrite?: BatchWrite | undefined;
  /**
   * Capability `openScan`: a streaming read of `target` — what successive `scan` calls would return,
   * from the first key after `after` (or from the very first key), through ONE server-side read (a
   * cursor), where each `scan` would be a new query (a server without key-range pushdown reads
   * the whole table for every page). Opening is lazy: nothing is sent before the first `next`.
   * The batch engine reads through it when offered, else through `scan` page by page, and re-opens
   * it from its last checkpoint after anything that may have left it behind (a conflict, an error,
   * a resume, a cursor older than its age bound): a cursor is never trusted past a write that failed.
   */
  openScan?(target: DataTarget, after: KeyValue | undefined): ScanCursor;
}

/**
 * A streaming read opened by {@link DataStore.openScan}. Rows come in the order and form `scan`
 * returns them (ascending by key, collation-safe, within the target's filter; a backup that does
 * not exist has none), each exactly once, continuing where the previous `next` stopped. A row
 * changed or added after the cursor passed its key is not seen; rows ahead of it may be as of any
 * moment since the cursor was opened (a server may read a snapshot at open).
 */
export interface ScanCursor {
  /**
   * The next rows: at most `limit` (≥ 1), fewer only when the scan reached its end, `[]` from then
   * on. May be called again after it returned fewer.
   */
  next(limit: number): Promise<Row[]>;
  /** Releases the server-side read; idempotent, and safe while nothing was read yet. */
  close(): Promise<void>;
}

export interface CompareAndSet {
  /**
   * {@link DataStore.update}, applying each patch only where the stored row is still the one
   * `scan` returned as `before` (compared by the server's own form of the row, never through
   * values JS cannot carry exactly), in as few round trips as the engine allows. Returns the keys
   * it did NOT write because the row changed (or vanished) in between. The batch engine then
   * removes those rows' saved copies (they are stale) and reads them again.
   */
  writeIfUnchanged(
    target: DataTarget,
    patches: readonly RowPatch[],
  ): Promise<{ written: number; conflicts: KeyValue[] }>;
}

export interface ServerCopy {
  /**
   * `write(to, <the stored rows of `from` with these keys>)`, done inside the server from the
   * stored rows, so only keys travel and every value keeps its stored form. `to` is a backup of
   * `from`, so the first copy of a row wins. Returns the keys sent.
   */
  copy(from: DataTarget, to: DataTarget, keys: readonly KeyValue[]): Promise<number>;
  /**
   * `write(to, scan(from, after, limit))` inside the server: the next `limit` rows of backup
   * `from` after `after` replace (or bring back) the rows of `to` by key, exactly as stored.
   * Returns the rows restored and the last key restored (`undefined` when none was left).
   */
  restore(
    from: DataTarget,
    to: DataTarget,
    after: KeyValue | undefined,
    limit: number,
  ): Promise<{ restored: number; last: KeyValue | undefined }>;
}

/**
 * What a server-side data migration runs per key range: SQL text whose `$1`/`$2` are the range's
 * bounds `(after, upTo]` (trusted host code: values are bound, never spliced), or a MongoDB update
 * (an update-operator document, or a pipeline where the server takes one) over the range's keys.
 */
export type ServerStatement =
  | { readonly sql: string; readonly update?: undefined }
  | { readonly update: ServerUpdateDocument; readonly sql?: undefined };

/** A MongoDB update: an update-operator document (`{ $set: … }`) or an aggregation pipeline (array of stages). */
export type ServerUpdateDocument = Readonly<Record<string, unknown>> | readonly Readonly<Record<string, unknown>>[];

/** One range of a server-side migration: `after` is absent for the first range (no lower bound). */
export interface ServerRange {
  readonly after: KeyValue | undefined;
  readonly upTo: KeyValue;
}

/** The checkpoint a range carries where {@link ServerUpdate.checkpoints} is true. */
export interface ServerCheckpoint {
  readonly fence: Fence;
  /** The ledger record to write with the range, given the rows its statement changed. */
  readonly recordFor: (affected: number) => LedgerRecord;
}

export interface ServerUpdate {
  /**
   * `true`: `apply` writes the `checkpoint` it is given in the range's own transaction, only while
   * the fence holds (else it throws `StaleLeaseError` and nothing of the range stays), so a range
   * and its checkpoint are all or nothing; a migration may then keep no backup (`backup: false`).
   */
  readonly checkpoints?: boolean | undefined;
  /**
   * Refuses, with a typed error naming the definition's field, a statement this shard cannot run
   * on `target` (a pipeline on a server without update pipelines, a key the ranges cannot bound),
   * before anything is written. Core calls it before a step's first range on each shard.
   */
  check(target: DataTarget, statement: ServerStatement): Promise<void>;
  /**
   * The next range after `after`: the key of the `limit`-th row (or of the last row, when fewer
   * are left), read keys only, in the order the statement's range compares in, and how many rows
   * the range holds; `undefined` when no row is left after `after`. With `bound`, only keys up to
   * it count: the key range of a parallel run, or where a rollback of a run that kept no backup stops.
   */
  nextRange(
    target: DataTarget,
    after: KeyValue | undefined,
    limit: number,
    bound?: KeyValue,
  ): Promise<{ readonly upTo: KeyValue; readonly rows: number } | undefined>;
  /**
   * Optional: as {@link DataStore.splitKeys}, in the order the statement's ranges compare in
   * (PostgreSQL: the key column's own collation). Without it, core uses `DataStore.splitKeys`.
   */
  splitKeys?(target: DataTarget, parts: number): Promise<KeyValue[]>;
  /**
   * Runs `statement` over the rows of `target` in `range`, inside the server. With `backup`, first
   * writes back the saved originals of rows in the range (a range re-done after a crash is
   * rewritten from its originals, never twice), saves the first copies of the range's rows, runs
   * the statement, and keeps only the copies of rows it changed; in one transaction where the
   * engine has them. Returns the rows the statement changed. With `checkpoint` (only where
   * {@link ServerUpdate.checkpoints}), writes it in the same transaction.
   */
  apply(
    target: DataTarget,
    range: ServerRange,
    statement: ServerStatement,
    backup: DataTarget | undefined,
    checkpoint?: ServerCheckpoint,
  ): Promise<{ readonly affected: number }>;
}

/**
 * Capability `batchWrite`: what the batch engine otherwise does in several calls — save the
 * originals of the rows a batch changes into its backup ({@link ServerCopy.copy} or `write`), write
 * the patches ({@link CompareAndSet.writeIfUnchanged} or `update`) and, where
 * {@link BatchWrite.checkpoints} says so, the ledger record with the batch's checkpoint
 * (`LedgerStore.put`) — in ONE atomic step (PostgreSQL: one statement). Atomic means all or
 * nothing: when a row changed (or vanished) since the batch read it, nothing at all is written.
 */
export interface BatchWrite {
  /**
   * `apply` writes `request.checkpoint` when given, in the same atomic step, exactly as
   * `LedgerStore.put(record, fence)` would (refused, with `StaleLeaseError` and nothing written,
   * when the fence is not the newest). When `false` the batch engine puts the record itself after.
   */
  readonly checkpoints: boolean;
  /**
   * With {@link checkpoints}: a request's `checkpoint.range` is honoured — the step writes ONLY
   * that element of the record's `checkpoint.ranges` into the stored record (and its `counts` as
   * the sums over the stored ranges), leaving the other ranges as stored, atomically with the
   * batch (PostgreSQL: `jsonb_set` in the batch's statement, the row lock ordering concurrent
   * ones). The ranges of a parallel run then write their batches at once. Default `false`: core
   * writes them one at a time.
   */
  readonly rangeCheckpoints?: boolean | undefined;
  apply(request: BatchWriteRequest): Promise<BatchWriteResult>;
}

/** One batch's write; see {@link BatchWrite}. */
export interface BatchWriteRequest {
  readonly target: DataTarget;
  /** As for {@link DataStore.update}: `before` is the very row object `scan` returned. Not empty. */
  readonly patches: readonly RowPatch[];
  /**
   * Saves the stored rows of `target` with these keys (each the key of a patch) into backup
   * `backup.target` before the patches change them, server-side where the engine can, the first
   * copy of a row winning, as {@link ServerCopy.copy} does. Absent: no backup is written.
   */
  readonly backup?: { readonly target: DataTarget; readonly keys: readonly KeyValue[] } | undefined;
  /**
   * Apply a patch only where the stored row is still `before` (as {@link CompareAndSet}); an engine
   * offers it where its `compareAndSet` capability is on. `false`: a patch of a row that vanished
   * is a conflict all the same.
   */
  readonly compareAndSet: boolean;
  /** The batch's key range: every patch's key is in it. An adapter may use it to read the range once. */
  readonly range?: KeyRange | undefined;
  /** The ledger record to write with the batch (see {@link BatchWrite.checkpoints}). */
  readonly checkpoint?:
    | {
        readonly record: LedgerRecord;
        readonly fence: Fence;
        /** Write only this element of `record.checkpoint.ranges` (see {@link BatchWrite.rangeCheckpoints}). */
        readonly range?: number | undefined;
      }
    | undefined;
}

/**
 * What {@link BatchWrite.apply} did: every patch written (`conflicts` empty, `written` the number of
 * patches), or nothing at all (`written` 0) and the keys of the rows that changed since they were
 * read — at least the first of them in key order.
 */
export interface BatchWriteResult {
  readonly written: number;
  readonly conflicts: readonly KeyValue[];
}
