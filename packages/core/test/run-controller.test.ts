import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineMigration, type MigrationInput } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MigratorConfig } from '../src/run/config.js';
import { ErrorCode, isMigrateError, RollbackError, RunFailedError, StaleLeaseError } from '../src/errors/errors.js';
import { hashRouter } from '../src/router/router.js';
import { acquireLock } from '../src/lock/acquire.js';
import { createMemoryStore, type MemoryStore } from '../src/testing/index.js';
import type { RunReport } from '../src/run/report.js';
import type { MigratorEventName } from '../src/events/events.js';
import { QUICK, latch, manualClock, memory, rejection, statuses, tick, within } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

function migratorOf(
  engine: MigratorConfig['engines'][string],
  migrations: MigratorConfig['migrations'],
  extra: Partial<MigratorConfig> = {},
): Migrator {
  const m = createMigrator({ engines: { [engine.name]: engine }, migrations, ...QUICK, ...extra });
  open.push(m);
  return m;
}

/** A schema migration on engine `memory` that counts its applications per shard. */
function counted(id: string, counts: Map<string, number>, extra: Partial<MigrationInput> = {}) {
  return defineMigration({
    id,
    engine: 'memory',
    up: async (_h, ctx) => void counts.set(`${ctx.shard.id}/${id}`, (counts.get(`${ctx.shard.id}/${id}`) ?? 0) + 1),
    down: async (_h, ctx) =>
      void counts.set(`${ctx.shard.id}/${id}:down`, (counts.get(`${ctx.shard.id}/${id}:down`) ?? 0) + 1),
    ...extra,
  });
}

const ledgerStates = (store: MemoryStore, id: string) =>
  Object.fromEntries([...store.shard(id).ledger.values()].map((r) => [r.id, r.state]));

