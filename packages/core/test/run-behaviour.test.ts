/**
 * Run behaviour a service meets in production (issue 8, defects 8 and 11): dependencies under
 * `onFailure: 'continue'`, step timeouts, waiting for a live lock holder, repair advice, checksums
 * and backup retention. Every ordering is forced with hooks/promises, never with wall-clock bounds.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import {
  defineDataMigration,
  defineMigration,
  type DataMigration,
  type DataMigrationInput,
  type Migration,
  type SchemaMigration,
} from '../src/definition/migration.js';
import { loadMigrations } from '../src/definition/load.js';
import { sha256 } from '../src/util/row-set-hash.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MigratorConfig } from '../src/run/config.js';
import type { RunFailedError } from '../src/errors/errors.js';
import type { LockProvider } from '../src/engine/index.js';
import { createMemoryStore } from '../src/testing/index.js';
import type { RunReport } from '../src/run/report.js';
import { QUICK, memory, migrationFilesRoot, rejection, statuses, tick } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

function migrator(config: MigratorConfig): Migrator {
  const m = createMigrator({ ...QUICK, ...config });
  open.push(m);
  return m;
}

/** One row per batch, so that checkpoints land between rows. */
const ONE_ROW = { minBatchSize: 1, maxBatchSize: 1 };

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("onFailure: 'continue' finishes healthy shards (defect 8)", () => {
  const SHARDS = ['pg-0', 'pg-1', 'pg-2', 'pg-3'];

  /** 0002 fails on pg-1; 0003 depends on 0002 (same engine); 0004 on mongodb depends on 0002 too. */
  async function scenario(timing: 'failure-first' | 'failure-last') {
    const store = createMemoryStore();
    const pg = memory(SHARDS, { name: 'postgres', store }).engine;
    const mg = memory(['mg-0'], { name: 'mongodb', store }).engine;
    const failed = deferred();
    const dependentsDone = deferred();
    let done = 0;
    const ms = [
      defineMigration({ id: '0001', engine: 'postgres', up: () => undefined }),
      defineMigration({
        id: '0002',
        engine: 'postgres',
        dependsOn: ['0001'],
        up: async (_h, ctx) => {
          if (ctx.shard.id === 'pg-1') {
            // failure-last: pg-1 fails only after every healthy shard applied 0003.
            if (timing === 'failure-last') await dependentsDone.promise;
            throw new Error('0002 cannot run on pg-1');
          }
          // failure-first: the healthy shards finish 0002 only after pg-1 failed it.
          if (timing === 'failure-first') {
            await failed.promise;
            await tick(5);
          }
        },
      }),
      defineMigration({ id: '0003', engine: 'postgres', dependsOn: ['0002'], up: () => undefined }),
      defineMigration({ id: '0004', engine: 'mongodb', dependsOn: ['0002'], up: () => undefined }),
    ];
    const m = migrator({
      engines: { postgres: pg, mongodb: mg },
      migrations: ms,
      onFailure: 'continue',
      concurrency: 4,
      retry: { retries: 0 },
    });
    m.on('shard:failed', () => failed.resolve());
    m.on('shard:done', (e) => {
      if (e.migrationId === '0003' && ++done === 3) dependentsDone.resolve();
    });
    const err = await rejection(m.run());
    return { report: (err as RunFailedError<RunReport>).report, store };
  }

  for (const timing of ['failure-first', 'failure-last'] as const) {
    it(`0003 runs on every shard where 0002 is applied (${timing})`, async () => {
      const { report, store } = await scenario(timing);
      expect(statuses(report)).toEqual({
        'pg-0/0001': 'applied',
        'pg-0/0002': 'applied',
        'pg-0/0003': 'applied',
        'pg-1/0001': 'applied',
        'pg-1/0002': 'failed',
        'pg-1/0003': 'not-run',
        'pg-2/0001': 'applied',
        'pg-2/0002': 'applied',
        'pg-2/0003': 'applied',
        'pg-3/0001': 'applied',
        'pg-3/0002': 'applied',
        'pg-3/0003': 'applied',
        // A cross-engine dependent waits for its dependency on every shard of that engine.
        'mg-0/0004': 'not-run',
      });
      for (const id of ['pg-0', 'pg-2', 'pg-3']) expect(store.shard(id).ledger.get('0003')?.state).toBe('applied');
      expect(store.shard('pg-1').ledger.has('0003')).toBe(false);
      const mgReason = report.shards.find((s) => s.shardId === 'mg-0')!.migrations[0]!.reason;
      expect(mgReason).toContain('"0002"');
      expect(mgReason).toContain('"pg-1"');
    });
  }
});

