import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineDataMigration, type DataMigrationInput } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MigratorConfig } from '../src/run/config.js';
import { ErrorCode, RunFailedError } from '../src/errors/errors.js';
import { fingerprint } from '../src/data/batch-runner.js';
import { backupName } from '../src/data/backup.js';
import { PauseGate } from '../src/data/throttle.js';
import type { BatchEvent } from '../src/events/events.js';
import type { DataStore, EngineAdapter, Row, RowPatch } from '../src/engine/index.js';
import type { RunReport } from '../src/run/report.js';
import type { MemoryStore } from '../src/testing/index.js';
import { QUICK, delegate, latch, memory, rejection, tick, wrapEngine } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

/** Fixed batches of 2 rows: the pacer may not adapt them. */
const FIXED = { throttle: { minBatchSize: 2, maxBatchSize: 2 } };

function migratorOf(
  engine: EngineAdapter<any>,
  migrations: MigratorConfig['migrations'],
  extra: Partial<MigratorConfig> = {},
): Migrator {
  const m = createMigrator({ engines: { [engine.name]: engine }, migrations, ...QUICK, ...FIXED, ...extra });
  open.push(m);
  return m;
}

const plusOne = (row: Row) => ({ ...row, n: (row.n as number) + 1 });
const minusOne = (row: Row) => ({ ...row, n: (row.n as number) - 1 });
const data = (extra: Partial<DataMigrationInput> = {}) =>
  defineDataMigration({
    id: '0001-plus-one',
    engine: 'memory',
    table: 'items',
    batchSize: 2,
    transform: plusOne,
    ...extra,
  });

const IDS = [-7, -1, 0, 1, 2, 3, 5, 8, 13, 1_000_000];
function seed(store: MemoryStore, shardId: string, ids: readonly unknown[] = IDS) {
  store
    .shard(shardId)
    .collection('items', ['id'])
    .upsert(ids.map((id, i) => ({ id, n: i * 10, name: `row ${String(id)}` })));
}
const rowsOf = (store: MemoryStore, shardId: string, name = 'items') =>
  store.shard(shardId).collection(name, ['id']).rows();
const ns = (store: MemoryStore, shardId: string) => rowsOf(store, shardId).map((r) => r.n);
const original = IDS.map((_, i) => i * 10);

/** A DataStore whose `update` misbehaves on its `nth` call (1-based). */
function faultyWrite(
  nth: number,
  fault: (data: DataStore, t: Parameters<DataStore['update']>[0], rows: readonly RowPatch[]) => Promise<number>,
) {
  let calls = 0;
  return (d: DataStore): DataStore => ({
    ...delegate(d),
    update: async (t, rows) => (++calls === nth ? fault(d, t, rows) : d.update(t, rows)),
  });
}

describe('batch engine: scanning', () => {
  it('starts from no lower bound: keys ≤ 0 are migrated, in ascending key order, in batches', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const m = migratorOf(engine, [data()]);
    const events: BatchEvent[] = [];
    m.on('batch', (e) => events.push(e));
    const report = await m.run();
    expect(ns(store, ids[0]!)).toEqual(original.map((n) => n + 1));
    expect(report.shards[0]!.migrations[0]!.counts).toEqual({ read: 10, written: 10, skipped: 0 });
    expect(events.map((e) => e.processed)).toEqual([2, 4, 6, 8, 10]);
    expect(events.every((e) => e.total === 10 && e.direction === 'up' && e.batchSize === 2)).toBe(true);
    const rec = store.shard(ids[0]!).ledger.get('0001-plus-one')!;
    expect(rec.state).toBe('applied');
    expect(rec.counts).toEqual({ read: 10, written: 10, skipped: 0 });
  });

  it('scans text keys bytewise from the very first (empty string included)', async () => {
    const { engine, store, ids } = memory(1);
    const keys = ['', ' ', '0', 'A', 'Z', '_', 'a', 'z', 'é', '€', '😀'];
    seed(store, ids[0]!, [...keys].reverse());
    const seen: unknown[] = [];
    const m = data({
      transform: (row) => {
        seen.push(row.id);
        return { ...row, n: (row.n as number) + 1 };
      },
    });
    await migratorOf(engine, [m]).run();
    expect(seen).toEqual(keys);
    expect(rowsOf(store, ids[0]!).every((r, i) => r.n === (keys.length - 1 - i) * 10 + 1)).toBe(true);
  });

  it('counts rows the transform leaves (null) as skipped, and the filter limits what is read', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    store
      .shard(ids[0]!)
      .collection('items')
      .update((r) => ({ ...r, kind: (r.id as number) % 2 === 0 ? 'even' : 'odd' }));
    const m = data({ filter: { kind: 'even' }, transform: (row) => ((row.id as number) < 0 ? null : plusOne(row)) });
    const report = await migratorOf(engine, [m]).run();
    // even ids: 0, 2, 8, 1_000_000 (and no negative even one); -7, -1 are odd
    expect(report.shards[0]!.migrations[0]!.counts).toEqual({ read: 4, written: 4, skipped: 0 });
    const m2 = defineDataMigration({
      id: '0002-neg',
      engine: 'memory',
      table: 'items',
      batchSize: 2,
      transform: (row) => ((row.id as number) < 0 ? plusOne(row) : null),
    });
    const r2 = await migratorOf(engine, [m, m2]).run();
    expect(r2.shards[0]!.migrations.find((x) => x.migrationId === '0002-neg')!.counts).toEqual({
      read: 10,
      written: 2,
      skipped: 8,
    });
  });
});