describe('run: basics', () => {
  it('applies everything once; a second run skips; the ledger records applied with checksum, runner and seq', async () => {
    const { engine, store, ids } = memory(3);
    const counts = new Map<string, number>();
    const ms = [counted('0001-a', counts), counted('0002-b', counts, { dependsOn: ['0001-a'] })];
    const first = await migratorOf(engine, ms, { runnerId: 'runner-1' }).run();
    expect(first.ok).toBe(true);
    expect(first.totals).toEqual({ applied: 6, skipped: 0, failed: 0, notRun: 0 });
    for (const id of ids) {
      const a = store.shard(id).ledger.get('0001-a')!;
      const b = store.shard(id).ledger.get('0002-b')!;
      expect(a).toMatchObject({ state: 'applied', checksum: ms[0]!.checksum, runnerId: 'runner-1', error: null });
      expect(b.seq).toBeGreaterThan(a.seq);
      expect(a.finishedAt).not.toBeNull();
    }
    const second = await migratorOf(engine, ms).run();
    expect(second.totals).toEqual({ applied: 0, skipped: 6, failed: 0, notRun: 0 });
    expect([...counts.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(counts.size).toBe(6);
  });

  it('plan() is a dry run: nothing is applied and no ledger is written', async () => {
    const { engine, store, ids } = memory(2);
    const counts = new Map<string, number>();
    const p = await migratorOf(engine, [counted('0001-a', counts)]).plan();
    expect(p.pending).toBe(2);
    expect(counts.size).toBe(0);
    for (const id of ids) expect(store.shard(id).ledger.size).toBe(0);
  });
});

describe('run: concurrency and strategies', () => {
  it('honours the concurrency limit: with 2 over 6 shards, at most 2 in flight, and 2 reached', async () => {
    const { engine } = memory(6);
    let inFlight = 0;
    let max = 0;
    const seen = new Set<string>();
    // The first step waits until a second one is in flight (a latch, not a sleep): the run can only
    // finish if the limit lets 2 run at once. A runner that ran them one by one would hang here, so
    // the latch gives up after 5 s with a message instead of relying on the test timeout.
    const two = latch();
    const m = defineMigration({
      id: '0001-slow',
      engine: 'memory',
      up: async (_h, ctx) => {
        inFlight++;
        max = Math.max(max, inFlight);
        seen.add(ctx.shard.id);
        if (inFlight === 2) two.open();
        await within(two.promise, 5_000, 'never 2 steps in flight');
        inFlight--;
      },
    });
    const report = await migratorOf(engine, [m], { concurrency: 2, retry: { retries: 0 } }).run();
    expect(report.totals.applied).toBe(6);
    expect(seen.size).toBe(6);
    expect(max).toBe(2);
  });

  const failOn = (shardId: string, counts: Map<string, number>) =>
    defineMigration({
      id: '0001-fragile',
      engine: 'memory',
      up: async (_h, ctx) => {
        if (ctx.shard.id === shardId) throw new Error(`broken on ${shardId}`);
        counts.set(ctx.shard.id, (counts.get(ctx.shard.id) ?? 0) + 1);
      },
    });

  it('canary: a failing first shard stops the run; the other shards are not run and their ledgers untouched', async () => {
    const { engine, store, ids } = memory(4);
    const counts = new Map<string, number>();
    const err = await rejection(
      migratorOf(engine, [failOn(ids[0]!, counts)], { strategy: 'canary', onFailure: 'continue' }).run(),
    );
    expect(err).toBeInstanceOf(RunFailedError);
    const report = (err as RunFailedError<RunReport>).report;
    expect(statuses(report)).toEqual({
      [`${ids[0]}/0001-fragile`]: 'failed',
      [`${ids[1]}/0001-fragile`]: 'not-run',
      [`${ids[2]}/0001-fragile`]: 'not-run',
      [`${ids[3]}/0001-fragile`]: 'not-run',
    });
    expect(report.shards[1]!.migrations[0]!.reason).toBe('canary failed');
    expect(counts.size).toBe(0);
    expect(store.shard(ids[0]!).ledger.get('0001-fragile')!.state).toBe('failed');
    for (const id of ids.slice(1)) expect(store.shard(id).ledger.size).toBe(0);
  });

  it('canary: a healthy canary lets the rest run', async () => {
    const { engine, ids } = memory(4);
    const counts = new Map<string, number>();
    const report = await migratorOf(engine, [failOn('none', counts)], { strategy: 'canary', canaryShards: 2 }).run();
    expect(report.totals.applied).toBe(4);
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
  });

  it('continue: healthy shards finish while the failing one fails and is recorded', async () => {
    const { engine, store, ids } = memory(4);
    const counts = new Map<string, number>();
    const err = await rejection(
      migratorOf(engine, [failOn(ids[1]!, counts)], { onFailure: 'continue', concurrency: 1 }).run(),
    );
    const report = (err as RunFailedError<RunReport>).report;
    expect(report.totals).toEqual({ applied: 3, skipped: 0, failed: 1, notRun: 0 });
    expect(report.ok).toBe(false);
    expect([...counts.keys()].sort()).toEqual([ids[0], ids[2], ids[3]].sort());
    const failed = store.shard(ids[1]!).ledger.get('0001-fragile')!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: ErrorCode.MigrationFailed });
    expect(failed.error!.message).toContain(`broken on ${ids[1]}`);
    expect(err.message).toContain(ids[1]);
  });

  it('halt: stops starting new shards after a failure', async () => {
    const { engine, store, ids } = memory(4);
    const counts = new Map<string, number>();
    const err = await rejection(
      migratorOf(engine, [failOn(ids[0]!, counts)], { onFailure: 'halt', concurrency: 1 }).run(),
    );
    const report = (err as RunFailedError<RunReport>).report;
    expect(report.totals).toEqual({ applied: 0, skipped: 0, failed: 1, notRun: 3 });
    expect(counts.size).toBe(0);
    for (const id of ids.slice(1)) expect(store.shard(id).ledger.size).toBe(0);
  });

  it('an earlier failure on a shard leaves its later migrations not-run there; a cross-engine dependent is not run', async () => {
    const store = createMemoryStore();
    const pg = memory(['p-0', 'p-1'], { name: 'postgres', store }).engine;
    const mg = memory(['g-0'], { name: 'mongodb', store }).engine;
    const applied: string[] = [];
    const ms = [
      defineMigration({
        id: '0001-pg',
        engine: 'postgres',
        up: async (_h, ctx) => {
          if (ctx.shard.id === 'p-1') throw new Error('no');
          applied.push(`${ctx.shard.id}/0001`);
        },
      }),
      defineMigration({
        id: '0002-pg',
        engine: 'postgres',
        up: async (_h, ctx) => void applied.push(`${ctx.shard.id}/0002`),
      }),
      defineMigration({
        id: '0003-mg',
        engine: 'mongodb',
        dependsOn: ['0001-pg'],
        up: async (_h, ctx) => void applied.push(`${ctx.shard.id}/0003`),
      }),
    ];
    const m = createMigrator({
      engines: { postgres: pg, mongodb: mg },
      migrations: ms,
      ...QUICK,
      onFailure: 'continue',
    });
    open.push(m);
    const err = await rejection(m.run());
    const report = (err as RunFailedError<RunReport>).report;
    expect(statuses(report)).toEqual({
      'p-0/0001-pg': 'applied',
      'p-0/0002-pg': 'applied',
      'p-1/0001-pg': 'failed',
      'p-1/0002-pg': 'not-run',
      'g-0/0003-mg': 'not-run',
    });
    expect(report.shards.find((s) => s.shardId === 'g-0')!.migrations[0]!.reason).toContain('0001-pg');
    expect(applied.sort()).toEqual(['p-0/0001', 'p-0/0002']);
  });

  it('cross-engine dependsOn: the dependent runs only after its dependency finished on every shard', async () => {
    const store = createMemoryStore();
    const pg = memory(['p-0', 'p-1', 'p-2'], { name: 'postgres', store, latencyMs: 1 }).engine;
    const mg = memory(['g-0', 'g-1'], { name: 'mongodb', store }).engine;
    const log: string[] = [];
    const ms = [
      defineMigration({
        id: '0001-mg',
        engine: 'mongodb',
        dependsOn: ['0002-pg'],
        up: async (_h, ctx) => void log.push(`mg:${ctx.shard.id}`),
      }),
      defineMigration({
        id: '0002-pg',
        engine: 'postgres',
        up: async (_h, ctx) => {
          await tick(3);
          log.push(`pg:${ctx.shard.id}`);
        },
      }),
    ];
    const m = createMigrator({ engines: { postgres: pg, mongodb: mg }, migrations: ms, ...QUICK, concurrency: 8 });
    open.push(m);
    await m.run();
    expect(log).toHaveLength(5);
    const lastPg = Math.max(...log.map((l, i) => (l.startsWith('pg:') ? i : -1)));
    const firstMg = log.findIndex((l) => l.startsWith('mg:'));
    expect(lastPg).toBeLessThan(firstMg);
  });
});