describe('cross-engine dependencies wait for every shard of their engine', () => {
  it('a dependency pending on an unreachable shard blocks its cross-engine dependent; same-engine work on healthy shards goes on', async () => {
    const store = createMemoryStore();
    const pg = memory(['p-0', 'p-1'], { name: 'postgres', store }).engine;
    const mg = memory(['g-0'], { name: 'mongodb', store }).engine;
    store.shard('p-1').available = false;
    const ms = [
      defineMigration({ id: '0001-pg', engine: 'postgres', up: () => undefined }),
      defineMigration({ id: '0002-pg', engine: 'postgres', dependsOn: ['0001-pg'], up: () => undefined }),
      defineMigration({ id: '0003-mg', engine: 'mongodb', dependsOn: ['0001-pg'], up: () => undefined }),
    ];
    const m = migrator({
      engines: { postgres: pg, mongodb: mg },
      migrations: ms,
      onFailure: 'continue',
      control: { lock: mg.shard('g-0').lock },
    });
    const report = ((await rejection(m.run())) as RunFailedError<RunReport>).report;
    expect(statuses(report)).toEqual({
      'p-0/0001-pg': 'applied',
      'p-0/0002-pg': 'applied',
      'p-1/0001-pg': 'not-run',
      'p-1/0002-pg': 'not-run',
      'g-0/0003-mg': 'not-run',
    });
    expect(report.shards.find((s) => s.shardId === 'g-0')!.migrations[0]!.reason).toContain('"p-1"');
    expect(store.shard('g-0').ledger.has('0003-mg')).toBe(false);
  });
});

describe('timeoutMs stops a step that ignores its signal (defect 11)', () => {
  it('a schema step past timeoutMs is reported failed with MIGRATE_TIMEOUT, and its late completion never reads as applied', async () => {
    const { engine, store, ids } = memory(1);
    const release = deferred();
    let finished = false;
    const slow = defineMigration({
      id: '0001-slow',
      engine: 'memory',
      up: async () => {
        await release.promise; // ignores ctx.signal on purpose
        finished = true;
      },
    });
    const later = defineMigration({ id: '0002-later', engine: 'memory', up: () => undefined });
    const m = migrator({ engines: { memory: engine }, migrations: [slow, later] });
    const err = await rejection(m.run({ timeoutMs: 20 }));
    const report = (err as RunFailedError<RunReport>).report;
    expect(statuses(report)).toEqual({ [`${ids[0]}/0001-slow`]: 'failed', [`${ids[0]}/0002-later`]: 'not-run' });
    expect(report.shards[0]!.migrations[0]!.error?.code).toBe('MIGRATE_TIMEOUT');
    expect(store.shard(ids[0]!).ledger.get('0001-slow')?.state).toBe('failed');

    release.resolve();
    await tick(10);
    expect(finished).toBe(true);
    expect(store.shard(ids[0]!).ledger.get('0001-slow')?.state).toBe('failed');
    expect((await m.verify()).failed.map((f) => f.migrationId)).toEqual(['0001-slow']);
  });

  it('a data migration whose transform ignores the signal: no late checkpoint or applied record after the timeout', async () => {
    const { engine, store, ids } = memory(1);
    store
      .shard(ids[0]!)
      .collection('items')
      .upsert([
        { id: 1, v: 1 },
        { id: 2, v: 2 },
        { id: 3, v: 3 },
      ]);
    const release = deferred();
    const m = migrator({
      engines: { memory: engine },
      migrations: [
        defineDataMigration({
          id: '0001-data',
          engine: 'memory',
          table: 'items',
          batchSize: 1,
          transform: async (row) => {
            if (row.id === 2) await release.promise;
            return { ...row, v: (row.v as number) + 10 };
          },
        }),
      ],
      throttle: ONE_ROW,
    });
    const err = await rejection(m.run({ timeoutMs: 20 }));
    const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
    expect(step.status).toBe('failed');
    expect(step.error?.code).toBe('MIGRATE_TIMEOUT');
    const failedRecord = store.shard(ids[0]!).ledger.get('0001-data')!;
    expect(failedRecord.state).toBe('failed');
    expect(failedRecord.checkpoint?.after).toEqual([1]);

    release.resolve();
    await tick(20);
    const after = store.shard(ids[0]!).ledger.get('0001-data')!;
    expect(after.state).toBe('failed');
    expect(after.checkpoint).toEqual(failedRecord.checkpoint);
  });
});