describe('batch engine: safety checks', () => {
  it('a write that drops rows fails the step ("wrote X of Y") and the checkpoint stays before the bad batch', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const wrapped = wrapEngine(
      engine,
      faultyWrite(3, async (d, t, rows) => d.update(t, rows.slice(1))),
    );
    const err = await rejection(migratorOf(wrapped, [data()]).run());
    expect(err).toBeInstanceOf(RunFailedError);
    const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
    expect(step.status).toBe('failed');
    expect(step.error!.message).toContain('wrote 1 of 2');
    const rec = store.shard(ids[0]!).ledger.get('0001-plus-one')!;
    expect(rec.state).toBe('failed');
    expect(rec.checkpoint!.after).toEqual([IDS[3]]);
    expect(rec.counts).toEqual({ read: 4, written: 4, skipped: 0 });
  });

  it('refuses to resume a checkpoint made with other batch settings (fingerprint mismatch)', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const wrapped = wrapEngine(
      engine,
      faultyWrite(3, async () => {
        throw new Error('disk full');
      }),
    );
    await rejection(migratorOf(wrapped, [data()]).run());
    const afterFirst = ns(store, ids[0]!);
    expect(afterFirst).toEqual(original.map((n, i) => (i < 4 ? n + 1 : n)));
    const changed = data({ batchSize: 3 });
    expect(changed.checksum).toBe(data().checksum);
    expect(fingerprint(changed)).not.toBe(fingerprint(data()));
    const err = await rejection(migratorOf(engine, [changed]).run());
    const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
    expect(step.error!.code).toBe(ErrorCode.CheckpointMismatch);
    expect(ns(store, ids[0]!)).toEqual(afterFirst);
    // the original definition resumes where it stopped
    await migratorOf(engine, [data()]).run();
    expect(ns(store, ids[0]!)).toEqual(original.map((n) => n + 1));
  });

  it('refuses a transform that changes the key, writing nothing of that batch', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const m = data({
      transform: (row) => ({ ...row, id: (row.id as number) === 1 ? 100 : row.id, n: (row.n as number) + 1 }),
    });
    const err = await rejection(migratorOf(engine, [m]).run());
    const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
    expect(step.error!.message).toMatch(/changed the key/);
    // batches 1 ([-7,-1]) and 2 ([0,1]): the second holds id 1 and is not written
    expect(ns(store, ids[0]!)).toEqual(original.map((n, i) => (i < 2 ? n + 1 : n)));
    expect(rowsOf(store, ids[0]!).map((r) => r.id)).toEqual(IDS);
    expect(store.shard(ids[0]!).ledger.get('0001-plus-one')!.checkpoint!.after).toEqual([-1]);
  });

  it('refuses a transform that returns a non-object', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const err = await rejection(migratorOf(engine, [data({ transform: (() => [1, 2]) as never })]).run());
    expect((err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!.error!.message).toContain('an array');
    expect(ns(store, ids[0]!)).toEqual(original);
  });
});