describe('run: retries', () => {
  it('retries a transient error: applied after 3 attempts, shard:retry emitted twice', async () => {
    const { engine, store, ids } = memory(1);
    let calls = 0;
    const m = defineMigration({
      id: '0001-flaky',
      engine: 'memory',
      up: async () => {
        calls++;
        if (calls <= 2) throw Object.assign(new Error(`connection reset ${calls}`), { retryable: true });
      },
    });
    const migrator = migratorOf(engine, [m]);
    const retries: number[] = [];
    migrator.on('shard:retry', (e) => retries.push(e.attempt));
    const report = await migrator.run();
    expect(report.shards[0]!.migrations[0]).toMatchObject({ status: 'applied', attempts: 3 });
    expect(retries).toEqual([1, 2]);
    expect(calls).toBe(3);
    expect(store.shard(ids[0]!).ledger.get('0001-flaky')!.state).toBe('applied');
  });

  it('does not retry a permanent error (attempts 1) and gives up on a transient one after `retries`', async () => {
    const { engine } = memory(2);
    const [a, b] = engine.shards.map((s) => s.id) as [string, string];
    const calls = new Map<string, number>();
    const m = defineMigration({
      id: '0001-bad',
      engine: 'memory',
      up: async (_h, ctx) => {
        calls.set(ctx.shard.id, (calls.get(ctx.shard.id) ?? 0) + 1);
        if (ctx.shard.id === a) throw new Error('syntax error');
        throw Object.assign(new Error('timeout'), { retryable: true });
      },
    });
    const migrator = migratorOf(engine, [m], {
      onFailure: 'continue',
      retry: { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 },
    });
    const retries: string[] = [];
    migrator.on('shard:retry', (e) => retries.push(e.shardId));
    const report = (await rejection(migrator.run())).report as RunReport;
    const step = (id: string) => report.shards.find((s) => s.shardId === id)!.migrations[0]!;
    expect(step(a)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(step(b)).toMatchObject({ status: 'failed', attempts: 3 });
    expect(calls.get(a)).toBe(1);
    expect(calls.get(b)).toBe(3);
    expect(retries).toEqual([b, b]);
  });
});

describe('run: several runners', () => {
  it('8 concurrent runners over one store apply each migration exactly once per shard', async () => {
    const store = createMemoryStore();
    store.locks.pollMs = 1;
    const ids = ['s-0', 's-1', 's-2'];
    const counts = new Map<string, number>();
    const ms = [
      counted('0001-a', counts),
      counted('0002-b', counts),
      counted('0003-c', counts, { dependsOn: ['0001-a'] }),
    ];
    const runners = Array.from({ length: 8 }, (_, i) =>
      migratorOf(memory(ids, { store, latencyMs: 1 }).engine, ms, { runnerId: `r${i}`, concurrency: 2 }),
    );
    const reports = await Promise.all(runners.map((r) => r.run()));
    expect(counts.size).toBe(9);
    for (const [, n] of counts) expect(n).toBe(1);
    expect(reports.reduce((n, r) => n + r.totals.applied, 0)).toBe(9);
    expect(reports.filter((r) => r.waitedForLock || r.totals.applied === 0)).toHaveLength(7);
    for (const r of reports) expect(r.ok).toBe(true);
    for (const id of ids) expect(Object.values(ledgerStates(store, id))).toEqual(['applied', 'applied', 'applied']);
  });
});

describe('fencing', () => {
  it('a stale lease holder is refused by the ledger once the lease expired and passed on', async () => {
    const { engine, store, ids } = memory(1);
    const shard = engine.shard(ids[0]!);
    const clock = manualClock();
    const a = await acquireLock(shard.lock, 'fence-test', { owner: 'A', ttlMs: 10, waitMs: 0 });
    const record = {
      id: 'x',
      state: 'applied' as const,
      checksum: 'A',
      startedAt: null,
      finishedAt: null,
      runnerId: 'A',
      checkpoint: null,
      counts: null,
      error: null,
      seq: 1,
    };
    await shard.ledger.put(record, { lockName: a.name, token: a.token });
    // while A holds it, B cannot take it
    await expect(acquireLock(shard.lock, 'fence-test', { owner: 'B', ttlMs: 1000, waitMs: 0 })).rejects.toMatchObject({
      code: ErrorCode.LockTimeout,
    });
    clock.advance(25); // A's 10 ms lease expires without A noticing (no real time passes)
    const b = await acquireLock(shard.lock, 'fence-test', { owner: 'B', ttlMs: 1000, waitMs: 0 });
    expect(b.token).toBeGreaterThan(a.token);
    const err = await rejection(shard.ledger.put({ ...record, checksum: 'A2' }, { lockName: a.name, token: a.token }));
    expect(err).toBeInstanceOf(StaleLeaseError);
    expect(store.shard(ids[0]!).ledger.get('x')!.checksum).toBe('A');
    await expect(shard.ledger.delete('x', { lockName: a.name, token: a.token })).rejects.toBeInstanceOf(
      StaleLeaseError,
    );
    expect(store.shard(ids[0]!).ledger.has('x')).toBe(true);
    await expect(a.renew()).rejects.toBeInstanceOf(StaleLeaseError);
    // A's release must not free B's lock
    await a.release();
    expect((await shard.lock.status('fence-test'))!.owner).toBe('B');
    await shard.ledger.put({ ...record, checksum: 'B' }, { lockName: b.name, token: b.token });
    expect(store.shard(ids[0]!).ledger.get('x')!.checksum).toBe('B');
  });

  it('end to end: a migrator whose shard lease is force-released mid-migration cannot mark it applied', async () => {
    const { engine, store, ids } = memory(1);
    const shardId = ids[0]!;
    const m = defineMigration({
      id: '0001-victim',
      engine: 'memory',
      up: async () => {
        expect(await engine.shard(shardId).lock.forceRelease(`mcp-migrate:default:shard:${shardId}`)).toBe(true);
      },
    });
    const migrator = migratorOf(engine, [m]);
    const failed: string[] = [];
    migrator.on('shard:failed', (e) => failed.push(e.error.code));
    const err = await rejection(migrator.run());
    expect(err).toBeInstanceOf(RunFailedError);
    const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
    expect(step.status).toBe('failed');
    expect(step.error!.code).toBe(ErrorCode.StaleLease);
    expect(failed).toEqual([ErrorCode.StaleLease]);
    const record = store.shard(shardId).ledger.get('0001-victim')!;
    expect(record.state).not.toBe('applied');
    expect(record.state).toBe('running');
  });
});

describe('events', () => {
  it('one run on one shard emits run:start, lock:acquired, plan, migration:start, shard:start, shard:done, migration:done, run:done in order', async () => {
    const { engine } = memory(1);
    const migrator = migratorOf(engine, [counted('0001-a', new Map())]);
    const names: MigratorEventName[] = [
      'run:start',
      'lock:acquired',
      'plan',
      'migration:start',
      'shard:start',
      'shard:done',
      'migration:done',
      'run:done',
    ];
    const seen: string[] = [];
    const runIds = new Set<string>();
    for (const n of names)
      migrator.on(n, ((e: { runId: string }) => {
        seen.push(n);
        runIds.add(e.runId);
      }) as never);
    const report = await migrator.run();
    expect(seen).toEqual(names);
    expect([...runIds]).toEqual([report.runId]);
  });

  it('a listener that throws does not break the run, and later listeners of other events still fire', async () => {
    const { engine, store, ids } = memory(2);
    const migrator = migratorOf(engine, [counted('0001-a', new Map())]);
    migrator.on('shard:start', () => {
      throw new Error('bad listener');
    });
    migrator.on('plan', () => {
      throw new Error('bad listener');
    });
    let done = 0;
    migrator.on('shard:done', () => void done++);
    const report = await migrator.run();
    expect(report.totals.applied).toBe(2);
    expect(done).toBe(2);
    for (const id of ids) expect(store.shard(id).ledger.get('0001-a')!.state).toBe('applied');
  });
});

describe('run modes', () => {
  it("'verify' fails while anything is pending (applying nothing), passes after apply", async () => {
    const { engine, store, ids } = memory(2);
    const counts = new Map<string, number>();
    const ms = [counted('0001-a', counts)];
    const err = await rejection(migratorOf(engine, ms).run({ mode: 'verify' }));
    expect(isMigrateError(err)).toBe(true);
    expect(err.code).toBe(ErrorCode.Pending);
    expect(err.message).toContain('0001-a');
    expect((err as RunFailedError<RunReport>).report.totals.notRun).toBe(2);
    expect(counts.size).toBe(0);
    for (const id of ids) expect(store.shard(id).ledger.size).toBe(0);
    await migratorOf(engine, ms).run();
    const ok = await migratorOf(engine, ms).run({ mode: 'verify' });
    expect(ok.ok).toBe(true);
  });

  it("'verify' reports a failed migration", async () => {
    const { engine } = memory(1);
    const bad = defineMigration({
      id: '0001-bad',
      engine: 'memory',
      up: () => {
        throw new Error('x');
      },
    });
    await rejection(migratorOf(engine, [bad]).run());
    const v = await migratorOf(engine, [bad]).verify();
    expect(v.ok).toBe(false);
    expect(v.failed.map((f) => f.migrationId)).toEqual(['0001-bad']);
  });

  it.each([
    [
      'an unknown dependency',
      (a: ReturnType<typeof counted>) => [a, counted('0002-b', new Map(), { dependsOn: ['0000-nope'] })],
      ErrorCode.UnknownDependency,
      '0000-nope',
    ],
    [
      'a cycle',
      (a: ReturnType<typeof counted>) => [
        a,
        counted('0002-b', new Map(), { dependsOn: ['0003-c'] }),
        counted('0003-c', new Map(), { dependsOn: ['0002-b'] }),
      ],
      ErrorCode.Cycle,
      '0002-b',
    ],
  ])("'verify' is not ok when the plan is refused (%s), as 'apply' would be", async (_name, next, code, named) => {
    const { engine } = memory(1);
    const a = counted('0001-a', new Map());
    await migratorOf(engine, [a]).run();
    const ms = next(a);
    await expect(migratorOf(engine, ms).run()).rejects.toMatchObject({ code });
    expect((await migratorOf(engine, ms).status()).planError).toMatchObject({ code });
    const v = await migratorOf(engine, ms).verify();
    expect(v.ok).toBe(false);
    expect(v.problems.join('\n')).toContain(named);
    await expect(migratorOf(engine, ms).run({ mode: 'verify' })).rejects.toMatchObject({ code: ErrorCode.Pending });
  });

  it('an older replica (an applied migration missing from its code) stays ready; status names the refusal', async () => {
    const { engine } = memory(1);
    const a = counted('0001-a', new Map());
    const b = counted('0002-b', new Map());
    await migratorOf(engine, [a, b]).run();
    const old = migratorOf(engine, [a]);
    expect((await old.status()).planError).toMatchObject({ code: ErrorCode.MissingFromCode });
    expect((await old.verify()).ok).toBe(true);
    expect((await migratorOf(engine, [a, b]).status()).planError).toBeNull();
  });

  it("'wait' resolves once another migrator has applied everything, applying nothing itself", async () => {
    const { engine, store, ids } = memory(2);
    const counts = new Map<string, number>();
    const ms = [counted('0001-a', counts)];
    // The waiter has its own engine over the same store, so its ledger reads can be counted: once it
    // has read every shard's ledger twice, it has seen the migration pending and polled again.
    const { engine: waiterEngine } = memory(ids, { store });
    let reads = 0;
    const polledTwice = latch();
    for (const id of ids) {
      const ledger = waiterEngine.shard(id).ledger;
      const list = ledger.list.bind(ledger);
      ledger.list = async () => {
        const records = await list();
        if (++reads === 2 * ids.length) polledTwice.open();
        return records;
      };
    }
    const waiter = migratorOf(waiterEngine, ms, { runnerId: 'waiter' });
    let resolved = false;
    const waiting = waiter.run({ mode: 'wait', timeoutMs: 10_000 }).then((r) => {
      resolved = true;
      return r;
    });
    await within(polledTwice.promise, 5_000, 'the waiter never polled twice');
    expect(resolved).toBe(false);
    expect(counts.size).toBe(0);
    await migratorOf(engine, ms, { runnerId: 'applier' }).run();
    const report = await waiting;
    expect(report.ok).toBe(true);
    expect(report.mode).toBe('wait');
    expect(report.totals.applied).toBe(0);
    for (const id of ids) expect(store.shard(id).ledger.get('0001-a')!.runnerId).toBe('applier');
    expect(counts.size).toBe(2);
  });

  it("'wait' gives up after timeoutMs", async () => {
    const { engine, store, ids } = memory(1);
    const err = await rejection(
      migratorOf(engine, [counted('0001-a', new Map())]).run({ mode: 'wait', timeoutMs: 50 }),
    );
    expect(err.code).toBe(ErrorCode.Aborted);
    expect(store.shard(ids[0]!).ledger.size).toBe(0);
  });
});

describe('abort, unreachable shards, close', () => {
  it('an aborted signal stops the run before anything is applied', async () => {
    const { engine, store, ids } = memory(2);
    const counts = new Map<string, number>();
    const err = await rejection(
      migratorOf(engine, [counted('0001-a', counts)]).run({ signal: AbortSignal.abort(new Error('shutdown')) }),
    );
    expect(err.code).toBe(ErrorCode.Aborted);
    expect(counts.size).toBe(0);
    for (const id of ids) expect(store.shard(id).ledger.size).toBe(0);
  });

  it('aborting mid-run: the shard whose step completed is recorded applied (not failed), later shards are not applied', async () => {
    const { engine, store, ids } = memory(3);
    const ac = new AbortController();
    const applied: string[] = [];
    const m = defineMigration({
      id: '0001-a',
      engine: 'memory',
      up: async (_h, ctx) => {
        applied.push(ctx.shard.id);
        ac.abort(new Error('SIGTERM'));
      },
    });
    const migrator = migratorOf(engine, [m], { concurrency: 1 });
    let retries = 0;
    migrator.on('shard:retry', () => void retries++);
    const err = await rejection(migrator.run({ signal: ac.signal }));
    expect(err).toBeInstanceOf(RunFailedError);
    expect(applied).toEqual([ids[0]]);
    // its up ran to the end: re-running it on the next start would apply it twice
    expect(store.shard(ids[0]!).ledger.get('0001-a')!.state).toBe('applied');
    for (const id of ids.slice(1)) expect(store.shard(id).ledger.get('0001-a')?.state).not.toBe('applied');
    const report = (err as RunFailedError<RunReport>).report;
    expect(statuses(report)[`${ids[0]}/0001-a`]).toBe('applied');
    expect(report.shards.flatMap((s) => s.migrations.map((x) => x.error?.code))).toContain(ErrorCode.Aborted);
    expect(retries).toBe(0);
    const next = await migratorOf(engine, [m]).run();
    expect(next.totals).toMatchObject({ applied: 2, skipped: 1 });
    expect(applied.sort()).toEqual([...ids].sort());
  });

  it('unreachable shard with halt: nothing applied anywhere, RunFailedError naming the shard', async () => {
    const { engine, store, ids } = memory(3);
    store.shard(ids[1]!).available = false;
    const counts = new Map<string, number>();
    const err = await rejection(migratorOf(engine, [counted('0001-a', counts)]).run());
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.message).toContain(ids[1]);
    const report = (err as RunFailedError<RunReport>).report;
    expect(report.shards[1]!.error).toMatchObject({ code: ErrorCode.ShardUnavailable });
    expect(report.totals).toMatchObject({ applied: 0, notRun: 3 });
    expect(counts.size).toBe(0);
    for (const id of ids) expect(store.shard(id).ledger.size).toBe(0);
  });

  it('unreachable shard with continue: the other shards are applied', async () => {
    const { engine, store, ids } = memory(3);
    store.shard(ids[1]!).available = false;
    const counts = new Map<string, number>();
    const err = await rejection(migratorOf(engine, [counted('0001-a', counts)], { onFailure: 'continue' }).run());
    expect(err).toBeInstanceOf(RunFailedError);
    expect(statuses((err as RunFailedError<RunReport>).report)).toEqual({
      [`${ids[0]}/0001-a`]: 'applied',
      [`${ids[1]}/0001-a`]: 'not-run',
      [`${ids[2]}/0001-a`]: 'applied',
    });
    expect(store.shard(ids[1]!).ledger.size).toBe(0);
    store.shard(ids[1]!).available = true;
    const again = await migratorOf(engine, [counted('0001-a', counts)]).run();
    expect(again.totals).toMatchObject({ applied: 1, skipped: 2 });
  });

  it('close() then run() → MIGRATE_CLOSED; close is idempotent', async () => {
    const { engine } = memory(1);
    const migrator = migratorOf(engine, [counted('0001-a', new Map())]);
    await migrator.close();
    await migrator.close();
    await expect(migrator.run()).rejects.toMatchObject({ code: ErrorCode.Closed });
    await expect(migrator.plan()).rejects.toMatchObject({ code: ErrorCode.Closed });
    await expect(migrator.rollback()).rejects.toMatchObject({ code: ErrorCode.Closed });
  });
});

