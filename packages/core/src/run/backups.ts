/**
 * Backup retention. A data migration saves the originals of the rows it changes in a backup
 * (`mcp_backup_<id>`), which a rollback without `reverse` restores from. The backup is kept after
 * the migration is applied (default `backupRetention: 'keep'`), because that rollback needs it;
 * `purgeBackups()` (or `backupRetention: { olderThanMs }` after each run) drops the backups of
 * applied migrations and marks their ledger records, so that a later rollback that would need the
 * backup is refused with a typed error instead of silently restoring nothing.
 */
import type { LedgerRecord, Lease, ShardAdapter } from '../engine/spi.js';
import type { Migration } from '../definition/migration.js';
import { backupName, backupTarget } from '../data/backup.js';
import { RollbackError } from '../errors/errors.js';
import { fenceOf } from '../lock/fence.js';
import { hasReverse } from '../definition/grouping.js';

export type BackupRetention = 'keep' | { readonly olderThanMs: number };

export interface PurgeBackupsOptions {
  /** Only backups of migrations applied at least this long ago (by the ledger's `finishedAt`). Default: any age. */
  readonly olderThanMs?: number | undefined;
  /** Only these migrations. Default: every applied data migration. */
  readonly migrationIds?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface BackupInfo {
  readonly migrationId: string;
  /** The backup table/collection on this shard. */
  readonly name: string;
  /** State of the migration on this shard (`applied`, or `running`/`failed` for a partial run). */
  readonly state: LedgerRecord['state'];
  /** When the migration finished on this shard, or `null`. */
  readonly appliedAt: string | null;
}

export interface PurgedBackup {
  readonly shardId: string;
  readonly migrationId: string;
  readonly name: string;
}

/** Backups that exist on a shard according to its ledger: data migrations not rolled back and not purged. */
export function backupsOf(records: readonly LedgerRecord[], migrations: ReadonlyMap<string, Migration>): BackupInfo[] {
  return records
    .filter(
      (r) =>
        migrations.get(r.id)?.kind === 'data' &&
        (r.state === 'applied' || r.state === 'running' || r.state === 'failed') &&
        !r.counts?.backupPurgedAt,
    )
    .sort((a, b) => a.seq - b.seq)
    .map((r) => ({
      migrationId: r.id,
      name: backupName(r.id),
      state: r.state,
      appliedAt: r.state === 'applied' ? r.finishedAt : null,
    }));
}

/** One shard's purge: the shard, the lease held on it, the migrations by id, what to purge. */
export interface ShardPurge {
  readonly shardId: string;
  readonly adapter: ShardAdapter;
  readonly lease: Lease;
  readonly migrations: ReadonlyMap<string, Migration>;
  readonly options: PurgeBackupsOptions;
  /** The time `olderThanMs` counts from. Default: now. */
  readonly now?: number | undefined;
}

/** Drops the eligible backups of one shard under its lease; marks each record before dropping. */
export async function purgeShardBackups(input: ShardPurge): Promise<PurgedBackup[]> {
  const { shardId, adapter, migrations, options, now = Date.now() } = input;
  const fence = fenceOf(input.lease);
  const out: PurgedBackup[] = [];
  for (const r of await adapter.ledger.list()) {
    const m = migrations.get(r.id);
    if (m?.kind !== 'data' || r.state !== 'applied' || r.counts?.backupPurgedAt) continue;
    if (options.migrationIds && !options.migrationIds.includes(r.id)) continue;
    if (options.olderThanMs !== undefined && (!r.finishedAt || now - Date.parse(r.finishedAt) < options.olderThanMs))
      continue;
    // Mark first: if the drop then fails, a rollback is refused (safe) rather than restoring from half a backup.
    const counts = { read: 0, written: 0, skipped: 0, ...r.counts, backupPurgedAt: new Date(now).toISOString() };
    await adapter.ledger.put({ ...r, counts }, fence);
    await adapter.data.drop(backupTarget({ ...m.target, filter: m.filter }, m.id));
    out.push({ shardId, migrationId: m.id, name: backupName(m.id) });
  }
  return out;
}

/**
 * Refuses, before anything is rolled back, a rollback of a data migration without `reverse` whose
 * backup was purged on some shard: there is nothing left to restore from.
 */
export function refusePurgedRollback(
  ids: readonly string[],
  migrations: ReadonlyMap<string, Migration>,
  ledgers: ReadonlyMap<string, readonly LedgerRecord[]>,
): void {
  for (const id of ids) {
    const m = migrations.get(id);
    if (m?.kind !== 'data' || hasReverse(m)) continue;
    for (const [shardId, records] of ledgers) {
      const r = records.find((x) => x.id === id && x.state !== 'rolled_back');
      if (r?.counts?.backupPurgedAt) {
        throw new RollbackError(
          `Data migration "${id}" cannot be rolled back on shard "${shardId}": its backup was purged at ${r.counts.backupPurgedAt}, and it has no "reverse"; add a "reverse" (or "reverseGroup") to roll it back. Nothing was rolled back`,
          { migrationId: id, shardId, field: 'reverse' },
        );
      }
    }
  }
}
