import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createMemoryStore,
  memoryEngine,
  MemoryCollection,
  MemoryLockProvider,
  MemoryLockTable,
} from '../src/testing/index.js';
import { DefinitionError, ErrorCode, ShardUnavailableError, StaleLeaseError } from '../src/errors/errors.js';
import type { LedgerRecord } from '../src/engine/index.js';
import { acquireLock } from '../src/lock/acquire.js';
import { latch, manualClock, memory, rejection, within } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

const record = (id: string, extra: Partial<LedgerRecord> = {}): LedgerRecord => ({
  id,
  state: 'applied',
  checksum: 'c',
  startedAt: null,
  finishedAt: null,
  runnerId: null,
  checkpoint: null,
  counts: null,
  error: null,
  seq: 1,
  ...extra,
});

describe('memoryEngine', () => {
  it('names shards <name>-<i> by default and validates ids', () => {
    const e = memoryEngine({ name: 'postgres', shards: 3 });
    expect(e.shards.map((s) => s.id)).toEqual(['postgres-0', 'postgres-1', 'postgres-2']);
    expect(e.shards[0]).toMatchObject({ engine: 'postgres', location: 'memory://postgres-0' });
    expect(memoryEngine().shards.map((s) => s.id)).toEqual(['memory-0']);
    expect(() => memoryEngine({ shards: ['a', 'a'] })).toThrow(DefinitionError);
    expect(() => memoryEngine({ shards: [] })).toThrow(/field "shards"/);
    expect(() => memoryEngine({ shards: ['bad id'] })).toThrow(DefinitionError);
    let err: unknown;
    try {
      e.shard('nope');
    } catch (x) {
      err = x;
    }
    expect(err).toMatchObject({ code: ErrorCode.Config, shardId: 'nope' });
  });

  it('two engines over one store share shards and locks (like replicas over the same databases)', async () => {
    const store = createMemoryStore();
    const a = memoryEngine({ shards: ['s'], store });
    const b = memoryEngine({ shards: ['s'], store });
    const lease = await acquireLock(a.shard('s').lock, 'L', { owner: 'a', ttlMs: 1000, waitMs: 0 });
    await b.shard('s').ledger.put(record('x'), { lockName: 'L', token: lease.token });
    expect((await a.shard('s').ledger.list()).map((r) => r.id)).toEqual(['x']);
    expect(a.handle('s')).toBe(b.handle('s'));
    await expect(acquireLock(b.shard('s').lock, 'L', { owner: 'b', ttlMs: 1000, waitMs: 0 })).rejects.toMatchObject({
      code: ErrorCode.LockTimeout,
    });
  });

  it('ledger records are copies: mutating what list() returned changes nothing stored', async () => {
    const { engine, ids, store } = memory(1);
    const s = engine.shard(ids[0]!);
    const lease = await acquireLock(s.lock, 'L', { owner: 'a', ttlMs: 1000, waitMs: 0 });
    await s.ledger.put(record('x', { counts: { read: 1, written: 1, skipped: 0 } }), {
      lockName: 'L',
      token: lease.token,
    });
    const [got] = await s.ledger.list();
    (got as { counts: { read: number } }).counts.read = 99;
    expect(store.shard(ids[0]!).ledger.get('x')!.counts!.read).toBe(1);
  });

  it('an unavailable shard fails every operation with a ShardUnavailableError naming it', async () => {
    const { engine, store, ids } = memory(1);
    store.shard(ids[0]!).available = false;
    const s = engine.shard(ids[0]!);
    for (const op of [
      () => s.connect(),
      () => s.ledger.list(),
      () => s.data.scan({ name: 't', key: ['id'] }, undefined, 10),
      () => s.executor.execute({ migrationId: 'm', direction: 'up', transaction: true }, async () => {}),
    ]) {
      const err = await rejection(op());
      expect(err).toBeInstanceOf(ShardUnavailableError);
      expect(err).toMatchObject({ shardId: ids[0], retryable: true });
    }
  });

  it('batch primitives: keyset scan, filter, idempotent upsert, insert-missing backups, count and checksum by range', async () => {
    const { engine, store, ids } = memory(1);
    const d = engine.shard(ids[0]!).data;
    const t = { name: 'items', key: ['id'] };
    store
      .shard(ids[0]!)
      .collection('items')
      .upsert([3, -2, 0, 10, 7].map((id) => ({ id, even: id % 2 === 0 })));
    expect((await d.scan(t, undefined, 2)).map((r) => r.id)).toEqual([-2, 0]);
    expect((await d.scan(t, [0], 2)).map((r) => r.id)).toEqual([3, 7]);
    expect((await d.scan(t, [10], 2)).map((r) => r.id)).toEqual([]);
    expect((await d.scan({ ...t, filter: { even: true } }, undefined, 10)).map((r) => r.id)).toEqual([-2, 0, 10]);
    expect(
      await d.write(t, [
        { id: 3, even: false, x: 1 },
        { id: 3, even: false, x: 2 },
      ]),
    ).toBe(2);
    expect(await d.count(t)).toBe(5);
    expect(store.shard(ids[0]!).collection('items').get([3])).toEqual({ id: 3, even: false, x: 2 });
    const bk = { name: 'bk', key: t.key, backupOf: t };
    expect(await d.write(bk, [{ id: 3, v: 'first' }])).toBe(1);
    expect(
      await d.write(bk, [
        { id: 3, v: 'second' },
        { id: 4, v: 'first' },
      ]),
    ).toBe(1);
    expect(await d.scan(bk, undefined, 10)).toEqual([
      { id: 3, v: 'first' },
      { id: 4, v: 'first' },
    ]);
    await d.drop(bk);
    await d.drop(bk);
    await expect(d.drop(t)).rejects.toMatchObject({ code: 'MIGRATE_DEFINITION', field: 'backupOf' });
    expect(store.shard(ids[0]!).hasCollection('items')).toBe(true);
    expect(store.shard(ids[0]!).hasCollection('bk')).toBe(false);
    expect(await d.count(t, { after: [0], upTo: [7] })).toBe(2);
    const whole = await d.checksum(t);
    const left = await d.checksum(t, { upTo: [3] });
    const right = await d.checksum(t, { after: [3] });
    expect(whole.count).toBe(left.count + right.count);
    expect(left.hash).not.toBe(right.hash);
    expect(await d.remove(t, [[3], [99]])).toBe(1);
    expect(await d.count(t)).toBe(4);
    expect((await d.checksum(t)).hash).not.toBe(whole.hash);
  });

  it('execute passes the shard handle to the step', async () => {
    const { engine, store, ids } = memory(1);
    let got: unknown;
    await engine
      .shard(ids[0]!)
      .executor.execute({ migrationId: 'm', direction: 'up', transaction: true }, async (h) => void (got = h));
    expect(got).toBe(store.shard(ids[0]!));
  });
});