describe('tenant scope', () => {
  it('runs only on the routed shards, with ctx.tenants of that shard', async () => {
    const { engine, store, ids } = memory(4);
    const router = hashRouter();
    const tenants = ['acme', 'globex'];
    const got = new Map<string, readonly string[] | undefined>();
    const m = defineMigration({
      id: '0001-t',
      engine: 'memory',
      scope: { tenants },
      up: async (_h, ctx) => void got.set(ctx.shard.id, ctx.tenants),
    });
    await migratorOf(engine, [m], { router }).run();
    const expected = new Map<string, string[]>();
    for (const t of tenants) {
      const s = router.route(t, 'memory', ids);
      expected.set(s, [...(expected.get(s) ?? []), t]);
    }
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
    for (const id of ids) expect(store.shard(id).ledger.has('0001-t')).toBe(expected.has(id));
  });

  it('follows the directory overrides of the control store', async () => {
    const { engine, ids } = memory(3);
    const router = hashRouter();
    const natural = router.route('acme', 'memory', ids);
    const target = ids.find((id) => id !== natural)!;
    const got: string[] = [];
    const m = defineMigration({
      id: '0001-t',
      engine: 'memory',
      scope: { tenants: ['acme'] },
      up: async (_h, ctx) => void got.push(ctx.shard.id),
    });
    await migratorOf(engine, [m], { router, control: { directory: () => ({ memory: { acme: target } }) } }).run();
    expect(got).toEqual([target]);
  });
});

