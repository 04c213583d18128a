/**
 * Server-side data migrations on real servers: `sql` on PostgreSQL and `update` on the MongoDB-wire
 * server (FerretDB or MongoDB). A non-idempotent statement (`n = n + 1`, `$inc`) is run, stopped
 * between ranges by a hook, crashed between a range and its checkpoint, and resumed: every row is
 * changed exactly once. Rollback from the backup is exact (PostgreSQL: every row's `t::text`;
 * MongoDB: every document's raw BSON as canonical Extended JSON). A statement the server refuses
 * is refused before anything is written, with its SQLSTATE; one that fails on a later range rolls
 * that range back whole. On FerretDB, an update pipeline is refused up front.
 */
import { describe, expect, it } from 'vitest';
import { BSON, Double, Int32, Long, ObjectId, type Db } from 'mongodb';
import type pg from 'pg';
import {
  createMigrator,
  defineDataMigration,
  type DataMigration,
  type EngineAdapter,
  type MigratorConfig,
  type ShardAdapter,
} from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import {
  ferretdbVersion,
  mongoAvailable,
  postgresAvailable,
  shouldRun,
  withMongoDatabase,
  withPgDatabase,
} from '@mcp/test-support';

const BATCH = { throttle: { minBatchSize: 50, maxBatchSize: 50 }, retry: { retries: 0 } } as const;

/**
 * `engine` that crashes at the `nth` checkpoint of a running step, after its range's statement ran:
 * where the ledger writes it (its range is applied but not checkpointed), or, where the range
 * carries its checkpoint (PostgreSQL), inside the range's transaction (so nothing of it stays).
 */
function crashBeforeCheckpoint(engine: EngineAdapter, nth: number): EngineAdapter {
  let puts = 0;
  const data = (d: ShardAdapter['data']): ShardAdapter['data'] => {
    const su = d.serverUpdate;
    if (!su?.checkpoints) return d;
    const apply: typeof su.apply = (target, range, statement, backup, checkpoint) =>
      su.apply(target, range, statement, backup, {
        fence: checkpoint!.fence,
        recordFor: (affected) => {
          if (++puts === nth) throw new Error('killed before the checkpoint');
          return checkpoint!.recordFor(affected);
        },
      });
    return Object.assign(Object.create(d) as ShardAdapter['data'], {
      serverUpdate: Object.assign(Object.create(su) as typeof su, { apply }),
    });
  };
  const shard = (s: ShardAdapter): ShardAdapter =>
    new Proxy(s, {
      get(t, p) {
        if (p === 'data') return data(t.data);
        if (p !== 'ledger') {
          const v: unknown = Reflect.get(t, p, t);
          return typeof v === 'function' ? (v as () => unknown).bind(t) : v;
        }
        return {
          init: () => t.ledger.init(),
          list: () => t.ledger.list(),
          delete: (id: string, fence: never) => t.ledger.delete(id, fence),
          put: async (record: Parameters<ShardAdapter['ledger']['put']>[0], fence: never) => {
            if (record.checkpoint && record.state === 'running' && ++puts === nth)
              throw new Error('killed before the checkpoint');
            return t.ledger.put(record, fence);
          },
        };
      },
    });
  return new Proxy(engine, {
    get(t, p) {
      if (p === 'shard') return (id: string) => shard(t.shard(id));
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as () => unknown).bind(t) : v;
    },
  });
}

/** Runs `m` stopped by a hook at the 3rd range, then crashed before the 2nd checkpoint, then to the end. */
async function stopCrashResume(engine: () => EngineAdapter, name: string, m: DataMigration): Promise<void> {
  const config = (extra: Partial<MigratorConfig> = {}, on = engine()) =>
    createMigrator({ engines: { [name]: on }, migrations: [m], ...BATCH, ...extra });
  let batches = 0;
  const hooks = {
    beforeBatch: () => {
      if (++batches === 3) throw new Error('stopped between ranges');
    },
  };
  await expect(config({ hooks }).run()).rejects.toThrow();
  await expect(config({}, crashBeforeCheckpoint(engine(), 2)).run()).rejects.toThrow();
  const report = await config().run();
  expect(report.ok).toBe(true);
}

