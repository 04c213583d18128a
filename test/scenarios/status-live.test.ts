/**
 * status() shows what a running migrator is doing: paused or running, per-shard progress, rate and
 * throttling. Fake timers: the rate ceiling's waits advance a simulated clock, so the rate and the
 * throttled flag are exact, not sampled from a loaded machine.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { createMigrator, defineDataMigration, type MigratorStatus } from '@mcp/migrate-core';
import { createMemoryStore, memoryEngine } from '@mcp/migrate-core/testing';

afterEach(() => {
  vi.useRealTimers();
});

const ROWS = 5000;
const CEILING = 20_000;

/** Runs `bump` over ROWS rows (with or without a rate ceiling), pausing at the 5th batch to read status(). */
async function observe(maxRowsPerSecond: number | undefined) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const store = createMemoryStore();
  store
    .shard('s0')
    .collection('items', ['id'])
    .upsert(Array.from({ length: ROWS }, (_, id) => ({ id, v: 1 })));
  const m = defineDataMigration({
    id: 'bump',
    engine: 'memory',
    table: 'items',
    batchSize: 100,
    ...(maxRowsPerSecond ? { maxRowsPerSecond } : {}),
    transform: (r) => ({ ...r, v: 2 }),
  });
  const migrator = createMigrator({
    engines: { memory: memoryEngine({ name: 'memory', shards: ['s0'], store }) },
    migrations: [m],
  });
  let whilePaused: MigratorStatus | undefined;
  let batches = 0;
  const throttled: boolean[] = [];
  migrator.on('batch', (e) => {
    throttled.push(e.throttled);
    if (++batches !== 5) return;
    migrator.pause();
    void migrator.status().then((s) => {
      whilePaused = s;
      migrator.resume();
    });
  });
  const started = Date.now();
  let finished = false;
  const running = migrator.run().finally(() => (finished = true));
  while (!finished) await vi.advanceTimersByTimeAsync(50);
  await running;
  const elapsedMs = Date.now() - started;
  const done = await migrator.status();
  await migrator.close();
  vi.useRealTimers();
  return { whilePaused, done, throttled, elapsedMs };
}

it('status().live reports pause, per-shard progress, rate and throttling while a data migration runs', async () => {
  const { whilePaused, done, throttled, elapsedMs } = await observe(CEILING);
  expect(whilePaused).toBeDefined();
  expect(whilePaused!.live.state).toBe('paused');
  const shard = whilePaused!.live.shards.s0!;
  expect(shard.migrationId).toBe('bump');
  expect(shard.processed).toBeGreaterThan(0);
  expect(shard.processed).toBeLessThan(ROWS);
  expect(shard.total).toBe(ROWS);
  // Throttling: the ceiling made the runner wait before the batch it reports, and kept the rate under it.
  expect(shard.throttled).toBe(true);
  expect(shard.rate).toBeGreaterThan(0);
  expect(shard.rate).toBeLessThanOrEqual(CEILING);
  expect(throttled.every(Boolean)).toBe(true);
  expect(elapsedMs).toBeGreaterThanOrEqual((ROWS / CEILING) * 1000);
  expect(done.live.state).toBe('done');
  expect(done.live.shards.s0!.processed).toBe(ROWS);
  expect(done.shards[0]!.migrations[0]!.counts).toEqual({ read: ROWS, written: ROWS, skipped: 0 });
});

it('without a rate ceiling the same run is never reported as throttled', async () => {
  const { whilePaused, throttled } = await observe(undefined);
  expect(whilePaused!.live.shards.s0!.throttled).toBe(false);
  expect(throttled.length).toBeGreaterThan(0);
  expect(throttled.some(Boolean)).toBe(false);
});