describe('rollback', () => {
  it('refuses up front, changing nothing, when a migration to roll back has no down', async () => {
    const { engine, store, ids } = memory(2);
    const counts = new Map<string, number>();
    const ms = [
      counted('0001-a', counts),
      defineMigration({ id: '0002-nodown', engine: 'memory', up: async () => {} }),
    ];
    await migratorOf(engine, ms).run();
    const before = ids.map((id) => JSON.stringify([...store.shard(id).ledger.values()]));
    const err = await rejection(migratorOf(engine, ms).rollback({ steps: 2 }));
    expect(err).toBeInstanceOf(RollbackError);
    expect(err).toMatchObject({ migrationId: '0002-nodown', field: 'down' });
    expect([...counts.keys()].filter((k) => k.endsWith(':down'))).toEqual([]);
    expect(ids.map((id) => JSON.stringify([...store.shard(id).ledger.values()]))).toEqual(before);
  });

  it('rolls back latest first (steps and to), marks rolled_back, and a run re-applies', async () => {
    const { engine, store, ids } = memory(2);
    const order: string[] = [];
    const mk = (id: string, deps: string[] = []) =>
      defineMigration({
        id,
        engine: 'memory',
        dependsOn: deps,
        up: async () => {},
        down: async (_h, ctx) => void order.push(`${ctx.shard.id}:${id}`),
      });
    const ms = [mk('0001-a'), mk('0002-b', ['0001-a']), mk('0003-c', ['0002-b'])];
    await migratorOf(engine, ms).run();
    const r1 = await migratorOf(engine, ms).rollback({ steps: 1 });
    expect(r1.totals.applied).toBe(2);
    expect(order.sort()).toEqual(ids.map((id) => `${id}:0003-c`).sort());
    order.length = 0;
    await migratorOf(engine, ms).rollback({ to: '0001-a' });
    expect(order).toHaveLength(2);
    expect(order.every((o) => o.endsWith('0002-b'))).toBe(true);
    for (const id of ids)
      expect(ledgerStates(store, id)).toEqual({
        '0001-a': 'applied',
        '0002-b': 'rolled_back',
        '0003-c': 'rolled_back',
      });
    const again = await migratorOf(engine, ms).run();
    expect(again.totals).toMatchObject({ applied: 4, skipped: 2 });
  });
});

