/** Whether the real servers named by the environment answer, with the reason when they don't. */
import pg from 'pg';
import { MongoClient } from 'mongodb';

export async function pgAvailable(): Promise<true | string> {
  const url = process.env.MCP_MIGRATE_PG_URL;
  if (!url) return 'MCP_MIGRATE_PG_URL is not set';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return `cannot connect: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function mongoAvailable(): Promise<true | string> {
  const uri = process.env.MONGODB_URI;
  if (!uri) return 'MONGODB_URI is not set';
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch (error) {
    return `cannot connect: ${(error as Error).message}`;
  } finally {
    await client.close().catch(() => undefined);
  }
}
