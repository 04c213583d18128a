/**
 * Conformance cases of the `serverCopy` capability: backups copied and restored inside the server,
 * the first copy of a row winning, every value coming back exactly.
 */
import { type DataTarget, type KeyValue, type ShardAdapter } from '../../index.js';
import { backupTarget } from '../../engine/index.js';
import type { Case, CaseContext } from './context.js';
import type { SuiteRow } from './harness.js';

/** A connected shard with table `items` holding `rows`, its target and the target's backup. */
async function withItems(c: CaseContext, rows: readonly SuiteRow[]) {
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  await fx.seed(fx.shardIds[0]!, 'items', rows);
  const shard = c.engine().shard(fx.shardIds[0]!);
  await shard.connect();
  const target: DataTarget = { name: 'items', key: [fx.keyField], migrationId: '0001-conf-copy' };
  return { fx, shard, target, backup: backupTarget(target, '0001-conf-copy') };
}

const keysOf = (rows: readonly { readonly id: number }[]): KeyValue[] => rows.map((r) => [r.id]);
const all = (shard: ShardAdapter, t: DataTarget) => shard.data.scan(t, undefined, 1_000);

async function copyKeepsFirst(c: CaseContext): Promise<void> {
  const { expect } = c;
  const rows: SuiteRow[] = [1, 2, 3, 4, 5].map((id) => ({ id, name: `r${id}`, n: id, note: null }));
  const { fx, shard, target, backup } = await withItems(c, rows);
  const copy = shard.data.serverCopy!;
  const originals = await all(shard, target);
  expect(await copy.copy(target, backup, keysOf(rows.slice(0, 3)))).toBe(3);
  await fx.seed(fx.shardIds[0]!, 'items', [
    { id: 1, name: 'changed', n: 100, note: 'x' },
    { id: 2, name: 'changed', n: 200, note: 'x' },
  ]);
  expect(await copy.copy(target, backup, keysOf([rows[0]!, rows[1]!, rows[3]!]))).toBe(3);
  expect(await all(shard, backup), 'the first copy of rows 1 and 2 stands').toEqual(originals.slice(0, 4));
  await shard.data.drop(backup);
  expect(await all(shard, backup), 'a dropped backup has no rows').toEqual([]);
}

async function copyThenRestore(c: CaseContext): Promise<void> {
  const { expect } = c;
  const rows: SuiteRow[] = [-7, 0, 1, 2, 3, 40, 2_000_000_000].map((id) => ({
    id,
    name: id % 2 ? `é${id}☃` : null,
    n: id === 0 ? null : -id,
    note: id > 2 ? `note ${id}` : null,
  }));
  const { fx, shard, target, backup } = await withItems(c, rows);
  const copy = shard.data.serverCopy!;
  const before = await shard.data.checksum(target);
  expect(await copy.copy(target, backup, keysOf(rows))).toBe(rows.length);
  await fx.seed(
    fx.shardIds[0]!,
    'items',
    rows.slice(0, 4).map((r) => ({ id: r.id, name: 'changed', n: 1, note: 'changed' })),
  );
  expect(await shard.data.remove(target, [[40]])).toBe(1);
  expect((await shard.data.checksum(target)).hash).not.toBe(before.hash);
  let after: KeyValue | undefined;
  let restored = 0;
  for (let page = 0; page < 10; page++) {
    const step = await copy.restore(backup, target, after, 3);
    restored += step.restored;
    if (step.last === undefined) break;
    after = step.last;
  }
  expect(restored).toBe(rows.length);
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows);
  expect(await shard.data.checksum(target)).toEqual(before);
  await shard.data.drop(backup);
}

export const serverCopyCases: readonly Case[] = [
  {
    name: 'serverCopy: copy into a backup keeps the first copy of a row; the backup drops',
    run: copyKeepsFirst,
    requires: ['serverCopy'],
  },
  {
    name: 'serverCopy: copy then restore gives back every value exactly, changed and deleted rows included',
    run: copyThenRestore,
    requires: ['serverCopy'],
  },
];