describe('status and repair', () => {
  it('status shows drift and pending; repair accepts the new checksum', async () => {
    const { engine, store, ids } = memory(1);
    const v1 = defineMigration({
      id: '0001-a',
      engine: 'memory',
      up: async () => {
        /* v1 */
      },
    });
    const v2 = defineMigration({
      id: '0001-a',
      engine: 'memory',
      version: 2,
      up: async () => {
        /* v2 */
      },
    });
    const b = defineMigration({ id: '0002-b', engine: 'memory', up: async () => {} });
    await migratorOf(engine, [v1]).run();
    const st = await migratorOf(engine, [v2, b]).status();
    expect(st.shards[0]!.migrations.map((m) => [m.id, m.drift])).toEqual([['0001-a', true]]);
    expect(st.shards[0]!.pending).toEqual(['0002-b']);
    await expect(migratorOf(engine, [v2, b]).run()).rejects.toMatchObject({
      code: ErrorCode.Drift,
      migrationId: '0001-a',
    });
    expect(store.shard(ids[0]!).ledger.has('0002-b')).toBe(false);
    expect(await migratorOf(engine, [v2, b]).repair()).toEqual([
      { shardId: ids[0], migrationId: '0001-a', action: 'checksum' },
    ]);
    expect(store.shard(ids[0]!).ledger.get('0001-a')!.checksum).toBe(v2.checksum);
    const r = await migratorOf(engine, [v2, b]).run();
    expect(r.totals).toMatchObject({ applied: 1, skipped: 1 });
  });
});
