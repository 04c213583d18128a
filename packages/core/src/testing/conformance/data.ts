/**
 * Conformance cases of data migrations: keyset batches and exact rollback, resume after an
 * interruption, and the data store's refusals (never dropping an application's table; no target
 * check before the first batch on a shard without `inspect`).
 */
import {
  defineDataMigration,
  ErrorCode,
  isMigrateError,
  RunFailedError,
  type DataTarget,
  type Row,
} from '../../index.js';
import type { Case, CaseContext } from './context.js';
import type { SuiteRow } from './harness.js';
import { interceptScan } from './intercept.js';

async function keysetAndRollback(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(2);
  await fx.createRowsTable('items');
  const rows: SuiteRow[] = [-5, -1, 0, 1, 2, 3, 7, 1000, 2_000_000_000].map((id) => ({
    id,
    name: `n${id}é`,
    n: id % 3 === 0 ? null : id,
    note: id === 0 ? null : 'x',
  }));
  for (const s of fx.shardIds) await fx.seed(s, 'items', rows);
  const target = { name: 'items', key: [fx.keyField] };
  const checksums = () => Promise.all(fx.shardIds.map((s) => c.engine().shard(s).data.checksum(target)));
  const before = await checksums();
  const upper = defineDataMigration({
    id: '0001-upper',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    batchSize: 2,
    transform: (row: Row) =>
      typeof row.name === 'string' && row.id !== 3 && row._id !== 3 ? { ...row, name: row.name.toUpperCase() } : null,
  });
  const report = await c.migrator([upper]).run();
  expect(report.totals.applied).toBe(2);
  for (const s of fx.shardIds) {
    const got = await fx.rows(s, 'items');
    expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(got.map((r) => r.name)).toEqual(rows.map((r) => (r.id === 3 ? r.name : r.name!.toUpperCase())));
  }
  const after = await c.engine().shard(fx.shardIds[0]!).data.checksum(target);
  expect(after.hash).not.toBe(before[0]!.hash);
  await c.migrator([upper]).rollback({ steps: 1 });
  expect(await checksums()).toEqual(before);
  for (const s of fx.shardIds) expect(await fx.rows(s, 'items')).toEqual(rows);
}

async function resumeFromCheckpoint(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  const rows: SuiteRow[] = Array.from({ length: 40 }, (_, i) => ({ id: i - 10, name: `r${i}`, n: i, note: null }));
  await fx.seed(fx.shardIds[0]!, 'items', rows);
  const seen: number[] = [];
  let calls = 0;
  const m = defineDataMigration({
    id: '0001-bump',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    batchSize: 5,
    transform: (row: Row) => {
      calls++;
      seen.push(Number(row.n));
      return { ...row, n: Number(row.n) + 100 };
    },
  });
  const controller = new AbortController();
  const first = c.migrator([m], { throttle: { minBatchSize: 5, maxBatchSize: 5 } });
  let batches = 0;
  first.on('batch', () => {
    if (++batches === 3) controller.abort(new Error('simulated crash'));
  });
  await expect(first.run({ signal: controller.signal })).rejects.toBeInstanceOf(Error);
  const mid = await fx.rows(fx.shardIds[0]!, 'items');
  const done = mid.filter((r) => r.n! >= 100).length;
  expect(done).toBeGreaterThanOrEqual(15);
  const callsBefore = calls;
  await c.migrator([m], { throttle: { minBatchSize: 5, maxBatchSize: 5 } }).run();
  // Bounded by what was actually written before the abort: the rest, plus at most one batch of 5.
  expect(calls - callsBefore).toBeGreaterThanOrEqual(40 - done);
  expect(calls - callsBefore).toBeLessThanOrEqual(40 - done + 5);
  const end = await fx.rows(fx.shardIds[0]!, 'items');
  expect(end.map((r) => r.n)).toEqual(rows.map((r) => r.n! + 100));
  expect(seen.every((n) => n < 100)).toBe(true);
}

async function dropRefused(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  const rows: SuiteRow[] = [1, 2, 3].map((id) => ({ id, name: `r${id}`, n: id, note: null }));
  await fx.seed(fx.shardIds[0]!, 'items', rows);
  const shard = c.engine().shard(fx.shardIds[0]!);
  await shard.connect();
  const target: DataTarget = { name: 'items', key: [fx.keyField], migrationId: '0001-conf' };
  const err = await shard.data.drop(target).then(
    () => new Error('drop of a target without backupOf resolved'),
    (e: unknown) => e,
  );
  expect(isMigrateError(err), String(err)).toBe(true);
  expect(err).toMatchObject({ code: ErrorCode.Definition, shardId: fx.shardIds[0] });
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows);
}

async function noInspectNoRefusal(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  const scanned: string[] = [];
  const engine = interceptScan(c.engine(), async (t) => void scanned.push(t.name));
  const m = defineDataMigration({
    id: '0001-absent',
    engine: fx.engineName,
    table: 'absent',
    key: fx.keyField,
    transform: (row: Row) => row,
  });
  const outcome = await c
    .migrator([m], { retry: { retries: 0 } }, engine)
    .run()
    .catch((e: unknown) => e);
  // Whatever the first batch finds (no rows, or the engine's own error), it is not a refusal up front.
  const codes = [
    isMigrateError(outcome) ? outcome.code : undefined,
    ...(outcome instanceof RunFailedError
      ? (outcome.report as { shards: { migrations: { error?: { code: string } }[] }[] }).shards.flatMap((s) =>
          s.migrations.map((step) => step.error?.code),
        )
      : []),
  ];
  expect(codes, 'refused as a missing target').not.toContain(ErrorCode.TargetMissing);
  expect(scanned, 'the first batch read the missing table').toContain('absent');
}

export const dataCases: readonly Case[] = [
  {
    name: 'data migration: keyset batches from no lower bound (keys ≤ 0 included), exact rollback from backup',
    run: keysetAndRollback,
  },
  {
    name: 'data migration: an interrupted run resumes from its checkpoint and re-does at most one batch',
    run: resumeFromCheckpoint,
  },
  {
    name: 'data store: drop refuses a target that is not a backup (typed error) and the table keeps its rows',
    run: dropRefused,
  },
  {
    name: 'data migration without inspect: a missing table is not refused before the first batch',
    run: noInspectNoRefusal,
    without: ['inspect'],
  },
];
