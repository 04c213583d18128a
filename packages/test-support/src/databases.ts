/**
 * Temporary databases on the real servers, and what kind of MongoDB-wire server answers. Whether a
 * server is there at all is decided in ./services.ts.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';

/** A database-name stem: a validated prefix and a random suffix (names are quoted in SQL anyway). */
function stem(prefix: string): string {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix))
    throw new Error(`temporary database prefix must match [a-z_][a-z0-9_]{0,40}, got ${JSON.stringify(prefix)}`);
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export interface TempPgDatabases {
  readonly names: readonly string[];
  readonly urls: readonly string[];
  /** Drops every database (ending stray sessions); safe to call twice. */
  drop(): Promise<void>;
}

/** `count` fresh PostgreSQL databases `<prefix>_<random>_<n>` on MCP_MIGRATE_PG_URL's server. */
export async function tempPgDatabases(count: number, prefix = 'mcp_t'): Promise<TempPgDatabases> {
  const adminUrl = process.env.MCP_MIGRATE_PG_URL;
  if (!adminUrl) throw new Error('MCP_MIGRATE_PG_URL is not set');
  const base = stem(prefix);
  const names = count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}_${i}`);
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  await admin(async (c) => {
    for (const n of names) await c.query(`CREATE DATABASE "${n}"`);
  });
  return {
    names,
    urls: names.map((n) => Object.assign(new URL(adminUrl), { pathname: `/${n}` }).toString()),
    drop: () =>
      admin(async (c) => {
        for (const n of names) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
      }),
  };
}

/** A pool that tolerates its sessions being terminated (DROP DATABASE … WITH (FORCE)). */
export function testPool(url: string, max = 3): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

/** A fresh database name `<prefix>_<random>` (for a server that creates databases on first use). */
export function databaseName(prefix = 'mcp_unit'): string {
  return stem(prefix);
}

/** A fresh PostgreSQL database for the duration of `fn`, dropped afterwards (even when `fn` throws). */
export async function withPgDatabase<T>(
  prefix: string,
  fn: (db: { url: string; pool: pg.Pool }) => Promise<T>,
): Promise<T> {
  const dbs = await tempPgDatabases(1, prefix);
  const pool = new pg.Pool({ connectionString: dbs.urls[0], max: 4 });
  pool.on('error', () => undefined); // DROP DATABASE … WITH (FORCE) ends idle clients
  try {
    return await fn({ url: dbs.urls[0]!, pool });
  } finally {
    await pool.end();
    await dbs.drop();
  }
}

/** A fresh MongoDB database for the duration of `fn`, dropped afterwards (even when `fn` throws). */
export async function withMongoDatabase<T>(
  prefix: string,
  fn: (db: { client: MongoClient; db: Db; name: string }) => Promise<T>,
): Promise<T> {
  const client = new MongoClient(process.env.MONGODB_URI!);
  await client.connect();
  const name = stem(prefix);
  const db = client.db(name);
  try {
    return await fn({ client, db, name });
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}

/** The FerretDB version behind MONGODB_URI, or `null` for a MongoDB server (or none). */
export async function ferretdbVersion(): Promise<string | null> {
  const uri = process.env.MONGODB_URI;
  if (!uri) return null;
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3_000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    return typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : null;
  } catch {
    return null;
  } finally {
    await client.close().catch(() => undefined);
  }
}
