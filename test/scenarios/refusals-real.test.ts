/**
 * Issue 8, defects 6 and 7 on the real servers: a data migration whose key does not identify one
 * row, or whose table/collection does not exist, is refused with a typed error naming migration,
 * shard and field before anything is written; the data is compared in the server's own form
 * (PostgreSQL `::text`, MongoDB raw BSON), and the ledger holds no record of the refused step.
 */
import { describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import type pg from 'pg';
import {
  createMigrator,
  defineDataMigration,
  ErrorCode,
  isMigrateError,
  type Migration,
  type Migrator,
  type Row,
} from '@mcp/migrate-core';
import { backupName } from '@mcp/migrate-core/engine';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import { mongoAvailable, postgresAvailable, shouldRun, withMongoDatabase, withPgDatabase } from '@mcp/test-support';

const QUICK = { retry: { retries: 0 }, lock: { ttlMs: 5_000, waitMs: 10_000 } } as const;

async function refusal(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (error) {
    expect(isMigrateError(error), String(error)).toBe(true);
    return error;
  }
  throw new Error('expected a refusal');
}

async function ledgerIds(migrator: Migrator): Promise<string[]> {
  return (await migrator.status()).shards.flatMap((s) => s.migrations.map((m) => `${m.id}:${m.state}`));
}

const bump = (id: string, extra: Record<string, unknown>) =>
  defineDataMigration({
    id,
    engine: 'postgres',
    table: 'items',
    transform: (r: Row) => ({ ...r, n: (r.n as number) + 100 }),
    ...extra,
  } as never);

describe('refusals on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  const withItems = (fn: (pool: pg.Pool, migrator: (ms: Migration[]) => Migrator) => Promise<void>) =>
    withPgDatabase('mcp_refuse', async ({ pool }) => {
      await pool.query(
        `CREATE TABLE items (id integer PRIMARY KEY, status text NOT NULL, code text NOT NULL, maybe text, n integer)`,
      );
      await pool.query(
        `INSERT INTO items SELECT g, (ARRAY['new','open','done'])[g % 3 + 1], 'c' || g, 'm' || g, g FROM generate_series(1, 12) g`,
      );
      const open: Migrator[] = [];
      try {
        await fn(pool, (ms) => {
          const m = createMigrator({
            engines: { postgres: postgresEngine({ shards: [{ id: 'pg-refuse', pool }] }) },
            migrations: ms,
            ...QUICK,
          });
          open.push(m);
          return m;
        });
      } finally {
        await Promise.all(open.map((m) => m.close()));
      }
    });
  const snapshot = async (pool: pg.Pool) =>
    (await pool.query<{ t: string }>(`SELECT string_agg(i::text, ',' ORDER BY id) AS t FROM items i`)).rows[0]!.t;
  const tableExists = async (pool: pg.Pool, name: string) =>
    (await pool.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [name])).rows[0]!.ok;

  it.skipIf(!enabled)(
    'refuses key "status" (not unique): typed error naming migration, shard, table and key; no row, backup or ledger record written',
    async () => {
      await withItems(async (pool, migrator) => {
        const before = await snapshot(pool);
        const m = bump('0601-status', { key: 'status', batchSize: 2 });
        const run = migrator([m]);
        const error = await refusal(run.run());
        expect(error).toMatchObject({
          code: ErrorCode.KeyNotUnique,
          migrationId: '0601-status',
          shardId: 'pg-refuse',
          field: 'key',
        });
        expect(error.message).toMatch(/items/);
        expect(await snapshot(pool)).toBe(before);
        expect(await tableExists(pool, backupName(m.id))).toBe(false);
        expect(await ledgerIds(run)).toEqual([]);
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    'refuses a unique index that is partial or on a nullable column, accepts a NOT NULL unique index and a composite key in any order',
    async () => {
      await withItems(async (pool, migrator) => {
        await pool.query(`CREATE UNIQUE INDEX items_code ON items (code)`);
        await pool.query(`CREATE UNIQUE INDEX items_maybe ON items (maybe)`);
        await pool.query(`CREATE UNIQUE INDEX items_status_partial ON items (status) WHERE id = 1`);
        const before = await snapshot(pool);
        for (const key of ['maybe', 'status', ['id', 'code']]) {
          const error = await refusal(migrator([bump('0602-refused', { key })]).run());
          expect(error).toMatchObject({ code: ErrorCode.KeyNotUnique, field: 'key' });
        }
        expect(await snapshot(pool)).toBe(before);
        const byCode = bump('0602-code', { key: 'code' });
        await migrator([byCode]).run();
        expect((await pool.query(`SELECT count(*)::int AS n FROM items WHERE n > 100`)).rows[0].n).toBe(12);
        await pool.query(`CREATE TABLE pairs (a integer, b text, v integer, PRIMARY KEY (a, b))`);
        await pool.query(`INSERT INTO pairs VALUES (1, 'x', 1), (1, 'y', 2)`);
        const pairs = defineDataMigration({
          id: '0602-pairs',
          engine: 'postgres',
          table: 'pairs',
          key: ['b', 'a'],
          transform: (r) => ({ ...r, v: 0 }),
        });
        await migrator([byCode, pairs]).run();
        expect((await pool.query(`SELECT string_agg(v::text, ',') AS t FROM pairs`)).rows[0].t).toBe('0,0');
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    "refuses a table that does not exist, leaving the id unused; with ifMissing: 'skip' records it applied with a note",
    async () => {
      await withItems(async (pool, migrator) => {
        const missing = bump('0701-missing', { table: 'no_such_table' });
        const run = migrator([missing]);
        const error = await refusal(run.run());
        expect(error).toMatchObject({
          code: ErrorCode.TargetMissing,
          migrationId: '0701-missing',
          shardId: 'pg-refuse',
          field: 'table',
        });
        expect(await ledgerIds(run)).toEqual([]);
        const skip = migrator([bump('0701-missing', { table: 'no_such_table', ifMissing: 'skip' })]);
        const report = await skip.run();
        expect(report.shards[0]!.migrations[0]).toMatchObject({
          status: 'skipped',
          reason: expect.stringContaining('no_such_table'),
        });
        expect(await ledgerIds(skip)).toEqual(['0701-missing:applied']);
        expect(await tableExists(pool, 'no_such_table')).toBe(false);
        await skip.rollback({ steps: 1 });
        expect(await ledgerIds(skip)).toEqual(['0701-missing:rolled_back']);
      });
    },
    60_000,
  );
});

describe('refusals on the MongoDB-wire server', async () => {
  const enabled = shouldRun({ name: 'MongoDB', available: await mongoAvailable() });

  const withItems = (fn: (db: Db, migrator: (ms: Migration[]) => Migrator) => Promise<void>) =>
    withMongoDatabase('mcp_refuse', async ({ client, db, name }) => {
      await db.collection('items').insertMany(
        Array.from({ length: 12 }, (_, i) => ({
          _id: i + 1,
          status: ['new', 'open', 'done'][i % 3]!,
          code: `c${i + 1}`,
          n: i + 1,
        })) as never,
      );
      const open: Migrator[] = [];
      try {
        await fn(db, (ms) => {
          const m = createMigrator({
            engines: { mongodb: mongoEngine({ shards: [{ id: 'mg-refuse', client, database: name }] }) },
            migrations: ms,
            ...QUICK,
          });
          open.push(m);
          return m;
        });
      } finally {
        await Promise.all(open.map((m) => m.close()));
      }
    });
  /** Every document's raw BSON bytes, by `_id`: types included. */
  const snapshot = async (db: Db) =>
    (
      await db
        .collection('items')
        .find({}, { raw: true, sort: { _id: 1 } })
        .toArray()
    ).map((b) => Buffer.from(b as unknown as Uint8Array).toString('hex'));
  const mbump = (id: string, extra: Record<string, unknown>) =>
    defineDataMigration({
      id,
      engine: 'mongodb',
      collection: 'items',
      transform: (d: Row) => ({ ...d, n: (d.n as number) + 100 }),
      ...extra,
    } as never);

  it.skipIf(!enabled)(
    'refuses key "status" (not unique) with nothing written; accepts a unique index on exactly the key',
    async () => {
      await withItems(async (db, migrator) => {
        const before = await snapshot(db);
        const m = mbump('0601-status', { key: 'status', batchSize: 2 });
        const run = migrator([m]);
        const error = await refusal(run.run());
        expect(error).toMatchObject({
          code: ErrorCode.KeyNotUnique,
          migrationId: '0601-status',
          shardId: 'mg-refuse',
          field: 'key',
        });
        expect(error.message).toMatch(/items/);
        expect(await snapshot(db)).toEqual(before);
        expect(await db.listCollections({ name: backupName(m.id) }).toArray()).toEqual([]);
        expect(await ledgerIds(run)).toEqual([]);
        // Not unique either: an index that is not unique, or unique on more fields than the key.
        await db.collection('items').createIndex({ status: 1 });
        await db.collection('items').createIndex({ status: 1, code: 1 }, { unique: true });
        expect(await refusal(migrator([mbump('0601-status', { key: 'status' })]).run())).toMatchObject({
          code: ErrorCode.KeyNotUnique,
        });
        expect(await snapshot(db)).toEqual(before);
        await db.collection('items').createIndex({ code: 1 }, { unique: true });
        await migrator([mbump('0602-code', { key: 'code' })]).run();
        expect(await db.collection('items').countDocuments({ n: { $gt: 100 } })).toBe(12);
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    "refuses a collection that does not exist (it used to be recorded applied); with ifMissing: 'skip' records it applied with a note",
    async () => {
      await withItems(async (db, migrator) => {
        const run = migrator([mbump('0701-missing', { collection: 'no_such' })]);
        const error = await refusal(run.run());
        expect(error).toMatchObject({
          code: ErrorCode.TargetMissing,
          migrationId: '0701-missing',
          shardId: 'mg-refuse',
          field: 'collection',
        });
        expect(await ledgerIds(run)).toEqual([]);
        const skip = migrator([mbump('0701-missing', { collection: 'no_such', ifMissing: 'skip' })]);
        const report = await skip.run();
        expect(report.shards[0]!.migrations[0]).toMatchObject({
          status: 'skipped',
          reason: expect.stringContaining('no_such'),
        });
        expect(await ledgerIds(skip)).toEqual(['0701-missing:applied']);
        expect(await db.listCollections({ name: 'no_such' }).toArray()).toEqual([]);
      });
    },
    60_000,
  );
});
