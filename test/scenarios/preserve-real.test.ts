/**
 * `preserve` on the real servers: a schema migration that drops a table/collection and columns/
 * fields it named in `preserve`, rolled back, brings every value back — compared by PostgreSQL's
 * own text form of every column, and by BSON type and value on the MongoDB-wire server (documents
 * read with `promoteValues: false`, rendered as canonical Extended JSON, which tags every type).
 */
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { newDb } from 'pg-mem';
import { BSON, Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Db, type Document } from 'mongodb';
import { createMigrator, defineMigration, ErrorCode, type Migrator } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import {
  ferretdbVersion,
  mongoAvailable,
  postgresAvailable,
  rejectionOf,
  shouldRun,
  withMongoDatabase,
  withPgDatabase,
} from '@mcp/test-support';

const QUICK = { lock: { ttlMs: 5_000, waitMs: 20_000 }, retry: { retries: 0 } } as const;

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const FLAGS_DDL = `CREATE TABLE tenant_feature_flags (
  id bigserial PRIMARY KEY, tenant text NOT NULL, state mood, amount numeric, ratio float8, small real,
  at timestamptz, local_at timestamp, span interval, uid uuid, tags text[], doc jsonb, raw_json json, blob bytea, cents money_cents,
  doubled bigint GENERATED ALWAYS AS (id * 2) STORED)`;
const CHANNEL_COLUMNS =
  'legacy_cfg jsonb, legacy_at timestamptz, legacy_amount numeric(50,10), legacy_blob bytea, legacy_json json';

async function seedPostgres(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TYPE mood AS ENUM ('off', 'on', 'beta')`);
  await pool.query(`CREATE DOMAIN money_cents AS bigint CHECK (VALUE >= 0)`);
  await pool.query(FLAGS_DDL);
  await pool.query(`INSERT INTO tenant_feature_flags (tenant, state, amount, ratio, small, at, local_at, span, uid, tags, doc, raw_json, blob, cents) VALUES
    ('t1', 'beta', 1234567890123456789012345678901234567890, '-0', '-0', '1969-12-31 23:59:59.999999+00', '1901-01-01 00:00:00.000001', '1 mon 2 days 00:00:00.000001',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', ARRAY['a', NULL, 'ü'], '{"n": 123456789012345678901234567890, "z": 0.0, "pi": 3.141592653589793238462643383279, "null": null}',
     '{"b": 1, "a": 2, "a": 3, "x": 1.50}', '\\x00ff10', 0),
    ('t2', 'on', 'NaN', 'NaN', 'Infinity', '2026-03-01 12:34:56.123456+05:30', '2026-03-01 12:34:56.654321', '-1 days', NULL, '{}', 'null', 'null', '', 9007199254740993),
    ('t3', NULL, NULL, '-Infinity', 1.17549435e-38, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('t4', 'off', '0.000000000000000000000000000001', 1.7976931348623157e308, 3.4028235e38, 'infinity', '-infinity', '0', gen_random_uuid(), ARRAY['x'], '[1, "two", {"3": [4]}]', '[ 1 , 2 ]', decode(repeat('ab', 5000), 'hex'), 1)`);
  await pool.query(`CREATE TABLE channels (id integer PRIMARY KEY, name text NOT NULL, ${CHANNEL_COLUMNS})`);
  await pool.query(`INSERT INTO channels SELECT g, 'channel ' || g,
      CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN 'null'::jsonb ELSE jsonb_build_object('retries', g, 'big', 123456789012345678901234567890::numeric, 'zero', 0.0) END,
      timestamptz '1960-01-01 00:00:00.000001+00' + g * interval '1 day 1.000001 second',
      CASE WHEN g % 7 = 0 THEN NULL ELSE (g || '.0000000001')::numeric(50,10) END,
      CASE WHEN g % 3 = 0 THEN NULL ELSE decode(lpad(to_hex(g), 8, '0'), 'hex') END,
      CASE WHEN g % 4 = 0 THEN NULL ELSE ('{"k": ' || g || ', "k": 1.0}')::json END
    FROM generate_series(1, 40) g`);
}

/** Every row of `table` as the server's text form of each column, keyed by column name (column order may change). */
async function pgText(pool: pg.Pool, table: string): Promise<Record<string, string | null>[]> {
  const { rows: cols } = await pool.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attname`,
    [table],
  );
  const list = cols.map((c) => `"${c.name}"::text AS "${c.name}"`).join(', ');
  return (await pool.query<Record<string, string | null>>(`SELECT ${list} FROM "${table}" ORDER BY id`)).rows;
}

