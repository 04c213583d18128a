/**
 * Streaming reads (capability `openScan`) in the batch engine, on memoryEngine with and without its
 * snapshot cursor (both go through the same reader): a batch bounded in bytes as well as rows,
 * whole groups under the byte bound, one cursor per loop and every cursor closed on every way out
 * (done, transform throws, abort), re-opened after a compare-and-set conflict (with the next batch
 * read ahead) and once older than its age bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineDataMigration } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MigratorConfig } from '../src/run/config.js';
import type { DataStore, DataTarget, EngineAdapter, KeyValue, Row, ScanCursor } from '../src/engine/index.js';
import { ScanSession, MIN_READ_AGE_MS } from '../src/data/scan-session.js';
import { keysetCursor, RowReader } from '../src/data/row-reader.js';
import { attachRowSize, rowSizeOf } from '../src/util/row-size.js';
import { createMemoryStore, memoryEngine, type MemoryStore } from '../src/testing/index.js';
import { QUICK, rejection } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

/** Counts the cursors a shard's data store opens and closes (a proxy: methods run on the store itself). */
interface Tally {
  opened: string[];
  closed: number;
}

function counting(engine: EngineAdapter, tally: Tally): EngineAdapter {
  const bind = <T extends object>(t: T, overrides: Record<string, unknown>): T =>
    new Proxy(t, {
      get(target, p) {
        if (typeof p === 'string' && p in overrides) return overrides[p];
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return bind(engine, {
    shard: (id: string) => {
      const shard = engine.shard(id);
      const data = shard.data;
      const openScan = (target: DataTarget, after: KeyValue | undefined): ScanCursor => {
        tally.opened.push(target.name);
        const cursor = data.openScan!(target, after);
        let closed = false;
        return {
          next: (limit) => cursor.next(limit),
          close: async () => {
            if (!closed) tally.closed++;
            closed = true;
            await cursor.close();
          },
        };
      };
      return bind(shard, { data: bind(data as DataStore, { openScan }) });
    },
  });
}

function setup(options: { openScan: boolean; compareAndSet?: boolean; rows?: Row[] }) {
  const store = createMemoryStore();
  store.locks.pollMs = 1;
  const engine = memoryEngine({
    shards: ['s0'],
    store,
    openScan: options.openScan,
    compareAndSet: options.compareAndSet ?? false,
  });
  store
    .shard('s0')
    .collection('items', ['id'])
    .upsert(options.rows ?? Array.from({ length: 30 }, (_, i) => ({ id: i - 5, n: i })));
  const tally: Tally = { opened: [], closed: 0 };
  return { store, engine: options.openScan ? counting(engine, tally) : engine, tally };
}

function migratorOf(engine: EngineAdapter, migrations: MigratorConfig['migrations'], extra = {}): Migrator {
  const m = createMigrator({ engines: { memory: engine }, migrations, ...QUICK, ...extra });
  open.push(m);
  return m;
}

const rowsOf = (store: MemoryStore) => store.shard('s0').collection('items', ['id']).rows();
const bump = (extra = {}) =>
  defineDataMigration({
    id: '0001-bump',
    engine: 'memory',
    table: 'items',
    batchSize: 10,
    transform: (row: Row) => ({ ...row, n: Number(row.n) + 100 }),
    ...extra,
  });

describe.each([false, true])('streaming reads (openScan: %s)', (openScan) => {
  it('a batch of large rows stops at the byte bound: every row done once, no batch over the bound by more than a row', async () => {
    const big = 'x'.repeat(200_000);
    const rows = Array.from({ length: 12 }, (_, i) => ({ id: i, n: i, blob: big }));
    const { store, engine } = setup({ openScan, rows });
    const sizes: number[] = [];
    let last = 0;
    const m = migratorOf(engine, [bump()], {
      throttle: { minBatchSize: 10, maxBatchSize: 10, maxBatchBytes: 500_000 },
    });
    m.on('batch', (e) => {
      sizes.push(e.processed - last);
      last = e.processed;
    });
    await m.run();
    expect(rowsOf(store).map((r) => r.n)).toEqual(rows.map((r) => r.n + 100));
    // 200 kB rows and a 500 kB bound: 3 rows a batch (the third passes it), never 10.
    expect(Math.max(...sizes)).toBe(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12);
  });

  it('grouped batches under the byte bound still hold whole groups', async () => {
    const big = 'y'.repeat(100_000);
    const rows = Array.from({ length: 20 }, (_, i) => ({ id: i, g: Math.floor(i / 4), n: i, blob: big }));
    const store = createMemoryStore();
    store.locks.pollMs = 1;
    store.shard('s0').collection('items', ['g', 'id']).upsert(rows);
    const engine = memoryEngine({ shards: ['s0'], store, openScan });
    const seen: number[][] = [];
    const m = defineDataMigration({
      id: '0001-groups',
      engine: 'memory',
      table: 'items',
      key: ['g', 'id'],
      groupBy: 'g',
      batchSize: 10,
      transformGroup: (group: readonly Row[]) => {
        seen.push(group.map((r) => Number(r.id)));
        return group.map((r) => ({ ...r, n: Number(r.n) + 1000 }));
      },
    });
    await migratorOf(engine, [m], { throttle: { minBatchSize: 10, maxBatchSize: 10, maxBatchBytes: 250_000 } }).run();
    expect(seen).toEqual([0, 1, 2, 3, 4].map((g) => [0, 1, 2, 3].map((i) => g * 4 + i)));
    const after = store.shard('s0').collection('items', ['g', 'id']).rows();
    expect(after.map((r) => r.n)).toEqual(rows.map((r) => r.n + 1000));
  });
});

describe('streaming reads: cursors', () => {
  it('one cursor over the table for a whole run, closed at the end', async () => {
    const { store, engine, tally } = setup({ openScan: true });
    await migratorOf(engine, [bump()], { throttle: { minBatchSize: 10, maxBatchSize: 10 } }).run();
    expect(rowsOf(store).map((r) => r.n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 100));
    expect(tally.opened).toEqual(['items']);
    expect(tally.closed).toBe(1);
  });

  it('a rollback without reverse reads the backup through one cursor', async () => {
    const { store, engine, tally } = setup({ openScan: true });
    const m = migratorOf(engine, [bump()], { throttle: { minBatchSize: 10, maxBatchSize: 10 } });
    await m.run();
    await m.rollback({ steps: 1 });
    expect(rowsOf(store).map((r) => r.n)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(tally.opened).toEqual(['items', 'mcp_backup_0001_bump']);
    expect(tally.closed).toBe(2);
  });

  it('every cursor is closed when a transform throws, and when the run is aborted', async () => {
    const throwing = setup({ openScan: true });
    const failing = bump({
      transform: (row: Row) => {
        if (row.id === 17) throw new Error('boom');
        return { ...row, n: Number(row.n) + 100 };
      },
    });
    await rejection(
      migratorOf(throwing.engine, [failing], {
        throttle: { minBatchSize: 10, maxBatchSize: 10 },
        retry: { retries: 0 },
      }).run(),
    );
    expect(throwing.tally.opened.length).toBeGreaterThan(0);
    expect(throwing.tally.closed).toBe(throwing.tally.opened.length);

    const aborted = setup({ openScan: true });
    const controller = new AbortController();
    const m = migratorOf(aborted.engine, [bump()], { throttle: { minBatchSize: 5, maxBatchSize: 5 } });
    let batches = 0;
    m.on('batch', () => {
      if (++batches === 2) controller.abort(new Error('stop'));
    });
    await rejection(m.run({ signal: controller.signal }));
    expect(aborted.tally.opened.length).toBeGreaterThan(0);
    expect(aborted.tally.closed).toBe(aborted.tally.opened.length);
    // The next run resumes from the checkpoint with a new cursor, and finishes the table exactly.
    await migratorOf(aborted.engine, [bump()], { throttle: { minBatchSize: 5, maxBatchSize: 5 } }).run();
    expect(rowsOf(aborted.store).map((r) => r.n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 100));
    expect(aborted.tally.closed).toBe(aborted.tally.opened.length);
  });

  it('a compare-and-set conflict re-opens the cursor at the checkpoint, so the changed row is read as it is now', async () => {
    const { store, engine, tally } = setup({ openScan: true, compareAndSet: true });
    let reads = 0;
    const wrapped = new Proxy(engine, {
      get(t, p) {
        if (p !== 'shard') return Reflect.get(t, p, t) as unknown;
        return (id: string) => {
          const shard = t.shard(id);
          return new Proxy(shard, {
            get(s, q) {
              if (q !== 'data') return Reflect.get(s, q, s) as unknown;
              return new Proxy(s.data, {
                get(d, r) {
                  if (r !== 'openScan') return Reflect.get(d, r, d) as unknown;
                  return (target: DataTarget, after: KeyValue | undefined) => {
                    const cursor = d.openScan!(target, after);
                    return {
                      next: async (limit: number) => {
                        const rows = await cursor.next(limit);
                        // The application writes row 12 after the second read of the table (the snapshot has the old one).
                        if (target.name === 'items' && ++reads === 2)
                          store
                            .shard('s0')
                            .collection('items', ['id'])
                            .upsert([{ id: 12, n: 5000 }]);
                        return rows;
                      },
                      close: () => cursor.close(),
                    };
                  };
                },
              });
            },
          });
        };
      },
    });
    await migratorOf(wrapped, [bump()], { throttle: { minBatchSize: 10, maxBatchSize: 10 } }).run();
    const n = rowsOf(store).map((r) => r.n);
    expect(n).toEqual(Array.from({ length: 30 }, (_, i) => (i === 17 ? 5100 : i + 100)));
    // The first cursor, and a new one from the checkpoint after the conflict.
    expect(tally.opened.filter((name) => name === 'items')).toHaveLength(2);
    expect(tally.closed).toBe(tally.opened.length);
  });
});

describe('ScanSession', () => {
  const target: DataTarget = { name: 'items', key: ['id'] };

  function session(now: () => number) {
    const store = createMemoryStore();
    const engine = memoryEngine({ shards: ['s0'], store, openScan: true });
    store
      .shard('s0')
      .collection('items', ['id'])
      .upsert(Array.from({ length: 10 }, (_, i) => ({ id: i, n: i })));
    const tally: Tally = { opened: [], closed: 0 };
    const shard = counting(engine, tally).shard('s0');
    const s = new ScanSession({ shard, main: target, maxBatchBytes: 1 << 20, now });
    return { s, tally };
  }

  it('keeps its cursor while it stands at the batch start and is fresh; re-opens when older than the age bound or elsewhere', async () => {
    let clock = 0;
    const { s, tally } = session(() => clock);
    await s.start(undefined);
    expect((await s.rows.read(3)).map((r) => r.id)).toEqual([0, 1, 2]);
    await s.start([2]);
    expect((await s.rows.read(3)).map((r) => r.id)).toEqual([3, 4, 5]);
    expect(tally.opened).toHaveLength(1);
    clock += MIN_READ_AGE_MS + 1;
    await s.start([5]);
    expect((await s.rows.read(2)).map((r) => r.id)).toEqual([6, 7]);
    expect(tally.opened).toHaveLength(2);
    // Not where the batch starts (a cut batch): re-opened there.
    await s.start([3]);
    expect((await s.rows.read(2)).map((r) => r.id)).toEqual([4, 5]);
    expect(tally.opened).toHaveLength(3);
    await s.close();
    expect(tally.closed).toBe(3);
  });
});

describe('RowReader', () => {
  it('puts back only the last rows read, in order, and stands before them', async () => {
    const store = createMemoryStore();
    const engine = memoryEngine({ shards: ['s0'], store });
    store
      .shard('s0')
      .collection('t', ['id'])
      .upsert([1, 2, 3, 4, 5].map((id) => ({ id })));
    const t: DataTarget = { name: 't', key: ['id'] };
    const reader = new RowReader(keysetCursor(engine.shard('s0').data, t, undefined), t, undefined, {
      maxBytes: 1 << 20,
      size: { average: undefined },
    });
    const rows = await reader.read(3);
    expect(() => reader.unread([rows[0]!])).toThrow(/last rows read/);
    reader.unread(rows.slice(1));
    expect(reader.position).toEqual([1]);
    expect((await reader.read(10)).map((r) => r.id)).toEqual([2, 3, 4, 5]);
    expect(reader.done).toBe(true);
  });

  it('row sizes: the size an adapter attached, else an estimate of the values', () => {
    expect(rowSizeOf(attachRowSize({ a: 'x'.repeat(1000) }, 42))).toBe(42);
    const estimate = rowSizeOf({ a: 'x'.repeat(1000), b: [1, 2, 3], c: { d: new Uint8Array(500) } });
    expect(estimate).toBeGreaterThan(1500);
    expect(estimate).toBeLessThan(1700);
  });
});