describe('batch engine: crash and resume', () => {
  it.each([
    ['retried in the same run', true],
    ['resumed by the next run', false],
  ])(
    'a batch re-done after a crash after its write transforms the saved originals: n+1 exactly once (%s)',
    async (_name, retryable) => {
      const { engine, store, ids } = memory(1);
      seed(store, ids[0]!);
      const wrapped = wrapEngine(
        engine,
        faultyWrite(3, async (d, t, rows) => {
          await d.update(t, rows);
          throw Object.assign(new Error('connection lost after write'), { retryable });
        }),
      );
      const m = migratorOf(wrapped, [data()]);
      if (retryable) {
        const report = await m.run();
        expect(report.shards[0]!.migrations[0]).toMatchObject({ status: 'applied', attempts: 2 });
      } else {
        await rejection(m.run());
        // batch 3 was written: rows 5 and 6 already carry n+1
        expect(ns(store, ids[0]!)).toEqual(original.map((n, i) => (i < 6 ? n + 1 : n)));
        expect(store.shard(ids[0]!).ledger.get('0001-plus-one')!.checkpoint!.after).toEqual([IDS[3]]);
        await migratorOf(engine, [data()]).run();
      }
      expect(ns(store, ids[0]!)).toEqual(original.map((n) => n + 1));
      expect(store.shard(ids[0]!).ledger.get('0001-plus-one')!.state).toBe('applied');
    },
  );

  it("resumes a migration a dead runner left 'running' from its checkpoint", async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const m = data();
    // a runner died after checkpointing batch 2
    const items = store.shard(ids[0]!).collection('items');
    const first4 = items.rows({}, undefined, 4);
    store.shard(ids[0]!).collection(backupName(m.id), ['id']).upsert(first4);
    items.upsert(first4.map(plusOne));
    store.shard(ids[0]!).ledger.set(m.id, {
      id: m.id,
      state: 'running',
      checksum: m.checksum,
      startedAt: null,
      finishedAt: null,
      runnerId: 'dead',
      checkpoint: { after: [IDS[3]], fingerprint: fingerprint(m), direction: 'up' },
      counts: { read: 4, written: 4, skipped: 0 },
      error: null,
      seq: 1,
    });
    const migrator = migratorOf(engine, [m]);
    const actions: string[] = [];
    migrator.on('shard:start', (e) => actions.push(e.action));
    const report = await migrator.run();
    expect(actions).toEqual(['resume']);
    expect(ns(store, ids[0]!)).toEqual(original.map((n) => n + 1));
    expect(report.shards[0]!.migrations[0]!.counts).toEqual({ read: 10, written: 10, skipped: 0 });
  });
});

describe('batch engine: rollback', () => {
  it('exact rollback without reverse restores the originals of a partly applied migration, and drops the backup', async () => {
    const { engine, store, ids } = memory(2);
    for (const id of ids) seed(store, id);
    const before = await Promise.all(ids.map((id) => engine.shard(id).data.checksum({ name: 'items', key: ['id'] })));
    const wrapped = wrapEngine(engine, (d, shardId) =>
      shardId === ids[0]
        ? faultyWrite(3, async (dd, t, rows) => {
            await dd.update(t, rows);
            throw new Error('crash');
          })(d)
        : d,
    );
    await rejection(migratorOf(wrapped, [data()], { onFailure: 'continue' }).run());
    expect(store.shard(ids[0]!).ledger.get('0001-plus-one')!.state).toBe('failed');
    expect(store.shard(ids[1]!).ledger.get('0001-plus-one')!.state).toBe('applied');
    expect(ns(store, ids[0]!)).not.toEqual(original);
    const rb = await migratorOf(engine, [data()]).rollback({ steps: 1 });
    expect(rb.totals).toMatchObject({ applied: 2, failed: 0 });
    for (const [i, id] of ids.entries()) {
      expect(ns(store, id)).toEqual(original);
      expect(await engine.shard(id).data.checksum({ name: 'items', key: ['id'] })).toEqual(before[i]);
      expect(store.shard(id).hasCollection(backupName('0001-plus-one'))).toBe(false);
      expect(store.shard(id).ledger.get('0001-plus-one')).toMatchObject({ state: 'rolled_back', checkpoint: null });
    }
  });

  it('rollback with reverse applies it to every row and emits down batches', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const reversed: unknown[] = [];
    const m = data({
      reverse: (row) => {
        reversed.push(row.id);
        return minusOne(row);
      },
    });
    await migratorOf(engine, [m]).run();
    expect(ns(store, ids[0]!)).toEqual(original.map((n) => n + 1));
    // make the backup disagree: the rollback must come from reverse, not from it
    store.shard(ids[0]!).collection(backupName(m.id), ['id']).clear();
    const migrator = migratorOf(engine, [m]);
    const dirs: string[] = [];
    migrator.on('batch', (e) => dirs.push(e.direction));
    await migrator.rollback();
    expect(reversed).toEqual(IDS);
    expect(ns(store, ids[0]!)).toEqual(original);
    expect(dirs.length).toBeGreaterThan(0);
    expect(new Set(dirs)).toEqual(new Set(['down']));
    expect(store.shard(ids[0]!).ledger.get(m.id)!.state).toBe('rolled_back');
  });

  it('up → down → up → down leaves the data as it was (backup holds first copies only)', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    for (let i = 0; i < 2; i++) {
      await migratorOf(engine, [data()]).run();
      expect(ns(store, ids[0]!)).toEqual(original.map((n) => n + 1));
      await migratorOf(engine, [data()]).rollback();
      expect(ns(store, ids[0]!)).toEqual(original);
    }
  });
});

