/**
 * Fidelity on PostgreSQL (issue 8): a data migration changes nothing it was not asked to change,
 * and rollback is exact to the byte. The table holds every type a platform table could hold, with
 * the values JS cannot carry (timestamp microseconds, 40-digit numerics, float -0/NaN/±Infinity,
 * jsonb 0.0 and 30-digit numbers, JSON null next to SQL NULL, json text with its key order and
 * spacing, a 1 MB text, …); the transform touches ONE column. Every check reads the server's own
 * text form (`col::text`), never JS values or checksums.
 *
 * The cases: JS transforms with and without `reverse`, with compare-and-set (always used on
 * PostgreSQL) and without (turned off by removing the store's `compareAndSet`, test-only), a
 * child process killed with SIGKILL mid-run followed by resume and by rollback, and one case per
 * PostgreSQL defect of issue 8 items 1–3 (each failed on the code before this suite).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { newDb } from 'pg-mem';
import { describe, expect, it } from 'vitest';
import {
  compareData,
  createMigrator,
  defineDataMigration,
  ErrorCode,
  isMigrateError,
  type Migration,
  type Row,
} from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { postgresAvailable, shouldRun, withPgDatabase } from '@mcp/test-support';

const here = dirname(fileURLToPath(import.meta.url));

/** Every column but `id` and `v`; `v` is the one the transform changes. */
const UNTOUCHED = [
  'tstz',
  'ts',
  'd',
  'num',
  'num_s',
  'f8',
  'f4',
  'jb',
  'js',
  't',
  'b',
  'ints',
  'texts',
  'jbs',
  'u',
  'iv',
  'm',
  'pos',
  'big',
  'flag',
] as const;

