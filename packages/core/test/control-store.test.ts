import { describe, expect, it } from 'vitest';
import { defineMigration } from '../src/definition/migration.js';
import { RunFailedError } from '../src/errors/errors.js';
import { hashRouter } from '../src/router/router.js';
import { createMigrator } from '../src/run/migrator.js';
import { createMemoryStore, memoryEngine } from '../src/testing/index.js';
import { memory, rejection } from './helpers.js';

it('a run whose control-store shard is unreachable fails with a report naming that shard, applying nothing', async () => {
  const store = createMemoryStore();
  store.shard('pg-0').available = false;
  let ran = 0;
  const m = defineMigration({ id: 'a', engine: 'postgres', up: () => void ran++ });
  const migrator = createMigrator({
    engines: { postgres: memoryEngine({ name: 'postgres', shards: ['pg-0', 'pg-1'], store }) },
    migrations: [m],
  });
  const err = await migrator.run().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RunFailedError);
  const report = (err as RunFailedError<{ shards: { shardId: string; error?: { code: string } }[] }>).report;
  expect(report.shards.find((s) => s.shardId === 'pg-0')?.error?.code).toBe('MIGRATE_SHARD_UNAVAILABLE');
  expect((err as Error).message).toContain('pg-0');
  expect(ran).toBe(0);
  expect(store.shard('pg-1').ledger.size).toBe(0);
});

describe('the control store: chosen explicitly or by the documented preference', () => {
  const noop = (id: string, engine: string) => defineMigration({ id, engine, up: () => undefined });

  it('without `control`, the first engine in `engines` order that offers control() holds the run lock', async () => {
    const store = createMemoryStore();
    const mg = memoryEngine({ name: 'mongodb', shards: ['mg-0'], store });
    const pg = memoryEngine({ name: 'postgres', shards: ['pg-0'], store });
    const seen: string[] = [];
    const spy = (e: ReturnType<typeof memoryEngine>, tag: string) => {
      const original = e.control!.bind(e);
      (e as { control: typeof original }).control = () => {
        const c = original();
        return {
          ...c,
          lock: {
            ...c.lock,
            tryAcquire: (...a: Parameters<typeof c.lock.tryAcquire>) => (seen.push(tag), c.lock.tryAcquire(...a)),
            status: c.lock.status.bind(c.lock),
            forceRelease: c.lock.forceRelease.bind(c.lock),
          },
        };
      };
    };
    spy(mg, 'mongodb');
    spy(pg, 'postgres');
    await createMigrator({ engines: { mongodb: mg, postgres: pg }, migrations: [noop('a', 'postgres')] }).run();
    expect(seen).toEqual(['mongodb']);
    seen.length = 0;
    // Something pending again: with nothing pending, run() answers from the ledgers without the lock.
    const both = [noop('a', 'postgres'), noop('b', 'postgres')];
    await createMigrator({ engines: { postgres: pg, mongodb: mg }, migrations: both }).run();
    expect(seen).toEqual(['postgres']);
  });

  it('a higher controlPreference wins over the order of `engines`, so every replica picks the same store', async () => {
    const store = createMemoryStore();
    const seen: string[] = [];
    const offering = (name: string, preference: number) => {
      const e = memoryEngine({ name, shards: [`${name}-0`], store });
      const original = e.control!.bind(e);
      return Object.assign(e, { controlPreference: preference, control: () => (seen.push(name), original()) });
    };
    const mg = offering('mongodb', 1);
    const pg = offering('postgres', 2);
    createMigrator({ engines: { mongodb: mg, postgres: pg }, migrations: [noop('a', 'postgres')] });
    createMigrator({ engines: { postgres: pg, mongodb: mg }, migrations: [noop('a', 'postgres')] });
    expect(seen).toEqual(['postgres', 'postgres']);
  });

  it('an explicit control.lock wins; an engine without control() falls back to its first shard, with an empty directory that refuses writes', async () => {
    const { engine } = memory(2);
    const bare = { ...engine, control: undefined };
    const used: string[] = [];
    const lock = engine.shard(engine.shards[1]!.id).lock;
    const counting = {
      tryAcquire: (...a: Parameters<typeof lock.tryAcquire>) => (used.push(a[0]), lock.tryAcquire(...a)),
      status: lock.status.bind(lock),
      forceRelease: lock.forceRelease.bind(lock),
    };
    await createMigrator({
      engines: { memory: bare },
      migrations: [noop('a', 'memory')],
      control: { lock: counting },
    }).run();
    expect(used).toEqual(['mcp-migrate:default:run']);
    const m = createMigrator({ engines: { memory: bare }, migrations: [] });
    expect(await m.directory.list()).toEqual({});
    expect(await m.directory.get('memory', 'acme')).toBeUndefined();
    expect(await rejection(m.directory.set('memory', 'acme', engine.shards[0]!.id))).toMatchObject({
      code: 'MIGRATE_CONFIG',
      field: 'control.directory',
    });
  });

  it('a directory given as a function is read (as the router overrides) but refuses writes', async () => {
    const { engine, ids } = memory(2);
    const m = createMigrator({
      engines: { memory: engine },
      migrations: [],
      control: { directory: () => ({ memory: { acme: ids[1]! } }) },
    });
    expect(await m.directory.get('memory', 'acme')).toBe(ids[1]);
    expect(await m.directory.list()).toEqual({ memory: { acme: ids[1] } });
    expect(await rejection(m.directory.set('memory', 'acme', ids[0]!))).toMatchObject({
      code: 'MIGRATE_CONFIG',
      field: 'control.directory',
    });
  });

  it('the memory tenant directory persists in the store: another migrator reads it, and its router follows it', async () => {
    const { store, engine, ids } = memory(3);
    const router = hashRouter();
    const natural = router.route('acme', 'memory', ids);
    const target = ids.find((id) => id !== natural)!;
    const writer = createMigrator({ engines: { memory: engine }, migrations: [] });
    expect(await writer.directory.list()).toEqual({});
    await writer.directory.set('memory', 'acme', target);
    await writer.directory.set('memory', 'gone', natural);
    expect(await writer.directory.delete('memory', 'gone')).toBe(true);
    expect(await writer.directory.delete('memory', 'gone')).toBe(false);
    await writer.close();

    const got: string[] = [];
    const m = defineMigration({
      id: '0001-t',
      engine: 'memory',
      scope: { tenants: ['acme'] },
      up: async (_h, ctx) => void got.push(ctx.shard.id),
    });
    const reader = createMigrator({
      engines: { memory: memoryEngine({ name: 'memory', shards: ids, store }) },
      migrations: [m],
      router,
    });
    expect(await reader.directory.list()).toEqual({ memory: { acme: target } });
    expect((await reader.plan()).shards.filter((s) => s.steps.length).map((s) => s.shardId)).toEqual([target]);
    await reader.run();
    expect(got).toEqual([target]);
  });

  it('the directory is on the control shard: it is unreachable when that shard is', async () => {
    const { store, engine, ids } = memory(2);
    const m = createMigrator({ engines: { memory: engine }, migrations: [] });
    store.shard(ids[0]!).available = false;
    expect(await rejection(m.directory.list())).toMatchObject({ code: 'MIGRATE_SHARD_UNAVAILABLE', shardId: ids[0] });
  });
});

