/**
 * The adapter conformance suite: the same tests over every engine adapter (memory, PostgreSQL on a
 * real server and on pg-mem, MongoDB on a real MongoDB-wire server). Each `*.test.ts` beside this
 * file calls {@link runConformance} with its harness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertEqualData,
  compareData,
  createMigrator,
  defineDataMigration,
  defineMigration,
  ErrorCode,
  isMigrateError,
  RunFailedError,
  type EngineAdapter,
  type Migration,
  type MigratorConfig,
  type Row,
} from '@mcp/migrate-core';
import { acquireLock } from '@mcp/migrate-core/engine';
import type { Fixture, Harness, SuiteRow } from './harness.js';
import { shouldRun } from '../support/services.js';

export interface ConformanceOptions {
  /** Cases to skip by name, with the reason (drizzle's skipTests pattern). */
  readonly skip?: Readonly<Record<string, string>>;
  /** Multiplies every case's timeout, for servers that are correct but slow (FerretDB). Default 1. */
  readonly timeoutScale?: number;
  /**
   * Rows per shard of the verification case (default {@link VERIFICATION_ROWS}). A smaller table only
   * with a reason, which the case's name then shows (FerretDB: no filter pushdown).
   */
  readonly verificationRows?: { readonly rows: number; readonly reason: string };
}

/** Name of the case that races tryAcquire calls (a harness may skip it by this name, with a reason). */
export const CONCURRENT_TRY_ACQUIRE = 'lock: of 20 concurrent tryAcquire calls on a free lock exactly one wins';

/** Concurrent `run()` calls of the lock case: enough to crowd the run lock and the shard leases. */
export const CONCURRENT_RUNNERS = 50;

/** Rows per shard of the verification case: enough for several leaves of the bisection. */
export const VERIFICATION_ROWS = 3_000;

/**
 * The ledger/lock objects an engine created on a shard, as comparable definitions with their names
 * left out (so that two indexes on the same columns show up as a duplicate).
 */
