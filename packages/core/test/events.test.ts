import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'eventemitter3';
import { StatusTracker } from '../src/events/status-tracker.js';
import type { MigratorEventName, MigratorEvents } from '../src/events/events.js';
import { defineDataMigration, defineMigration } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import { RunFailedError } from '../src/errors/errors.js';
import { QUICK, latch, memory, rejection, within } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

describe('StatusTracker', () => {
  it('folds events into a snapshot: pending, per-shard progress, failures, final state', () => {
    const em = new EventEmitter<MigratorEvents>();
    const tracker = new StatusTracker();
    const detach = tracker.attach(em);
    em.emit('run:start', { runId: 'r1', mode: 'apply', runnerId: 'x' });
    expect(tracker.snapshot()).toMatchObject({ runId: 'r1', state: 'running', pending: 0 });
    em.emit('lock:wait', { runId: 'r1', lock: 'L', holder: null });
    expect(tracker.snapshot().state).toBe('waiting-for-lock');
    em.emit('lock:acquired', { runId: 'r1', lock: 'L', token: 1 });
    em.emit('plan', { runId: 'r1', plan: { order: [], shards: [], pending: 3, warnings: [] } });
    em.emit('shard:start', { runId: 'r1', migrationId: 'm', shardId: 's0', action: 'apply' });
    em.emit('batch', {
      runId: 'r1',
      migrationId: 'm',
      shardId: 's0',
      direction: 'up',
      processed: 50,
      written: 50,
      total: 100,
      rate: 10,
      eta: 5,
      batchSize: 50,
      throttled: false,
    });
    let snap = tracker.snapshot();
    expect(snap.state).toBe('running');
    expect(snap.shards.s0).toMatchObject({ state: 'running', migrationId: 'm', processed: 50, total: 100, eta: 5 });
    em.emit('shard:done', { runId: 'r1', migrationId: 'm', shardId: 's0', durationMs: 1 });
    em.emit('shard:failed', {
      runId: 'r1',
      migrationId: 'm',
      shardId: 's1',
      error: { name: 'E', code: 'X', message: 'boom' },
    });
    em.emit('pause', { paused: true });
    snap = tracker.snapshot();
    expect(snap.pending).toBe(2);
    expect(snap.state).toBe('paused');
    expect(snap.shards.s0).toMatchObject({ state: 'done', applied: 1 });
    expect(snap.shards.s1).toMatchObject({ state: 'failed', failed: 1, lastError: { message: 'boom' } });
    // snapshots are copies
    snap.shards.s0!.applied = 99;
    expect(tracker.snapshot().shards.s0!.applied).toBe(1);
    detach();
    em.emit('shard:done', { runId: 'r1', migrationId: 'm', shardId: 's0', durationMs: 1 });
    expect(tracker.snapshot().shards.s0!.applied).toBe(1);
  });

  it('tracks a real run to done, and a failing one to failed', async () => {
    const { engine, store, ids } = memory(2);
    store
      .shard(ids[0]!)
      .collection('items')
      .upsert([
        { id: 1, n: 1 },
        { id: 2, n: 2 },
      ]);
    store.shard(ids[1]!).collection('items'); // empty, but there: a missing table is refused
    const ms = [
      defineMigration({ id: '0001-a', engine: 'memory', up: async () => {} }),
      defineDataMigration({
        id: '0002-d',
        engine: 'memory',
        table: 'items',
        transform: (r) => ({ ...r, n: (r.n as number) * 2 }),
      }),
    ];
    const migrator = createMigrator({ engines: { memory: engine }, migrations: ms, ...QUICK });
    open.push(migrator);
    const tracker = new StatusTracker();
    tracker.attach(migrator);
    const report = await migrator.run();
    const snap = tracker.snapshot();
    expect(snap).toMatchObject({ runId: report.runId, state: 'done', pending: 0 });
    expect(snap.shards[ids[0]!]).toMatchObject({ state: 'done', applied: 2, processed: 2 });
    expect(snap.shards[ids[1]!]).toMatchObject({ state: 'done', applied: 2 });

    const bad = createMigrator({
      engines: { memory: engine },
      migrations: [
        ...ms,
        defineMigration({
          id: '0003-bad',
          engine: 'memory',
          up: () => {
            throw new Error('no');
          },
        }),
      ],
      ...QUICK,
    });
    open.push(bad);
    const t2 = new StatusTracker();
    t2.attach(bad);
    await rejection(bad.run());
    expect(t2.snapshot().state).toBe('failed');
    expect(t2.snapshot().shards[ids[0]!]!.failed).toBe(1);
  });
});