describe('run() with nothing pending answers from the ledgers, without the run lock', () => {
  it('returns every migration skipped while another runner holds the lock; with a step pending it waits for the lock', async () => {
    const store = createMemoryStore();
    const engine = memoryEngine({ name: 'postgres', shards: ['pg-0', 'pg-1'], store });
    const a = defineMigration({ id: 'a', engine: 'postgres', up: () => undefined });
    const first = createMigrator({ engines: { postgres: engine }, migrations: [a] });
    expect((await first.run()).totals).toMatchObject({ applied: 2, skipped: 0 });
    // Another runner holds the run lock (as a long migration would).
    const held = await engine.control!().lock.tryAcquire('mcp-migrate:default:run', {
      owner: 'other-runner',
      ttlMs: 60_000,
    });
    expect(held).toBeTruthy();
    const second = createMigrator({ engines: { postgres: engine }, migrations: [a], lock: { waitMs: 200 } });
    const report = await second.run();
    expect(report.totals).toMatchObject({ applied: 0, skipped: 2, failed: 0 });
    expect(report.waitedForLock).toBe(false);
    // Something pending: the run needs the lock, so it waits and gives up after waitMs.
    const b = defineMigration({ id: 'b', engine: 'postgres', up: () => undefined });
    const third = createMigrator({ engines: { postgres: engine }, migrations: [a, b], lock: { waitMs: 200 } });
    const err = await rejection(third.run());
    expect(err.message).toMatch(/lock/i);
    expect(store.shard('pg-0').ledger.has('b')).toBe(false);
  });
});