const pgMigration = () =>
  defineMigration<pg.PoolClient>({
    id: '0042-drop-legacy',
    engine: 'postgres',
    preserve: [
      'tenant_feature_flags',
      { table: 'channels', columns: ['legacy_cfg', 'legacy_at', 'legacy_amount', 'legacy_blob', 'legacy_json'] },
    ],
    async up(client) {
      await client.query('DROP TABLE tenant_feature_flags');
      await client.query(
        'ALTER TABLE channels DROP COLUMN legacy_cfg, DROP COLUMN legacy_at, DROP COLUMN legacy_amount, DROP COLUMN legacy_blob, DROP COLUMN legacy_json',
      );
    },
    async down(client) {
      await client.query(FLAGS_DDL);
      // A row down seeds with a key a saved row has: the saved row wins.
      await client.query(`INSERT INTO tenant_feature_flags (tenant, state) VALUES ('seeded by down', 'off')`);
      // A default fills every row: the restore must put back the originals, NULLs included.
      await client.query(`ALTER TABLE channels ADD COLUMN legacy_cfg jsonb DEFAULT '{"default": true}', ADD COLUMN legacy_at timestamptz DEFAULT now(),
        ADD COLUMN legacy_amount numeric(50,10) DEFAULT 0, ADD COLUMN legacy_blob bytea DEFAULT '\\x01', ADD COLUMN legacy_json json DEFAULT '{}'`);
    },
  });