describe('MemoryCollection', () => {
  it('copies rows in and out', () => {
    const c = new MemoryCollection('t', ['id']);
    const row = { id: 1, tags: ['a'] };
    c.upsert([row]);
    row.tags.push('b');
    const out = c.rows()[0]!;
    expect(out.tags).toEqual(['a']);
    (out.tags as string[]).push('c');
    expect(c.get([1])!.tags).toEqual(['a']);
  });

  it('keeps key order after inserts and deletes (composite keys)', () => {
    const c = new MemoryCollection('t', ['a', 'b']);
    c.upsert([
      { a: 2, b: 'x' },
      { a: 1, b: 'z' },
      { a: 1, b: 'a' },
    ]);
    expect(c.rows().map((r) => [r.a, r.b])).toEqual([
      [1, 'a'],
      [1, 'z'],
      [2, 'x'],
    ]);
    c.delete([[1, 'z']]);
    c.upsert([{ a: 0, b: 'q' }]);
    expect(c.rows().map((r) => [r.a, r.b])).toEqual([
      [0, 'q'],
      [1, 'a'],
      [2, 'x'],
    ]);
    expect(c.rows({ after: [1, 'a'] }).map((r) => r.a)).toEqual([2]);
    expect(c.size).toBe(3);
  });

  it('renameCollection keeps rows and refuses to overwrite', () => {
    const store = createMemoryStore();
    const s = store.shard('s');
    s.collection('a').upsert([{ id: 1 }]);
    s.collection('b');
    expect(() => s.renameCollection('a', 'b')).toThrow(/already exists/);
    s.renameCollection('a', 'c');
    expect(s.collectionNames()).toEqual(['b', 'c']);
    expect(s.collection('c').rows()).toEqual([{ id: 1 }]);
  });
});

