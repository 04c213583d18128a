/**
 * The first run after upgrading from an SDK whose checksums hashed compiled function text: the
 * planner accepted those records (see `isLegacyChecksum`); here they are rewritten to the current
 * `v2:` checksum under each shard's lease, so drift is checked from then on.
 */
import type { Lease, ShardAdapter } from '../engine/spi.js';
import { isLegacyChecksum } from '../definition/checksum.js';
import type { Migration } from '../definition/migration.js';
import { fenceOf } from '../lock/lease-keeper.js';

export async function upgradeLegacyChecksums(
  upgrades: readonly { readonly shardId: string; readonly migrationId: string }[],
  migrations: readonly Migration[],
  shard: (id: string) => ShardAdapter,
  lease: (shardId: string) => Promise<Lease>,
): Promise<number> {
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const byShard = new Map<string, Set<string>>();
  for (const u of upgrades) byShard.set(u.shardId, (byShard.get(u.shardId) ?? new Set()).add(u.migrationId));
  let upgraded = 0;
  for (const [shardId, ids] of byShard) {
    const held = await lease(shardId);
    try {
      const ledger = shard(shardId).ledger;
      for (const r of await ledger.list()) {
        const m = byId.get(r.id);
        if (!ids.has(r.id) || !m || r.state !== 'applied' || !isLegacyChecksum(r.checksum)) continue;
        await ledger.put({ ...r, checksum: m.checksum }, fenceOf(held));
        upgraded++;
      }
    } finally {
      await held.release().catch(() => undefined);
    }
  }
  return upgraded;
}