async function catalog(engineName: string, handle: unknown): Promise<string[]> {
  if (engineName === 'postgres') {
    const pg = handle as { query(sql: string): Promise<{ rows: { kind: string; def: string }[] }> };
    const { rows } = await pg
      .query(
        `SELECT 'table' AS kind, tablename AS def FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
       UNION ALL SELECT 'index', regexp_replace(indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ', 'CREATE \\1INDEX ') FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
      )
      .catch(async () =>
        // pg-mem has no pg_tables/pg_indexes: tables only.
        pg.query(
          `SELECT 'table' AS kind, table_name AS def FROM information_schema.tables WHERE table_schema = 'public'`,
        ),
      );
    return rows.map((r) => `${r.kind}:${r.def}`).sort();
  }
  if (engineName === 'mongodb') {
    const db = handle as {
      listCollections(): { toArray(): Promise<{ name: string }[]> };
      collection(n: string): { indexes(): Promise<{ key: unknown; unique?: boolean }[]> };
    };
    const out: string[] = [];
    for (const { name } of await db.listCollections().toArray()) {
      out.push(`collection:${name}`);
      for (const ix of await db.collection(name).indexes())
        out.push(`index:${name}:${JSON.stringify(ix.key)}:${ix.unique === true}`);
    }
    return out.sort();
  }
  return []; // memory: nothing to duplicate (maps keyed by name)
}

export async function runConformance(harness: Harness, options: ConformanceOptions = {}): Promise<void> {
  const available = await harness.available();
  const enabled = shouldRun({ name: harness.name, available });
  const test = (name: string, fn: () => Promise<void>, timeout?: number) => {
    const reason = options.skip?.[name];
    if (!enabled || reason) it.skip(reason ? `${name} (skipped: ${reason})` : name, fn);
    else it(name, fn, (timeout ?? 60_000) * (options.timeoutScale ?? 1));
  };

  const runners = CONCURRENT_RUNNERS;

  describe(`conformance: ${harness.name}`, () => {
    let fx: Fixture;
    const engines: EngineAdapter[] = [];
    const engine = () => {
      const e = fx.engine();
      engines.push(e);
      return e;
    };
    const migrator = (migrations: readonly Migration[], extra: Partial<MigratorConfig> = {}) =>
      createMigrator({
        engines: { [fx.engineName]: engine() },
        migrations,
        lock: { ttlMs: 5_000, waitMs: 30_000 },
        retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 20 },
        ...extra,
      });

    const setup = async (shards = 2) => {
      fx = await harness.setup(shards);
    };
    afterEach(async () => {
      await Promise.allSettled(engines.splice(0).map((e) => e.close()));
      await fx?.teardown();
    });

    /** A migration that creates `table` and logs its own application into `log`. */
    const logged = (id: string, extra: Partial<Parameters<typeof defineMigration>[0]> = {}) =>
      defineMigration({
        id,
        engine: fx.engineName,
        up: async (h) =>
          fx.ops.insert(h, 'mig_log', { id: hashId(`${id}:${Math.random()}`), name: id, n: 1, note: null }),
        down: async (h) =>
          fx.ops.insert(h, 'mig_log', {
            id: hashId(`${id}:down:${Date.now()}:${Math.random()}`),
            name: `${id}:down`,
            n: 1,
            note: null,
          }),
        ...extra,
      });
    const base = () => [
      defineMigration({
        id: '0000-create-log',
        engine: fx.engineName,
        up: async (h) => fx.ops.createTable(h, 'mig_log'),
        down: async (h) => fx.ops.dropTable(h, 'mig_log'),
      }),
    ];
    const logRows = async (shardId: string) => (await fx.rows(shardId, 'mig_log')).map((r) => r.name).sort();

    test('ledger: init is idempotent and safe when called concurrently: no duplicate table, index or record', async () => {
      await setup(1);
      const shards = Array.from({ length: 4 }, () => engine().shard(fx.shardIds[0]!));
      await Promise.all(shards.map(async (s) => s.connect()));
      await Promise.all(shards.map((s) => s.ledger.init()));
      const objects = async () => {
        let names: string[] = [];
        await shards[0]!.execute(
          { migrationId: 'conf-catalog', direction: 'up', transaction: false },
          async (h) => void (names = await catalog(fx.engineName, h)),
        );
        return names;
      };
      const afterConcurrent = await objects();
      if (fx.engineName !== 'memory')
        expect(afterConcurrent.length, 'the catalog query found the ledger').toBeGreaterThan(0);
      expect(
        afterConcurrent.filter((o, i) => afterConcurrent.indexOf(o) !== i),
        'duplicate objects after concurrent init',
      ).toEqual([]);
      await shards[0]!.ledger.init();
      expect(await objects()).toEqual(afterConcurrent);
      expect(await shards[0]!.ledger.list()).toEqual([]);
      // One record per id however many runners initialised the ledger: the key is still unique.
      const lease = await acquireLock(shards[1]!.lock, 'conf:init', { owner: 'a', ttlMs: 5_000, waitMs: 0 });
      const record = {
        id: 'x1',
        state: 'applied' as const,
        checksum: 'c1',
        startedAt: null,
        finishedAt: null,
        runnerId: 'a',
        checkpoint: null,
        counts: null,
        error: null,
        seq: 1,
      };
      const fence = { lockName: lease.name, token: lease.token };
      for (const [i, s] of shards.entries()) await s.ledger.put({ ...record, checksum: `c${i}` }, fence);
      const listed = await shards[2]!.ledger.list();
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ id: 'x1', checksum: `c${shards.length - 1}` });
      await lease.release();
    });

    test('ledger: put/list round-trips a record; a stale fence is refused and writes nothing', async () => {
      await setup(1);
      const s = engine().shard(fx.shardIds[0]!);
      await s.connect();
      await s.ledger.init();
      const a = await acquireLock(s.lock, 'conf:fence', { owner: 'a', ttlMs: 5_000, waitMs: 0 });
      const record = {
        id: 'x1',
        state: 'applied' as const,
        checksum: 'c1',
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:01.000Z',
        runnerId: 'a',
        checkpoint: { after: [-3, 'ü'], fingerprint: 'f', direction: 'up' as const },
        counts: { read: 3, written: 2, skipped: 1 },
        error: null,
        seq: 1,
      };
      await s.ledger.put(record, { lockName: a.name, token: a.token });
      expect(await s.ledger.list()).toEqual([record]);
      expect(await s.lock.forceRelease('conf:fence')).toBe(true);
      const b = await acquireLock(s.lock, 'conf:fence', { owner: 'b', ttlMs: 5_000, waitMs: 0 });
      expect(b.token).toBeGreaterThan(a.token);
      const stale = s.ledger.put({ ...record, checksum: 'c2' }, { lockName: a.name, token: a.token });
      await expect(stale).rejects.toMatchObject({ code: ErrorCode.StaleLease });
      await expect(s.ledger.delete('x1', { lockName: a.name, token: a.token })).rejects.toMatchObject({
        code: ErrorCode.StaleLease,
      });
      expect((await s.ledger.list())[0]!.checksum).toBe('c1');
      await s.ledger.put({ ...record, checksum: 'c3' }, { lockName: b.name, token: b.token });
      expect((await s.ledger.list())[0]!.checksum).toBe('c3');
      await b.release();
    });

    test('lock: exclusive, times out naming the holder, and passes on with a larger token after release', async () => {
      await setup(1);
      const s1 = engine().shard(fx.shardIds[0]!);
      const s2 = engine().shard(fx.shardIds[0]!);
      await Promise.all([s1.connect(), s2.connect()]);
      await Promise.all([s1.ledger.init(), s2.ledger.init()]);
      const a = await acquireLock(s1.lock, 'conf:lock', { owner: 'runner-a', ttlMs: 5_000, waitMs: 0 });
      const status = await s2.lock.status('conf:lock');
      expect(status).toMatchObject({ owner: 'runner-a', token: a.token });
      const err = await acquireLock(s2.lock, 'conf:lock', { owner: 'runner-b', ttlMs: 5_000, waitMs: 150 }).catch(
        (e: unknown) => e,
      );
      expect(isMigrateError(err) && err.code).toBe(ErrorCode.LockTimeout);
      expect(String((err as Error).message)).toContain('runner-a');
      await a.release();
      const b = await acquireLock(s2.lock, 'conf:lock', { owner: 'runner-b', ttlMs: 5_000, waitMs: 2_000 });
      expect(b.token).toBeGreaterThan(a.token);
      await b.release();
      expect(await s1.lock.status('conf:lock')).toBeNull();
    });

    test('lock: tryAcquire returns null while held, then a token greater than every earlier one after release and after forceRelease', async () => {
      await setup(1);
      const s1 = engine().shard(fx.shardIds[0]!);
      const s2 = engine().shard(fx.shardIds[0]!);
      await Promise.all([s1.connect(), s2.connect()]);
      await Promise.all([s1.ledger.init(), s2.ledger.init()]);
      const tokens: number[] = [];
      const take = async (s: typeof s1, owner: string) => {
        const lease = await s.lock.tryAcquire('conf:try', { owner, ttlMs: 5_000 });
        expect(lease, `${owner} takes the free lock`).not.toBeNull();
        expect(lease!.owner).toBe(owner);
        expect(lease!.token, `token of ${owner} after ${tokens.join(', ')}`).toBeGreaterThan(Math.max(0, ...tokens));
        tokens.push(lease!.token);
        return lease!;
      };
      const a = await take(s1, 'runner-a');
      expect(await s2.lock.tryAcquire('conf:try', { owner: 'runner-b', ttlMs: 5_000 })).toBeNull();
      expect(await s1.lock.tryAcquire('conf:try', { owner: 'runner-a', ttlMs: 5_000 }), 'not re-entrant').toBeNull();
      expect(await s2.lock.status('conf:try')).toMatchObject({ owner: 'runner-a', token: a.token });
      await a.release();
      const b = await take(s2, 'runner-b');
      expect(await s1.lock.tryAcquire('conf:try', { owner: 'runner-a', ttlMs: 5_000 })).toBeNull();
      expect(await s1.lock.forceRelease('conf:try')).toBe(true);
      await expect(b.renew()).rejects.toMatchObject({ code: ErrorCode.StaleLease });
      const c = await take(s1, 'runner-c');
      await b.release();
      expect(await s2.lock.status('conf:try'), 'a lost lease releasing changes nothing').toMatchObject({
        owner: 'runner-c',
        token: c.token,
      });
      await c.release();
      expect(await s2.lock.status('conf:try')).toBeNull();
    });

    test('lock: tryAcquire after a lease expired (not renewed past its ttl) gives a greater token; the old lease is lost', async () => {
      await setup(1);
      const s1 = engine().shard(fx.shardIds[0]!);
      const s2 = engine().shard(fx.shardIds[0]!);
      await Promise.all([s1.connect(), s2.connect()]);
      await Promise.all([s1.ledger.init(), s2.ledger.init()]);
      const a = (await s1.lock.tryAcquire('conf:ttl', { owner: 'runner-a', ttlMs: 300 }))!;
      expect(a).not.toBeNull();
      const held = await s2.lock.status('conf:ttl');
      expect(held).toMatchObject({ owner: 'runner-a', token: a.token });
      if (held!.expiresAt === null) {
        // A session lock (PostgreSQL advisory lock) does not expire while its session lives: it is
        // still refused after the ttl, and passes on with the session's end (see the SIGKILL tests).
        await new Promise((r) => setTimeout(r, 450));
        expect(await s2.lock.tryAcquire('conf:ttl', { owner: 'runner-b', ttlMs: 5_000 })).toBeNull();
        await a.release();
        return;
      }
      expect(await s2.lock.tryAcquire('conf:ttl', { owner: 'runner-b', ttlMs: 5_000 })).toBeNull();
      const deadline = Date.now() + 10_000;
      let b: Awaited<ReturnType<typeof s2.lock.tryAcquire>> = null;
      while (!b && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        b = await s2.lock.tryAcquire('conf:ttl', { owner: 'runner-b', ttlMs: 5_000 });
      }
      expect(b, 'the expired lease is taken').not.toBeNull();
      expect(b!.token).toBeGreaterThan(a.token);
      await expect(a.renew()).rejects.toMatchObject({ code: ErrorCode.StaleLease });
      await a.release();
      expect(await s1.lock.status('conf:ttl')).toMatchObject({ owner: 'runner-b', token: b!.token });
      await b!.release();
    });

    test(CONCURRENT_TRY_ACQUIRE, async () => {
      await setup(1);
      const shards = Array.from({ length: 4 }, () => engine().shard(fx.shardIds[0]!));
      await Promise.all(shards.map((s) => s.connect()));
      await Promise.all(shards.map((s) => s.ledger.init()));
      const before = await acquireLock(shards[0]!.lock, 'conf:race', { owner: 'warm-up', ttlMs: 5_000, waitMs: 0 });
      await before.release();
      const leases = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          shards[i % shards.length]!.lock.tryAcquire('conf:race', { owner: `racer-${i}`, ttlMs: 5_000 }),
        ),
      );
      const won = leases.filter((l) => l !== null);
      expect(won).toHaveLength(1);
      expect(won[0]!.token).toBeGreaterThan(before.token);
      expect(await shards[1]!.lock.status('conf:race')).toMatchObject({ owner: won[0]!.owner, token: won[0]!.token });
      await won[0]!.release();
    });

    test('run: applies pending migrations on every shard; a second run applies nothing', async () => {
      await setup(3);
      const migrations = [...base(), logged('0001-a'), logged('0002-b', { dependsOn: ['0001-a'] })];
      const first = await migrator(migrations).run();
      expect(first.totals).toMatchObject({ applied: 9, failed: 0, notRun: 0 });
      for (const id of fx.shardIds) expect(await logRows(id)).toEqual(['0001-a', '0002-b']);
      const second = await migrator(migrations).run();
      expect(second.totals).toMatchObject({ applied: 0, skipped: 9 });
      for (const id of fx.shardIds) expect(await logRows(id)).toEqual(['0001-a', '0002-b']);
    });

    test(`concurrent runners: ${runners} run() calls at once apply each migration exactly once per shard; every other run saw it applied`, async () => {
      await setup(2);
      const migrations = [...base(), logged('0001-a'), logged('0002-b'), logged('0003-c', { dependsOn: ['0002-b'] })];
      const steps = migrations.length * fx.shardIds.length;
      // One engine per run() (a replica each); no waitMs: a waiter waits as long as the holder is alive.
      const reports = await Promise.all(
        Array.from({ length: runners }, () => migrator(migrations, { concurrency: 2, lock: { ttlMs: 5_000 } }).run()),
      );
      for (const r of reports) {
        expect(r.ok, `run ${r.runnerId}: ${JSON.stringify(r.totals)}`).toBe(true);
        for (const shard of r.shards) {
          for (const m of shard.migrations)
            expect(['applied', 'skipped'], `${m.migrationId} on ${shard.shardId} in run ${r.runnerId}`).toContain(
              m.status,
            );
        }
        expect(r.totals.applied + r.totals.skipped).toBe(steps);
      }
      expect(reports.reduce((n, r) => n + r.totals.applied, 0)).toBe(steps);
      expect(reports.filter((r) => r.totals.applied > 0)).toHaveLength(1);
      expect(reports.filter((r) => r.waitedForLock).length, 'runs that waited for the run lock').toBeGreaterThan(0);
      for (const id of fx.shardIds) expect(await logRows(id)).toEqual(['0001-a', '0002-b', '0003-c']);
    }, 120_000);

    test('plan refusals: drift and applied-but-missing-from-code are refused, naming migration and shard', async () => {
      await setup(1);
      const migrations = [...base(), logged('0001-a')];
      await migrator(migrations).run();
      const edited = [
        ...base(),
        defineMigration({
          id: '0001-a',
          engine: fx.engineName,
          up: async () => {
            /* edited */
          },
        }),
      ];
      const drift = await migrator(edited)
        .plan()
        .catch((e: unknown) => e);
      expect(drift).toMatchObject({ code: ErrorCode.Drift, migrationId: '0001-a', shardId: fx.shardIds[0] });
      const missing = await migrator(base())
        .run()
        .catch((e: unknown) => e);
      expect(missing).toMatchObject({
        code: ErrorCode.MissingFromCode,
        migrationId: '0001-a',
        shardId: fx.shardIds[0],
      });
      expect(await logRows(fx.shardIds[0]!)).toEqual(['0001-a']);
      const warned = await migrator(edited, { drift: 'warn' }).plan();
      expect(warned.pending).toBe(0);
      expect(warned.warnings[0]).toContain('0001-a');
    });

    test('failure: recorded as failed in the shard ledger with the error; a fixed migration re-runs', async () => {
      await setup(2);
      const boom = defineMigration({
        id: '0001-boom',
        engine: fx.engineName,
        up: async () => {
          throw new Error('syntax error near "SELEC" password=hunter2');
        },
      });
      const err = await migrator([...base(), boom], { onFailure: 'continue' })
        .run()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunFailedError);
      const report = (err as RunFailedError<{ totals: { failed: number } }>).report;
      expect(report.totals.failed).toBe(2);
      const status = await migrator([...base(), boom]).status();
      for (const s of status.shards) {
        const rec = s.migrations.find((m) => m.id === '0001-boom')!;
        expect(rec.state).toBe('failed');
        expect(rec.error?.message).toContain('SELEC');
        expect(rec.error?.message).not.toContain('hunter2');
      }
      const fixed = [...base(), logged('0001-boom')];
      const again = await migrator(fixed).run();
      expect(again.totals).toMatchObject({ applied: 2, failed: 0 });
      for (const id of fx.shardIds) expect(await logRows(id)).toEqual(['0001-boom']);
    });

    test('rollback: runs down on every shard latest first and marks rolled_back; run re-applies', async () => {
      await setup(2);
      const migrations = [...base(), logged('0001-a'), logged('0002-b')];
      await migrator(migrations).run();
      const rb = await migrator(migrations).rollback({ steps: 1 });
      expect(rb.totals.applied).toBe(2);
      const status = await migrator(migrations).status();
      for (const s of status.shards) {
        expect(s.migrations.find((m) => m.id === '0002-b')!.state).toBe('rolled_back');
        expect(s.migrations.find((m) => m.id === '0001-a')!.state).toBe('applied');
        expect(s.pending).toEqual(['0002-b']);
        expect(await logRows(s.shardId)).toEqual(['0001-a', '0002-b', '0002-b:down']);
      }
      await migrator(migrations).run();
      for (const id of fx.shardIds) expect((await logRows(id)).filter((n) => n === '0002-b')).toHaveLength(2);
    });

    test('data migration: keyset batches from no lower bound (keys ≤ 0 included), exact rollback from backup', async () => {
      await setup(2);
      await fx.createRowsTable('items');
      const rows: SuiteRow[] = [-5, -1, 0, 1, 2, 3, 7, 1000, 2_000_000_000].map((id) => ({
        id,
        name: `n${id}é`,
        n: id % 3 === 0 ? null : id,
        note: id === 0 ? null : 'x',
      }));
      for (const s of fx.shardIds) await fx.seed(s, 'items', rows);
      const before = await Promise.all(
        fx.shardIds.map((s) =>
          engine()
            .shard(s)
            .data.checksum({ name: 'items', key: [fx.keyField] }),
        ),
      );
      const upper = defineDataMigration({
        id: '0001-upper',
        engine: fx.engineName,
        table: 'items',
        key: fx.keyField,
        batchSize: 2,
        transform: (row: Row) =>
          typeof row.name === 'string' && row.id !== 3 && row._id !== 3
            ? { ...row, name: row.name.toUpperCase() }
            : null,
      });
      const report = await migrator([upper]).run();
      expect(report.totals.applied).toBe(2);
      for (const s of fx.shardIds) {
        const got = await fx.rows(s, 'items');
        expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id));
        expect(got.map((r) => r.name)).toEqual(rows.map((r) => (r.id === 3 ? r.name : r.name!.toUpperCase())));
      }
      const after = await engine()
        .shard(fx.shardIds[0]!)
        .data.checksum({ name: 'items', key: [fx.keyField] });
      expect(after.hash).not.toBe(before[0]!.hash);
      await migrator([upper]).rollback({ steps: 1 });
      const restored = await Promise.all(
        fx.shardIds.map((s) =>
          engine()
            .shard(s)
            .data.checksum({ name: 'items', key: [fx.keyField] }),
        ),
      );
      expect(restored).toEqual(before);
      for (const s of fx.shardIds) expect(await fx.rows(s, 'items')).toEqual(rows);
    });

    test('data migration: an interrupted run resumes from its checkpoint and re-does at most one batch', async () => {
      await setup(1);
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
      const first = migrator([m], { throttle: { minBatchSize: 5, maxBatchSize: 5 } });
      let batches = 0;
      first.on('batch', () => {
        if (++batches === 3) controller.abort(new Error('simulated crash'));
      });
      await expect(first.run({ signal: controller.signal })).rejects.toBeInstanceOf(Error);
      const mid = await fx.rows(fx.shardIds[0]!, 'items');
      const done = mid.filter((r) => r.n! >= 100).length;
      expect(done).toBeGreaterThanOrEqual(15);
      const callsBefore = calls;
      await migrator([m], { throttle: { minBatchSize: 5, maxBatchSize: 5 } }).run();
      // Bounded by what was actually written before the abort: the rest, plus at most one batch of 5.
      expect(calls - callsBefore).toBeGreaterThanOrEqual(40 - done);
      expect(calls - callsBefore).toBeLessThanOrEqual(40 - done + 5);
      const end = await fx.rows(fx.shardIds[0]!, 'items');
      expect(end.map((r) => r.n)).toEqual(rows.map((r) => r.n! + 100));
      expect(seen.every((n) => n < 100)).toBe(true);
    });

    const verification = options.verificationRows ?? { rows: VERIFICATION_ROWS, reason: '' };
    // The corrupted row is id 534, the 1035th row.
    if (verification.rows < 1_100) throw new Error(`verificationRows must be at least 1100, got ${verification.rows}`);
    const verificationName = `verification: one row corrupted after a migration is found by key, by predicate and by bisection (${verification.rows} rows per shard${verification.reason ? `, reduced from ${VERIFICATION_ROWS}: ${verification.reason}` : ''})`;
    test(
      verificationName,
      async () => {
        await setup(2);
        await fx.createRowsTable('items');
        const rows: SuiteRow[] = Array.from({ length: verification.rows }, (_, i) => ({
          id: i - 500,
          name: `r${i}`,
          n: i,
          note: null,
        }));
        const [a, b] = fx.shardIds as [string, string];
        await fx.seed(a, 'items', rows);
        await fx.seed(b, 'items', rows);
        const tag = defineDataMigration({
          id: '0001-tag',
          engine: fx.engineName,
          table: 'items',
          key: fx.keyField,
          batchSize: 500,
          transform: (row: Row) => (row.note === null ? { ...row, note: 'tagged' } : null),
          verify: (row: Row) => row.note === 'tagged' || `note is ${JSON.stringify(row.note)}`,
        });
        await migrator([tag]).run();
        expect((await migrator([tag]).verify({ data: true })).ok).toBe(true);
        await fx.seed(b, 'items', [{ id: 534, name: 'r1034', n: 1034, note: 'corrupted' }]);
        const report = await migrator([tag]).verify({ data: true });
        expect(report.ok).toBe(false);
        const check = report.data.find((d) => d.shardId === b)!;
        expect(check.rows).toBe(verification.rows);
        expect(check.failures).toEqual([{ key: [534], reason: 'note is "corrupted"' }]);
        expect(report.data.find((d) => d.shardId === a)!.failures).toEqual([]);
        const target = { name: 'items', key: [fx.keyField] };
        const left = { store: engine().shard(a).data, target };
        const right = { store: engine().shard(b).data, target };
        const diff = await compareData(left, right, { leafRows: 64 });
        expect(diff.equal).toBe(false);
        expect(diff.differences).toEqual([{ key: [534], kind: 'changed' }]);
        const err = await assertEqualData(left, right).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: ErrorCode.ValidationFailed });
        expect((err as { ranges: unknown[] }).ranges.length).toBeGreaterThan(0);
        await fx.seed(b, 'items', [{ id: 534, name: 'r1034', n: 1034, note: 'tagged' }]);
        expect((await compareData(left, right)).equal).toBe(true);
      },
      180_000,
    );

    test('checksum: independent of insertion order, sensitive to one changed value', async () => {
      await setup(2);
      await fx.createRowsTable('items');
      const rows: SuiteRow[] = Array.from({ length: 30 }, (_, i) => ({
        id: i,
        name: i % 2 ? 'a' : 'ab',
        n: i === 4 ? null : -i,
        note: i % 3 ? 'c' : null,
      }));
      const [a, b] = fx.shardIds as [string, string];
      await fx.seed(a, 'items', rows);
      await fx.seed(b, 'items', [...rows].reverse());
      const target = { name: 'items', key: [fx.keyField] };
      const ca = await engine().shard(a).data.checksum(target);
      const cb = await engine().shard(b).data.checksum(target);
      expect(ca).toEqual(cb);
      expect(ca.count).toBe(30);
      await fx.seed(b, 'items', [{ ...rows[7]!, note: 'changed' }]);
      expect((await engine().shard(b).data.checksum(target)).hash).not.toBe(ca.hash);
      const ranged = await engine()
        .shard(a)
        .data.checksum({ ...target }, { after: [9], upTo: [19] });
      expect(ranged.count).toBe(10);
      expect(
        await engine()
          .shard(a)
          .data.count(target, { after: [-1], upTo: [4] }),
      ).toBe(5);
    });
  });
}

/** A stable small integer id for a name (the suite's log table has integer keys). */
function hashId(text: string): number {
  let h = 0;
  for (const ch of text) h = (Math.imul(h, 31) + ch.codePointAt(0)!) | 0;
  return Math.abs(h);
}
