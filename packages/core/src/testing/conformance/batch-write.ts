/**
 * Conformance cases of the `batchWrite` capability: a batch's backup, write and checkpoint as one
 * atomic step — everything or nothing — and what it makes possible, a data migration that keeps no
 * backup (`backup: false`) and is still exact after an interruption and on rollback.
 */
import {
  defineDataMigration,
  ErrorCode,
  type DataTarget,
  type LedgerRecord,
  type Row,
  type ShardAdapter,
} from '../../index.js';
import { acquireLock, backupTarget, type Fence, type RowPatch } from '../../engine/index.js';
import type { Case, CaseContext } from './context.js';
import type { SuiteRow } from './harness.js';

const ID = '0001-conf-batch';
const seeded = (n: number): SuiteRow[] =>
  Array.from({ length: n }, (_, id) => ({ id, name: `r${id}`, n: id, note: null }));

/** One shard with `items` seeded, connected, its ledger ready and a fence of a lease held on it. */
async function withBatch(c: CaseContext, rows: readonly SuiteRow[]) {
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  await fx.seed(fx.shardIds[0]!, 'items', rows);
  const shard = c.engine().shard(fx.shardIds[0]!);
  await shard.connect();
  await shard.ledger.init();
  const lease = await acquireLock(shard.lock, 'conf:batch', { owner: 'a', ttlMs: 10_000, waitMs: 0 });
  const fence: Fence = { lockName: lease.name, token: lease.token };
  const target: DataTarget = { name: 'items', key: [fx.keyField], migrationId: ID };
  return { fx, shard, lease, fence, target, backup: backupTarget(target, ID) };
}

const record = (after: readonly unknown[]): LedgerRecord => ({
  id: ID,
  state: 'running',
  checksum: 'c',
  startedAt: null,
  finishedAt: null,
  runnerId: 'a',
  checkpoint: { after, fingerprint: 'f', direction: 'up' },
  counts: { read: 5, written: 5, skipped: 0 },
  error: null,
  seq: 1,
});

/** A patch setting `note` on each row as read (the very objects `scan` returned). */
const notes = (c: CaseContext, read: readonly Row[], note: string): RowPatch[] =>
  read.map((before) => ({ key: [before[c.fx.keyField]], before, set: { note }, unset: [] }));

const all = (shard: ShardAdapter, t: DataTarget) => shard.data.scan(t, undefined, 1_000);
const plain = (rows: readonly Row[]) =>
  rows.map((r) => ({ id: Number(r.id ?? r._id), name: r.name, n: r.n, note: r.note }));

async function oneStep(c: CaseContext): Promise<void> {
  const { expect } = c;
  const rows = seeded(5);
  const { fx, shard, lease, fence, target, backup } = await withBatch(c, rows);
  const read = await shard.data.scan(target, undefined, 10);
  // Row 0 was saved by an earlier attempt, as it was then: its first copy must stand.
  await shard.data.write(backup, [{ ...read[0]!, name: 'earlier' }]);
  const result = await shard.data.batchWrite!.apply({
    target,
    patches: notes(c, read, 'bw'),
    backup: { target: backup, keys: read.slice(0, 3).map((r) => [r[fx.keyField]]) },
    compareAndSet: shard.capabilities.compareAndSet === true,
    range: { upTo: [4] },
    checkpoint: shard.data.batchWrite!.checkpoints ? { record: record([4]), fence } : undefined,
  });
  expect(result).toEqual({ written: 5, conflicts: [] });
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows.map((r) => ({ ...r, note: 'bw' })));
  expect(plain(await all(shard, backup)), 'originals saved, the first copy winning').toEqual([
    { ...rows[0]!, name: 'earlier' },
    rows[1],
    rows[2],
  ]);
  if (shard.data.batchWrite!.checkpoints)
    expect((await shard.ledger.list()).map((r) => r.checkpoint?.after)).toEqual([[4]]);
  await shard.data.drop(backup);
  await lease.release();
}

async function nothingOnConflict(c: CaseContext): Promise<void> {
  const { expect } = c;
  const rows = seeded(6);
  const { fx, shard, lease, fence, target, backup } = await withBatch(c, rows);
  const read = await shard.data.scan(target, undefined, 10);
  // The application changes row 4 and deletes row 2 after the read.
  await fx.seed(fx.shardIds[0]!, 'items', [{ id: 4, name: 'app', n: 40, note: null }]);
  expect(await shard.data.remove(target, [[read[2]![fx.keyField]]])).toBe(1);
  const now = await fx.rows(fx.shardIds[0]!, 'items');
  const result = await shard.data.batchWrite!.apply({
    target,
    patches: notes(c, read, 'bw'),
    backup: { target: backup, keys: read.map((r) => [r[fx.keyField]]) },
    compareAndSet: true,
    checkpoint: shard.data.batchWrite!.checkpoints ? { record: record([5]), fence } : undefined,
  });
  expect(result.written).toBe(0);
  expect(Number(result.conflicts[0]![0]), 'the first refused row in key order').toBe(2);
  expect(await fx.rows(fx.shardIds[0]!, 'items'), 'no row written, the deleted one not brought back').toEqual(now);
  expect(await all(shard, backup), 'no original saved').toEqual([]);
  expect(await shard.ledger.list(), 'no checkpoint').toEqual([]);
  await lease.release();
}

