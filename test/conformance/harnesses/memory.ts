import type { EngineAdapter, EngineCapabilities, Row } from '@mcp/migrate-core';
import { createMemoryStore, memoryEngine, type MemoryShard } from '@mcp/migrate-core/testing';
import type { Fixture, GroupedRow, Harness, SuiteRow } from '@mcp/migrate-core/testing/conformance';

let run = 0;

export interface MemoryVariant {
  /** `memoryEngine({ compareAndSet })`. Default false. */
  readonly compareAndSet?: boolean;
  /** false: the engine and its shards declare no `inspect` capability (the data store keeps the method). Default true. */
  readonly inspect?: boolean;
  /** `memoryEngine({ batchWrite })`. Default false. */
  readonly batchWrite?: boolean;
  /** `memoryEngine({ openScan })`: streaming reads through a snapshot cursor. Default false. */
  readonly openScan?: boolean;
}

/** `adapter` with its own members, but `capabilities` replaced (methods run on the adapter itself). */
function withCapabilities<T extends object>(adapter: T, capabilities: EngineCapabilities): T {
  return new Proxy(adapter, {
    get(t, p) {
      if (p === 'capabilities') return capabilities;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** The memory engine without the `inspect` capability, as an adapter that cannot check a target up front. */
function withoutInspect(engine: EngineAdapter): EngineAdapter {
  const off = (c: EngineCapabilities): EngineCapabilities => ({ ...c, inspect: false });
  const shards = new Map<string, ReturnType<EngineAdapter['shard']>>();
  return new Proxy(withCapabilities(engine, off(engine.capabilities)), {
    get(t, p) {
      if (p !== 'shard') return Reflect.get(t, p);
      return (id: string) => {
        if (!shards.has(id)) {
          const shard = engine.shard(id);
          shards.set(id, withCapabilities(shard, off(shard.capabilities)));
        }
        return shards.get(id)!;
      };
    },
  });
}

/** The conformance harness of the memory engine; `variant` turns capabilities on or off. */
export function memoryHarness(variant: MemoryVariant = {}): Harness {
  const flags = [
    variant.compareAndSet ? 'compareAndSet' : '',
    variant.batchWrite ? 'batchWrite' : '',
    variant.inspect === false ? 'no inspect' : '',
    variant.openScan ? 'openScan' : '',
  ]
    .filter(Boolean)
    .join(', ');
  return {
    name: flags ? `memory (${flags})` : 'memory',
    async available() {
      return true;
    },
    async setup(shardCount) {
      const store = createMemoryStore();
      store.locks.pollMs = 2;
      const prefix = `m${++run}`;
      const shardIds = Array.from({ length: shardCount }, (_, i) => `${prefix}-${i}`);
      const engine = () => {
        const e = memoryEngine({
          name: 'memory',
          shards: shardIds,
          store,
          compareAndSet: variant.compareAndSet ?? false,
          batchWrite: variant.batchWrite ?? false,
          openScan: variant.openScan ?? false,
        });
        return variant.inspect === false ? withoutInspect(e) : e;
      };
      const fixture: Fixture = {
        engineName: 'memory',
        shardIds,
        keyField: 'id',
        engine,
        ops: {
          async createTable(handle, name) {
            (handle as MemoryShard).createCollection(name, ['id']);
          },
          async dropTable(handle, name) {
            (handle as MemoryShard).dropCollection(name);
          },
          async insert(handle, table, row) {
            const c = (handle as MemoryShard).collection(table, ['id']);
            if (c.get([row.id])) throw new Error(`duplicate key ${String(row.id)} in ${table}`);
            c.upsert([row]);
          },
        },
        async createRowsTable(name) {
          for (const id of shardIds) store.shard(id).collection(name, ['id']);
        },
        async seed(shardId, table, rows) {
          store
            .shard(shardId)
            .collection(table, ['id'])
            .upsert(rows as unknown as Row[]);
        },
        async rows(shardId, table) {
          return store.shard(shardId).collection(table, ['id']).rows() as unknown as SuiteRow[];
        },
        grouped: {
          async create(name) {
            for (const id of shardIds) store.shard(id).collection(name, ['g', 'k']);
          },
          async seed(shardId, name, rows) {
            store
              .shard(shardId)
              .collection(name, ['g', 'k'])
              .upsert(rows as unknown as Row[]);
          },
          async rows(shardId, name) {
            return store.shard(shardId).collection(name, ['g', 'k']).rows() as unknown as GroupedRow[];
          },
        },
        async teardown() {},
      };
      return fixture;
    },
  };
}
