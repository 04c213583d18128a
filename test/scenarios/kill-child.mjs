// A runner process for the kill test: runs one data migration over table/collection `items` on one
// shard (KILL_PARALLELISM key ranges at once, default 1) and prints a line per batch. The test kills it with SIGKILL at random points and restarts it.
//   KILL_ENGINE=postgres KILL_URL=postgres://…/db node kill-child.mjs
//   KILL_ENGINE=mongodb KILL_URL=mongodb://…/ KILL_DB=name node kill-child.mjs
import { createMigrator, defineDataMigration } from '@mcp/migrate-core';

const engineName = process.env.KILL_ENGINE;
let engine;
if (engineName === 'postgres') {
  const { postgresEngine } = await import('@mcp/migrate-postgres');
  engine = postgresEngine({ shards: [{ id: 'pg-kill', connectionString: process.env.KILL_URL }] });
} else {
  const { mongoEngine } = await import('@mcp/migrate-mongodb');
  engine = mongoEngine({ shards: [{ id: 'mg-kill', uri: process.env.KILL_URL, database: process.env.KILL_DB }] });
}

// Not idempotent on purpose: applied twice to a row, n would be 3·n0 + 2 instead of 2·n0 + 1.
// KILL_SPARSE=k: only the rows whose seed number g (PostgreSQL: id + 1000; MongoDB: field l) is a
// multiple of k are changed; every row is still read and handed to the transform, once per run of the batches.
const sparse = Number(process.env.KILL_SPARSE ?? 1);
const keyField = engineName === 'mongodb' ? '_id' : 'id';
const seedNumber = (row) => (engineName === 'mongodb' ? Number(row.l) : Number(row.id) + 1000);
const bump = defineDataMigration({
  id: '0001-bump',
  engine: engineName,
  table: 'items',
  key: keyField,
  batchSize: Number(process.env.KILL_BATCH ?? 2000),
  parallelism: Number(process.env.KILL_PARALLELISM ?? 1),
  transform: (row) => (seedNumber(row) % sparse === 0 ? { ...row, n: Number(row.n) + Number(row.n0) + 1 } : null),
});

const migrator = createMigrator({
  engines: { [engineName]: engine },
  migrations: [bump],
  lock: { ttlMs: 1500, waitMs: 60_000 },
  throttle: {
    minBatchSize: Math.min(500, Number(process.env.KILL_BATCH ?? 2000)),
    maxBatchSize: 2 * Number(process.env.KILL_BATCH ?? 2000),
  },
});
migrator.on('batch', (e) => process.stdout.write(`batch ${e.processed}\n`));
const report = await migrator.run();
process.stdout.write(`done ${JSON.stringify(report.totals)}\n`);
await migrator.close();