describe('server-side migrations on PostgreSQL (sql)', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
  const text = (pool: pg.Pool, table = 'items') =>
    pool.query<{ t: string }>(`SELECT t::text AS t FROM ${table} t ORDER BY id`).then((r) => r.rows.map((x) => x.t));

  async function seed(pool: pg.Pool): Promise<void> {
    await pool.query(
      `CREATE TABLE items (id bigint PRIMARY KEY, n integer NOT NULL, s text, at timestamptz, doc jsonb, amount numeric, f float8)`,
    );
    // Keys below zero and beyond 2^53 (bound as text: exact), microsecond timestamps, jsonb 0.0, numeric scale, -0.
    await pool.query(`INSERT INTO items SELECT CASE WHEN g % 50 = 0 THEN 9007199254740993 + g ELSE g - 200 END, g, 'S' || g,
      '2026-01-01 00:00:00.123456+00'::timestamptz + g * interval '1.000001 second', jsonb_build_object('z', 0.0, 'g', g),
      (g || '.50')::numeric, CASE WHEN g % 2 = 0 THEN '-0' ELSE '1e300' END::float8 FROM generate_series(1, 1000) g`);
  }

  it.skipIf(!enabled)(
    'n = n + 1 stopped, crashed before a checkpoint and resumed changes every row exactly once; rollback restores every row as t::text',
    async () => {
      await withPgDatabase('mcp_server_side', async ({ pool }) => {
        await seed(pool);
        const before = await text(pool);
        const m = defineDataMigration({
          id: '0001-inc',
          engine: 'postgres',
          table: 'items',
          batchSize: 50,
          sql: `UPDATE items SET n = n + 1, s = lower(s), at = at + interval '1 microsecond' WHERE id > $1 AND id <= $2 AND n % 7 <> 0`,
        });
        const engine = () => postgresEngine({ shards: [{ id: 'pg-ss', pool }] });
        await stopCrashResume(engine, 'postgres', m);
        // n started as g (s = 'S' || g): rows with g % 7 = 0 are left alone, every other one is g + 1, never g + 2.
        const { rows } = await pool.query<{ wrong: string; unchanged: string }>(
          `SELECT count(*) FILTER (WHERE n <> substr(s, 2)::int + CASE WHEN substr(s, 2)::int % 7 <> 0 THEN 1 ELSE 0 END) AS wrong,
             count(*) FILTER (WHERE s <> lower(s)) AS unchanged FROM items`,
        );
        expect(rows[0]).toEqual({ wrong: '0', unchanged: String(Math.floor(1000 / 7)) });
        const { rows: saved } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM mcp_backup_0001_inc');
        expect(saved[0]!.n, 'the backup keeps only the rows the statement changed').toBe(
          String(1000 - Math.floor(1000 / 7)),
        );
        await createMigrator({ engines: { postgres: engine() }, migrations: [m] }).rollback({ steps: 1 });
        expect(await text(pool)).toEqual(before);
        const { rows: gone } = await pool.query(`SELECT to_regclass('mcp_backup_0001_inc') AS t`);
        expect(gone[0].t).toBeNull();
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    'a syntax error is refused before anything is written, with its SQLSTATE; a statement failing on a later range rolls that range back whole',
    async () => {
      await withPgDatabase('mcp_server_side', async ({ pool }) => {
        await seed(pool);
        const before = await text(pool);
        const engine = () => postgresEngine({ shards: [{ id: 'pg-ss', pool }] });
        const syntax = defineDataMigration({
          id: '0002-syntax',
          engine: 'postgres',
          table: 'items',
          sql: 'UPDATE items SET n = n + WHERE id > $1 AND id <= $2',
        });
        const refused = await createMigrator({ engines: { postgres: engine() }, migrations: [syntax], ...BATCH })
          .run()
          .catch((e: Error) => e);
        expect(String((refused as Error).message)).toMatch(/SQLSTATE 42601 syntax error/);
        expect(await text(pool)).toEqual(before);
        expect((await pool.query(`SELECT to_regclass('mcp_backup_0002_syntax') AS t`)).rows[0].t).toBeNull();

        // Division by zero at n = 120 (the 3rd range of 50): ranges 1 and 2 stay done, range 3 is rolled back whole.
        const late = defineDataMigration({
          id: '0003-late',
          engine: 'postgres',
          table: 'items',
          batchSize: 50,
          sql: 'UPDATE items SET n = n + 1000 / (n - 120) WHERE id > $1 AND id <= $2',
        });
        const failed = await createMigrator({ engines: { postgres: engine() }, migrations: [late], ...BATCH })
          .run()
          .catch((e: { report?: { shards: { migrations: { error?: { message: string } }[] }[] } }) => e);
        const message = (failed as { report: { shards: { migrations: { error: { message: string } }[] }[] } }).report
          .shards[0]!.migrations[0]!.error.message;
        expect(message).toMatch(/SQLSTATE 22012 division by zero/);
        expect(message).toMatch(/rolled back, nothing of it is written/);
        const now = await text(pool);
        const changed = now.filter((t, i) => t !== before[i]).length;
        expect(changed, 'the first two ranges only (100 rows); the range of n = 120 untouched').toBe(100);
        await createMigrator({ engines: { postgres: engine() }, migrations: [late] }).rollback({ steps: 1 });
        expect(await text(pool)).toEqual(before);
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    'backup: false with reverseSql keeps no backup, changes every row once through a stop and a crash; rollback of a partial run reverses only the ranges it checkpointed',
    async () => {
      await withPgDatabase('mcp_server_side', async ({ pool }) => {
        await seed(pool);
        const before = await text(pool);
        const base = {
          engine: 'postgres',
          table: 'items',
          batchSize: 50,
          sql: `UPDATE items SET n = n + 1, at = at + interval '1 microsecond' WHERE id > $1 AND id <= $2`,
          backup: false,
        } as const;
        expect(() => defineDataMigration({ id: '0004-no-reverse', ...base })).toThrow(/needs an exact "reverseSql"/);
        const m = defineDataMigration({
          id: '0004-no-backup',
          ...base,
          reverseSql: `UPDATE items SET n = n - 1, at = at - interval '1 microsecond' WHERE id > $1 AND id <= $2`,
        });
        const engine = () => postgresEngine({ shards: [{ id: 'pg-ss', pool }] });
        const noBackup = async () =>
          (await pool.query(`SELECT to_regclass('mcp_backup_0004_no_backup') AS t`)).rows[0].t as string | null;
        // A partial run (stopped at its 4th range): the rollback reverses its 3 ranges and nothing after.
        let ranges = 0;
        const stopAt4 = {
          beforeBatch: () =>
            void (
              ++ranges === 4 &&
              (() => {
                throw new Error('stop');
              })()
            ),
        };
        const migrator = (extra: Partial<MigratorConfig> = {}) =>
          createMigrator({ engines: { postgres: engine() }, migrations: [m], ...BATCH, ...extra });
        await expect(migrator({ hooks: stopAt4 }).run()).rejects.toThrow();
        const { rows: moved } = await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM items WHERE n <> substr(s, 2)::int`,
        );
        expect(moved[0]!.n).toBe('150');
        await migrator().rollback({ steps: 1 });
        expect(await text(pool)).toEqual(before);
        // Stopped, crashed inside a range's transaction, resumed: every row once, no backup table.
        await stopCrashResume(engine, 'postgres', m);
        const { rows } = await pool.query<{ wrong: string }>(
          `SELECT count(*) FILTER (WHERE n <> substr(s, 2)::int + 1) AS wrong FROM items`,
        );
        expect(rows[0]!.wrong).toBe('0');
        expect(await noBackup()).toBeNull();
        await migrator().rollback({ steps: 1 });
        expect(await text(pool)).toEqual(before);
      });
    },
    120_000,
  );
});

describe('server-side migrations on the MongoDB-wire server (update)', async () => {
  const enabled = shouldRun({ name: 'MongoDB-wire server', available: await mongoAvailable() });
  const ferret = enabled ? await ferretdbVersion() : null;
  const { EJSON } = BSON;
  const raw = async (db: Db) =>
    (await db.collection('items').find({}, { promoteValues: false, promoteLongs: false }).toArray()).map((d) =>
      EJSON.stringify(d, { relaxed: false }),
    );
  const COUNT = 300;

  async function seed(db: Db): Promise<void> {
    // Keys of three BSON types (numbers, strings, ObjectIds: the ranges cross type brackets), values of many.
    const ids: unknown[] = Array.from({ length: COUNT }, (_, i) =>
      i % 3 === 0 ? new Int32(i - 100) : i % 3 === 1 ? `k${String(i).padStart(4, '0')}` : new ObjectId(),
    );
    await db.collection('items').insertMany(
      ids.map((_id, i) => ({
        _id,
        n: i % 2 ? new Int32(i) : new Long(i),
        d: new Double(i + 0.5),
        whole: new Double(1),
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
        nested: { a: [new Int32(1), 'x'], b: null },
      })) as never[],
    );
  }

  it.skipIf(!enabled)(
    `$inc stopped, crashed before a checkpoint and resumed changes every document exactly once; rollback restores every document's raw BSON${ferret ? ` (FerretDB ${ferret})` : ''}`,
    async () => {
      await withMongoDatabase('mcp_server_side', async ({ client, db, name }) => {
        await seed(db);
        const before = await raw(db);
        const m = defineDataMigration({
          id: '0001-inc',
          engine: 'mongodb',
          collection: 'items',
          batchSize: 50,
          update: { $inc: { n: 1 }, $set: { touched: true } },
        });
        const engine = () => mongoEngine({ shards: [{ id: 'mg-ss', client, database: name }] });
        await stopCrashResume(engine, 'mongodb', m);
        const docs = await db.collection('items').find({}).toArray();
        expect(docs).toHaveLength(COUNT);
        const byId = new Map(before.map((t) => [EJSON.stringify(EJSON.parse(t)._id), EJSON.parse(t) as { n: number }]));
        for (const d of docs) {
          const was = byId.get(EJSON.stringify(d._id))!;
          expect(Number(d.n), `document ${String(d._id)}`).toBe(Number(was.n) + 1);
          expect(d.touched).toBe(true);
        }
        await createMigrator({ engines: { mongodb: engine() }, migrations: [m] }).rollback({ steps: 1 });
        expect((await raw(db)).sort()).toEqual([...before].sort());
      });
    },
    600_000,
  );

  it.skipIf(!enabled)(
    ferret
      ? `an update pipeline is refused before anything is written (FerretDB ${ferret} takes none)`
      : 'an update pipeline runs where the server takes it; rollback restores every document',
    async () => {
      await withMongoDatabase('mcp_server_side', async ({ client, db, name }) => {
        await seed(db);
        const before = await raw(db);
        const m = defineDataMigration({
          id: '0002-pipeline',
          engine: 'mongodb',
          collection: 'items',
          batchSize: 100,
          update: [{ $set: { sum: { $add: ['$d', 1] } } }],
        });
        const engine = () => mongoEngine({ shards: [{ id: 'mg-ss', client, database: name }] });
        const outcome = await createMigrator({ engines: { mongodb: engine() }, migrations: [m], ...BATCH })
          .run()
          .catch((e: Error) => e);
        if (ferret) {
          expect(String((outcome as Error).message)).toMatch(/does not take update pipelines.*wrong type 'array'/);
          expect(await raw(db)).toEqual(before);
          expect(await db.listCollections({ name: 'mcp_backup_0002_pipeline' }).toArray()).toEqual([]);
        } else {
          expect(outcome).toMatchObject({ ok: true });
          await createMigrator({ engines: { mongodb: engine() }, migrations: [m] }).rollback({ steps: 1 });
          expect((await raw(db)).sort()).toEqual([...before].sort());
        }
      });
    },
    300_000,
  );
});