async function staleFence(c: CaseContext): Promise<void> {
  const { expect } = c;
  const rows = seeded(3);
  const { fx, shard, lease, fence, target, backup } = await withBatch(c, rows);
  // Only an adapter whose batch write carries the checkpoint checks the fence in it.
  if (!shard.data.batchWrite!.checkpoints) return lease.release();
  const read = await shard.data.scan(target, undefined, 10);
  expect(await shard.lock.forceRelease(lease.name)).toBe(true);
  const newer = await acquireLock(shard.lock, lease.name, { owner: 'b', ttlMs: 10_000, waitMs: 0 });
  const applied = shard.data.batchWrite!.apply({
    target,
    patches: notes(c, read, 'stale'),
    backup: { target: backup, keys: read.map((r) => [r[fx.keyField]]) },
    compareAndSet: shard.capabilities.compareAndSet === true,
    checkpoint: { record: record([2]), fence },
  });
  await expect(applied).rejects.toMatchObject({ code: ErrorCode.StaleLease });
  expect(await fx.rows(fx.shardIds[0]!, 'items'), 'nothing written').toEqual(rows);
  expect(await all(shard, backup)).toEqual([]);
  expect(await shard.ledger.list()).toEqual([]);
  await newer.release();
}

/** n+1 with its exact inverse, no backup; batches of 10. */
const bumpWithoutBackup = (c: CaseContext, failAt?: number) =>
  defineDataMigration({
    id: ID,
    engine: c.fx.engineName,
    table: 'items',
    key: c.fx.keyField,
    batchSize: 10,
    backup: false,
    transform: (row: Row) => {
      if (Number(row[c.fx.keyField]) === failAt) throw new Error(`transform fails at ${failAt}`);
      return { ...row, n: Number(row.n) + 1 };
    },
    reverse: (row: Row) => ({ ...row, n: Number(row.n) - 1 }),
  });

async function withoutBackup(c: CaseContext): Promise<void> {
  const { expect } = c;
  const rows = seeded(35);
  const { fx, shard, lease, backup } = await withBatch(c, rows);
  await lease.release();
  const options = { throttle: { minBatchSize: 10, maxBatchSize: 10 }, retry: { retries: 0 } };
  // Interrupted in its third batch: the first two are written, with their checkpoints.
  const failing = c.migrator([bumpWithoutBackup(c, 25)], options);
  await expect(failing.run()).rejects.toMatchObject({ code: ErrorCode.RunFailed });
  const bumped = (upTo: number) => rows.map((r) => (r.id < upTo ? { ...r, n: r.n! + 1 } : r));
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(bumped(20));
  if (shard.data.batchWrite!.checkpoints) expect(await all(shard, backup), 'no backup is kept').toEqual([]);
  // Rolled back while partly applied: only the rows up to its checkpoint are reversed.
  await c.migrator([bumpWithoutBackup(c)], options).rollback({ steps: 1 });
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows);
  // Run again, interrupted, then resumed: every row transformed exactly once.
  await expect(c.migrator([bumpWithoutBackup(c, 15)], options).run()).rejects.toMatchObject({
    code: ErrorCode.RunFailed,
  });
  const report = await c.migrator([bumpWithoutBackup(c)], options).run();
  expect(report.ok).toBe(true);
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(bumped(35));
  await c.migrator([bumpWithoutBackup(c)], options).rollback({ steps: 1 });
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows);
}

/** Without batch writes a crash could fall between a batch's write and its checkpoint: the backup is kept all the same. */
async function keptWithoutBatchWrite(c: CaseContext): Promise<void> {
  const { expect } = c;
  const rows = seeded(25);
  const { fx, shard, lease, backup } = await withBatch(c, rows);
  await lease.release();
  const options = { throttle: { minBatchSize: 10, maxBatchSize: 10 }, retry: { retries: 0 } };
  await expect(c.migrator([bumpWithoutBackup(c, 15)], options).run()).rejects.toMatchObject({
    code: ErrorCode.RunFailed,
  });
  expect((await all(shard, backup)).length, "the first batch's originals are kept").toBeGreaterThanOrEqual(10);
  await c.migrator([bumpWithoutBackup(c)], options).rollback({ steps: 1 });
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows);
}

export const batchWriteCases: readonly Case[] = [
  {
    name: 'batchWrite: one step saves the originals (the first copy winning), writes the patches and puts the checkpoint',
    run: oneStep,
    requires: ['batchWrite'],
  },
  {
    name: 'batchWrite: a row changed or deleted since the read refuses the whole batch: no copy, no write, no checkpoint',
    run: nothingOnConflict,
    requires: ['batchWrite', 'compareAndSet'],
  },
  {
    name: 'batchWrite: a stale fence is refused with StaleLeaseError and nothing of the batch is written',
    run: staleFence,
    requires: ['batchWrite'],
  },
  {
    name: 'backup: false: no backup kept; an interrupted run resumes exactly and a partial rollback reverses only what ran',
    run: withoutBackup,
    requires: ['batchWrite'],
  },
  {
    name: 'backup: false on a shard without batch writes keeps the backup (a crash could split a write from its checkpoint) and rolls back exactly',
    run: keptWithoutBatchWrite,
    without: ['batchWrite'],
  },
];
