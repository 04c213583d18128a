/** The ledger: one record per migration per shard, written under a fencing token. */
/** Which way a step runs. */
export type Direction = 'up' | 'down';

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
  /**
   * `false` on the checkpoints of a run that keeps no backup (a data migration with `backup:
   * false`, on an engine whose batch write carries its checkpoint): every row up to `after` was
   * done, and none after it. Absent otherwise.
   */
  readonly backup?: false | undefined;
  /**
   * On the checkpoints of a rollback of a partly applied run that kept no backup: the last key
   * that run finished (`null`: none). The rollback reverses rows up to it, and no further.
   */
  readonly upTo?: readonly unknown[] | null | undefined;
  /**
   * The key ranges of a forward run with `parallelism` > 1, fixed when it started (so a resume
   * uses the same ones): each `(from, to]` (`null`: unbounded) with its own checkpoint `after`
   * (`null`: nothing done yet) and counts. `after` of the whole checkpoint is then `null`.
   */
  readonly ranges?: readonly CheckpointRange[] | undefined;
}

/** One key range of a parallel run (see {@link Checkpoint.ranges}). */
export interface CheckpointRange {
  /** Exclusive lower bound; `null` for the first range (no lower bound). */
  readonly from: readonly unknown[] | null;
  /** Inclusive upper bound; `null` for the last range (no upper bound). */
  readonly to: readonly unknown[] | null;
  /** Key of the last row of the range whose batch was fully written; `null` before the first. */
  readonly after: readonly unknown[] | null;
  /** Rows the range read so far (the record's `counts` are the sums over its ranges). */
  readonly read: number;
  /** Rows the range wrote so far. */
  readonly written: number;
  /** Rows the range read and left as they were. */
  readonly skipped: number;
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
