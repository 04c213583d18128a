import { expect, it } from 'vitest';
import { defineMigration } from '../src/definition/migration.js';
import { RunFailedError } from '../src/errors/errors.js';
import { createMigrator } from '../src/run/migrator.js';
import { createMemoryStore, memoryEngine } from '../src/testing/index.js';

it('a run whose control-store shard is unreachable fails with a report naming that shard, applying nothing', async () => {
  const store = createMemoryStore();
  store.shard('pg-0').available = false;
  let ran = 0;
  const m = defineMigration({ id: 'a', engine: 'postgres', up: () => void ran++ });
  const migrator = createMigrator({ engines: { postgres: memoryEngine({ name: 'postgres', shards: ['pg-0', 'pg-1'], store }) }, migrations: [m] });
  const err = await migrator.run().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RunFailedError);
  const report = (err as RunFailedError<{ shards: { shardId: string; error?: { code: string } }[] }>).report;
  expect(report.shards.find((s) => s.shardId === 'pg-0')?.error?.code).toBe('MIGRATE_SHARD_UNAVAILABLE');
  expect((err as Error).message).toContain('pg-0');
  expect(ran).toBe(0);
  expect(store.shard('pg-1').ledger.size).toBe(0);
});
