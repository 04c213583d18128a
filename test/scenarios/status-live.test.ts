/** status() shows what a running migrator is doing: paused or running, per-shard rate and progress. */
import { expect, it } from 'vitest';
import { createMigrator, defineDataMigration, type MigratorStatus } from '@mcp/migrate-core';
import { createMemoryStore, memoryEngine } from '@mcp/migrate-core/testing';

it('status().live reports pause, per-shard progress, rate and throttling while a data migration runs', async () => {
  const store = createMemoryStore();
  store.shard('s0').collection('items', ['id']).upsert(Array.from({ length: 5000 }, (_, id) => ({ id, v: 1 })));
  const m = defineDataMigration({ id: 'bump', engine: 'memory', table: 'items', batchSize: 100, maxRowsPerSecond: 20_000, transform: (r) => ({ ...r, v: 2 }) });
  const migrator = createMigrator({ engines: { memory: memoryEngine({ name: 'memory', shards: ['s0'], store }) }, migrations: [m] });
  let whilePaused: MigratorStatus | undefined;
  let batches = 0;
  migrator.on('batch', () => {
    if (++batches !== 5) return;
    migrator.pause();
    void migrator.status().then((s) => {
      whilePaused = s;
      migrator.resume();
    });
  });
  await migrator.run();
  expect(whilePaused).toBeDefined();
  expect(whilePaused!.live.state).toBe('paused');
  const shard = whilePaused!.live.shards.s0!;
  expect(shard.migrationId).toBe('bump');
  expect(shard.processed).toBeGreaterThan(0);
  expect(shard.processed).toBeLessThan(5000);
  expect(shard.total).toBe(5000);
  expect(shard.rate).toBeGreaterThan(0);
  const done = await migrator.status();
  expect(done.live.state).toBe('done');
  expect(done.live.shards.s0!.processed).toBe(5000);
  expect(done.shards[0]!.migrations[0]!.counts).toEqual({ read: 5000, written: 5000, skipped: 0 });
});
