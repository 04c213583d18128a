/**
 * Rolling back a data migration that never completed, with `reverse`: only the rows the forward
 * run changed are reversed. Applying `reverse` to every row would corrupt the rows the crashed run
 * never reached (v + 100 then − 100 on a row that was never + 100).
 */
import { describe, expect, it } from 'vitest';
import { defineDataMigration } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import type { DataStore } from '../src/engine/index.js';
import { QUICK, delegate, memory, rejection, wrapEngine } from './helpers.js';

const migration = defineDataMigration({
  id: '0001-plus-hundred',
  engine: 'memory',
  table: 'items',
  batchSize: 5,
  transform: (row) => ({ ...row, v: (row.v as number) + 100 }),
  reverse: (row) => ({ ...row, v: (row.v as number) - 100 }),
});

/** Fails the `nth` update (after writing it, or before, as asked), like a crash mid-run. */
function crashOn(nth: number, afterWrite: boolean) {
  let calls = 0;
  return (d: DataStore): DataStore => ({
    ...delegate(d),
    update: async (t, patches) => {
      if (++calls !== nth) return d.update(t, patches);
      if (afterWrite) await d.update(t, patches);
      throw new Error('crash');
    },
  });
}

describe('rollback with reverse after a partial run', () => {
  it.each([
    ['the crashed batch was written', true],
    ['the crashed batch was not written', false],
  ])('reverses only rows the forward run changed (%s)', async (_name, afterWrite) => {
    const { engine, store, ids } = memory(1);
    const items = store.shard(ids[0]!).collection('items', ['id']);
    items.upsert(Array.from({ length: 20 }, (_, id) => ({ id, v: id })));
    const config = { ...QUICK, retry: { retries: 0 }, throttle: { minBatchSize: 5, maxBatchSize: 5 } };
    const failed = await rejection(
      createMigrator({
        engines: { memory: wrapEngine(engine, crashOn(3, afterWrite)) },
        migrations: [migration],
        ...config,
      }).run(),
    );
    expect(failed).toBeInstanceOf(Error);
    const mid = items.rows().map((r) => r.v as number);
    // batches 1 and 2 are transformed; batch 3 as the crash left it; batch 4 untouched
    expect(mid.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => i + 100));
    expect(mid.slice(15)).toEqual([15, 16, 17, 18, 19]);
    const rb = await createMigrator({ engines: { memory: engine }, migrations: [migration], ...config }).rollback({
      steps: 1,
    });
    expect(rb.totals.failed).toBe(0);
    expect(items.rows().map((r) => r.v)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('reverses every row of a completed migration, rows written after it included', async () => {
    const { engine, store, ids } = memory(1);
    const items = store.shard(ids[0]!).collection('items', ['id']);
    items.upsert(Array.from({ length: 12 }, (_, id) => ({ id, v: id })));
    const m = createMigrator({ engines: { memory: engine }, migrations: [migration], ...QUICK });
    await m.run();
    // the application writes a row in the new shape after the migration
    items.upsert([{ id: 12, v: 112 }]);
    await m.rollback({ steps: 1 });
    expect(items.rows().map((r) => r.v)).toEqual(Array.from({ length: 13 }, (_, i) => i));
  });
});
