import type { Row } from '@mcp/migrate-core';
import { createMemoryStore, memoryEngine, type MemoryShard } from '@mcp/migrate-core/testing';
import type { Fixture, Harness, SuiteRow } from '../harness.js';

let run = 0;

export const memoryHarness: Harness = {
  name: 'memory',
  async available() {
    return true;
  },
  async setup(shardCount) {
    const store = createMemoryStore();
    store.locks.pollMs = 2;
    const prefix = `m${++run}`;
    const shardIds = Array.from({ length: shardCount }, (_, i) => `${prefix}-${i}`);
    const fixture: Fixture = {
      engineName: 'memory',
      shardIds,
      keyField: 'id',
      engine: () => memoryEngine({ name: 'memory', shards: shardIds, store }),
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
      async teardown() {},
    };
    return fixture;
  },
};
