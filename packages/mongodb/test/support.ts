/** Test support: the MongoDB-wire server of MONGODB_URI, fresh databases, and the skip/require rule. */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';

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
