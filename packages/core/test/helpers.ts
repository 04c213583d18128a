/** Shared helpers of the core unit tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, vi } from 'vitest';
import { defineDataMigration, defineMigration } from '../src/definition/migration.js';
import { createMemoryStore, memoryEngine, type MemoryEngine, type MemoryStore } from '../src/testing/index.js';
import type { DataStore, EngineAdapter, ShardAdapter } from '../src/engine/index.js';
import type { RunReport } from '../src/run/report.js';

export const QUICK = {
  lock: { ttlMs: 5_000, waitMs: 10_000 },
  retry: { retries: 3, minTimeoutMs: 1, maxTimeoutMs: 5 },
} as const;

/**
 * For migration files written by a test that define themselves through the globals
 * `__defineMigration` / `__defineDataMigration` (so they need no import of the SDK): sets those
 * globals and makes a temporary directory before the cases, removes both after. Returns the
 * directory, to be read inside the cases.
 */
export function migrationFilesRoot(prefix: string): () => string {
  const g = globalThis as Record<string, unknown>;
  let root = '';
  beforeAll(async () => {
    g.__defineMigration = defineMigration;
    g.__defineDataMigration = defineDataMigration;
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    delete g.__defineMigration;
    delete g.__defineDataMigration;
    await rm(root, { recursive: true, force: true });
  });
  return () => root;
}

let n = 0;
/** A fresh store and a memory engine over it, with a fast lock poll. */
export function memory(
  shards: number | string[] = 2,
  options: { name?: string; latencyMs?: number; store?: MemoryStore } = {},
): { store: MemoryStore; engine: MemoryEngine; ids: string[] } {
  const store = options.store ?? createMemoryStore();
  store.locks.pollMs = 1;
  const name = options.name ?? 'memory';
  const ids = typeof shards === 'number' ? Array.from({ length: shards }, (_, i) => `${name}-${++n}-${i}`) : shards;
  const engine = memoryEngine({ name, shards: ids, store, latencyMs: options.latencyMs ?? 0 });
  return { store, engine, ids };
}

/**
 * Every member of a data store as an own property bound to it (a class instance's methods live on
 * its prototype, so `{ ...store }` would copy none of them): spread it and replace one to inject a fault.
 */
export function delegate(d: DataStore): DataStore {
  return {
    scan: (t, a, l, u) => d.scan(t, a, l, u),
    ...(d.splitKeys ? { splitKeys: (t: Parameters<DataStore['scan']>[0], n: number) => d.splitKeys!(t, n) } : {}),
    count: (t, r) => d.count(t, r),
    checksum: (t, r) => d.checksum(t, r),
    write: (t, rows) => d.write(t, rows),
    update: (t, p) => d.update(t, p),
    remove: (t, k) => d.remove(t, k),
    drop: (t) => d.drop(t),
    ...(d.inspect ? { inspect: (t: Parameters<NonNullable<DataStore['inspect']>>[0]) => d.inspect!(t) } : {}),
    compareAndSet: d.compareAndSet,
    serverCopy: d.serverCopy,
    serverUpdate: d.serverUpdate,
  };
}

/** Wraps an engine so that each shard's DataStore can be replaced (fault injection). */
export function wrapEngine<H>(
  engine: EngineAdapter<H>,
  wrapData: (data: DataStore, shardId: string) => DataStore,
): EngineAdapter<H> {
  const cache = new Map<string, ShardAdapter<H>>();
  return {
    name: engine.name,
    capabilities: engine.capabilities,
    shards: engine.shards,
    defaultKey: engine.defaultKey,
    classifyError: (error) => engine.classifyError(error),
    compareKeys: (a, b) => engine.compareKeys(a, b),
    ...(engine.control ? { control: () => engine.control!() } : {}),
    close: () => engine.close(),
    shard(id: string) {
      let s = cache.get(id);
      if (!s) {
        const a = engine.shard(id);
        s = {
          id: a.id,
          engine: a.engine,
          ledger: a.ledger,
          lock: a.lock,
          data: wrapData(a.data, id),
          get capabilities() {
            return a.capabilities;
          },
          connect: (signal) => a.connect(signal),
          executor: a.executor,
          close: () => a.close(),
        };
        cache.set(id, s);
      }
      return s;
    },
  };
}

/** The status of every step of a report, as `shard/migration: status`. */
export function statuses(report: RunReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of report.shards) for (const m of s.migrations) out[`${s.shardId}/${m.migrationId}`] = m.status;
  return out;
}

export async function rejection(p: Promise<unknown> | (() => unknown)): Promise<any> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/**
 * A promise the test resolves itself: tests wait on what happened (a latch), never on how long
 * something usually takes.
 */
export function latch<T = void>(): { readonly promise: Promise<T>; open(value: T): void; readonly opened: boolean } {
  let resolve!: (value: T) => void;
  let opened = false;
  const promise = new Promise<T>((r) => (resolve = r));
  return {
    promise,
    open(value: T) {
      opened = true;
      resolve(value);
    },
    get opened() {
      return opened;
    },
  };
}

/** `p`, or a rejection naming `what` when it has not settled after `ms` (a failure message, not a timed assertion). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} (gave up after ${ms} ms)`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fakes `Date` only (timers stay real): lease expiry in the memory lock reads `Date.now()`, so a
 * test moves the clock explicitly instead of sleeping past a TTL. Undo with `vi.useRealTimers()`.
 */
export function manualClock(): { advance(ms: number): void } {
  vi.useFakeTimers({ toFake: ['Date'] });
  return {
    advance(ms: number) {
      vi.setSystemTime(Date.now() + ms);
    },
  };
}
