// Shared by the PostgreSQL benchmarks: a fresh database on the server in MCP_MIGRATE_PG_URL,
// dropped by `drop()` when the benchmark ends.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export async function benchDatabase(prefix) {
  const admin = process.env.MCP_MIGRATE_PG_URL;
  if (!admin) {
    console.error('MCP_MIGRATE_PG_URL is not set: run `bash scripts/services.sh start` first');
    process.exit(1);
  }
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${name}`);
  return {
    url,
    async drop() {
      await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await adminClient.end();
    },
  };
}