describe('waiting for the run lock: as long as the holder is alive (defect 11)', () => {
  /** A control lock whose holder is `alive` (heartbeat advances at every look) or dead (frozen heartbeat). */
  function heldLock(
    inner: LockProvider,
    options: { alive: boolean; refusals: number; onAcquire?: (n: number) => void },
  ) {
    let calls = 0;
    let beats = 0;
    const provider: LockProvider = {
      pollMs: 5,
      async tryAcquire(name, o) {
        calls++;
        options.onAcquire?.(calls);
        // What an adapter answers while the holder keeps the lock.
        if (calls <= options.refusals) return null;
        return inner.tryAcquire(name, o);
      },
      async status(name) {
        if (options.alive) beats++;
        const at = new Date(Date.UTC(2026, 0, 1, 0, 0, beats)).toISOString();
        return { name, owner: 'replica-a', token: 7, since: at, heartbeatAt: at, expiresAt: null };
      },
      forceRelease: (name) => inner.forceRelease(name),
    };
    return { provider, calls: () => calls };
  }

  it('keeps waiting through many refused wait chunks while the heartbeat advances, then runs', async () => {
    const { engine, store, ids } = memory(1);
    const lock = heldLock(engine.shard(ids[0]!).lock, { alive: true, refusals: 6 });
    const m = migrator({
      engines: { memory: engine },
      migrations: [defineMigration({ id: '0001', engine: 'memory', up: () => undefined })],
      lock: { ttlMs: 100 },
      control: { lock: lock.provider },
    });
    const report = await m.run();
    expect(lock.calls()).toBe(7);
    expect(report.totals.applied).toBe(1);
    expect(store.shard(ids[0]!).ledger.get('0001')?.state).toBe('applied');
  });

  it('gives up with MIGRATE_LOCK_TIMEOUT naming the holder when its heartbeat stops advancing past the ttl', async () => {
    const { engine, ids } = memory(1);
    const lock = heldLock(engine.shard(ids[0]!).lock, { alive: false, refusals: Number.POSITIVE_INFINITY });
    const m = migrator({
      engines: { memory: engine },
      migrations: [defineMigration({ id: '0001', engine: 'memory', up: () => undefined })],
      lock: { ttlMs: 100 },
      control: { lock: lock.provider },
    });
    const err = await rejection(m.run());
    expect(err.code).toBe('MIGRATE_LOCK_TIMEOUT');
    expect(err.message).toContain('replica-a');
    expect(err.message).toContain('heartbeat has not advanced');
    expect(lock.calls()).toBeGreaterThan(1);
  });

  it("the caller's own deadline still applies: lock.waitMs, or the signal", async () => {
    const { engine, ids } = memory(1);
    const mig = [defineMigration({ id: '0001', engine: 'memory', up: () => undefined })];
    const bounded = heldLock(engine.shard(ids[0]!).lock, { alive: true, refusals: Number.POSITIVE_INFINITY });
    const err = await rejection(
      migrator({
        engines: { memory: engine },
        migrations: mig,
        lock: { ttlMs: 100, waitMs: 0 },
        control: { lock: bounded.provider },
      }).run(),
    );
    expect(err.code).toBe('MIGRATE_LOCK_TIMEOUT');
    expect(bounded.calls()).toBe(1);

    const ac = new AbortController();
    const aborted = heldLock(engine.shard(ids[0]!).lock, {
      alive: true,
      refusals: Number.POSITIVE_INFINITY,
      onAcquire: (n) => n === 3 && ac.abort(new Error('shutting down')),
    });
    const err2 = await rejection(
      migrator({
        engines: { memory: engine },
        migrations: mig,
        lock: { ttlMs: 100 },
        control: { lock: aborted.provider },
      }).run({ signal: ac.signal }),
    );
    expect(err2.code).toBe('MIGRATE_ABORTED');
  });

  it('fake time: a replica waits past the old 10-minute default while the holder heartbeats, and then finds nothing to do', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    try {
      const store = createMemoryStore();
      const a = memory(['s-0'], { store });
      const b = memory(['s-0'], { store });
      store.locks.pollMs = 1_000;
      const release = deferred();
      const slow = defineMigration({ id: '0001-backfill', engine: 'memory', up: () => release.promise });
      const ma = migrator({ engines: { memory: a.engine }, migrations: [slow], lock: { ttlMs: 30_000 } });
      const mb = migrator({ engines: { memory: b.engine }, migrations: [slow], lock: { ttlMs: 30_000 } });
      let started = false;
      ma.on('shard:start', () => void (started = true));
      const runA = ma.run();
      while (!started) await vi.advanceTimersByTimeAsync(10);
      let bSettled: unknown;
      const runB = mb.run().then(
        (r) => (bSettled = r),
        (e: unknown) => (bSettled = e),
      );
      // Eleven minutes of A's step, heartbeating every ttl/3: B must still be waiting.
      for (let i = 0; i < 11; i++) await vi.advanceTimersByTimeAsync(60_000);
      expect(bSettled).toBeUndefined();
      release.resolve();
      await vi.advanceTimersByTimeAsync(5_000);
      await runA;
      await vi.advanceTimersByTimeAsync(5_000);
      await runB;
      expect(bSettled).toMatchObject({ waitedForLock: true, totals: { applied: 0, skipped: 1 } });
    } finally {
      vi.useRealTimers();
    }
  });

  it('two replicas over one store: the second waits through several ttls of a live holder, then finds nothing to do', async () => {
    const store = createMemoryStore();
    const a = memory(['s-0'], { store });
    const b = memory(['s-0'], { store });
    let chunks = 0;
    let firstTry = 0;
    const inner = b.engine.shard('s-0').lock;
    const counting: LockProvider = {
      pollMs: inner.pollMs,
      tryAcquire: (n, o) => ((firstTry ||= Date.now()), chunks++, inner.tryAcquire(n, o)),
      status: (n) => inner.status(n),
      forceRelease: (n) => inner.forceRelease(n),
    };
    const bWaitedThreeChunks = deferred();
    const slow = defineMigration({
      id: '0001-slow',
      engine: 'memory',
      up: async () => {
        // The holder stays busy (heartbeating) until replica B has waited through three chunks of one ttl each.
        await bWaitedThreeChunks.promise;
      },
    });
    const ma = migrator({ engines: { memory: a.engine }, migrations: [slow], lock: { ttlMs: 100 } });
    const mb = migrator({
      engines: { memory: b.engine },
      migrations: [slow],
      lock: { ttlMs: 100 },
      control: { lock: counting },
    });
    const runA = ma.run();
    await tick(5);
    const runB = mb.run();
    // Three ttls of waiting (the adapters once waited one ttl per attempt; now core polls).
    while (chunks < 4 || Date.now() - firstTry < 3 * 100) await tick(20);
    bWaitedThreeChunks.resolve();
    const [ra, rb] = await Promise.all([runA, runB]);
    expect(ra.totals.applied).toBe(1);
    expect(rb.waitedForLock).toBe(true);
    expect(rb.totals).toMatchObject({ applied: 0, skipped: 1 });
  });
});

