/**
 * Conformance harness over a real PostgreSQL server (MCP_MIGRATE_PG_URL, an admin database of a
 * superuser): each setup creates fresh databases `mcp_t_<random>_<n>` and teardown drops them.
 */
import pg from 'pg';
import type { Row } from '@mcp/migrate-core';
import { postgresEngine, type PostgresEngine } from '@mcp/migrate-postgres';
import type { Fixture, GroupedRow, Harness, NativeOps, SuiteRow } from '@mcp/migrate-core/testing/conformance';
import { postgresAvailable, tempPgDatabases } from '@mcp/test-support';

export const sqlOps: NativeOps = {
  async createTable(handle, name) {
    await (handle as pg.ClientBase).query(
      `CREATE TABLE "${name}" (id integer PRIMARY KEY, name text, n integer, note text)`,
    );
  },
  async dropTable(handle, name) {
    await (handle as pg.ClientBase).query(`DROP TABLE "${name}"`);
  },
  async insert(handle, table, row) {
    const r = row as Row;
    await (handle as pg.ClientBase).query(`INSERT INTO "${table}" (id, name, n, note) VALUES ($1, $2, $3, $4)`, [
      r.id,
      r.name ?? null,
      r.n ?? null,
      r.note ?? null,
    ]);
  },
};

/**
 * The tables and indexes on a shard, index names left out (so that two indexes on the same
 * columns show up as a duplicate). pg-mem has no pg_tables/pg_indexes: tables only there.
 */
export async function sqlCatalog(handle: unknown): Promise<string[]> {
  const client = handle as pg.ClientBase;
  const { rows } = await client
    .query<{ kind: string; def: string }>(
      `SELECT 'table' AS kind, tablename AS def FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
       UNION ALL SELECT 'index', regexp_replace(indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ', 'CREATE \\1INDEX ') FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    )
    .catch(async () =>
      client.query<{ kind: string; def: string }>(
        `SELECT 'table' AS kind, table_name AS def FROM information_schema.tables WHERE table_schema = 'public'`,
      ),
    );
  return rows.map((r) => `${r.kind}:${r.def}`).sort();
}

/** The suite's table helpers over one pool per shard. */
export function sqlFixtureParts(
  pools: ReadonlyMap<string, pg.Pool>,
): Pick<Fixture, 'createRowsTable' | 'seed' | 'rows' | 'catalog' | 'grouped'> {
  const pool = (id: string) => pools.get(id)!;
  return {
    catalog: sqlCatalog,
    async createRowsTable(name) {
      for (const p of pools.values())
        await p.query(`CREATE TABLE "${name}" (id integer PRIMARY KEY, name text, n integer, note text)`);
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
    grouped: {
      async create(name) {
        for (const p of pools.values())
          await p.query(`CREATE TABLE "${name}" (g integer, k text, v integer, PRIMARY KEY (g, k))`);
      },
      async seed(shardId, name, rows) {
        for (const r of rows) {
          await pool(shardId).query(
            `INSERT INTO "${name}" (g, k, v) VALUES ($1, $2, $3) ON CONFLICT (g, k) DO UPDATE SET v = EXCLUDED.v`,
            [r.g, r.k, r.v],
          );
        }
      },
      async rows(shardId, name) {
        const { rows } = await pool(shardId).query<GroupedRow>(`SELECT g, k, v FROM "${name}"`);
        return rows;
      },
    },
  };
}

export const postgresHarness: Harness = {
  name: 'postgres',
  available: () => postgresAvailable(),
  async setup(shardCount) {
    const dbs = await tempPgDatabases(shardCount, 'mcp_t');
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
        const e = postgresEngine({
          shards: shardIds.map((id, i) => ({ id, connectionString: dbs.urls[i]! })),
          poolSize: 3,
        });
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
