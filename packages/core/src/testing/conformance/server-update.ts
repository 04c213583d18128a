/**
 * Conformance cases of the `serverUpdate` capability: server-side data migrations (`sql` on an
 * engine named `postgres`, `update` on the others) run per key range, each row changed exactly once
 * through a crash between a range's statement and its checkpoint and a stop between ranges, rolled back
 * exactly from the backup or with the reverse statement, and a statement the server refuses
 * failing before any row is written.
 */
import { defineDataMigration, type DataMigration, type EngineAdapter, type ShardAdapter } from '../../index.js';
import type { Case, CaseContext } from './context.js';
import type { Fixture, SuiteRow } from './harness.js';
import { over } from './intercept.js';

/** `n + by` over the range, as this engine writes it. */
function plus(fx: Fixture, by: number, reverse = false): Record<string, unknown> {
  if (fx.engineName === 'postgres') {
    const sql = `UPDATE items SET n = n + (${by}) WHERE id > $1 AND id <= $2`;
    return reverse ? { reverseSql: sql } : { sql };
  }
  return reverse ? { reverseUpdate: { $inc: { n: by } } } : { update: { $inc: { n: by } } };
}

function migration(fx: Fixture, withReverse: boolean): DataMigration {
  return defineDataMigration({
    id: '0001-conf-server',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    batchSize: 4,
    ...plus(fx, 1),
    ...(withReverse ? plus(fx, -1, true) : {}),
  } as never);
}

const THROTTLE = { throttle: { minBatchSize: 4, maxBatchSize: 4 }, retry: { retries: 0 } };

async function seeded(c: CaseContext, count: number) {
  const fx = await c.setup(1);
  await fx.createRowsTable('items');
  const rows: SuiteRow[] = Array.from({ length: count }, (_, i) => ({
    id: i * 3 - 7,
    name: `r${i}`,
    n: i * 10,
    note: null,
  }));
  await fx.seed(fx.shardIds[0]!, 'items', rows);
  const target = { name: 'items', key: [fx.keyField] };
  const checksum = () => c.engine().shard(fx.shardIds[0]!).data.checksum(target);
  return { fx, rows, checksum, before: await checksum() };
}

/**
 * `engine` that crashes at the `nth` checkpoint of a running step, after its range's statement
 * ran: where the ledger writes it (the range is applied, not checkpointed), or, where a range
 * carries its checkpoint (`ServerUpdate.checkpoints`), inside the range's transaction.
 */
function crashBeforeCheckpoint(engine: EngineAdapter, nth: number): EngineAdapter {
  let puts = 0;
  const crash = () => {
    if (++puts === nth) throw new Error('killed before the checkpoint');
  };
  const dataOf = (data: ShardAdapter['data']): ShardAdapter['data'] => {
    const su = data.serverUpdate;
    if (!su?.checkpoints) return data;
    const apply: typeof su.apply = (...args) => {
      const checkpoint = args[4]!;
      return su.apply(args[0], args[1], args[2], args[3], {
        fence: checkpoint.fence,
        recordFor: (affected) => (crash(), checkpoint.recordFor(affected)),
      });
    };
    return over(data, { serverUpdate: over(su, { apply }) });
  };
  const shardOf = (shard: ShardAdapter): ShardAdapter => {
    const put: ShardAdapter['ledger']['put'] = async (record, fence) => {
      if (record.checkpoint && record.state === 'running') crash();
      return shard.ledger.put(record, fence);
    };
    return over(shard, { ledger: over(shard.ledger, { put }), data: dataOf(shard.data) });
  };
  return over(engine, { shard: (id: string) => shardOf(engine.shard(id)) });
}

async function exactlyOnce(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { fx, rows, checksum, before } = await seeded(c, 23);
  const m = migration(fx, false);
  const crashed = await c
    .migrator([m], THROTTLE, crashBeforeCheckpoint(c.engine(), 3))
    .run()
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(crashed, 'the run stopped at the failed checkpoint').toBeInstanceOf(Error);
  let batches = 0;
  const hook = {
    beforeBatch: () => {
      if (++batches === 2) throw new Error('stopped between ranges');
    },
  };
  const stopped = await c
    .migrator([m], { ...THROTTLE, hooks: hook })
    .run()
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(stopped, 'the run stopped between ranges').toBeInstanceOf(Error);
  const report = await c.migrator([m], THROTTLE).run();
  expect(report.ok).toBe(true);
  const got = await fx.rows(fx.shardIds[0]!, 'items');
  expect(
    got.map((r) => r.n),
    'each row changed exactly once',
  ).toEqual(rows.map((r) => r.n! + 1));
  await c.migrator([m], THROTTLE).rollback({ steps: 1 });
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows);
  expect(await checksum()).toEqual(before);
}

async function reverseStatement(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { fx, rows, checksum, before } = await seeded(c, 10);
  const m = migration(fx, true);
  const events: [number, number][] = [];
  const migrator = c.migrator([m], THROTTLE);
  migrator.on('batch', (e) => events.push([e.processed, e.written]));
  expect((await migrator.run()).ok).toBe(true);
  expect(events, 'a batch event per range: rows read and changed so far').toEqual([
    [4, 4],
    [8, 8],
    [10, 10],
  ]);
  expect((await fx.rows(fx.shardIds[0]!, 'items')).map((r) => r.n)).toEqual(rows.map((r) => r.n! + 1));
  await c.migrator([m], THROTTLE).rollback({ steps: 1 });
  expect(await fx.rows(fx.shardIds[0]!, 'items')).toEqual(rows);
  expect(await checksum()).toEqual(before);
}

async function refusedStatement(c: CaseContext): Promise<void> {
  const { expect } = c;
  const { fx, rows } = await seeded(c, 6);
  const bad = defineDataMigration({
    id: '0001-conf-bad',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    ...(fx.engineName === 'postgres'
      ? { sql: 'UPDATE items SET n = no_such_column + 1 WHERE id > $1 AND id <= $2' }
      : { update: { $noSuchOperator: { n: 1 } } }),
  } as never);
  const outcome = await c
    .migrator([bad], THROTTLE)
    .run()
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(outcome, 'the run failed').toBeInstanceOf(Error);
  expect(await fx.rows(fx.shardIds[0]!, 'items'), 'no row was written').toEqual(rows);
  const backup = c.engine().shard(fx.shardIds[0]!);
  await backup.connect();
  const saved = await backup.data.scan(
    { name: 'mcp_backup_0001_conf_bad', key: [fx.keyField], backupOf: { name: 'items', key: [fx.keyField] } },
    undefined,
    10,
  );
  expect(saved, 'nothing was saved').toEqual([]);
}

export const serverUpdateCases: readonly Case[] = [
  {
    name: 'serverUpdate: each row changed exactly once through a crash before a checkpoint and a stop between ranges; exact rollback from the backup',
    run: exactlyOnce,
    requires: ['serverUpdate'],
  },
  {
    name: 'serverUpdate: a batch event per range with the rows changed; rollback of an applied migration with the reverse statement',
    run: reverseStatement,
    requires: ['serverUpdate'],
  },
  {
    name: 'serverUpdate: a statement the server refuses fails the step before any row is written or saved',
    run: refusedStatement,
    requires: ['serverUpdate'],
  },
];
