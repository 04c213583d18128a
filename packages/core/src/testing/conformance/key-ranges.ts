/**
 * Conformance cases of parallel key ranges: `scan` bounded above (`upTo`, inclusive), the optional
 * `splitKeys` (ascending, distinct, keys of the table), and a data migration with `parallelism`
 * that changes every row exactly once and rolls back exactly.
 */
import { defineDataMigration, type DataTarget, type KeyValue, type Row } from '../../index.js';
import type { Case, CaseContext } from './context.js';
import type { SuiteRow } from './harness.js';

const ROWS: SuiteRow[] = Array.from({ length: 30 }, (_, i) => ({ id: i * 3 - 20, name: `r${i}`, n: i, note: null }));

async function seeded(c: CaseContext) {
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  await fx.seed(fx.shardIds[0]!, 'items', ROWS);
  const shard = c.engine().shard(fx.shardIds[0]!);
  await shard.connect();
  const target: DataTarget = { name: 'items', key: [fx.keyField] };
  return { fx, shard, target };
}

const ids = (rows: readonly Row[], key: string) => rows.map((r) => Number(r[key]));

async function boundedScanAndSplits(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { fx, shard, target } = await seeded(c);
  const key = fx.keyField;
  expect(ids(await shard.data.scan(target, [-20], 100, [4]), key), '(after, upTo]').toEqual([
    -17, -14, -11, -8, -5, -2, 1, 4,
  ]);
  expect(ids(await shard.data.scan(target, undefined, 3, [4]), key), 'no lower bound, limit first').toEqual([
    -20, -17, -14,
  ]);
  expect(ids(await shard.data.scan(target, [4], 100, [5]), key), 'an empty range').toEqual([]);
  if (!shard.data.splitKeys) return;
  const splits: KeyValue[] = await shard.data.splitKeys(target, 4);
  const all = ids(ROWS as unknown as Row[], 'id');
  const at = splits.map((k) => all.indexOf(Number(k[0])));
  expect(splits.length, 'parts - 1 split keys').toBe(3);
  expect(
    at.every((i) => i >= 0),
    'split keys are keys of the table',
  ).toBe(true);
  expect(at, 'ascending, distinct, about even').toEqual([6, 14, 21]);
}

async function parallelRun(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { fx } = await seeded(c);
  let calls = 0;
  const m = defineDataMigration({
    id: '0001-conf-par',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    batchSize: 4,
    parallelism: 3,
    transform: (row: Row) => (calls++, { ...row, n: Number(row.n) + 100 }),
  });
  const options = { throttle: { minBatchSize: 4, maxBatchSize: 4 } };
  await c.migrator([m], options).run();
  expect(calls, 'each row transformed once').toBe(ROWS.length);
  expect((await fx.rows(fx.shardIds[0]!, 'items')).map((r) => r.n)).toEqual(ROWS.map((r) => r.n! + 100));
  await c.migrator([m], options).rollback({ steps: 1 });
  expect((await fx.rows(fx.shardIds[0]!, 'items')).map((r) => r.n)).toEqual(ROWS.map((r) => r.n));
}

export const keyRangeCases: readonly Case[] = [
  {
    name: 'data store: scan bounded above by upTo (inclusive); splitKeys, where present, ascending keys of the table',
    run: boundedScanAndSplits,
  },
  {
    name: 'data migration with parallelism 3: every row changed once, exact rollback from the backup',
    run: parallelRun,
  },
];