describe('batch engine: throttling and pause', () => {
  it('maxRowsPerSecond marks batches as throttled; without it none are', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const free = migratorOf(engine, [data()]);
    const freeEvents: boolean[] = [];
    free.on('batch', (e) => freeEvents.push(e.throttled));
    await free.run();
    expect(freeEvents.length).toBe(5);
    expect(freeEvents.some(Boolean)).toBe(false);

    const limited = defineDataMigration({
      id: '0002-limited',
      engine: 'memory',
      table: 'items',
      batchSize: 2,
      maxRowsPerSecond: 200,
      transform: minusOne,
    });
    const m = migratorOf(engine, [data(), limited]);
    const events: boolean[] = [];
    m.on('batch', (e) => events.push(e.throttled));
    await m.run();
    expect(events.length).toBe(5);
    expect(events.some(Boolean)).toBe(true);
    expect(ns(store, ids[0]!)).toEqual(original);
  });

  it('pause() stops batch progress until resume(): no batch event and no row written in between', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const migrator = migratorOf(engine, [data()]);
    const log: string[] = [];
    migrator.on('pause', (e) => log.push(e.paused ? 'pause' : 'resume'));
    migrator.on('batch', (e) => {
      log.push(`batch:${e.processed}`);
      if (e.processed === 2) migrator.pause();
    });
    const paused = latch();
    migrator.on('pause', (e) => e.paused && paused.open());
    // Fake timers: "no progress" is checked after a whole (simulated) minute in which every timer the
    // run set has fired and every promise has settled, not by sampling a few real milliseconds.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const running = migrator.run();
    await paused.promise;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(migrator.paused).toBe(true);
    expect(log).toEqual(['batch:2', 'pause']);
    expect(ns(store, ids[0]!)).toEqual(original.map((n, i) => (i < 2 ? n + 1 : n)));
    migrator.resume();
    const [report] = await Promise.all([running, vi.advanceTimersByTimeAsync(60_000)]);
    expect(report.ok).toBe(true);
    expect(log).toEqual(['batch:2', 'pause', 'resume', 'batch:4', 'batch:6', 'batch:8', 'batch:10']);
    expect(ns(store, ids[0]!)).toEqual(original.map((n) => n + 1));
  });

  it('an abort while paused ends the run (MIGRATE_ABORTED) without writing more', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const migrator = migratorOf(engine, [data()]);
    const ac = new AbortController();
    migrator.on('batch', () => migrator.pause());
    const running = rejection(migrator.run({ signal: ac.signal }));
    while (!migrator.paused) await tick(1);
    ac.abort(new Error('stop'));
    const err = await running;
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!.error!.code).toBe(ErrorCode.Aborted);
    expect(ns(store, ids[0]!)).toEqual(original.map((n, i) => (i < 2 ? n + 1 : n)));
    expect(store.shard(ids[0]!).ledger.get('0001-plus-one')!.state).not.toBe('applied');
  });

  it('PauseGate: waiting on an already aborted signal rejects at once instead of hanging', async () => {
    const gate = new PauseGate();
    await gate.wait(AbortSignal.abort());
    gate.pause();
    await expect(gate.wait(AbortSignal.abort(new Error('gone')))).rejects.toMatchObject({ code: ErrorCode.Aborted });
    const waiting = gate.wait();
    gate.resume();
    await expect(waiting).resolves.toBeUndefined();
  });
});
