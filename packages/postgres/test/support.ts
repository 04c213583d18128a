/**
 * Real-server helpers: skip with a clear message when MCP_MIGRATE_PG_URL is absent (or the server
 * does not answer), unless MCP_MIGRATE_REQUIRE_SERVICES=1, where absence fails the suite.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.MCP_MIGRATE_PG_URL;
const REQUIRE = process.env.MCP_MIGRATE_REQUIRE_SERVICES === '1';

async function check(): Promise<true | string> {
  if (!PG_URL) return 'MCP_MIGRATE_PG_URL is not set';
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (error) {
    return `server did not answer: ${(error as Error).message}`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Whether to run the real-server tests (throws when they are required and the server is absent). */
export async function pgAvailable(): Promise<boolean> {
  const ok = await check();
  if (ok === true) return true;
  const message = `PostgreSQL is not available (${ok}); start it with "bash scripts/services.sh start"`;
  if (REQUIRE) throw new Error(`MCP_MIGRATE_REQUIRE_SERVICES=1 but ${message}`);
  console.warn(`[skip] ${message}`);
  return false;
}

export interface TempDatabases {
  readonly urls: string[];
  drop(): Promise<void>;
}

/** Fresh databases `mcp_pt_<random>_<n>`; `drop()` removes them (closing stray sessions). */
export async function tempDatabases(count: number): Promise<TempDatabases> {
  const stem = `mcp_pt_${randomBytes(5).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => `${stem}_${i}`);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    for (const n of names) await admin.query(`CREATE DATABASE "${n}"`);
  } finally {
    await admin.end();
  }
  return {
    urls: names.map((n) => {
      const u = new URL(PG_URL!);
      u.pathname = `/${n}`;
      return u.toString();
    }),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        for (const n of names) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A pool that tolerates its sessions being terminated (DROP DATABASE … WITH (FORCE)). */
export function testPool(url: string, max = 3): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}
