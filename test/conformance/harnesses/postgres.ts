/**
 * Conformance harness over a real PostgreSQL server (MCP_MIGRATE_PG_URL, an admin database of a
 * superuser): each setup creates fresh databases `mcp_t_<random>_<n>` and teardown drops them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Row } from '@mcp/migrate-core';
import { postgresEngine, type PostgresEngine } from '@mcp/migrate-postgres';
import type { Fixture, Harness, NativeOps, SuiteRow } from '../harness.js';

const ADMIN_URL = process.env.MCP_MIGRATE_PG_URL;

/** `true`, or why the server cannot be used (unset URL, no answer within 2 s). */
export async function postgresAvailable(url = ADMIN_URL): Promise<true | string> {
  if (!url) return 'MCP_MIGRATE_PG_URL is not set';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return `PostgreSQL at ${url.replace(/\/\/[^@]*@/, '//***@')} did not answer: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `count` fresh databases; returns their URLs and a function that drops them. */
export async function createDatabases(count: number, prefix = 'mcp_t'): Promise<{ urls: string[]; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const stem = `${prefix}_${randomBytes(5).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => `${stem}_${i}`);
  try {
    for (const name of names) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const urls = names.map((name) => {
    const u = new URL(ADMIN_URL!);
    u.pathname = `/${name}`;
    return u.toString();
  });
  return {
    urls,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        for (const name of names) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const sqlOps: NativeOps = {
  async createTable(handle, name) {
    await (handle as pg.ClientBase).query(`CREATE TABLE "${name}" (id integer PRIMARY KEY, name text, n integer, note text)`);
  },
  async dropTable(handle, name) {
    await (handle as pg.ClientBase).query(`DROP TABLE "${name}"`);
  },
  async insert(handle, table, row) {
    const r = row as Row;
    await (handle as pg.ClientBase).query(`INSERT INTO "${table}" (id, name, n, note) VALUES ($1, $2, $3, $4)`, [r.id, r.name ?? null, r.n ?? null, r.note ?? null]);
  },
};

/** The suite's table helpers over one pool per shard. */
export function sqlFixtureParts(pools: ReadonlyMap<string, pg.Pool>): Pick<Fixture, 'createRowsTable' | 'seed' | 'rows'> {
  const pool = (id: string) => pools.get(id)!;
  return {
    async createRowsTable(name) {
      for (const p of pools.values()) await p.query(`CREATE TABLE "${name}" (id integer PRIMARY KEY, name text, n integer, note text)`);
    },
    async seed(shardId, table, rows) {
      for (const r of rows) {
        await pool(shardId).query(
          `INSERT INTO "${table}" (id, name, n, note) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, n = EXCLUDED.n, note = EXCLUDED.note`,
          [r.id, r.name, r.n, r.note],
        );
      }
    },
    async rows(shardId, table) {
      const { rows } = await pool(shardId).query<SuiteRow>(`SELECT id, name, n, note FROM "${table}" ORDER BY id`);
      return rows;
    },
  };
}

export const postgresHarness: Harness = {
  name: 'postgres',
  available: () => postgresAvailable(),
  async setup(shardCount) {
    const dbs = await createDatabases(shardCount);
    const shardIds = dbs.urls.map((_, i) => `pg-${i}`);
    const pools = new Map(shardIds.map((id, i) => [id, new pg.Pool({ connectionString: dbs.urls[i], max: 2 })]));
    // DROP DATABASE … WITH (FORCE) in teardown ends any straggling session: not a test failure.
    for (const p of pools.values()) p.on('error', () => undefined);
    const engines: PostgresEngine[] = [];
    return {
      engineName: 'postgres',
      shardIds,
      keyField: 'id',
      engine: () => {
        const e = postgresEngine({ shards: shardIds.map((id, i) => ({ id, connectionString: dbs.urls[i]! })), poolSize: 3 });
        engines.push(e);
        return e;
      },
      ops: sqlOps,
      ...sqlFixtureParts(pools),
      async teardown() {
        await Promise.allSettled(engines.map((e) => e.close()));
        await Promise.allSettled([...pools.values()].map((p) => p.end()));
        await dbs.drop();
      },
    };
  },
};
