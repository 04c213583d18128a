/**
 * Every transformer pack as a data migration, on real PostgreSQL and MongoDB: seed, run, roll back,
 * and check that every row (PostgreSQL `t::text`) and every document (raw BSON) is back exactly.
 *
 *   DATABASE_URL=postgres://…/empty_db MONGODB_URI=mongodb://127.0.0.1:27018/ MONGODB_DB=packs_demo \
 *     pnpm --filter @mcp/example-transformer-packs start
 */
import pg from 'pg';
import { MongoClient } from 'mongodb';
import { createMigrator } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import { DEMO_KEYS } from './demo-cipher.js';
import { packMigrations } from './packs.js';
import { DEFAULT_SIZES, seedMongo, seedPostgres } from './seed.js';
import { mongoSnapshot, pgSnapshot } from './snapshot.js';

const pgUrl = process.env.DATABASE_URL;
const mongoUri = process.env.MONGODB_URI;
const mongoDb = process.env.MONGODB_DB ?? 'mcp_example_packs';
if (!pgUrl || !mongoUri) throw new Error('set DATABASE_URL (an empty PostgreSQL database) and MONGODB_URI');

const pool = new pg.Pool({ connectionString: pgUrl, max: 3 });
const client = await new MongoClient(mongoUri).connect();
try {
  await seedPostgres(pool, DEFAULT_SIZES, DEMO_KEYS);
  await seedMongo(client.db(mongoDb), DEFAULT_SIZES);
  const before = { pg: await pgSnapshot(pool), mongo: await mongoSnapshot(client.db(mongoDb)) };
  const migrations = packMigrations({ poolOf: () => pool, keys: DEMO_KEYS });
  const migrator = createMigrator({
    engines: {
      postgres: postgresEngine({ shards: [{ id: 'pg-0', connectionString: pgUrl }] }),
      mongodb: mongoEngine({ shards: [{ id: 'mg-0', uri: mongoUri, database: mongoDb }] }),
    },
    migrations,
  });
  try {
    let t0 = Date.now();
    const report = await migrator.run();
    console.log(`applied in ${Date.now() - t0} ms`);
    for (const shard of report.shards)
      for (const step of shard.migrations)
        console.log(
          `${shard.shardId} ${step.migrationId}: ${step.status} ${JSON.stringify(step.counts)} ${step.durationMs} ms`,
        );
    const sample = await pool.query(
      `SELECT settings_key, settings_value FROM tenant_settings WHERE tenant_id = 't-0002' ORDER BY settings_key`,
    );
    console.log('tenant t-0002 settings:', JSON.stringify(sample.rows));
    t0 = Date.now();
    await migrator.rollback({ steps: migrations.length });
    console.log(`rolled back in ${Date.now() - t0} ms`);
  } finally {
    await migrator.close();
  }
  const after = { pg: await pgSnapshot(pool), mongo: await mongoSnapshot(client.db(mongoDb)) };
  const exact = JSON.stringify(after) === JSON.stringify(before);
  console.log(`rolled back: ${before.pg.length} rows and ${before.mongo.length} documents back exactly: ${exact}`);
  if (!exact) process.exitCode = 1;
} finally {
  await pool.end();
  await client.close();
}
