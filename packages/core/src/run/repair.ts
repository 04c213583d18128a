/**
 * What `migrator.repair()` does to one ledger record. Pure: decides, the migrator writes.
 *
 * - `checksum` (always): an applied migration whose definition changed takes the new checksum
 *   (`MIGRATE_DRIFT` is accepted).
 * - `forgetMissing`: a record of a migration that is no longer in code (`MIGRATE_MISSING_FROM_CODE`)
 *   is deleted from the ledger. What it did stays in the database. Run it only from the newest code:
 *   on an older replica, "missing" means "newer", and the newer migration would be applied again.
 * - `resetCheckpoints`: a data migration left `running`/`failed` with a checkpoint made by another
 *   version of it (`MIGRATE_CHECKPOINT_MISMATCH`) loses the checkpoint, so the next run (or
 *   rollback) starts again from the first key. Rows the earlier version already wrote are redone
 *   from their saved originals in the backup, so no row is transformed twice. A checkpoint of a run
 *   that kept no backup (`backup: false`) is left as it is: finish that run with its own code, or
 *   roll it back.
 */
import type { LedgerRecord } from '../engine/spi.js';
import type { Migration } from '../definition/migration.js';
import { fingerprint } from '../data/batch-runner.js';

export interface RepairOptions {
  readonly signal?: AbortSignal | undefined;
  /** Delete ledger records of migrations missing from code. Default `false`. */
  readonly forgetMissing?: boolean | undefined;
  /** Drop checkpoints made by another version of a data migration. Default `false`. */
  readonly resetCheckpoints?: boolean | undefined;
}

export type RepairAction =
  /** The applied migration's recorded checksum was replaced by the code's (drift accepted). */
  | 'checksum'
  /** The ledger record of a migration missing from code was deleted (`forgetMissing`). */
  | 'forget'
  /** A checkpoint made by another version was dropped (`resetCheckpoints`). */
  | 'reset-checkpoint';

/** One ledger record `repair()` changed. */
export interface RepairChange {
  readonly shardId: string;
  readonly migrationId: string;
  readonly action: RepairAction;
}

/** The change repair makes to `record` (the record to write, or `null` to delete it), or `undefined` for none. */
export function repairOf(
  record: LedgerRecord,
  m: Migration | undefined,
  options: RepairOptions,
): { action: RepairAction; next: LedgerRecord | null } | undefined {
  if (!m) {
    if (!options.forgetMissing || record.state === 'rolled_back' || record.state === 'pending') return undefined;
    return { action: 'forget', next: null };
  }
  if (record.state === 'applied' && m.checksum !== record.checksum)
    return { action: 'checksum', next: { ...record, checksum: m.checksum } };
  const stale = m.kind === 'data' && record.checkpoint && record.checkpoint.fingerprint !== fingerprint(m);
  // A run that kept no backup (`backup: false`) cannot restart from the first key: the rows up to
  // its checkpoint would be transformed twice. It is finished with its own code, or rolled back.
  const restartable = record.checkpoint?.backup !== false;
  if (options.resetCheckpoints && stale && restartable && (record.state === 'running' || record.state === 'failed')) {
    return { action: 'reset-checkpoint', next: { ...record, checkpoint: null, counts: null, checksum: m.checksum } };
  }
  return undefined;
}
