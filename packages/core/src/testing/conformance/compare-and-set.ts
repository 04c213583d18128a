/**
 * Conformance cases of the `compareAndSet` capability: a batch's write never overwrites a row the
 * application changed after the batch read it.
 */
import { defineDataMigration, ErrorCode, type DataTarget, type Migrator, type Row } from '../../index.js';
import type { Case, CaseContext } from './context.js';
import type { SuiteRow } from './harness.js';
import { interceptScan } from './intercept.js';

const seeded = (): SuiteRow[] => Array.from({ length: 30 }, (_, id) => ({ id, name: `r${id}`, n: 0, note: null }));

/**
 * 30 rows with `n = 0` on one shard, and a migration that bumps `n` in batches of 10; `onScan(n)`
 * runs after the n-th read of the table (as the application would, between the read and the write).
 */
async function bumpWhileWriting(c: CaseContext, onScan: (n: number) => Promise<void>): Promise<Migrator> {
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  await fx.seed(fx.shardIds[0]!, 'items', seeded());
  let scans = 0;
  const engine = interceptScan(c.engine(), async (t) => {
    if (t.name === 'items') await onScan(++scans);
  });
  const bump = defineDataMigration({
    id: '0001-bump',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    batchSize: 10,
    transform: (row: Row) => ({ ...row, n: Number(row.n) + 1 }),
  });
  return c.migrator([bump], { throttle: { minBatchSize: 10, maxBatchSize: 10 } }, engine);
}

/** Row 14 written by the application (n 100) after the second read of the table. */
const appWrite = (c: CaseContext) => async (n: number) => {
  if (n === 2) await c.fx.seed(c.fx.shardIds[0]!, 'items', [{ id: 14, name: 'r14', n: 100, note: 'app' }]);
};

async function keptAndReRead(c: CaseContext): Promise<void> {
  const { expect } = c;
  const migrator = await bumpWhileWriting(c, appWrite(c));
  const report = await migrator.run();
  const rows = await c.fx.rows(c.fx.shardIds[0]!, 'items');
  expect(rows).toEqual(seeded().map((r) => (r.id === 14 ? { ...r, n: 101, note: 'app' } : { ...r, n: 1 })));
  expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 30, written: 30 });
}

async function rollbackRestoresAppValue(c: CaseContext): Promise<void> {
  const { expect } = c;
  const migrator = await bumpWhileWriting(c, appWrite(c));
  await migrator.run();
  // The backup holds row 14 as it was when the migration rewrote it, so rollback restores 100.
  await migrator.rollback({ steps: 1 });
  const rows = await c.fx.rows(c.fx.shardIds[0]!, 'items');
  expect(rows).toEqual(seeded().map((r) => (r.id === 14 ? { ...r, n: 100, note: 'app' } : r)));
}

async function changesUnderEveryBatch(c: CaseContext): Promise<void> {
  const { expect } = c;
  let v = 1000;
  const migrator = await bumpWhileWriting(c, async () => {
    await c.fx.seed(c.fx.shardIds[0]!, 'items', [{ id: 3, name: 'r3', n: v++, note: null }]);
  });
  const retried: string[] = [];
  migrator.on('shard:retry', (e) => void retried.push(e.error.message));
  const err = (await migrator.run().catch((e: unknown) => e)) as {
    report: { shards: { migrations: { attempts?: number; error?: { code: string; message: string } }[] }[] };
  };
  const step = err.report.shards[0]!.migrations[0]!;
  expect(step.error!.code).toBe(ErrorCode.MigrationFailed);
  expect(step.error!.message).toContain('row [3] changed under 20 batches');
  // Retryable: the migrator retried it (retries: 2) before giving up, each time for the same row.
  expect(step.attempts).toBe(3);
  expect(retried).toHaveLength(2);
  for (const message of retried) expect(message).toContain('row [3] changed under 20 batches');
}

async function writeIfUnchangedConflicts(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  const rows: SuiteRow[] = [1, 2, 3, 4].map((id) => ({ id, name: `r${id}`, n: id, note: null }));
  await fx.seed(fx.shardIds[0]!, 'items', rows);
  const shard = c.engine().shard(fx.shardIds[0]!);
  await shard.connect();
  const target: DataTarget = { name: 'items', key: [fx.keyField] };
  const read = await shard.data.scan(target, undefined, 10);
  expect(read).toHaveLength(4);
  // The application changes row 2 and deletes row 3 after the read.
  await fx.seed(fx.shardIds[0]!, 'items', [{ id: 2, name: 'r2', n: 50, note: null }]);
  expect(await shard.data.remove(target, [[read[2]![fx.keyField]]])).toBe(1);
  const patches = read.map((before) => ({ key: [before[fx.keyField]], before, set: { note: 'cas' }, unset: [] }));
  const result = await shard.data.compareAndSet!.writeIfUnchanged(target, patches);
  expect(result.written).toBe(2);
  expect(
    result.conflicts.map((k) => Number(k[0])).sort((a, b) => a - b),
    'changed and deleted rows are conflicts',
  ).toEqual([2, 3]);
  expect(await fx.rows(fx.shardIds[0]!, 'items'), 'the deleted row is not brought back').toEqual([
    { ...rows[0]!, note: 'cas' },
    { ...rows[1]!, n: 50 },
    { ...rows[3]!, note: 'cas' },
  ]);
}

export const compareAndSetCases: readonly Case[] = [
  {
    name: 'compareAndSet: a write by the application between a batch read and its write is kept, and the row is re-read and migrated',
    run: keptAndReRead,
    requires: ['compareAndSet'],
  },
  {
    name: 'compareAndSet: a row that changes under every batch fails the step with a retryable error naming it',
    run: changesUnderEveryBatch,
    requires: ['compareAndSet'],
  },
  {
    name: 'compareAndSet: rollback restores the value the application wrote in between, not the one the batch read',
    run: rollbackRestoresAppValue,
    requires: ['compareAndSet'],
  },
  {
    name: 'compareAndSet: writeIfUnchanged reports a changed or deleted row as a conflict and does not bring a deleted row back',
    run: writeIfUnchangedConflicts,
    requires: ['compareAndSet'],
  },
];
