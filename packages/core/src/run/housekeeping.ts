/**
 * Housekeeping on every shard, each under its shard lease: `repair()` (writes what `repair.ts`
 * decides) and purging old backups (`purgeBackups()`, and backup retention after a run).
 */
import { fenceOf, shardLease } from '../lock/lease-keeper.js';
import { shardOf, type MigratorContext } from './context.js';
import { purgeShardBackups, type PurgeBackupsOptions, type PurgedBackup } from './backups.js';
import { repairOf, type RepairChange, type RepairOptions } from './repair.js';
import { readLedgers } from './ledger-reader.js';
import { withRunLock } from './run-lock.js';

export interface PurgeInput {
  readonly shardIds: readonly string[];
  readonly options: PurgeBackupsOptions;
  /** The run (or `'purge'`) named in lock-wait events. */
  readonly runId: string;
}

export async function purgeBackupsOn(ctx: MigratorContext, input: PurgeInput): Promise<PurgedBackup[]> {
  const { options, runId } = input;
  const byId = new Map((await ctx.load()).map((m) => [m.id, m]));
  const out: PurgedBackup[] = [];
  for (const id of input.shardIds) {
    const ref = shardOf(ctx, id);
    const lease = await shardLease(ctx, ref, runId, options.signal);
    try {
      const purged = await purgeShardBackups({ shardId: id, adapter: ref.adapter, lease, migrations: byId, options });
      for (const p of purged)
        ctx.log.info(
          `purged backup "${p.name}" of "${p.migrationId}" on shard "${id}"; rolling it back now needs "reverse"`,
        );
      out.push(...purged);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }
  return out;
}

/** `purgeBackups()`: under the run lock, on every shard (all must be reachable). */
export async function purgeAllBackups(ctx: MigratorContext, options: PurgeBackupsOptions): Promise<PurgedBackup[]> {
  const purged = await withRunLock(ctx, { signal: options.signal }, async () => {
    const { unreachable } = await readLedgers(ctx, options.signal, true);
    if (unreachable.size) throw [...unreachable.values()][0]!;
    return purgeBackupsOn(ctx, { shardIds: ctx.shards.map((s) => s.descriptor.id), options, runId: 'purge' });
  });
  return purged!;
}

/** Applies `repairOf` to every ledger record of every shard, shard by shard. */
export async function repairLedgers(ctx: MigratorContext, options: RepairOptions): Promise<RepairChange[]> {
  const migrations = await ctx.load();
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const changed: RepairChange[] = [];
  for (const ref of ctx.shards) {
    await ref.adapter.connect(options.signal);
    await ref.adapter.ledger.init();
    const lease = await shardLease(ctx, ref, 'repair', options.signal);
    try {
      for (const r of await ref.adapter.ledger.list()) {
        const change = repairOf(r, byId.get(r.id), options);
        if (!change) continue;
        if (change.next) await ref.adapter.ledger.put(change.next, fenceOf(lease));
        else await ref.adapter.ledger.delete(r.id, fenceOf(lease));
        changed.push({ shardId: ref.descriptor.id, migrationId: r.id, action: change.action });
      }
    } finally {
      await lease.release();
    }
  }
  return changed;
}
