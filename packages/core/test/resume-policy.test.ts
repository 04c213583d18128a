import { describe, expect, it } from 'vitest';
import { defineDataMigration, type DataMigrationInput } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import { createMemoryStore, memoryEngine } from '../src/testing/index.js';

const base: DataMigrationInput = {
  id: 'bump',
  engine: 'memory',
  table: 'items',
  batchSize: 10,
  transform: (r) => ({ ...r, v: Number(r.v) + 1 }),
};

async function interrupted(store = createMemoryStore()) {
  store
    .shard('s0')
    .collection('items', ['id'])
    .upsert(Array.from({ length: 100 }, (_, id) => ({ id, v: 0 })));
  const m = createMigrator({
    engines: { memory: memoryEngine({ name: 'memory', shards: ['s0'], store }) },
    migrations: [defineDataMigration(base)],
    throttle: { minBatchSize: 10, maxBatchSize: 10 },
  });
  const stop = new AbortController();
  let n = 0;
  m.on('batch', () => void (++n === 3 && stop.abort(new Error('crash'))));
  await expect(m.run({ signal: stop.signal })).rejects.toThrow();
  return store;
}

const rows = (store: ReturnType<typeof createMemoryStore>) =>
  store
    .shard('s0')
    .collection('items', ['id'])
    .rows()
    .map((r) => r.v);

describe('resume and rollback policy around checkpoints', () => {
  it('a changed rate ceiling alone does not block the resume, and no row is bumped twice', async () => {
    const store = await interrupted();
    // The interrupted run did write: 3 batches of 10, then the crash. Only the rest is left to resume.
    expect(rows(store)).toEqual(Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0)));
    const slower = defineDataMigration({ ...base, maxRowsPerSecond: 100_000 });
    const m = createMigrator({
      engines: { memory: memoryEngine({ name: 'memory', shards: ['s0'], store }) },
      migrations: [slower],
      drift: 'warn',
      throttle: { minBatchSize: 10, maxBatchSize: 10 },
    });
    const report = await m.run();
    expect(rows(store)).toEqual(Array.from({ length: 100 }, () => 1));
    // Counts carry over from the checkpoint: 100 read in all, not 130.
    expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 100, written: 100 });
  });

  it('a changed batch size blocks the resume, but the partly applied migration can still be rolled back exactly', async () => {
    const store = await interrupted();
    const other = defineDataMigration({ ...base, batchSize: 20 });
    const m = () =>
      createMigrator({
        engines: { memory: memoryEngine({ name: 'memory', shards: ['s0'], store }) },
        migrations: [other],
        drift: 'warn',
      });
    const err = (await m()
      .run()
      .catch((e: unknown) => e)) as { report?: { shards: { migrations: { error?: { code: string } }[] }[] } };
    expect(err.report?.shards[0]?.migrations[0]?.error?.code).toBe('MIGRATE_CHECKPOINT_MISMATCH');
    await m().rollback({ steps: 1 });
    expect(rows(store)).toEqual(Array.from({ length: 100 }, () => 0));
  });
});

describe('a batch re-done after a crash', () => {
  it('applies the transform exactly once even when the store reads numbers back as strings (like a pg bigint)', async () => {
    const store = createMemoryStore();
    const items = store.shard('s0').collection('items', ['id']);
    items.upsert(Array.from({ length: 30 }, (_, id) => ({ id, v: '0' })));
    const engine = memoryEngine({ name: 'memory', shards: ['s0'], store });
    const data = engine.shard('s0').data;
    const update = data.update.bind(data);
    const asStrings = (patches: Parameters<typeof data.update>[1]) =>
      patches.map((p) => ({ ...p, set: { ...p.set, v: String(p.set.v) } }));
    let writes = 0;
    // The store keeps `v` as text, as a bigint column comes back from pg; the second batch is
    // written, then the process "dies" before its checkpoint.
    (data as { update: typeof data.update }).update = async (t, patches) => {
      const n = await update(t, asStrings(patches));
      if (++writes === 2) throw new Error('crash after write');
      return n;
    };
    const first = createMigrator({
      engines: { memory: engine },
      migrations: [defineDataMigration(base)],
      throttle: { minBatchSize: 10, maxBatchSize: 10 },
      retry: { retries: 0 },
    });
    await expect(first.run()).rejects.toThrow();
    const report = await createMigrator({
      engines: { memory: engine },
      migrations: [defineDataMigration(base)],
      throttle: { minBatchSize: 10, maxBatchSize: 10 },
    }).run();
    expect(rows(store)).toEqual(Array.from({ length: 30 }, () => '1'));
    expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 30, written: 30 });
  });
});

describe('compare-and-set writes (shards with the compareAndSet capability)', () => {
  const setup = (
    onScan: (
      n: number,
      items: ReturnType<ReturnType<ReturnType<typeof createMemoryStore>['shard']>['collection']>,
    ) => void,
    retries = 0,
  ) => {
    const store = createMemoryStore();
    const items = store.shard('s0').collection('items', ['id']);
    items.upsert(Array.from({ length: 30 }, (_, id) => ({ id, v: 0 })));
    const engine = memoryEngine({ name: 'memory', shards: ['s0'], store, compareAndSet: true });
    const data = engine.shard('s0').data;
    const scan = data.scan.bind(data);
    let scans = 0;
    (data as { scan: typeof data.scan }).scan = async (t, after, limit) => {
      const rows = await scan(t, after, limit);
      if (t.name === 'items') onScan(++scans, items);
      return rows;
    };
    const migrator = createMigrator({
      engines: { memory: engine },
      migrations: [defineDataMigration(base)],
      throttle: { minBatchSize: 10, maxBatchSize: 10 },
      retry: { retries, minTimeoutMs: 1, maxTimeoutMs: 2 },
    });
    return { store, migrator };
  };

  it('a row the application changes between a batch read and its write is re-read, not overwritten', async () => {
    const { store, migrator } = setup((n, items) => {
      if (n === 2) items.upsert([{ id: 14, v: 100 }]);
    });
    const report = await migrator.run();
    expect(rows(store)).toEqual(Array.from({ length: 30 }, (_, id) => (id === 14 ? 101 : 1)));
    expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 30, written: 30 });
    // The backup holds row 14 as it was when the migration rewrote it, so rollback restores 100.
    await migrator.rollback({ steps: 1 });
    expect(rows(store)).toEqual(Array.from({ length: 30 }, (_, id) => (id === 14 ? 100 : 0)));
  });

  it('a row that changes under every batch fails the step with a retryable error naming it', async () => {
    let v = 1000;
    const { migrator } = setup((_n, items) => items.upsert([{ id: 3, v: v++ }]), 2);
    const retried: string[] = [];
    migrator.on('shard:retry', (e) => retried.push(e.error.message));
    const err = (await migrator.run().catch((e: unknown) => e)) as {
      report: { shards: { migrations: { attempts?: number; error?: { code: string; message: string } }[] }[] };
    };
    const step = err.report.shards[0]!.migrations[0]!;
    expect(step.error!.code).toBe('MIGRATE_MIGRATION_FAILED');
    expect(step.error!.message).toContain('row [3] changed under 20 batches');
    // Retryable: the migrator retried it (retries: 2) before giving up, each time for the same row.
    expect(step.attempts).toBe(3);
    expect(retried).toHaveLength(2);
    for (const message of retried) expect(message).toContain('row [3] changed under 20 batches');
  });
});