describe('memory lock', () => {
  it('tokens increase with every acquisition and forceRelease; status shows the holder', async () => {
    const table = new MemoryLockTable();
    table.pollMs = 1;
    const lock = new MemoryLockProvider(table);
    const a = await acquireLock(lock, 'L', { owner: 'a', ttlMs: 1000, waitMs: 0 });
    expect(await lock.status('L')).toMatchObject({ name: 'L', owner: 'a', token: a.token });
    await a.release();
    await a.release();
    expect(await lock.status('L')).toBeNull();
    const b = await acquireLock(lock, 'L', { owner: 'b', ttlMs: 1000, waitMs: 0 });
    expect(b.token).toBeGreaterThan(a.token);
    expect(await lock.forceRelease('L')).toBe(true);
    expect(await lock.forceRelease('L')).toBe(false);
    expect(table.newestToken('L')).toBeGreaterThan(b.token);
    expect(() => table.checkFence({ lockName: 'L', token: b.token }, 'write')).toThrow(StaleLeaseError);
    await expect(b.renew()).rejects.toBeInstanceOf(StaleLeaseError);
  });

  it('a waiter gets the lock once it is released, calling onWait with the holder meanwhile', async () => {
    const table = new MemoryLockTable();
    table.pollMs = 1;
    const lock = new MemoryLockProvider(table);
    const a = await acquireLock(lock, 'L', { owner: 'a', ttlMs: 5000, waitMs: 0 });
    const holders: (string | undefined)[] = [];
    const waited = latch();
    const waiting = acquireLock(lock, 'L', {
      owner: 'b',
      ttlMs: 5000,
      waitMs: 5000,
      onWait: (h) => {
        holders.push(h?.owner);
        waited.open();
      },
    });
    await within(waited.promise, 5_000, 'onWait was never called');
    expect(holders.length).toBeGreaterThan(0);
    expect(new Set(holders)).toEqual(new Set(['a']));
    await a.release();
    const b = await waiting;
    expect(b.owner).toBe('b');
  });

  it('a lock wait can be aborted', async () => {
    const lock = new MemoryLockProvider(new MemoryLockTable());
    await acquireLock(lock, 'L', { owner: 'a', ttlMs: 5000, waitMs: 0 });
    const ac = new AbortController();
    const p = rejection(acquireLock(lock, 'L', { owner: 'b', ttlMs: 5000, waitMs: 5000, signal: ac.signal }));
    ac.abort();
    expect((await p).code).toBe(ErrorCode.Aborted);
  });

  it('renew keeps a lease alive past its ttl; without renewal it expires', async () => {
    const clock = manualClock();
    const lock = new MemoryLockProvider(new MemoryLockTable());
    const a = await acquireLock(lock, 'L', { owner: 'a', ttlMs: 30, waitMs: 0 });
    for (let i = 0; i < 4; i++) {
      clock.advance(20);
      await a.renew();
    }
    // 80 ms after acquiring a 30 ms lease: still held, because it was renewed every 20 ms.
    await expect(acquireLock(lock, 'L', { owner: 'b', ttlMs: 30, waitMs: 0 })).rejects.toMatchObject({
      code: ErrorCode.LockTimeout,
    });
    clock.advance(31);
    const b = await acquireLock(lock, 'L', { owner: 'b', ttlMs: 30, waitMs: 0 });
    expect(b.token).toBeGreaterThan(a.token);
    await expect(a.renew()).rejects.toBeInstanceOf(StaleLeaseError);
  });
});
