/**
 * The engine examples run as a user would run them, against fresh databases on the real servers:
 * apply, apply again (everything skipped), roll back.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { MongoClient } from 'mongodb';
import { mongoAvailable, postgresAvailable, shouldRun } from '@mcp/test-support';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const run = (example: string, args: string[], env: Record<string, string>) =>
  execFileSync(process.execPath, ['run.mjs', ...args], {
    cwd: join(examples, example),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

describe('examples/postgres-migrations on real PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
  it.skipIf(!enabled)(
    'creates the platform schema on 2 shards, skips everything the second time, rolls back',
    async () => {
      const admin = new pg.Client({ connectionString: process.env.MCP_MIGRATE_PG_URL });
      await admin.connect();
      const names = [0, 1].map((i) => `mcp_ex_${randomUUID().slice(0, 8)}_${i}`);
      try {
        for (const n of names) await admin.query(`CREATE DATABASE ${n}`);
        const urls = names.map((n) =>
          Object.assign(new URL(process.env.MCP_MIGRATE_PG_URL!), { pathname: `/${n}` }).toString(),
        );
        const env = { MCP_PG_SHARDS: urls.join(',') };
        expect(run('postgres-migrations', [], env)).toMatch(/run: ok=true applied=12 skipped=0 failed=0/);
        const padded = new pg.Client({ connectionString: urls[1] });
        await padded.connect();
        const padding = await padded.query(`SELECT count(*)::int AS n FROM tenants WHERE name ~ '^Tenant [0-9]{4}$'`);
        await padded.end();
        expect(padding.rows[0].n, 'the server-side migration padded every name').toBe(250);
        expect(run('postgres-migrations', [], env)).toMatch(
          /pg-1: 0001-platform-schema=skipped.*0006-tenant-names-padded=skipped/,
        );
        run('postgres-migrations', ['rollback'], env);
        const check = new pg.Client({ connectionString: urls[0] });
        await check.connect();
        const tables = await check.query(
          `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'tenants'`,
        );
        await check.end();
        expect(tables.rows[0].n).toBe(0);
      } finally {
        for (const n of names) await admin.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
        await admin.end();
      }
    },
    120_000,
  );
});

describe('examples/mongodb-migrations on the real MongoDB-wire server', async () => {
  const enabled = shouldRun({ name: 'MongoDB-wire server', available: await mongoAvailable() });
  it.skipIf(!enabled)(
    'creates the collections on 4 shards, structures message content, skips the second time, rolls back exactly',
    async () => {
      const prefix = `mcp_ex_${randomUUID().slice(0, 8)}`;
      try {
        const first = run('mongodb-migrations', [], { MCP_EXAMPLE_DB_PREFIX: prefix });
        expect(first).toMatch(
          /mg-3: 0001-platform-collections=applied, 0002-platform-indexes=applied, 0003-messages-structured-content=applied/,
        );
        expect(first).toContain('"content":{"type":"text","text":"hello 1"}');
        expect(run('mongodb-migrations', [], { MCP_EXAMPLE_DB_PREFIX: prefix })).toMatch(
          /mg-3: 0001-platform-collections=skipped, 0002-platform-indexes=skipped, 0003-messages-structured-content=skipped/,
        );
        const back = run('mongodb-migrations', ['rollback'], { MCP_EXAMPLE_DB_PREFIX: prefix });
        expect(back).toContain('"content":"hello 1"');
        expect(back).toContain('"content":{"type":"image","url":"https://cdn.example/0.png"}');
      } finally {
        const client = new MongoClient(process.env.MONGODB_URI!);
        await client.connect();
        for (let i = 0; i < 4; i++) await client.db(`${prefix}_shard_${i}`).dropDatabase();
        await client.close();
      }
    },
    300_000,
  );
});
