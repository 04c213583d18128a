/** Test support: the MongoDB-wire server of MONGODB_URI, fresh databases, engines on them, and the skip/require rule. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { MongoClient } from 'mongodb';
import { mongoEngine, type MongoEngine } from '../src/index.js';

export const MONGODB_URI = process.env.MONGODB_URI;
const REQUIRE = process.env.MCP_MIGRATE_REQUIRE_SERVICES === '1';

/** True when a server answers; skips with a message, or throws under MCP_MIGRATE_REQUIRE_SERVICES=1. */
export async function serverAvailable(): Promise<boolean> {
  let reason: string | undefined;
  if (!MONGODB_URI) reason = 'MONGODB_URI is not set';
  else {
    const client = new MongoClient(MONGODB_URI, { serverSelectionTimeoutMS: 3_000 });
    try {
      await client.db('admin').command({ ping: 1 });
    } catch (error) {
      reason = `no answer from MONGODB_URI within 3 s (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  if (!reason) return true;
  const message = `MongoDB is not available: ${reason}; start it with "bash scripts/services.sh start" and "source .services/env"`;
  if (REQUIRE) throw new Error(`MCP_MIGRATE_REQUIRE_SERVICES=1 but ${message}`);
  console.warn(`[skip] ${message}`);
  return false;
}

export function databaseName(prefix = 'mcp_unit'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

type EngineOptions = Partial<Parameters<typeof mongoEngine>[0]>;

/**
 * The real server for one describe block: a client (connected before its cases, closed after),
 * fresh databases and engines `mg-<i>` on them; every engine is closed and every database dropped
 * after the cases. `defaults` go into every engine `engine()` builds.
 */
export function serverFixture(defaults: EngineOptions = {}) {
  const uri = MONGODB_URI ?? 'mongodb://127.0.0.1:27018/';
  const client = new MongoClient(uri);
  const databases: string[] = [];
  const engines: MongoEngine[] = [];
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await Promise.allSettled(engines.map((e) => e.close()));
    await Promise.allSettled(databases.map((d) => client.db(d).dropDatabase()));
    await client.close();
  });
  /** Closes `e` after the cases. */
  const track = (e: MongoEngine) => {
    engines.push(e);
    return e;
  };
  return {
    uri,
    client,
    track,
    /** A fresh database name, dropped after the cases. */
    fresh(prefix?: string) {
      const name = databaseName(prefix);
      databases.push(name);
      return name;
    },
    /** An engine with shard `mg-<i>` on each of `dbs`. */
    engine: (dbs: readonly string[], extra: EngineOptions = {}) =>
      track(
        mongoEngine({ shards: dbs.map((database, i) => ({ id: `mg-${i}`, uri, database })), ...defaults, ...extra }),
      ),
  };
}
