/**
 * Adapter tests on a real PostgreSQL server (MCP_MIGRATE_PG_URL). Each suite gets fresh databases.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import {
  ErrorCode,
  RunFailedError,
  createMigrator,
  defineDataMigration,
  defineMigration,
  isMigrateError,
  type Migration,
  type Row,
} from '@mcp/migrate-core';
import { acquireLock } from '@mcp/migrate-core/engine';
import { copyRows, postgresEngine, type PostgresEngine } from '../src/index.js';
import { postgresEnabled, tempPgDatabases, testPool, type TempPgDatabases } from '@mcp/test-support';

const enabled = await postgresEnabled();

describe.runIf(enabled)('postgres adapter on a real server', () => {
  let dbs: TempPgDatabases;
  let pools: pg.Pool[];
  const engines: PostgresEngine[] = [];
  const engine = (options: Partial<Parameters<typeof postgresEngine>[0]> = {}) => {
    const e = postgresEngine({
      shards: dbs.urls.slice(0, 2).map((url, i) => ({ id: `pg-${i}`, connectionString: url })),
      poolSize: 4,
      ...options,
    });
    engines.push(e);
    return e;
  };
  /** Each test keeps its own ledger table (tests share the databases), named after its migrations. */
  const migrator = (migrations: readonly Migration[], extra: Partial<Parameters<typeof createMigrator>[0]> = {}) =>
    createMigrator({
      engines: { postgres: engine({ ledgerTable: `ledger_${migrations[0]!.id.split('-')[0]}` }) },
      migrations,
      lock: { ttlMs: 5_000, waitMs: 10_000 },
      retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 20 },
      ...extra,
    });
  const q = (i: number) => pools[i]!;

  beforeAll(async () => {
    dbs = await tempPgDatabases(3, 'mcp_pt');
    pools = dbs.urls.map((u) => testPool(u));
  });
  afterAll(async () => {
    await Promise.allSettled(engines.map((e) => e.close()));
    await Promise.allSettled(pools.map((p) => p.end()));
    await dbs?.drop();
  });

  it('an unreachable shard fails with ShardUnavailableError naming it, without the password', async () => {
    const e = postgresEngine({
      shards: [{ id: 'pg-down', connectionString: 'postgres://app:hunter2secret@127.0.0.1:1/db' }],
    });
    engines.push(e);
    const error = await e
      .shard('pg-down')
      .connect()
      .catch((err: unknown) => err);
    expect(isMigrateError(error) && error.code).toBe(ErrorCode.ShardUnavailable);
    expect((error as Error).message).toContain('pg-down');
    expect((error as Error).message).not.toContain('hunter2secret');
    expect(e.shards[0]!.location).not.toContain('hunter2secret');
    const run = await createMigrator({ engines: { postgres: e }, migrations: [] }).status();
    expect(run.shards[0]!.reachable).toBe(false);
    expect(JSON.stringify(run)).not.toContain('hunter2secret');
  });

  it('never closes a pool the host passed in', async () => {
    const host = testPool(dbs.urls[2]!);
    const e = postgresEngine({ shards: [{ id: 'host', pool: host }] });
    await e.shard('host').connect();
    await e.close();
    expect((await host.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await host.end();
  });

  it('a SQL error is recorded as failed with its SQLSTATE; the other shard continues; the fixed migration re-runs', async () => {
    const setup = defineMigration({
      id: 'e-0001-table',
      engine: 'postgres',
      up: async (c: pg.PoolClient) => void (await c.query('CREATE TABLE e_t (id integer PRIMARY KEY)')),
    });
    const broken = defineMigration({
      id: 'e-0002-col',
      engine: 'postgres',
      up: async (c: pg.PoolClient, ctx) =>
        void (await c.query(
          ctx.shard.id === 'pg-0'
            ? 'ALTER TABLE e_t ADD COLUMN x integer SELEC'
            : 'ALTER TABLE e_t ADD COLUMN x integer',
        )),
    });
    const error = await migrator([setup, broken], { onFailure: 'continue' })
      .run()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    const status = await migrator([setup, broken]).status();
    const failed = status.shards.find((s) => s.shardId === 'pg-0')!.migrations.find((m) => m.id === 'e-0002-col')!;
    expect(failed.state).toBe('failed');
    expect(failed.error?.message).toContain('42601');
    expect(failed.error?.message).toMatch(/syntax error/);
    expect(failed.error?.causeCode).toBe('42601');
    expect(status.shards.find((s) => s.shardId === 'pg-1')!.migrations.find((m) => m.id === 'e-0002-col')!.state).toBe(
      'applied',
    );
    const fixed = defineMigration({
      id: 'e-0002-col',
      engine: 'postgres',
      up: async (c: pg.PoolClient) => void (await c.query('ALTER TABLE e_t ADD COLUMN IF NOT EXISTS x integer')),
    });
    const again = await migrator([setup, fixed], { drift: 'warn' }).run();
    expect(again.totals.failed).toBe(0);
    const cols = await q(0).query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'e_t' ORDER BY column_name`,
    );
    expect(cols.rows.map((r) => r.column_name)).toEqual(['id', 'x']);
  });

  it('a failed multi-statement migration in a transaction leaves nothing behind', async () => {
    const m = defineMigration({
      id: 'tx-0001',
      engine: 'postgres',
      up: async (c: pg.PoolClient) => {
        await c.query('CREATE TABLE tx_a (id integer PRIMARY KEY)');
        await c.query('INSERT INTO tx_a VALUES (1)');
        await c.query('CREATE TABLE tx_b (id integer REFERENCES no_such_table (id))');
      },
    });
    await expect(migrator([m]).run()).rejects.toBeInstanceOf(RunFailedError);
    for (const i of [0, 1]) expect((await q(i).query(`SELECT to_regclass('public.tx_a') AS t`)).rows[0].t).toBeNull();
  });

  it('transaction: false runs CREATE INDEX CONCURRENTLY', async () => {
    const ms = [
      defineMigration({
        id: 'ci-0001',
        engine: 'postgres',
        up: async (c: pg.PoolClient) =>
          void (await c.query('CREATE TABLE ci_t (id integer PRIMARY KEY, tenant_id text)')),
      }),
      defineMigration({
        id: 'ci-0002',
        engine: 'postgres',
        transaction: false,
        dependsOn: ['ci-0001'],
        up: async (c: pg.PoolClient) =>
          void (await c.query('CREATE INDEX CONCURRENTLY ci_t_tenant ON ci_t (tenant_id)')),
      }),
    ];
    const report = await migrator(ms).run();
    expect(report.totals.failed).toBe(0);
    const idx = await q(1).query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'ci_t_tenant'::regclass`);
    expect(idx.rows[0].indisvalid).toBe(true);
  });

  it('DDL blocked by another session fails fast with 55P03 (lock_timeout) and is retried until the blocker commits', async () => {
    await q(0).query('CREATE TABLE lt_t (id integer PRIMARY KEY)');
    await q(1).query('CREATE TABLE lt_t (id integer PRIMARY KEY)');
    const blocker = await q(0).connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE lt_t IN ACCESS SHARE MODE');
    const release = setTimeout(() => void blocker.query('COMMIT').finally(() => blocker.release()), 600);
    const retries: string[] = [];
    const m = defineMigration({
      id: 'lt-0001',
      engine: 'postgres',
      up: async (c: pg.PoolClient) => void (await c.query('ALTER TABLE lt_t ADD COLUMN y integer')),
    });
    const mig = createMigrator({
      engines: { postgres: engine({ lockTimeoutMs: 100, ledgerTable: 'ledger_lt' }) },
      migrations: [m],
      retry: { retries: 10, minTimeoutMs: 100, maxTimeoutMs: 200 },
    });
    mig.on('shard:retry', (e) => retries.push(`${e.shardId}:${e.error.causeCode}`));
    const report = await mig.run();
    clearTimeout(release);
    expect(report.totals.failed).toBe(0);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((r) => r === 'pg-0:55P03')).toBe(true);
    const cols = await q(0).query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'lt_t' AND column_name = 'y'`,
    );
    expect(cols.rowCount).toBe(1);
  });

  it('a child process holding the lock is killed with SIGKILL; another runner takes over without repair', async () => {
    const e = engine();
    const shard = e.shard('pg-0');
    await shard.ledger.init();
    const script = fileURLToPath(new URL('./fixtures/hold-lock.mjs', import.meta.url));
    const child = spawn(process.execPath, [script, dbs.urls[0]!, 'kill-test'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const token = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /locked (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
      setTimeout(() => reject(new Error('child did not lock in 15 s')), 15_000);
    });
    const held = await shard.lock.status('kill-test');
    expect(held?.owner).toBe(`child:${child.pid}`);
    await expect(acquireLock(shard.lock, 'kill-test', { owner: 'me', ttlMs: 5_000, waitMs: 0 })).rejects.toMatchObject({
      code: ErrorCode.LockTimeout,
    });
    child.kill('SIGKILL');
    // acquire() throws MIGRATE_LOCK_TIMEOUT unless the dead holder's lock is taken within waitMs.
    const lease = await acquireLock(shard.lock, 'kill-test', { owner: 'me', ttlMs: 5_000, waitMs: 5_000 });
    expect(lease.token).toBeGreaterThan(token);
    expect((await shard.lock.status('kill-test'))?.owner).toBe('me');
    await lease.renew();
    await lease.release();
    expect(await shard.lock.status('kill-test')).toBeNull();
  }, 30_000);

  it('forceRelease ends the holding session and fences it out; a stale holder row does not count', async () => {
    const a = engine().shard('pg-1');
    const b = engine().shard('pg-1');
    await a.ledger.init();
    const lease = await acquireLock(a.lock, 'force-test', { owner: 'old', ttlMs: 5_000, waitMs: 0 });
    expect(await b.lock.forceRelease('force-test')).toBe(true);
    await expect(lease.renew()).rejects.toMatchObject({ code: ErrorCode.StaleLease });
    const record = {
      id: 'f',
      state: 'applied' as const,
      checksum: 'c',
      startedAt: null,
      finishedAt: null,
      runnerId: null,
      checkpoint: null,
      counts: null,
      error: null,
      seq: 1,
    };
    await expect(a.ledger.put(record, { lockName: 'force-test', token: lease.token })).rejects.toMatchObject({
      code: ErrorCode.StaleLease,
    });
    expect(await b.lock.status('force-test')).toBeNull();
    // A holder row left by a dead session is not a holder.
    await q(1).query(
      `INSERT INTO mcp_migrate_locks (lock_name, owner, token, since, heartbeat_at) VALUES ('ghost', 'dead', 1, now(), now())`,
    );
    expect(await b.lock.status('ghost')).toBeNull();
    const next = await acquireLock(b.lock, 'force-test', { owner: 'new', ttlMs: 5_000, waitMs: 0 });
    expect(next.token).toBeGreaterThan(lease.token);
    await next.release();
    await lease.release();
  });

  it('rejects an identifier carrying SQL before sending anything', async () => {
    await q(0).query('CREATE TABLE x (id integer PRIMARY KEY)');
    const data = engine().shard('pg-0').data;
    for (const call of [
      () => data.scan({ name: 'users; drop table x', key: ['id'] }, undefined, 10),
      () => data.scan({ name: 'x', key: ['id; drop table x'] }, undefined, 10),
      () => data.write({ name: 'x', key: ['id'] }, [{ id: 1, 'n) ; drop table x; --': 1 }]),
      () => data.scan({ name: 'x', key: ['id'], filter: { '1=1 or id': 1 } }, undefined, 10),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(isMigrateError(error) && error.code).toBe(ErrorCode.Config);
      expect((error as Error).message).toMatch(/not a plain SQL identifier/);
    }
    expect((await q(0).query(`SELECT to_regclass('public.x') AS t`)).rows[0].t).toBe('x');
  });

  it('a batch with a row violating a unique constraint fails; no row is silently dropped', async () => {
    await q(0).query('CREATE TABLE uq (id integer PRIMARY KEY, email text UNIQUE)');
    await q(0).query(`INSERT INTO uq VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x')`);
    const data = engine().shard('pg-0').data;
    const error = await data
      .write({ name: 'uq', key: ['id'] }, [
        { id: 1, email: 'a2@x' },
        { id: 2, email: 'c@x' },
      ])
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('23505');
    expect((await q(0).query('SELECT email FROM uq ORDER BY id')).rows.map((r) => r.email)).toEqual([
      'a@x',
      'b@x',
      'c@x',
    ]);
    const m = defineDataMigration({
      id: 'uq-0001',
      engine: 'postgres',
      table: 'uq',
      key: 'id',
      transform: (row: Row) => ({ ...row, email: 'same@x' }),
      scope: { shards: ['pg-0'] },
    });
    await expect(migrator([m]).run()).rejects.toBeInstanceOf(RunFailedError);
    expect((await q(0).query('SELECT email FROM uq ORDER BY id')).rows.map((r) => r.email)).toEqual([
      'a@x',
      'b@x',
      'c@x',
    ]);
  });

  it('scans text and composite keys in bytewise (COLLATE "C") order, keys ≤ 0 included, page by page', async () => {
    await q(1).query(`CREATE TABLE tk (k text COLLATE "en-x-icu" PRIMARY KEY, v integer)`);
    const keys = ['a', 'B', '_', 'é', 'Z', 'aa', '', '0', '-1', 'b'];
    await q(1).query(`INSERT INTO tk SELECT k, 1 FROM unnest($1::text[]) AS k`, [keys]);
    const data = engine().shard('pg-1').data;
    const scanned: string[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      const rows = await data.scan({ name: 'tk', key: ['k'] }, after, 3);
      scanned.push(...rows.map((r) => r.k as string));
      if (rows.length < 3) break;
      after = [rows.at(-1)!.k];
    }
    const bytewise = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(scanned).toEqual(bytewise);
    const icu = (await q(1).query('SELECT k FROM tk ORDER BY k')).rows.map((r) => r.k);
    expect(icu).not.toEqual(bytewise); // the column's own collation would have paged differently

    await q(1).query(`CREATE TABLE ck (a integer, b text COLLATE "en-x-icu", v integer, PRIMARY KEY (a, b))`);
    const pairs: [number, string][] = [
      [-2, 'b'],
      [-2, 'B'],
      [0, '_'],
      [0, 'a'],
      [1, 'é'],
      [1, 'z'],
      [-5, 'x'],
    ];
    for (const [a, b] of pairs) await q(1).query('INSERT INTO ck VALUES ($1, $2, 0)', [a, b]);
    const got: string[] = [];
    after = undefined;
    for (;;) {
      const rows = await data.scan({ name: 'ck', key: ['a', 'b'] }, after, 2);
      got.push(...rows.map((r) => `${r.a as number}/${r.b as string}`));
      if (rows.length < 2) break;
      after = [rows.at(-1)!.a, rows.at(-1)!.b];
    }
    expect(got).toEqual(['-5/x', '-2/B', '-2/b', '0/_', '0/a', '1/z', '1/é']);
    expect(await data.count({ name: 'ck', key: ['a', 'b'] }, { after: [-2, 'B'], upTo: [0, 'a'] })).toBe(3);
  });

  /** Every column of `table` as the server prints it, per row (`col::text`, SQL NULL as null). */
  const serverText = async (i: number, table: string) => {
    const cols = (
      await q(i).query<{ c: string }>(
        `SELECT attname AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [table],
      )
    ).rows.map((r) => r.c);
    return (
      await q(i).query(`SELECT ${cols.map((c) => `"${c}"::text AS "${c}"`).join(', ')} FROM "${table}" ORDER BY 1`)
    ).rows as Record<string, string | null>[];
  };
  const TY_DDL = `CREATE TABLE ty (
      id bigint PRIMARY KEY, j jsonb, js jsonb, jz jsonb, jt json, ts timestamptz, t timestamp, d date, num numeric(30,10), big bigint,
      ints integer[], texts text[], b bytea, f double precision, f4 real, iv interval, u uuid, flag boolean)`;
  const TY_ROWS = `INSERT INTO ty VALUES
      (9007199254740993, '{"a":[1,2,{"b":null}],"s":"x","n":123456789012345678901234567890}', '"just a string"', '{"z": 0.0}', '{"z":1,  "a":null}',
       '2026-01-02 03:04:05.123456+00', '2026-01-02 03:04:05.654321', '2026-02-03', 12345678901234567890.0123456789, -9007199254740993,
       '{1,NULL,3}', '{"a,b","c\\"d",NULL}', '\\x00ff10', '-0', '-0', '1 day 02:03:04.500001', '6f1c1d5e-0000-4000-8000-000000000001', true),
      (-1, NULL, 'null', '0.0', 'null', '1969-12-31 23:59:59.999999+00', NULL, NULL, NULL, NULL, '{}', NULL, NULL, 'NaN', 'Infinity', NULL, NULL, false)`;

  it('update and compareAndSet.writeIfUnchanged write only the changed column: every other column keeps its server text (JSON null, -0, µs, jsonb 0.0, long numbers, json)', async () => {
    await q(0).query(TY_DDL);
    await q(0).query(TY_ROWS);
    const data = engine().shard('pg-0').data;
    const target = { name: 'ty', key: ['id'] };
    const before = await serverText(0, 'ty');
    const rows = await data.scan(target, undefined, 10);
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0]!)).toEqual(Object.keys(before[0]!)); // the row version is not a column
    const flip = (r: Row) => ({ key: [r.id], before: r, set: { flag: !r.flag }, unset: [] });
    expect(await data.compareAndSet!.writeIfUnchanged(target, rows.map(flip))).toEqual({ written: 2, conflicts: [] });
    const flipped = await serverText(0, 'ty');
    expect(flipped).toEqual(before.map((r) => ({ ...r, flag: r.flag === 'true' ? 'false' : 'true' })));
    // The same patches again: the rows are no longer the ones read, so nothing is written.
    expect(await data.compareAndSet!.writeIfUnchanged(target, rows.map(flip))).toEqual({
      written: 0,
      conflicts: [['-1'], ['9007199254740993']],
    });
    expect(await serverText(0, 'ty')).toEqual(flipped);
    // The plain update (rollback through reverse) flips back; every other column still untouched.
    expect(await data.update(target, (await data.scan(target, undefined, 10)).map(flip))).toBe(2);
    expect(await serverText(0, 'ty')).toEqual(before);
  });

  it('backups are server-side copies (serverCopy) and serverCopy.restore puts every value back exactly, changed ones included', async () => {
    const data = engine().shard('pg-0').data;
    const target = { name: 'ty', key: ['id'] };
    const backup = { name: 'mcp_backup_ty', key: ['id'], backupOf: target };
    const before = await serverText(0, 'ty');
    const rows = await data.scan(target, undefined, 10);
    const keys = rows.map((r) => [r.id]);
    expect(await data.serverCopy!.copy(target, backup, keys)).toBe(2);
    expect(await serverText(0, 'mcp_backup_ty')).toEqual(before);
    // Change every column a JS round trip would lose, in the server.
    await q(0).query(
      `UPDATE ty SET j = '{}', js = NULL, jz = '0', jt = '{}', ts = now(), t = now(), f = 0, f4 = 0, flag = NOT flag`,
    );
    expect(await serverText(0, 'ty')).not.toEqual(before);
    expect(await data.serverCopy!.copy(target, backup, keys)).toBe(2); // the first copy wins
    expect(await serverText(0, 'mcp_backup_ty')).toEqual(before);
    expect(await data.serverCopy!.restore(backup, target, undefined, 10)).toEqual({
      restored: 2,
      last: ['9007199254740993'],
    });
    expect(await serverText(0, 'ty')).toEqual(before);
    await data.drop(backup);
    await data.drop(backup);
    expect(await data.scan(backup, undefined, 10)).toEqual([]);
    // drop never drops a table of the application.
    await expect(data.drop(target)).rejects.toMatchObject({ code: 'MIGRATE_DEFINITION', field: 'backupOf' });
    expect(await serverText(0, 'ty')).toEqual(before);
  });

  it('checksums tell apart values JS reads alike: float -0/0, JSON null/SQL NULL, jsonb 0.0/0, microseconds, json text', async () => {
    await q(1).query(`CREATE TABLE cs (id integer PRIMARY KEY, f float8, j jsonb, jt json, ts timestamptz)`);
    const data = engine().shard('pg-1').data;
    const target = { name: 'cs', key: ['id'] };
    const sums = new Set<string>();
    const variants = [
      `(1, 0, '0', '{"a":1}', '2026-01-01 00:00:00.123+00')`,
      `(1, '-0', '0', '{"a":1}', '2026-01-01 00:00:00.123+00')`,
      `(1, 0, '0.0', '{"a":1}', '2026-01-01 00:00:00.123+00')`,
      `(1, 0, 'null', '{"a":1}', '2026-01-01 00:00:00.123+00')`,
      `(1, 0, NULL, '{"a":1}', '2026-01-01 00:00:00.123+00')`,
      `(1, 0, '0', '{"a": 1}', '2026-01-01 00:00:00.123+00')`,
      `(1, 0, '0', '{"a":1}', '2026-01-01 00:00:00.123001+00')`,
    ];
    for (const v of variants) {
      await q(1).query('TRUNCATE cs');
      await q(1).query(`INSERT INTO cs VALUES ${v}`);
      sums.add((await data.checksum(target)).hash);
    }
    expect(sums.size).toBe(variants.length);
    // Equal rows in a table with another column order checksum equally (columns are hashed by name).
    await q(1).query(`CREATE TABLE cs2 (ts timestamptz, jt json, j jsonb, f float8, id integer PRIMARY KEY)`);
    await q(1).query(`INSERT INTO cs2 (id, f, j, jt, ts) SELECT id, f, j, jt, ts FROM cs`);
    expect(await data.checksum({ name: 'cs2', key: ['id'] })).toEqual(await data.checksum(target));
  });

  it('write (a whole-row upsert from JS values, used only where the server cannot restore) keeps the stored microseconds of timestamps it writes unchanged', async () => {
    await q(0).query(`CREATE TABLE wr (id integer PRIMARY KEY, ts timestamptz, lt timestamp, n numeric, txt text)`);
    await q(0).query(
      `INSERT INTO wr VALUES (1, '2026-01-02 03:04:05.123456+00', '1969-07-20 20:17:40.654321', 12.50, 'a'), (2, NULL, NULL, NULL, NULL)`,
    );
    const data = engine().shard('pg-0').data;
    const target = { name: 'wr', key: ['id'] };
    const before = await serverText(0, 'wr');
    const rows = await data.scan(target, undefined, 10);
    expect(
      await data.write(
        target,
        rows.map((r) => ({ ...r, txt: r.txt === null ? null : 'b' })),
      ),
    ).toBe(2);
    expect(await serverText(0, 'wr')).toEqual(before.map((r) => ({ ...r, txt: r.txt === null ? null : 'b' })));
  });

  it('checkpoints with Date, bigint-as-text and text keys round-trip through the ledger', async () => {
    const shard = engine().shard('pg-1');
    await shard.ledger.init();
    const lease = await acquireLock(shard.lock, 'cp', { owner: 'me', ttlMs: 5_000, waitMs: 0 });
    const after = [new Date('2026-03-04T05:06:07.089Z'), '9007199254740993', 'ü', -0.5, 7n];
    const record = {
      id: 'cp-1',
      state: 'running' as const,
      checksum: 'c',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      runnerId: 'me',
      checkpoint: { after, fingerprint: 'fp', direction: 'up' as const },
      counts: { read: 1, written: 1, skipped: 0 },
      error: null,
      seq: 3,
    };
    await shard.ledger.put(record, { lockName: 'cp', token: lease.token });
    expect((await shard.ledger.list()).find((r) => r.id === 'cp-1')).toEqual(record);
    await shard.ledger.delete('cp-1', { lockName: 'cp', token: lease.token });
    expect((await shard.ledger.list()).find((r) => r.id === 'cp-1')).toBeUndefined();
    await lease.release();
  });

  it('copyRows moves a tenant between databases with COPY; checksums are equal', async () => {
    const ddl = `CREATE TABLE channels (id bigint PRIMARY KEY, tenant_id text NOT NULL, config jsonb, created_at timestamptz DEFAULT now(), secret bytea)`;
    await q(0).query(ddl);
    await q(2).query(ddl);
    await q(0).query(`INSERT INTO channels (id, tenant_id, config, secret)
      SELECT g, CASE WHEN g % 3 = 0 THEN 't-1' ELSE 't-2' END, jsonb_build_object('n', g, 's', 'ü'), decode(md5(g::text), 'hex') FROM generate_series(-50, 2000) g`);
    const source = postgresEngine({ shards: [{ id: 'src', pool: q(0) }] });
    const dest = postgresEngine({ shards: [{ id: 'dst', pool: q(2) }] });
    const moved = await copyRows(q(0), q(2), 'channels', { where: 'tenant_id = $1', params: ['t-1'] });
    const expected = Number((await q(0).query(`SELECT count(*) AS n FROM channels WHERE tenant_id = 't-1'`)).rows[0].n);
    expect(expected).toBeGreaterThan(600);
    expect(moved.rows).toBe(expected);
    const target = { name: 'channels', key: ['id'], filter: { tenant_id: 't-1' } };
    const a = await source.shard('src').data.checksum(target);
    const b = await dest.shard('dst').data.checksum(target);
    expect(a.count).toBe(expected);
    expect(b).toEqual(a);
    await expect(copyRows(q(0), q(2), 'channels; drop table x')).rejects.toMatchObject({ code: ErrorCode.Config });
    const injected = await copyRows(q(0), q(2), 'channels', { where: 'tenant_id = $1', params: ["x' OR '1'='1"] });
    expect(injected.rows).toBe(0);
  });
});
