/**
 * Conformance cases of the `openScan` capability: the contract of a {@link ScanCursor} — the rows
 * `scan` would return page by page, in key order, each once, continuing where the last `next`
 * stopped; from a key (resume); within the target's filter; nothing from an empty or missing
 * table; closed at any point — and a data migration that reads through it.
 */
import { defineDataMigration, type DataTarget, type Row, type ShardAdapter } from '../../index.js';
import type { ScanCursor } from '../../engine/spi.js';
import type { Case, CaseContext } from './context.js';
import type { SuiteRow } from './harness.js';
import { overrideData } from './intercept.js';

/** Keys ≤ 0 included: a cursor starts from the very first key, never from 0. */
const IDS = [-7, -1, 0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
const seeded = (): SuiteRow[] => IDS.map((id) => ({ id, name: `r${id}`, n: id, note: id % 2 ? 'odd' : 'even' }));

async function connected(c: CaseContext): Promise<{ shard: ShardAdapter; target: DataTarget }> {
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  await fx.seed(fx.shardIds[0]!, 'items', seeded());
  const shard = c.engine().shard(fx.shardIds[0]!);
  await shard.connect();
  return { shard, target: { name: 'items', key: [fx.keyField] } };
}

const open = (shard: ShardAdapter, target: DataTarget, after?: readonly unknown[]): ScanCursor =>
  shard.data.openScan!(target, after);

/** Every row left on `cursor`, pulled `limit` at a time; checks that only the last pull is short. */
async function drain(c: CaseContext, cursor: ScanCursor, limit: number): Promise<Row[]> {
  const out: Row[] = [];
  for (;;) {
    const rows = await cursor.next(limit);
    c.expect(rows.length).toBeLessThanOrEqual(limit);
    out.push(...rows);
    if (rows.length < limit) break;
  }
  c.expect(await cursor.next(limit), 'a cursor that ended stays ended').toEqual([]);
  return out;
}

const ids = (c: CaseContext, rows: readonly Row[]) => rows.map((r) => Number(r[c.fx.keyField]));

async function orderAndContinuation(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { shard, target } = await connected(c);
  const cursor = open(shard, target, undefined);
  try {
    const rows = await drain(c, cursor, 4);
    expect(ids(c, rows)).toEqual(IDS);
    // The same rows, in the same form, as scan gives them.
    expect(rows).toEqual(await shard.data.scan(target, undefined, 100));
  } finally {
    await cursor.close();
  }
  // Pulls of different sizes continue where the last stopped.
  const mixed = open(shard, target, undefined);
  try {
    const got: Row[] = [];
    for (const n of [1, 3, 2, 100]) got.push(...(await mixed.next(n)));
    expect(ids(c, got)).toEqual(IDS);
  } finally {
    await mixed.close();
  }
}

async function resumeAfterKey(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { shard, target } = await connected(c);
  for (const after of [-1, 0, 4, 89, 1000]) {
    const cursor = open(shard, target, [after]);
    try {
      expect(ids(c, await drain(c, cursor, 5)), `after ${after}`).toEqual(IDS.filter((id) => id > after));
    } finally {
      await cursor.close();
    }
  }
}

async function filtered(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { shard, target } = await connected(c);
  const cursor = open(shard, { ...target, filter: { note: 'odd' } }, [1]);
  try {
    expect(ids(c, await drain(c, cursor, 2))).toEqual(IDS.filter((id) => id > 1 && id % 2 !== 0));
  } finally {
    await cursor.close();
  }
}

async function emptyAndMissing(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { shard, target } = await connected(c);
  await c.fx.createRowsTable('nothing');
  for (const t of [
    { ...target, name: 'nothing' },
    { ...target, filter: { note: 'none' } },
    { name: 'mcp_backup_absent', key: target.key, migrationId: 'absent', backupOf: target },
  ]) {
    const cursor = open(shard, t, undefined);
    try {
      expect(await cursor.next(10), t.name).toEqual([]);
      expect(await cursor.next(10), t.name).toEqual([]);
    } finally {
      await cursor.close();
    }
  }
}

async function closedEarly(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { shard, target } = await connected(c);
  // Closed before anything was read, closed twice, closed half way: none throws, and the table
  // reads whole afterwards (nothing was left holding it).
  const unused = open(shard, target, undefined);
  await unused.close();
  await unused.close();
  const half = open(shard, target, undefined);
  expect(ids(c, await half.next(3))).toEqual(IDS.slice(0, 3));
  await half.close();
  await half.close();
  const many = Array.from({ length: 5 }, () => open(shard, target, undefined));
  for (const cursor of many) expect(await cursor.next(2)).toHaveLength(2);
  await Promise.all(many.map((cursor) => cursor.close()));
  const again = open(shard, target, undefined);
  try {
    expect(ids(c, await drain(c, again, 100))).toEqual(IDS);
  } finally {
    await again.close();
  }
}

async function migrationReadsThroughIt(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { shard } = await connected(c);
  const fx = c.fx;
  const opened: string[] = [];
  const counting = overrideData(c.engine(), (data) => ({
    openScan: (target: DataTarget, after: readonly unknown[] | undefined) => {
      opened.push(target.name);
      return data.openScan!(target, after);
    },
  }));
  const m = defineDataMigration({
    id: '0001-stream',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    batchSize: 3,
    transform: (row: Row) => ({ ...row, n: Number(row.n) * 10 }),
  });
  await c.migrator([m], { throttle: { minBatchSize: 3, maxBatchSize: 3 } }, counting).run();
  expect((await fx.rows(shard.id, 'items')).map((r) => r.n)).toEqual(IDS.map((id) => id * 10));
  // One cursor over the table for the whole run (five batches), not one query per batch.
  expect(opened.filter((name) => name === 'items')).toHaveLength(1);
}

export const scanCursorCases: readonly Case[] = [
  {
    name: 'openScan: rows in key order from the very first key, each once, pulls continuing where the last stopped, as scan gives them',
    run: orderAndContinuation,
    requires: ['openScan'],
  },
  {
    name: 'openScan: a cursor opened after a key resumes strictly after it',
    run: resumeAfterKey,
    requires: ['openScan'],
  },
  { name: "openScan: a cursor reads within the target's filter", run: filtered, requires: ['openScan'] },
  {
    name: 'openScan: an empty table, a filter matching nothing and a missing backup read as no rows',
    run: emptyAndMissing,
    requires: ['openScan'],
  },
  {
    name: 'openScan: a cursor closed before reading, half way, or twice releases cleanly',
    run: closedEarly,
    requires: ['openScan'],
  },
  {
    name: 'openScan: a data migration reads its table through one cursor for the whole run',
    run: migrationReadsThroughIt,
    requires: ['openScan'],
  },
];