describe('repair does what the errors advise (defect 11)', () => {
  it('MIGRATE_MISSING_FROM_CODE: the advice names repair({ forgetMissing: true }), which forgets the record so run() plans again', async () => {
    const { engine, store, ids } = memory(2);
    const one = defineMigration({ id: '0001', engine: 'memory', up: () => undefined });
    const two = defineMigration({ id: '0002-removed', engine: 'memory', up: () => undefined });
    await migrator({ engines: { memory: engine }, migrations: [one, two] }).run();

    const m = migrator({ engines: { memory: engine }, migrations: [one] });
    const err = await rejection(m.run());
    expect(err.code).toBe('MIGRATE_MISSING_FROM_CODE');
    expect(err.message).toContain('repair({ forgetMissing: true })');
    // Plain repair does not touch it (it only accepts drifted checksums): the advice must not promise that.
    expect(await m.repair()).toEqual([]);
    expect((await rejection(m.run())).code).toBe('MIGRATE_MISSING_FROM_CODE');

    const changes = await m.repair({ forgetMissing: true });
    expect(changes.map((c) => `${c.shardId}/${c.migrationId}:${c.action}`).sort()).toEqual(
      ids.map((id) => `${id}/0002-removed:forget`).sort(),
    );
    for (const id of ids) expect(store.shard(id).ledger.has('0002-removed')).toBe(false);
    const report = await m.run();
    expect(report.totals).toMatchObject({ applied: 0, skipped: 2, failed: 0 });
  });

  it('MIGRATE_CHECKPOINT_MISMATCH: repair({ resetCheckpoints: true }) restarts from the first key, redoing written rows from their originals', async () => {
    const { engine, store, ids } = memory(1);
    const rows = store.shard(ids[0]!).collection('items');
    rows.upsert([1, 2, 3, 4].map((id) => ({ id, v: id })));
    const v1 = defineDataMigration({
      id: '0001-bump',
      engine: 'memory',
      table: 'items',
      batchSize: 1,
      transform: (row) => {
        if (row.id === 3) throw new Error('bad row 3');
        return { ...row, v: (row.v as number) + 10 };
      },
    });
    await rejection(
      migrator({ engines: { memory: engine }, migrations: [v1], retry: { retries: 0 }, throttle: ONE_ROW }).run(),
    );
    expect(store.shard(ids[0]!).ledger.get('0001-bump')?.checkpoint?.after).toEqual([2]);
    expect(rows.rows().map((r) => r.v)).toEqual([11, 12, 3, 4]);

    // The fix changes the code: the old checkpoint cannot be resumed.
    const v2 = defineDataMigration({
      id: '0001-bump',
      engine: 'memory',
      table: 'items',
      batchSize: 1,
      version: 2,
      transform: (row) => ({ ...row, v: (row.v as number) + 100 }),
    });
    const m = migrator({ engines: { memory: engine }, migrations: [v2], retry: { retries: 0 }, throttle: ONE_ROW });
    const err = await rejection(m.run());
    const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
    expect(step.error?.code).toBe('MIGRATE_CHECKPOINT_MISMATCH');
    expect(step.error?.message).toContain('repair({ resetCheckpoints: true })');
    expect(await m.repair()).toEqual([]);

    expect(await m.repair({ resetCheckpoints: true })).toEqual([
      { shardId: ids[0], migrationId: '0001-bump', action: 'reset-checkpoint' },
    ]);
    await m.run();
    // Rows 1 and 2 (written by v1) are redone from their saved originals: v2 applied once, never on top of v1.
    expect(rows.rows().map((r) => r.v)).toEqual([101, 102, 103, 104]);
    expect(store.shard(ids[0]!).ledger.get('0001-bump')?.state).toBe('applied');
  });
});

