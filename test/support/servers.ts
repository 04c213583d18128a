/** Whether the real servers named by the environment answer, with the reason when they don't. */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';

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

/** A fresh PostgreSQL database for the duration of `fn`, dropped afterwards (even when `fn` throws). */
export async function withPgDatabase<T>(prefix: string, fn: (db: { url: string; pool: pg.Pool }) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: process.env.MCP_MIGRATE_PG_URL });
  await admin.connect();
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.MCP_MIGRATE_PG_URL!);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => undefined); // DROP DATABASE … WITH (FORCE) ends idle clients
  try {
    return await fn({ url: url.toString(), pool });
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** A fresh MongoDB database for the duration of `fn`, dropped afterwards (even when `fn` throws). */
export async function withMongoDatabase<T>(prefix: string, fn: (db: { client: MongoClient; db: Db; name: string }) => Promise<T>): Promise<T> {
  const client = new MongoClient(process.env.MONGODB_URI!);
  await client.connect();
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
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
