/**
 * Typed handles by engine, through the built packages' published declarations: the engine name of
 * `defineMigration` types `up`/`down`'s handle once the adapter package is imported (its .d.ts
 * augments `EngineHandles`). Checked by `tsc` (`pnpm run typecheck`) and by vitest's expectTypeOf:
 * a handle that became `any` fails `toEqualTypeOf` and leaves a `@ts-expect-error` unused.
 */
import { defineMigration, type EngineHandles, type HandleOf, type SchemaMigration } from '@mcp/migrate-core';
import type { MemoryShard } from '@mcp/migrate-core/testing';
import { mongoSession } from '@mcp/migrate-mongodb';
import '@mcp/migrate-postgres';
import type { Db } from 'mongodb';
import type { PoolClient } from 'pg';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('defineMigration types the handle from the engine name', () => {
  it('postgres: pg PoolClient', () => {
    const m = defineMigration({
      id: '0001-pg',
      engine: 'postgres',
      async up(client) {
        expectTypeOf(client).toEqualTypeOf<PoolClient>();
        await client.query('SELECT 1');
        // @ts-expect-error a PoolClient has no collection(): fails if the handle were any
        client.collection('x');
      },
      down: (client, ctx) => {
        expectTypeOf(client).toEqualTypeOf<PoolClient>();
        expectTypeOf(ctx.shard.id).toEqualTypeOf<string>();
      },
    });
    expectTypeOf(m).toEqualTypeOf<SchemaMigration<PoolClient>>();
    expect(m.engine).toBe('postgres');
  });

  it('mongodb: the driver Db, whose session is mongoSession(db)', () => {
    const m = defineMigration({
      id: '0001-mg',
      engine: 'mongodb',
      async up(db) {
        expectTypeOf(db).toEqualTypeOf<Db>();
        await db.collection('x').createIndex({ a: 1 }, { session: mongoSession(db) });
        // @ts-expect-error a Db has no query()
        await db.query('SELECT 1');
      },
    });
    expectTypeOf(m).toEqualTypeOf<SchemaMigration<Db>>();
  });

  it('memory: MemoryShard', () => {
    defineMigration({
      id: '0001-mem',
      engine: 'memory',
      up(shard) {
        expectTypeOf(shard).toEqualTypeOf<MemoryShard>();
        shard.collection('a', ['id']);
      },
    });
  });

  it('a name no adapter registered: unknown, never any', () => {
    defineMigration({
      id: '0001-x',
      engine: 'cassandra',
      up(handle) {
        expectTypeOf(handle).toEqualTypeOf<unknown>();
        // @ts-expect-error unknown must be narrowed first
        handle.execute('x');
      },
    });
    const engine: string = 'postgres';
    defineMigration({
      id: '0001-y',
      engine,
      up(handle) {
        expectTypeOf(handle).toEqualTypeOf<unknown>();
      },
    });
  });

  it('an explicit handle type still works, unchecked (backward compatible)', () => {
    const m = defineMigration<MemoryShard>({
      id: '0001-explicit',
      engine: 'postgres',
      up: (shard) => {
        expectTypeOf(shard).toEqualTypeOf<MemoryShard>();
      },
    });
    expectTypeOf(m).toEqualTypeOf<SchemaMigration<MemoryShard>>();
    defineMigration<PoolClient>({ id: '0001-explicit-pg', engine: 'postgres', up: (c) => void c.query('SELECT 1') });
  });

  it('an annotated handle is checked against the engine', () => {
    defineMigration({ id: '0001-a', engine: 'postgres', up: (client: PoolClient) => void client.query('SELECT 1') });
    // A supertype of the registered handle is fine.
    defineMigration({ id: '0001-b', engine: 'postgres', up: (client: Pick<PoolClient, 'query'>) => client.query('x') });
    // A third-party engine's handle, annotated.
    defineMigration({ id: '0001-c', engine: 'cassandra', up: (s: { execute(q: string): void }) => s.execute('x') });
    // @ts-expect-error a MongoDB Db is not what engine "postgres" hands out
    defineMigration({ id: '0001-d', engine: 'postgres', up: (db: Db) => void db.collection('x') });
  });

  it('HandleOf and EngineHandles name the registered handles', () => {
    expectTypeOf<HandleOf<'postgres'>>().toEqualTypeOf<PoolClient>();
    expectTypeOf<HandleOf<'mongodb'>>().toEqualTypeOf<Db>();
    expectTypeOf<HandleOf<'memory'>>().toEqualTypeOf<MemoryShard>();
    expectTypeOf<HandleOf<'other'>>().toEqualTypeOf<unknown>();
    expectTypeOf<keyof EngineHandles>().toEqualTypeOf<'memory' | 'postgres' | 'mongodb'>();
  });
});