const DDL = [
  `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
  `CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0)`,
  `CREATE TABLE fx (
     id integer PRIMARY KEY, v integer NOT NULL,
     tstz timestamptz, ts timestamp, d date, num numeric, num_s numeric(12, 4), f8 double precision, f4 real,
     jb jsonb, js json, t text, b bytea, ints integer[], texts text[], jbs jsonb[],
     u uuid, iv interval, m mood, pos positive_int, big bigint, flag boolean)`,
];

/** Hand-written rows with the values that get lost (ids 1–6), then `generated` rows cycling through such values. */
function seedSql(generated: number): string[] {
  const crafted = `INSERT INTO fx VALUES
    (1, 10, '2026-01-02 03:04:05.123456+00', '1969-07-20 20:17:40.654321', '1969-12-31',
        1234567890123456789012345678901234567890.5, 12345678.1234, '-0', '-0',
        '{"b": 0.0, "a": 123456789012345678901234567890, "n": null, "pi": 3.141592653589793238462643383279}',
        '{"z": 1,  "a": 3.141592653589793238462643383279, "n": null, "big": 123456789012345678901234567890}',
        repeat('x', 1048576), '\\x00ff10', '{1,NULL,3}', '{"a,b","c\\"d",NULL,""}', ARRAY['{"k": 0.0}', 'null']::jsonb[],
        '6f1c1d5e-0000-4000-8000-000000000001', '1 year 2 mons 3 days 04:05:06.789012', 'happy', 7, 9223372036854775807, true),
    (2, 20, '1901-12-13 20:45:52.000001+00', '0044-03-15 12:00:00.5 BC', '0001-01-01 BC',
        'NaN', -0.0001, 'NaN', 'NaN', 'null', 'null', '', '\\x', '{}', '{}', '{}',
        '00000000-0000-0000-0000-000000000000', '-1 days +00:00:00.000001', 'sad', 1, -9223372036854775808, false),
    (3, 30, 'infinity', '-infinity', 'infinity', '-0.000000000000000000000000000000000000001', 0, 'Infinity', '-Infinity',
        '0.0', '0.0', 'unicode ü € 𝄞 and "quotes" and \\ backslash', '\\x5c00', '{-2147483648,2147483647}', '{"NULL"}', '{NULL}',
        NULL, '00:00:00', 'ok', 2147483647, 0, NULL),
    (4, 40, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (5, 50, '2000-02-29 23:59:59.999999+00', '2000-02-29 23:59:59.999999', '2000-02-29', 0.0, 0, 1.7976931348623157e308, 3.4028235e38,
        '"just a string"', '"just a string"', 'null', '\\x6e756c6c', NULL, '{null}', NULL,
        NULL, '178000000 years', NULL, NULL, NULL, NULL),
    (6, 60, '1970-01-01 00:00:00.000001+00', '1970-01-01 00:00:00.000001', '1970-01-01', 1e-40, 99999999.9999, 5e-324, 1.4e-45,
        '{"a": {"b": [1.10, 2.0e3, -0, true, null]}}', '[1.10, 2.0e3, -0]', ' ', '\\x', '{0}', '{" "}', ARRAY['123456789012345678901234567890']::jsonb[],
        NULL, '-178000000 years', 'happy', 3, 1, true)`;
  const rows = `INSERT INTO fx
    SELECT 100 + g, g,
      timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1.000001 second',
      timestamp '1960-01-01 00:00:00.000001' + g * interval '1.000001 second',
      date '1960-01-01' + g,
      (g || repeat('7', 38) || '.' || g)::numeric, (g % 1000) + 0.1234,
      (ARRAY['-0', 'NaN', 'Infinity', '-Infinity', '0.1', '1e308'])[1 + g % 6]::float8,
      (ARRAY['-0', 'NaN', 'Infinity', '0.1'])[1 + g % 4]::real,
      (ARRAY['null', '0.0', '{"n": 123456789012345678901234567890, "z": 0.0, "a": null}', '"s"'])[1 + g % 4]::jsonb,
      (ARRAY['null', '0.0', '{"z":1,  "a": 1.50}', '[  ]'])[1 + g % 4]::json,
      CASE WHEN g % 5 = 0 THEN NULL ELSE 'row ' || g END, decode(md5(g::text), 'hex'),
      ARRAY[g, NULL], ARRAY['t' || g, NULL], ARRAY['{"x": 1.0}'::jsonb],
      md5(g::text)::uuid, g * interval '1.000001 second', (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood, 1 + g,
      g::bigint * 4611686018427387, g % 2 = 0
    FROM generate_series(1, ${generated}) g`;
  return [crafted, rows];
}

/** Each row as the server prints it: id → column → `col::text` (long values as their md5). */
async function snapshot(pool: pg.Pool): Promise<Map<number, Record<string, string | null>>> {
  const cols = ['v', ...UNTOUCHED].map(
    (c) => `CASE WHEN length(${c}::text) > 200 THEN 'md5:' || md5(${c}::text) ELSE ${c}::text END AS ${c}`,
  );
  const { rows } = await pool.query<Record<string, string | null> & { id: number }>(
    `SELECT id, ${cols.join(', ')} FROM fx ORDER BY id`,
  );
  return new Map(rows.map(({ id, ...rest }) => [id, rest]));
}

/** Asserts that `after` is `before` with `v` raised by `delta` and every other column identical. */
function expectOnlyV(
  before: Map<number, Record<string, string | null>>,
  after: Map<number, Record<string, string | null>>,
  delta: number,
): void {
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [id, was] of before) {
    const now = after.get(id)!;
    expect({ id, ...now }).toEqual({ id, ...was, v: String(Number(was.v) + delta) });
  }
}

async function createFx(pool: pg.Pool, generated: number): Promise<void> {
  for (const sql of [...DDL, ...seedSql(generated)]) await pool.query(sql);
}

const touchV = (id: string, reverse: boolean, batchSize = 16): Migration =>
  defineDataMigration({
    id,
    engine: 'postgres',
    table: 'fx',
    batchSize,
    transform: (row: Row) => ({ ...row, v: (row.v as number) + 1 }),
    ...(reverse ? { reverse: (row: Row) => ({ ...row, v: (row.v as number) - 1 }) } : {}),
  });

/**
 * A migrator over `pool`; `cas: false` removes the store's compare-and-set and turns its flag off on
 * the engine and the shard (test-only switch: a PostgreSQL adapter as one without the capability).
 */
function migratorOn(pool: pg.Pool, migrations: readonly Migration[], cas = true) {
  const engine = postgresEngine({ shards: [{ id: 'pg-fid', pool }] });
  if (!cas) {
    const shard = engine.shard('pg-fid');
    Object.defineProperty(shard, 'capabilities', { value: { ...shard.capabilities, compareAndSet: false } });
    Object.defineProperty(engine, 'capabilities', { value: { ...engine.capabilities, compareAndSet: false } });
    (shard.data as { compareAndSet?: unknown }).compareAndSet = undefined;
  }
  return createMigrator({
    engines: { postgres: engine },
    migrations,
    throttle: { minBatchSize: 16, maxBatchSize: 16 },
  });
}

async function runChild(
  env: Record<string, string>,
  killAfterBatches: number | null,
): Promise<{ killed: boolean; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'fidelity-postgres-child.mjs')], {
      cwd: here,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const batches = (out.match(/^batch /gm) ?? []).length;
      if (killAfterBatches !== null && !killed && batches >= killAfterBatches) {
        killed = true;
        // A random moment inside the next batch, not only at a batch boundary.
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 30));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ killed, code, out }));
  });
}

/** Runs the child, killing it after `kill` batches; the kill must land before the run finished. */
async function killedChild(env: Record<string, string>, kill: number): Promise<void> {
  const r = await runChild(env, kill);
  expect(r.killed, r.out.slice(-2000)).toBe(true);
  expect(r.out, 'the child finished before the kill').not.toMatch(/^done /m);
}

async function finishedChild(env: Record<string, string>): Promise<void> {
  const r = await runChild(env, null);
  expect(r.code, r.out.slice(-2000)).toBe(0);
}

describe('fidelity on PostgreSQL: a one-column transform changes nothing else, rollback is exact', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
  const test = enabled ? it : it.skip;

  for (const reverse of [true, false]) {
    for (const cas of [true, false]) {
      test(`${reverse ? 'with' : 'without'} reverse, ${cas ? 'with' : 'without'} compare-and-set: forward touches only v, rollback restores every column`, async () => {
        await withPgDatabase('mcp_fid', async ({ pool }) => {
          await createFx(pool, 200);
          const before = await snapshot(pool);
          const m = touchV('0001-touch-v', reverse);
          const report = await migratorOn(pool, [m], cas).run();
          expect(report.totals.failed).toBe(0);
          expectOnlyV(before, await snapshot(pool), 1);
          await migratorOn(pool, [m], cas).rollback({ steps: 1 });
          expect(await snapshot(pool)).toEqual(before);
        });
      }, 120_000);
    }
  }

  for (const reverse of [false, true]) {
    test(`${reverse ? 'with' : 'without'} reverse: SIGKILL mid-run, then resume: every row once, untouched columns identical; then rollback`, async () => {
      await withPgDatabase('mcp_fid_kill', async ({ url, pool }) => {
        await createFx(pool, 2000);
        const before = await snapshot(pool);
        const env = { FID_URL: url, FID_MODE: 'run', FID_REVERSE: reverse ? '1' : '0', FID_BATCH: '40' };
        await killedChild(env, 3 + Math.floor(Math.random() * 10));
        await finishedChild(env);
        expectOnlyV(before, await snapshot(pool), 1);
        await finishedChild({ ...env, FID_MODE: 'rollback' });
        expect(await snapshot(pool)).toEqual(before);
      });
    }, 180_000);
  }

  test('SIGKILL mid-run, then rollback (no resume): every column identical; SIGKILL mid-rollback, then rollback again', async () => {
    await withPgDatabase('mcp_fid_killrb', async ({ url, pool }) => {
      await createFx(pool, 2000);
      const before = await snapshot(pool);
      const env = { FID_URL: url, FID_MODE: 'run', FID_REVERSE: '0', FID_BATCH: '40' };
      await killedChild(env, 5 + Math.floor(Math.random() * 10));
      const mid = await snapshot(pool);
      expect(mid, 'the killed run wrote some rows').not.toEqual(before);
      await finishedChild({ ...env, FID_MODE: 'rollback' });
      expect(await snapshot(pool)).toEqual(before);
      // The same once more, with the rollback itself killed half-way and then finished.
      await finishedChild(env);
      expectOnlyV(before, await snapshot(pool), 1);
      await killedChild({ ...env, FID_MODE: 'rollback' }, 3 + Math.floor(Math.random() * 10));
      await finishedChild({ ...env, FID_MODE: 'rollback' });
      expect(await snapshot(pool)).toEqual(before);
    });
  }, 180_000);

  test('backup: false: SIGKILL mid-run, then resume: every row once, no backup table; rollback exact; SIGKILL mid-run then partial rollback exact, killed and finished', async () => {
    await withPgDatabase('mcp_fid_nobk', async ({ url, pool }) => {
      await createFx(pool, 2000);
      const before = await snapshot(pool);
      const env = { FID_URL: url, FID_MODE: 'run', FID_REVERSE: '1', FID_BACKUP: '0', FID_BATCH: '40' };
      const backupTable = async () =>
        (await pool.query<{ t: string | null }>(`SELECT to_regclass('mcp_backup_0001_touch_v_nobk')::text AS t`))
          .rows[0]!.t;
      await killedChild(env, 3 + Math.floor(Math.random() * 10));
      expect(await backupTable(), 'no backup table is created').toBeNull();
      await finishedChild(env);
      expectOnlyV(before, await snapshot(pool), 1);
      await finishedChild({ ...env, FID_MODE: 'rollback' });
      expect(await snapshot(pool)).toEqual(before);
      // Killed mid-run and rolled back without resuming: only the rows up to its checkpoint are
      // reversed (its batches and checkpoints were written together); the rollback killed too.
      await killedChild(env, 5 + Math.floor(Math.random() * 10));
      expect(await snapshot(pool), 'the killed run wrote some rows').not.toEqual(before);
      await killedChild({ ...env, FID_MODE: 'rollback' }, 1 + Math.floor(Math.random() * 3));
      await finishedChild({ ...env, FID_MODE: 'rollback' });
      expect(await snapshot(pool)).toEqual(before);
      expect(await backupTable()).toBeNull();
    });
  }, 240_000);

  test('compareData (server checksums) calls an exact copy equal and tells apart -0/0, JSON null/SQL NULL, jsonb 0.0/0, µs', async () => {
    await withPgDatabase('mcp_fid_cmp', async ({ pool }) => {
      await createFx(pool, 300);
      await pool.query(`CREATE TABLE fx2 (LIKE fx INCLUDING ALL)`);
      await pool.query(`INSERT INTO fx2 SELECT * FROM fx`);
      const data = postgresEngine({ shards: [{ id: 'pg-cmp', pool }] }).shard('pg-cmp').data;
      const sides = () =>
        [
          { store: data, target: { name: 'fx', key: ['id'] } },
          { store: data, target: { name: 'fx2', key: ['id'] } },
        ] as const;
      expect((await compareData(...sides())).equal).toBe(true);
      const changes = [
        [`UPDATE fx2 SET f8 = 0 WHERE id = 1`, `UPDATE fx2 SET f8 = '-0' WHERE id = 1`],
        [`UPDATE fx2 SET jb = NULL WHERE id = 2`, `UPDATE fx2 SET jb = 'null' WHERE id = 2`],
        [`UPDATE fx2 SET jb = '0' WHERE id = 3`, `UPDATE fx2 SET jb = '0.0' WHERE id = 3`],
        [
          `UPDATE fx2 SET tstz = date_trunc('milliseconds', tstz) WHERE id = 1`,
          `UPDATE fx2 SET tstz = '2026-01-02 03:04:05.123456+00' WHERE id = 1`,
        ],
        [
          `UPDATE fx2 SET js = '{"z":1,"a":3.141592653589793238462643383279,"n":null,"big":123456789012345678901234567890}' WHERE id = 1`,
          `UPDATE fx2 SET js = fx.js FROM fx WHERE fx.id = 1 AND fx2.id = 1`,
        ],
      ];
      for (const [change, undo] of changes) {
        await pool.query(change!);
        expect((await compareData(...sides())).equal, change).toBe(false);
        await pool.query(undo!);
        expect((await compareData(...sides())).equal, undo).toBe(true);
      }
    });
  }, 60_000);

  // ---- One case per PostgreSQL defect of issue 8 (items 1–3): each failed before the fix. ----

  /** Runs a `v + 1` migration over table `t(id, v, <extra>)` and returns the server text of `<col>` before and after. */
  async function untouched(
    columns: string,
    values: string,
    col: string,
  ): Promise<{ before: string[]; after: string[]; error: unknown }> {
    return withPgDatabase('mcp_fid_defect', async ({ pool }) => {
      await pool.query(`CREATE TABLE t (id integer PRIMARY KEY, v integer NOT NULL, ${columns})`);
      await pool.query(`INSERT INTO t VALUES ${values}`);
      const read = async () =>
        (await pool.query<{ x: string }>(`SELECT ${col}::text AS x FROM t ORDER BY id`)).rows.map((r) => r.x);
      const vs = async () => (await pool.query<{ v: number }>('SELECT v FROM t ORDER BY id')).rows.map((r) => r.v);
      const before = await read();
      const v0 = await vs();
      const m = defineDataMigration({
        id: '0001-defect',
        engine: 'postgres',
        table: 't',
        transform: (row: Row) => ({ ...row, v: (row.v as number) + 1 }),
      });
      const error = await createMigrator({
        engines: { postgres: postgresEngine({ shards: [{ id: 'pg-d', pool }] }) },
        migrations: [m],
        retry: { retries: 0 },
      })
        .run()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const after = await read();
      if (error === undefined) expect(await vs()).toEqual(v0.map((v) => v + 1));
      return { before, after, error };
    });
  }

  test('defect 1: untouched timestamptz and timestamp keep their microseconds', async () => {
    const r = await untouched(
      'ts timestamptz, lt timestamp',
      `(1, 1, '2026-01-01 00:00:00.123456+00', '2026-01-01 00:00:00.654321')`,
      `ts::text || ' ' || lt`,
    );
    expect(r.error).toBeUndefined();
    expect(r.after).toEqual(['2026-01-01 00:00:00.123456+00 2026-01-01 00:00:00.654321']);
    expect(r.after).toEqual(r.before);
  });

  test('defect 1: untouched float8/real -0 stays -0', async () => {
    const r = await untouched('f8 float8, f4 real', `(1, 1, '-0', '-0')`, `f8::text || ' ' || f4`);
    expect(r.error).toBeUndefined();
    expect(r.after).toEqual(['-0 -0']);
  });

  test('defect 1: untouched jsonb 0.0 stays 0.0', async () => {
    const r = await untouched('j jsonb', `(1, 1, '0.0'), (2, 1, '{"x": 0.0}')`, 'j');
    expect(r.error).toBeUndefined();
    expect(r.after).toEqual(['0.0', '{"x": 0.0}']);
  });

  test('defect 2: jsonb JSON null (not SQL NULL) neither fails the migration nor becomes SQL NULL', async () => {
    const r = await untouched('j jsonb', `(1, 1, 'null'), (2, 1, NULL)`, `coalesce(j::text, 'SQL NULL')`);
    expect(r.error).toBeUndefined();
    expect(r.after).toEqual(['null', 'SQL NULL']);
  });

  test('defect 2: jsonb numbers JS cannot hold (30 digits, 31 decimals) neither fail the migration nor change', async () => {
    const r = await untouched(
      'j jsonb',
      `(1, 1, '123456789012345678901234567890'), (2, 1, '{"pi": 3.141592653589793238462643383279}')`,
      'j',
    );
    expect(r.error).toBeUndefined();
    expect(r.after).toEqual(['123456789012345678901234567890', '{"pi": 3.141592653589793238462643383279}']);
  });

  test('defect 3: a json column does not make the migration fail, and keeps its text', async () => {
    const r = await untouched('j json', `(1, 1, '{"z": 1,  "a": [1.50]}'), (2, 1, 'null')`, 'j');
    expect(r.error).toBeUndefined();
    expect(r.after).toEqual(['{"z": 1,  "a": [1.50]}', 'null']);
  });

  test('defect 7 (PostgreSQL part): a transform returning a misspelled column is refused, naming migration, table and column; nothing is written', async () => {
    await withPgDatabase('mcp_fid_nmae', async ({ pool }) => {
      await pool.query(`CREATE TABLE people (id integer PRIMARY KEY, name text)`);
      await pool.query(`INSERT INTO people SELECT g, 'p' || g FROM generate_series(1, 30) g`);
      const m = defineDataMigration({
        id: '0007-rename-typo',
        engine: 'postgres',
        table: 'people',
        transform: (row: Row) => ({ ...row, nmae: String(row.name).toUpperCase() }),
      });
      const migrator = createMigrator({
        engines: { postgres: postgresEngine({ shards: [{ id: 'pg-typo', pool }] }) },
        migrations: [m],
      });
      const retries: string[] = [];
      migrator.on('shard:retry', (e) => retries.push(e.shardId));
      const failed = await migrator.run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMigrateError(failed)).toBe(true);
      expect(retries, 'a definition error is not retried').toEqual([]);
      const status = await migrator.status();
      const record = status.shards[0]!.migrations.find((r) => r.id === '0007-rename-typo');
      expect(record?.state).not.toBe('applied');
      expect(record?.error?.code).toBe(ErrorCode.Definition);
      expect(record?.error?.message).toContain('"0007-rename-typo"');
      expect(record?.error?.message).toContain('"nmae"');
      expect(record?.error?.message).toContain('"people"');
      expect((await pool.query(`SELECT count(*)::int AS n FROM people WHERE name = 'p' || id`)).rows[0].n).toBe(30);
    });
  }, 60_000);

  test('a table with a column type that has no binary send form (aclitem) still migrates, with compare-and-set on the row text', async () => {
    await withPgDatabase('mcp_fid_acl', async ({ pool }) => {
      await pool.query(`CREATE TABLE acl (id integer PRIMARY KEY, v integer NOT NULL, a aclitem, ts timestamptz)`);
      await pool.query(
        `INSERT INTO acl SELECT g, g, 'mcp=r/mcp', timestamptz '2026-01-01 00:00:00.000001+00' + g * interval '1 second' FROM generate_series(1, 40) g`,
      );
      const read = async () =>
        (
          await pool.query<{ t: string }>(
            `SELECT string_agg(id || '|' || v || '|' || a::text || '|' || ts::text, ',' ORDER BY id) AS t FROM acl`,
          )
        ).rows[0]!.t;
      const before = await read();
      const engine = postgresEngine({ shards: [{ id: 'pg-acl', pool }] });
      const data = engine.shard('pg-acl').data;
      const scan = data.scan.bind(data);
      let scans = 0;
      // An application write between the second batch's read and its write: it must be kept.
      (data as { scan: typeof data.scan }).scan = async (t, after, limit) => {
        const rows = await scan(t, after, limit);
        if (t.name === 'acl' && ++scans === 2) await pool.query(`UPDATE acl SET v = 1000 WHERE id = 15`);
        return rows;
      };
      const m = defineDataMigration({
        id: '0001-acl',
        engine: 'postgres',
        table: 'acl',
        batchSize: 10,
        transform: (row: Row) => ({ ...row, v: (row.v as number) + 1 }),
      });
      await createMigrator({
        engines: { postgres: engine },
        migrations: [m],
        throttle: { minBatchSize: 10, maxBatchSize: 10 },
      }).run();
      expect(await read()).toBe(
        before
          .split(',')
          .map((r) =>
            r.replace(/^(\d+)\|(\d+)\|/, (_x, id: string, v: string) => `${id}|${id === '15' ? 1001 : Number(v) + 1}|`),
          )
          .join(','),
      );
    });
  }, 60_000);

  // ---- Values the transform sets go through the column's input function. ----

  test('values the transform sets are written faithfully: json text and key order, bigints in documents, float -0, µs-free Dates', async () => {
    await withPgDatabase('mcp_fid_set', async ({ pool }) => {
      await pool.query(
        `CREATE TABLE s (id integer PRIMARY KEY, js json, jb jsonb, f8 float8, ts timestamptz, keep timestamptz)`,
      );
      await pool.query(
        `INSERT INTO s VALUES (1, '{}', '{}', 1, NULL, '2026-01-01 00:00:00.123456+00'), (2, '{}', '{}', 1, NULL, '1969-12-31 23:59:59.999999+00')`,
      );
      const m = defineDataMigration({
        id: '0001-set',
        engine: 'postgres',
        table: 's',
        transform: (row: Row) => ({
          ...row,
          js: { z: 1, a: [1.5, 'ü'], n: 123456789012345678901234567890n, none: null },
          jb: { big: 123456789012345678901234567890n, neg: -1.25, s: 'x"y' },
          f8: -0,
          ts: new Date('2030-05-06T07:08:09.123Z'),
        }),
      });
      await createMigrator({
        engines: { postgres: postgresEngine({ shards: [{ id: 'pg-s', pool }] }) },
        migrations: [m],
      }).run();
      const { rows } = await pool.query(
        `SELECT js::text AS js, jb::text AS jb, f8::text AS f8, ts = '2030-05-06T07:08:09.123Z' AS ts, keep::text AS keep FROM s ORDER BY id`,
      );
      expect(rows[0]).toEqual({
        js: '{"z":1,"a":[1.5,"ü"],"n":123456789012345678901234567890,"none":null}',
        jb: '{"s": "x\\"y", "big": 123456789012345678901234567890, "neg": -1.25}',
        f8: '-0',
        ts: true,
        keep: expect.stringMatching(/^2026-01-01 0\d:00:00\.123456/),
      });
      expect(rows[1]!.keep).toMatch(/:59:59\.999999/);
    });
  }, 60_000);
});

/**
 * pg-mem (PostgreSQL emulated in JS) takes the adapter's fallbacks: no row versions, so no
 * compare-and-set; one bound UPDATE per patch; rollback through JS. It stores some values lossily
 * itself (bigint as a JS number, jsonb `0.0` as `0`, no `json` type distinct from jsonb, no
 * interval/array/timestamp text casts), so the case covers what it can hold: untouched columns keep their
 * text after the forward run and after rollback. Not covered, because the JS restore cannot carry
 * it: a jsonb JSON `null` comes back from a pg-mem rollback without `reverse` as SQL NULL.
 */
describe('fidelity on pg-mem (fallback path)', () => {
  for (const reverse of [true, false]) {
    it(`${reverse ? 'with' : 'without'} reverse: forward touches only v, rollback restores every column`, async () => {
      const Pool = newDb().adapters.createPg().Pool as new () => pg.Pool;
      const pool = new Pool();
      await pool.query(
        `CREATE TABLE fx (id integer PRIMARY KEY, v integer NOT NULL, tstz timestamptz, ts timestamp, num numeric, f8 double precision, jb jsonb, t text, b bytea, u uuid, big bigint, flag boolean)`,
      );
      await pool.query(`INSERT INTO fx VALUES
        (1, 1, '2026-01-02 03:04:05.123+00', '1969-07-20 20:17:40.654', 12.50, -0, '{"b": 1.5, "a": null}', 'x', '\\x00ff', '6f1c1d5e-0000-4000-8000-000000000001', 9007199254740991, true),
        (2, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, 3, '1901-01-01 00:00:00+00', '2000-02-29 23:59:59.999', -0.001, 123.25, '"s"', '', '\\x', NULL, -1, false)`);
      // pg-mem cannot cast timestamps to text: they are in the table but not compared here.
      const cols = ['v', 'num', 'f8', 'jb', 't', 'b', 'u', 'big', 'flag'];
      const text = async () =>
        (await pool.query(`SELECT id, ${cols.map((c) => `${c}::text AS ${c}`).join(', ')} FROM fx ORDER BY id`))
          .rows as Record<string, unknown>[];
      const before = await text();
      const m = touchV('0001-touch-v', reverse, 2);
      const migrator = () =>
        createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'mem-fid', pool }] }) },
          migrations: [m],
        });
      await migrator().run();
      expect(await text()).toEqual(before.map((r) => ({ ...r, v: String(Number(r.v) + 1) })));
      expect((await migrator().rollback({ steps: 1 })).totals.failed).toBe(0);
      expect(await text()).toEqual(before);
    });
  }
});