describe('preserve on real PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  it.skipIf(!enabled)(
    'rolling back a migration that dropped a table and columns it preserved restores every value (col::text of every column)',
    async () => {
      await withPgDatabase('mcp_preserve', async ({ pool }) => {
        await seedPostgres(pool);
        const flags = await pgText(pool, 'tenant_feature_flags');
        const channels = await pgText(pool, 'channels');
        expect(flags[0]).toMatchObject({
          ratio: '-0',
          at: '1969-12-31 23:59:59.999999+00',
          amount: '1234567890123456789012345678901234567890',
        });
        const migrator: Migrator = createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'pg-p', pool }] }) },
          migrations: [pgMigration()],
          ...QUICK,
        });
        try {
          await migrator.run();
          const gone = await pool.query(
            `SELECT to_regclass('tenant_feature_flags') AS t, (SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'channels') AS n`,
          );
          expect(gone.rows[0]).toEqual({ t: null, n: 2 });
          const listed = (await migrator.status()).shards[0]!.preserved;
          expect(listed.map((c) => [c.target, c.columns, c.rows]).sort()).toEqual([
            ['channels', ['legacy_cfg', 'legacy_at', 'legacy_amount', 'legacy_blob', 'legacy_json'], 40],
            ['tenant_feature_flags', null, 4],
          ]);
          for (const c of listed) expect(c.copy).toMatch(/^public\.mcp_preserved_0042_drop_legacy_/);

          await migrator.rollback({ steps: 1 });
          expect(await pgText(pool, 'tenant_feature_flags')).toEqual(flags);
          expect(await pgText(pool, 'channels')).toEqual(channels);
          // The serial sequence was moved past the restored ids: the application can insert again.
          const next = await pool.query<{ id: string }>(
            `INSERT INTO tenant_feature_flags (tenant) VALUES ('t5') RETURNING id::text AS id`,
          );
          expect(Number(next.rows[0]!.id)).toBeGreaterThan(4);
        } finally {
          await migrator.close();
        }
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    'a target missing at up time, and a rollback whose copy was purged, are typed errors naming migration, shard and table',
    async () => {
      await withPgDatabase('mcp_preserve', async ({ pool }) => {
        await seedPostgres(pool);
        const typo = defineMigration<pg.PoolClient>({
          id: '0043-typo',
          engine: 'postgres',
          preserve: [{ table: 'channels', columns: ['legacy_cgf'] }],
          up: async (c) => void (await c.query('DROP TABLE channels')),
        });
        const bad = createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'pg-t', pool }] }) },
          migrations: [typo],
          ...QUICK,
        });
        try {
          const error = await rejectionOf(bad.run());
          const step = (
            error as unknown as { report: { shards: { migrations: { error: { code: string; message: string } }[] }[] } }
          ).report.shards[0]!.migrations[0]!;
          expect(step.error.code).toBe(ErrorCode.PreserveTarget);
          expect(step.error.message).toMatch(
            /"0043-typo".*column "legacy_cgf" of "public\.channels" does not exist.*"pg-t"/,
          );
          expect((await pool.query(`SELECT to_regclass('channels') IS NOT NULL AS ok`)).rows[0].ok).toBe(true);
        } finally {
          await bad.close();
        }
      });
      await withPgDatabase('mcp_preserve', async ({ pool }) => {
        await seedPostgres(pool);
        const migrator = createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'pg-p', pool }] }) },
          migrations: [pgMigration()],
          ...QUICK,
        });
        try {
          await migrator.run();
          const purged = await migrator.purgePreserved({ migrationIds: ['0042-drop-legacy'] });
          expect(purged).toHaveLength(2);
          const left = await pool.query(
            `SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'mcp\\_preserved\\_%'`,
          );
          expect(left.rows[0].n).toBe(0);
          const error = await rejectionOf(migrator.rollback({ steps: 1 }));
          expect(error).toMatchObject({
            code: ErrorCode.PreserveMissing,
            migrationId: '0042-drop-legacy',
            shardId: 'pg-p',
            field: 'tenant_feature_flags',
          });
          // Nothing was rolled back: `down` did not run.
          expect((await pool.query(`SELECT to_regclass('tenant_feature_flags') AS t`)).rows[0].t).toBeNull();
        } finally {
          await migrator.close();
        }
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    "the copy is taken in up's transaction: an up that fails leaves neither the change nor a copy",
    async () => {
      await withPgDatabase('mcp_preserve', async ({ pool }) => {
        await seedPostgres(pool);
        const m = defineMigration<pg.PoolClient>({
          id: '0047-fails',
          engine: 'postgres',
          preserve: ['tenant_feature_flags'],
          async up(c) {
            await c.query('DROP TABLE tenant_feature_flags');
            await c.query('SELECT 1/0');
          },
        });
        const migrator = createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'pg-f', pool }] }) },
          migrations: [m],
          ...QUICK,
        });
        try {
          expect((await rejectionOf(migrator.run())).code).toBe(ErrorCode.RunFailed);
          expect((await pool.query(`SELECT to_regclass('tenant_feature_flags') IS NOT NULL AS ok`)).rows[0].ok).toBe(
            true,
          );
          expect((await migrator.status()).shards[0]!.preserved).toEqual([]);
          expect(
            (await pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'mcp\\_preserved\\_%'`))
              .rows[0].n,
          ).toBe(0);
        } finally {
          await migrator.close();
        }
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    'a down that recreates a column with another type is refused (MIGRATE_PRESERVE_RESTORE naming the column) and the copy is kept',
    async () => {
      await withPgDatabase('mcp_preserve', async ({ pool }) => {
        await seedPostgres(pool);
        const m = defineMigration<pg.PoolClient>({
          id: '0046-drop-amount',
          engine: 'postgres',
          preserve: [{ table: 'channels', columns: ['legacy_amount'] }],
          up: async (c) => void (await c.query('ALTER TABLE channels DROP COLUMN legacy_amount')),
          down: async (c) => void (await c.query('ALTER TABLE channels ADD COLUMN legacy_amount numeric')),
        });
        const migrator = createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'pg-r', pool }] }) },
          migrations: [m],
          ...QUICK,
        });
        try {
          await migrator.run();
          const error = await rejectionOf(migrator.rollback({ steps: 1 }));
          const step = (
            error as unknown as { report: { shards: { migrations: { error: { code: string; message: string } }[] }[] } }
          ).report.shards[0]!.migrations[0]!;
          expect(step.error.code).toBe(ErrorCode.PreserveRestore);
          expect(step.error.message).toContain(
            'column "legacy_amount" of "public.channels" is numeric after "down" but numeric(50,10) in the copy',
          );
          expect((await migrator.status()).shards[0]!.preserved).toHaveLength(1);
          // The restore runs in down's transaction: down is undone with it, and the ledger still says applied.
          expect(
            (
              await pool.query(
                `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'channels' AND column_name = 'legacy_amount'`,
              )
            ).rows[0].n,
          ).toBe(0);
          expect((await migrator.status()).shards[0]!.migrations[0]!.state).toBe('applied');
        } finally {
          await migrator.close();
        }
      });
    },
    120_000,
  );
});

describe('preserve on pg-mem', () => {
  it('a server without the catalog functions copies need refuses the step with MIGRATE_PRESERVE_UNSUPPORTED; up never runs', async () => {
    const mem = newDb();
    const { Pool } = mem.adapters.createPg();
    const pool = new Pool() as pg.Pool;
    await pool.query(`CREATE TABLE t (id integer PRIMARY KEY, a text, b text)`);
    await pool.query(`INSERT INTO t VALUES (1, 'x', 'y')`);
    let ran = false;
    const m = defineMigration<pg.PoolClient>({
      id: '0048-pgmem',
      engine: 'postgres',
      preserve: [{ table: 't', columns: ['b'] }],
      up: async () => void (ran = true),
    });
    const migrator = createMigrator({
      engines: { postgres: postgresEngine({ shards: [{ id: 'pg-mem', pool }] }) },
      migrations: [m],
      ...QUICK,
    });
    try {
      const error = await rejectionOf(migrator.run());
      const step = (
        error as unknown as { report: { shards: { migrations: { error: { code: string; message: string } }[] }[] } }
      ).report.shards[0]!.migrations[0]!;
      expect(step.error.code).toBe(ErrorCode.PreserveUnsupported);
      expect(step.error.message).toContain('"0048-pgmem"');
      expect(ran).toBe(false);
      expect((await migrator.status()).shards[0]!.preserved).toEqual([]);
    } finally {
      await migrator.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// MongoDB wire (FerretDB)

/** Canonical Extended JSON: every number carries its BSON type (`$numberInt`, `$numberDouble`, `$numberLong`, …). */
const typed = (doc: Document) =>
  BSON.EJSON.stringify(Object.fromEntries(Object.entries(doc).sort(([a], [b]) => (a < b ? -1 : 1))), {
    relaxed: false,
  });

async function mongoTyped(db: Db, collection: string): Promise<string[]> {
  const docs = await db
    .collection(collection)
    .find({}, { promoteValues: false, bsonRegExp: true })
    .sort({ _id: 1 })
    .toArray();
  return docs.map(typed);
}

async function seedMongo(db: Db, decimal: boolean): Promise<void> {
  const legacy = (i: number): Document | undefined => {
    const values: unknown[] = [
      Long.fromString('9007199254740993'),
      new Int32(7),
      new Double(1),
      new Double(-0),
      new Date(-1),
      new Binary(Buffer.from([0, 255, i])),
      new Timestamp({ t: 1_700_000_000, i }),
      { nested: { deep: [new Int32(1), new Double(2), 'три'] } },
      null,
      'ünïcødé 🚀',
      new ObjectId(),
      ...(decimal ? [Decimal128.fromString('1.50')] : []),
    ];
    return i % 6 === 5 ? undefined : { legacy: values[i % values.length], legacy_at: new Date(1_600_000_000_000 + i) };
  };
  await db.collection('messages').insertMany(
    Array.from({ length: 24 }, (_, i) => ({
      _id: `m${String(i).padStart(2, '0')}`,
      n: new Int32(i),
      ...legacy(i),
    })) as Document[],
  );
  await db.collection('old_collection').insertMany([
    {
      _id: new ObjectId(),
      l: Long.fromNumber(5),
      d: new Double(1),
      i: new Int32(2),
      z: new Double(-0),
      when: new Date(0),
      bin: new Binary(Buffer.from('bytes')),
      nested: { a: [new Long(1), null] },
    },
    { _id: 'string-id', ts: new Timestamp({ t: 1, i: 2 }), text: 'ü', empty: {}, arr: [] },
    { _id: 7, only: null },
  ] as Document[]);
}

const mongoMigration = (up?: (db: Db) => Promise<void>) =>
  defineMigration<Db>({
    id: '0044-drop-legacy',
    engine: 'mongodb',
    preserve: ['old_collection', { collection: 'messages', fields: ['legacy', 'legacy_at'] }],
    up:
      up ??
      (async (db) => {
        await db.collection('old_collection').drop();
        await db.collection('messages').updateMany({}, { $unset: { legacy: '', legacy_at: '' } });
      }),
    async down(db) {
      await db.createCollection('old_collection');
      // A document down seeds with an _id a saved document has: the saved document wins.
      await db.collection('old_collection').insertOne({ _id: 7, only: 'seeded by down' } as Document);
      // A default on every document: documents that had no such field must end without it.
      await db.collection('messages').updateMany({}, { $set: { legacy: 'default' } });
    },
  });

describe('preserve on the MongoDB-wire server', async () => {
  const enabled = shouldRun({ name: 'MongoDB-wire server', available: await mongoAvailable() });
  // FerretDB v1.24 closes the connection on a Decimal128 insert: only MongoDB gets one.
  const decimal = enabled && (await ferretdbVersion()) === null;

  it.skipIf(!enabled)(
    'rolling back a migration that dropped a collection and fields it preserved restores every value with its BSON type',
    async () => {
      await withMongoDatabase('mcp_preserve', async ({ client, db, name }) => {
        await seedMongo(db, decimal);
        const messages = await mongoTyped(db, 'messages');
        const old = await mongoTyped(db, 'old_collection');
        expect(old.join()).toContain('{"$numberLong":"5"}');
        expect(messages.join()).toContain('"legacy":{"$numberDouble":"1.0"}');
        const migrator = createMigrator({
          engines: { mongodb: mongoEngine({ shards: [{ id: 'mg-p', client, database: name }] }) },
          migrations: [mongoMigration()],
          ...QUICK,
        });
        try {
          await migrator.run();
          expect(await db.listCollections({ name: 'old_collection' }).toArray()).toHaveLength(0);
          expect(await db.collection('messages').countDocuments({ legacy: { $exists: true } })).toBe(0);
          const listed = (await migrator.status()).shards[0]!.preserved;
          expect(listed.map((c) => [c.target, c.columns, c.rows, c.complete]).sort()).toEqual([
            ['messages', ['legacy', 'legacy_at'], 24, true],
            ['old_collection', null, 3, true],
          ]);

          await migrator.rollback({ steps: 1 });
          expect(await mongoTyped(db, 'old_collection')).toEqual(old);
          expect(await mongoTyped(db, 'messages')).toEqual(messages);
        } finally {
          await migrator.close();
        }
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    'an up that failed after removing the fields is fixed and re-run: the first copy is kept, so rollback still restores every value',
    async () => {
      await withMongoDatabase('mcp_preserve', async ({ client, db, name }) => {
        await seedMongo(db, false);
        const messages = await mongoTyped(db, 'messages');
        const old = await mongoTyped(db, 'old_collection');
        const engine = () => mongoEngine({ shards: [{ id: 'mg-r', client, database: name }] });
        const half = mongoMigration(async (d) => {
          // No transaction on MongoDB: the fields are gone when the step fails.
          await d.collection('messages').updateMany({}, { $unset: { legacy: '', legacy_at: '' } });
          throw new Error('the step failed half way');
        });
        const first = createMigrator({ engines: { mongodb: engine() }, migrations: [half], ...QUICK });
        try {
          expect((await rejectionOf(first.run())).code).toBe(ErrorCode.RunFailed);
        } finally {
          await first.close();
        }
        expect(await db.collection('messages').countDocuments({ legacy: { $exists: true } })).toBe(0);
        const fixed = createMigrator({ engines: { mongodb: engine() }, migrations: [mongoMigration()], ...QUICK });
        try {
          await fixed.run();
          await fixed.rollback({ steps: 1 });
          expect(await mongoTyped(db, 'messages')).toEqual(messages);
          expect(await mongoTyped(db, 'old_collection')).toEqual(old);
        } finally {
          await fixed.close();
        }
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    'a collection missing at up time, and a rollback whose copy was purged, are typed errors naming migration, shard and collection',
    async () => {
      await withMongoDatabase('mcp_preserve', async ({ client, db, name }) => {
        await seedMongo(db, false);
        const typo = defineMigration<Db>({
          id: '0045-typo',
          engine: 'mongodb',
          preserve: ['old_colection'],
          up: async (d) => void (await d.collection('old_collection').drop()),
        });
        const bad = createMigrator({
          engines: { mongodb: mongoEngine({ shards: [{ id: 'mg-t', client, database: name }] }) },
          migrations: [typo],
          ...QUICK,
        });
        try {
          const error = await rejectionOf(bad.run());
          const step = (
            error as unknown as { report: { shards: { migrations: { error: { code: string; message: string } }[] }[] } }
          ).report.shards[0]!.migrations[0]!;
          expect(step.error.code).toBe(ErrorCode.PreserveTarget);
          expect(step.error.message).toMatch(/"0045-typo".*collection "old_colection" does not exist.*"mg-t"/);
          expect(await db.listCollections({ name: 'old_collection' }).toArray()).toHaveLength(1);
        } finally {
          await bad.close();
        }
      });
      await withMongoDatabase('mcp_preserve', async ({ client, db, name }) => {
        await seedMongo(db, false);
        const migrator = createMigrator({
          engines: { mongodb: mongoEngine({ shards: [{ id: 'mg-p', client, database: name }] }) },
          migrations: [mongoMigration()],
          ...QUICK,
        });
        try {
          await migrator.run();
          expect(await migrator.purgePreserved()).toHaveLength(2);
          const error = await rejectionOf(migrator.rollback({ steps: 1 }));
          expect(error).toMatchObject({
            code: ErrorCode.PreserveMissing,
            migrationId: '0044-drop-legacy',
            shardId: 'mg-p',
            field: 'old_collection',
          });
          expect(await db.listCollections({ name: 'old_collection' }).toArray()).toHaveLength(0);
        } finally {
          await migrator.close();
        }
      });
    },
    120_000,
  );
});