describe('migrator events', () => {
  it('every event kind is emitted by some run or rollback, and every payload is JSON-safe', async () => {
    // `satisfies` makes this list exhaustive: a new event kind fails typecheck until it is listed here.
    const KINDS = {
      'run:start': true,
      'run:done': true,
      plan: true,
      'lock:wait': true,
      'lock:acquired': true,
      'lock:released': true,
      'migration:start': true,
      'shard:start': true,
      batch: true,
      'shard:retry': true,
      'shard:done': true,
      'shard:failed': true,
      'migration:done': true,
      'rollback:start': true,
      'rollback:shard': true,
      'rollback:done': true,
      pause: true,
    } as const satisfies Record<MigratorEventName, true>;
    const { store, engine, ids } = memory(1);
    store
      .shard(ids[0]!)
      .collection('items')
      .upsert([
        { id: 1, n: 1 },
        { id: 2, n: 2 },
        { id: 3, n: 3 },
      ]);
    const waiting = latch();
    // Runner B holds the run lock until runner A reports that it waits for it (lock:wait).
    const blocker = defineMigration({ id: '0001-blocker', engine: 'memory', up: async () => waiting.promise });
    let flakes = 0;
    const ms = [
      blocker,
      defineMigration({
        id: '0002-flaky',
        engine: 'memory',
        up: async () => {
          if (++flakes === 1) throw Object.assign(new Error('connection reset'), { retryable: true });
        },
        down: async () => {},
      }),
      defineDataMigration({
        id: '0003-double',
        engine: 'memory',
        table: 'items',
        batchSize: 1,
        transform: (r) => ({ ...r, n: (r.n as number) * 2 }),
      }),
      defineMigration({
        id: '0004-bad',
        engine: 'memory',
        up: () => {
          throw new Error('no');
        },
        down: async () => {},
      }),
    ];
    const b = createMigrator({
      engines: { memory: memory(ids, { store }).engine },
      migrations: [blocker],
      ...QUICK,
      runnerId: 'b',
    });
    const a = createMigrator({
      engines: { memory: engine },
      migrations: ms,
      ...QUICK,
      runnerId: 'a',
      onFailure: 'continue',
      throttle: { minBatchSize: 1, maxBatchSize: 1 },
    });
    open.push(a, b);
    const payloads = new Map<string, unknown[]>();
    for (const kind of Object.keys(KINDS) as MigratorEventName[]) {
      a.on(kind, (e: unknown) => void payloads.set(kind, [...(payloads.get(kind) ?? []), e]));
    }
    a.on('lock:wait', () => waiting.open());
    a.on('batch', (e) => {
      if (e.processed !== 1) return;
      a.pause();
      a.resume();
    });
    const bHolds = latch();
    b.on('lock:acquired', () => bHolds.open());
    const bRun = b.run();
    await within(bHolds.promise, 5_000, 'runner b never took the run lock');
    const aRun = rejection(a.run());
    await bRun;
    expect(await aRun).toBeInstanceOf(RunFailedError);
    await a.rollback({ steps: 1 });
    expect(Object.keys(KINDS).filter((k) => !payloads.has(k))).toEqual([]);
    for (const [kind, list] of payloads) for (const p of list) expect(JSON.parse(JSON.stringify(p)), kind).toEqual(p);
  });

  it('migration:done reports where it applied and failed; rollback emits rollback:start/shard/done', async () => {
    const { engine, ids } = memory(2);
    const m = defineMigration({
      id: '0001-a',
      engine: 'memory',
      up: async (_h, ctx) => {
        if (ctx.shard.id === ids[1]) throw new Error('x');
      },
      down: async () => {},
    });
    const migrator = createMigrator({ engines: { memory: engine }, migrations: [m], ...QUICK, onFailure: 'continue' });
    open.push(migrator);
    const done: unknown[] = [];
    migrator.on('migration:done', (e) => void done.push({ applied: e.applied, failed: e.failed }));
    await rejection(migrator.run());
    expect(done).toEqual([{ applied: [ids[0]], failed: [ids[1]] }]);
    const names: string[] = [];
    migrator.on('rollback:start', (e) => void names.push(`start:${e.migrations.join(',')}`));
    migrator.on('rollback:shard', (e) => void names.push(`shard:${e.shardId}:${e.status}`));
    migrator.on('rollback:done', () => void names.push('done'));
    await migrator.rollback();
    expect(names[0]).toBe('start:0001-a');
    expect(names.slice(1, -1).sort()).toEqual([`shard:${ids[0]}:done`, `shard:${ids[1]}:done`].sort());
    expect(names.at(-1)).toBe('done');
  });
});
