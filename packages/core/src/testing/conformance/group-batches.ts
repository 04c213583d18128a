/**
 * Conformance cases of grouped data migrations (`groupBy` + `transformGroup`/`reverseGroup`) over a
 * table keyed `(g, k)` (the fixture's optional `grouped` table): the adapter's keyset order and
 * equality of key values decide where groups start and end, so a batch never splits a group on any
 * engine; an interrupted run resumes on a group boundary; rollback is exact with `reverseGroup` and
 * from the backup; a compare-and-set conflict re-reads the whole group.
 */
import { defineDataMigration, type DataMigration, type GroupedDataMigrationInput, type Row } from '../../index.js';
import type { Case, CaseContext } from './context.js';
import type { GroupedRow, GroupedTable } from './harness.js';
import { interceptScan } from './intercept.js';

/** Group sizes by `g` (negative and zero included); the 9-row group is larger than every batch below. */
const SIZES: readonly (readonly [number, number])[] = [
  [-3, 1],
  [-1, 3],
  [0, 9],
  [1, 2],
  [2, 5],
  [5, 1],
  [40, 4],
];
/** Text keys in bytewise order, as every adapter must order them ('' first, then ' ', digits, upper, lower, é, €, 😀). */
const KEYS = ['', ' ', '0', 'B', 'a', 'z', 'é', '€', '😀'];
const seeded = (): GroupedRow[] =>
  SIZES.flatMap(([g, n]) => KEYS.slice(0, n).map((k, i) => ({ g, k, v: g * 100 + i })));
const TOTAL = SIZES.reduce((s, [, n]) => s + n, 0);
/** Cumulative row counts at the end of each group. */
const ENDS = new Set(SIZES.map((_, i) => SIZES.slice(0, i + 1).reduce((s, [, n]) => s + n, 0)));

/** v' = v + Σv of its group: right only for a transform that saw the whole group. */
const addSum = (rows: readonly Row[]): Row[] => {
  const sum = rows.reduce((s, r) => s + Number(r.v), 0);
  return rows.map((r) => ({ ...r, v: Number(r.v) + sum }));
};
const subtractSum = (rows: readonly Row[]): Row[] => {
  const sum = rows.reduce((s, r) => s + Number(r.v), 0) / (rows.length + 1);
  return rows.map((r) => ({ ...r, v: Number(r.v) - sum }));
};
const expected = (from = seeded()): GroupedRow[] =>
  SIZES.flatMap(([g]) => addSum(from.filter((r) => r.g === g) as unknown as Row[]) as unknown as GroupedRow[]);

const sorted = (rows: readonly GroupedRow[]) =>
  [...rows].sort((a, b) => a.g - b.g || Buffer.compare(Buffer.from(a.k), Buffer.from(b.k)));
const plain = (rows: readonly GroupedRow[]) => sorted(rows).map((r) => ({ g: Number(r.g), k: r.k, v: Number(r.v) }));

async function setupGrouped(c: CaseContext): Promise<{ table: GroupedTable; shard: string }> {
  const fx = await c.setup(1);
  const table = fx.grouped!;
  await table.create('grouped');
  await table.seed(fx.shardIds[0]!, 'grouped', seeded());
  return { table, shard: fx.shardIds[0]! };
}

const migration = (c: CaseContext, extra: Partial<GroupedDataMigrationInput> = {}): DataMigration =>
  defineDataMigration({
    id: '0001-group-sum',
    engine: c.fx.engineName,
    table: 'grouped',
    key: ['g', 'k'],
    groupBy: 'g',
    transformGroup: addSum,
    ...extra,
  });

const fixed = (size: number) => ({ throttle: { minBatchSize: size, maxBatchSize: size } });

