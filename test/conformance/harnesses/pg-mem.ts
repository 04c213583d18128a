/**
 * Conformance harness over pg-mem (PostgreSQL emulated in memory): one pg-mem database per shard;
 * every engine the suite builds gets new `Pool`s over the same databases (another "replica").
 */
import { newDb, type IMemoryDb } from 'pg-mem';
import type pg from 'pg';
import { postgresEngine } from '@mcp/migrate-postgres';
import type { Fixture, Harness } from '@mcp/migrate-core/testing/conformance';
import { sqlFixtureParts, sqlOps } from './postgres.js';

let run = 0;

type PoolCtor = new () => pg.Pool;

export const pgMemHarness: Harness = {
  name: 'pg-mem',
  async available() {
    return true;
  },
  async setup(shardCount) {
    const prefix = `mem${++run}`;
    const shardIds = Array.from({ length: shardCount }, (_, i) => `${prefix}-${i}`);
    const dbs = new Map<string, { db: IMemoryDb; Pool: PoolCtor }>(
      shardIds.map((id) => {
        const db = newDb();
        return [id, { db, Pool: db.adapters.createPg().Pool as PoolCtor }];
      }),
    );
    const pools = new Map(shardIds.map((id) => [id, new (dbs.get(id)!.Pool)()]));
    const fixture: Fixture = {
      engineName: 'postgres',
      shardIds,
      keyField: 'id',
      engine: () => postgresEngine({ shards: shardIds.map((id) => ({ id, pool: new (dbs.get(id)!.Pool)() })) }),
      ops: sqlOps,
      ...sqlFixtureParts(pools),
      async teardown() {},
    };
    return fixture;
  },
};