describe('checksums do not depend on the compiler (defect 11)', () => {
  // The compiled files define their migrations through globals, so they need no import of the SDK.
  const root = migrationFilesRoot('mcp-migrate-checksum-');

  const SOURCE = `
class Counter { static calls = 0; #step = 1; next(): number { Counter.calls += this.#step; return Counter.calls; } }
export const schema = (globalThis as any).__defineMigration({
  id: '0001-compiled', engine: 'memory',
  up: async (h: any) => { await Promise.resolve(); h?.schema?.set('n', new Counter().next() ?? 0); },
  down: async (h: any) => { h?.schema?.delete('n'); },
});
export const data = (globalThis as any).__defineDataMigration({
  id: '0002-compiled', engine: 'memory', table: 'items',
  transform: async (row: any) => ({ ...row, v: (row.v ?? 0) + 1 }),
});
`;

  /** Compiles SOURCE for `target` with typescript's transpileModule into its own directory, as tsc would. */
  async function compiled(target: ts.ScriptTarget, options: { sourceMap: boolean; source?: string }): Promise<string> {
    const dir = await mkdtemp(join(root(), 'build-'));
    const out = ts.transpileModule(options.source ?? SOURCE, {
      fileName: '0001-compiled.ts',
      compilerOptions: {
        target,
        module: ts.ModuleKind.ESNext,
        sourceMap: options.sourceMap,
        inlineSources: options.sourceMap,
        useDefineForClassFields: true,
      },
    });
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(dir, '0001-compiled.js'), out.outputText);
    if (out.sourceMapText) await writeFile(join(dir, '0001-compiled.js.map'), out.sourceMapText);
    return dir;
  }

  it('the same migration compiled for es2017 and es2022 has the same checksum (definitions imported directly)', async () => {
    const [a, b] = await Promise.all([
      compiled(ts.ScriptTarget.ES2017, { sourceMap: false }),
      compiled(ts.ScriptTarget.ES2022, { sourceMap: false }),
    ]);
    const ma = (await import(pathToFileURL(join(a, '0001-compiled.js')).href)) as Record<string, Migration>;
    const mb = (await import(pathToFileURL(join(b, '0001-compiled.js')).href)) as Record<string, Migration>;
    // The emitted code really differs (async downlevelled to a generator, private fields to WeakMaps) …
    expect(String((ma.schema as SchemaMigration).up)).not.toBe(String((mb.schema as SchemaMigration).up));
    expect(String((ma.data as DataMigration).transform)).not.toBe(String((mb.data as DataMigration).transform));
    // … and the checksums do not.
    expect(ma.schema!.checksum).toBe(mb.schema!.checksum);
    expect(ma.data!.checksum).toBe(mb.data!.checksum);
  });

  it('loaded from a directory: the source as written (via the source map) is hashed, so targets agree and an edit of the file is drift', async () => {
    const [a, b] = await Promise.all([
      compiled(ts.ScriptTarget.ES2017, { sourceMap: true }),
      compiled(ts.ScriptTarget.ES2022, { sourceMap: true }),
    ]);
    const edited = await compiled(ts.ScriptTarget.ES2022, { sourceMap: true, source: SOURCE.replace("'n'", "'m'") });
    const [la, lb, le] = await Promise.all([loadMigrations(a), loadMigrations(b), loadMigrations(edited)]);
    expect(la.map((m) => m.id)).toEqual(['0001-compiled', '0002-compiled']);
    expect(la.map((m) => m.checksum)).toEqual(lb.map((m) => m.checksum));
    expect(le[0]!.checksum).not.toBe(la[0]!.checksum);
    // The file text is part of it: the same definition imported without the loader hashes differently.
    const direct = (await import(pathToFileURL(join(a, '0001-compiled.js')).href)) as Record<string, Migration>;
    expect(direct.schema!.checksum).not.toBe(la[0]!.checksum);
  });

  it('a ledger checksum written by an older SDK (hash of emitted text) is not drift: accepted once and upgraded; a later version bump is drift', async () => {
    const { engine, store, ids } = memory(1);
    const up = async () => undefined;
    const current = defineMigration({ id: '0001', engine: 'memory', up });
    await migrator({ engines: { memory: engine }, migrations: [current] }).run();
    // What the previous SDK recorded: sha256 over the compiled function text.
    const legacy = sha256(
      JSON.stringify(['schema', '0001', 'memory', { kind: 'all' }, true, 'async () => { /* tsx emit */ }', '']),
    );
    const rec = store.shard(ids[0]!).ledger.get('0001')!;
    store.shard(ids[0]!).ledger.set('0001', { ...rec, checksum: legacy });

    const m = migrator({ engines: { memory: engine }, migrations: [current] });
    expect((await m.status()).shards[0]!.migrations[0]!.drift).toBe(false);
    expect((await m.plan()).checksumUpgrades).toEqual([{ shardId: ids[0], migrationId: '0001' }]);
    const report = await m.run();
    expect(report.totals).toMatchObject({ skipped: 1, failed: 0 });
    expect(store.shard(ids[0]!).ledger.get('0001')!.checksum).toBe(current.checksum);

    const bumped = defineMigration({ id: '0001', engine: 'memory', version: 2, up });
    expect((await rejection(migrator({ engines: { memory: engine }, migrations: [bumped] }).run())).code).toBe(
      'MIGRATE_DRIFT',
    );
  });
});