async function wholeGroups(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { table, shard } = await setupGrouped(c);
  const calls: [unknown, number][] = [];
  const m = migration(c, {
    batchSize: 4,
    transformGroup: (rows: readonly Row[]) => {
      calls.push([Number(rows[0]!.g), rows.length]);
      return addSum(rows);
    },
  });
  const migrator = c.migrator([m], fixed(4));
  const processed: number[] = [];
  migrator.on('batch', (e) => void processed.push(e.processed));
  const report = await migrator.run();
  expect(calls, 'one call per group, with all its rows').toEqual(SIZES.map(([g, n]) => [g, n]));
  expect(
    processed.filter((n) => !ENDS.has(n)),
    'batches that ended inside a group',
  ).toEqual([]);
  expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: TOTAL, written: TOTAL });
  expect(plain(await table.rows(shard, 'grouped'))).toEqual(plain(expected()));
  await c.migrator([m], fixed(4)).rollback();
  expect(plain(await table.rows(shard, 'grouped')), 'rolled back from the backup').toEqual(plain(seeded()));
}

async function resumeAndReverse(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { table, shard } = await setupGrouped(c);
  let reversed = 0;
  const m = migration(c, {
    batchSize: 3,
    reverseGroup: (rows: readonly Row[]) => {
      reversed++;
      return subtractSum(rows);
    },
  });
  const controller = new AbortController();
  const first = c.migrator([m], fixed(3));
  let batches = 0;
  first.on('batch', () => {
    if (++batches === 3) controller.abort(new Error('simulated crash'));
  });
  await expect(first.run({ signal: controller.signal })).rejects.toBeInstanceOf(Error);
  const mid = plain(await table.rows(shard, 'grouped'));
  // Whole groups only: each group is either all transformed or all as seeded.
  for (const [g] of SIZES) {
    const now = mid.filter((r) => r.g === g);
    const done = plain(expected()).filter((r) => r.g === g);
    const before = plain(seeded()).filter((r) => r.g === g);
    const whole = JSON.stringify(now) === JSON.stringify(done) || JSON.stringify(now) === JSON.stringify(before);
    expect(whole, `group ${g} after the interruption: ${JSON.stringify(now)}`).toBe(true);
  }
  await c.migrator([m], fixed(5)).run();
  expect(plain(await table.rows(shard, 'grouped'))).toEqual(plain(expected()));
  await c.migrator([m], fixed(5)).rollback();
  expect(reversed, 'reverseGroup once per group').toBe(SIZES.length);
  expect(plain(await table.rows(shard, 'grouped'))).toEqual(plain(seeded()));
}

async function conflictReReadsGroup(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { table, shard } = await setupGrouped(c);
  let scans = 0;
  const changed = { g: 0, k: 'é', v: 5000 };
  // Batch 2 reads the 9-row group g = 0 in two scans (of 5); after the second the application writes one of its rows.
  const engine = interceptScan(c.engine(), async (t) => {
    if (t.name === 'grouped' && ++scans === 3) await table.seed(shard, 'grouped', [changed]);
  });
  const calls: number[] = [];
  const m = migration(c, {
    batchSize: 4,
    transformGroup: (rows: readonly Row[]) => {
      calls.push(Number(rows[0]!.g));
      return addSum(rows);
    },
  });
  await c.migrator([m], fixed(4), engine).run();
  const withApp = seeded().map((r) => (r.g === changed.g && r.k === changed.k ? changed : r));
  expect(
    calls.filter((g) => g === 0),
    'group 0 transformed again, whole',
  ).toHaveLength(2);
  expect(plain(await table.rows(shard, 'grouped'))).toEqual(plain(expected(withApp)));
  await c.migrator([m], fixed(4)).rollback();
  expect(plain(await table.rows(shard, 'grouped')), "rollback restores the application's value").toEqual(
    plain(withApp),
  );
}

export const groupedCases: readonly Case[] = [
  {
    name: 'grouped data migration: a batch never splits a group (one larger than the batch), exact rollback from backup',
    run: wholeGroups,
    fixture: ['grouped'],
  },
  {
    name: 'grouped data migration: an interrupted run leaves whole groups and resumes; reverseGroup rolls back exactly',
    run: resumeAndReverse,
    fixture: ['grouped'],
  },
  {
    name: 'grouped data migration with compareAndSet: a row changed between read and write re-reads its whole group',
    run: conflictReReadsGroup,
    fixture: ['grouped'],
    requires: ['compareAndSet'],
  },
];