describe('backup retention and purgeBackups (defect 11)', () => {
  const bump = (extra: Partial<DataMigrationInput> = {}) =>
    defineDataMigration({
      id: '0001-bump',
      engine: 'memory',
      table: 'items',
      transform: (row) => ({ ...row, v: (row.v as number) + 1 }),
      ...extra,
    });
  const seed = (store: ReturnType<typeof createMemoryStore>, id: string) =>
    store
      .shard(id)
      .collection('items')
      .upsert([1, 2, 3].map((n) => ({ id: n, v: n })));
  const values = (store: ReturnType<typeof createMemoryStore>, id: string) =>
    store
      .shard(id)
      .collection('items')
      .rows()
      .map((r) => r.v);

  it("default 'keep': the backup stays after the run and status() lists it; purgeBackups drops it, marks the ledger, and a rollback that needs it is refused", async () => {
    const { engine, store, ids } = memory(2);
    for (const id of ids) seed(store, id);
    const m = migrator({ engines: { memory: engine }, migrations: [bump()] });
    await m.run();
    for (const id of ids) expect(store.shard(id).hasCollection('mcp_backup_0001_bump')).toBe(true);
    const before = await m.status();
    expect(before.shards.map((s) => s.backups.map((b) => `${b.migrationId}:${b.name}:${b.state}`))).toEqual(
      ids.map(() => ['0001-bump:mcp_backup_0001_bump:applied']),
    );

    const purged = await m.purgeBackups();
    expect(purged.map((p) => `${p.shardId}/${p.migrationId}`).sort()).toEqual(
      ids.map((id) => `${id}/0001-bump`).sort(),
    );
    for (const id of ids) {
      expect(store.shard(id).hasCollection('mcp_backup_0001_bump')).toBe(false);
      expect(store.shard(id).ledger.get('0001-bump')?.counts?.backupPurgedAt).toEqual(expect.any(String));
    }
    expect((await m.status()).shards.flatMap((s) => s.backups)).toEqual([]);
    expect(await m.purgeBackups()).toEqual([]);

    const err = await rejection(m.rollback({ steps: 1 }));
    expect(err.code).toBe('MIGRATE_ROLLBACK');
    expect(err.migrationId).toBe('0001-bump');
    expect(err.message).toContain('purged');
    // Nothing was rolled back, nothing was changed.
    for (const id of ids) {
      expect(values(store, id)).toEqual([2, 3, 4]);
      expect(store.shard(id).ledger.get('0001-bump')?.state).toBe('applied');
    }
  });

  it('a migration with reverse still rolls back after its backup was purged; filters by id and age', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    store
      .shard(ids[0]!)
      .collection('other')
      .upsert([{ id: 1, w: 1 }]);
    const other = defineDataMigration({
      id: '0002-other',
      engine: 'memory',
      table: 'other',
      transform: (row) => ({ ...row, w: 9 }),
    });
    const m = migrator({
      engines: { memory: engine },
      migrations: [bump({ reverse: (row) => ({ ...row, v: (row.v as number) - 1 }) }), other],
    });
    await m.run();
    expect(await m.purgeBackups({ olderThanMs: 3_600_000 })).toEqual([]);
    expect(await m.purgeBackups({ migrationIds: ['0001-bump'] })).toEqual([
      { shardId: ids[0], migrationId: '0001-bump', name: 'mcp_backup_0001_bump' },
    ]);
    expect(store.shard(ids[0]!).hasCollection('mcp_backup_0002_other')).toBe(true);
    await m.rollback({ to: '0001-bump' }); // rolls back 0002 (from its backup)
    await m.rollback({ steps: 1 }); // rolls back 0001 through reverse
    expect(values(store, ids[0]!)).toEqual([1, 2, 3]);
    expect(store.shard(ids[0]!).collection('other').rows()).toEqual([{ id: 1, w: 1 }]);
  });

  it('backupRetention { olderThanMs: 0 } purges after each run; a longer retention keeps them', async () => {
    const a = memory(1);
    seed(a.store, a.ids[0]!);
    await migrator({ engines: { memory: a.engine }, migrations: [bump()], backupRetention: { olderThanMs: 0 } }).run();
    expect(a.store.shard(a.ids[0]!).hasCollection('mcp_backup_0001_bump')).toBe(false);
    expect(a.store.shard(a.ids[0]!).ledger.get('0001-bump')?.counts?.backupPurgedAt).toEqual(expect.any(String));

    const b = memory(1);
    seed(b.store, b.ids[0]!);
    await migrator({
      engines: { memory: b.engine },
      migrations: [bump()],
      backupRetention: { olderThanMs: 3_600_000 },
    }).run();
    expect(b.store.shard(b.ids[0]!).hasCollection('mcp_backup_0001_bump')).toBe(true);
  });
});
