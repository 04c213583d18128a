// A runner process for the PostgreSQL fidelity suite's kill cases: runs (FID_MODE=run) or rolls
// back (FID_MODE=rollback) the one-column data migration over table `fx` and prints a line per
// batch. The test kills it with SIGKILL part-way and starts it again.
// FID_BACKUP=0 (with FID_REVERSE=1) runs it with `backup: false`.
//   FID_URL=postgres://…/db FID_MODE=run FID_REVERSE=0 FID_BATCH=40 node fidelity-postgres-child.mjs
import { createMigrator, defineDataMigration } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';

const batch = Number(process.env.FID_BATCH ?? 40);
const withReverse = process.env.FID_REVERSE === '1';
const noBackup = process.env.FID_BACKUP === '0';
const touchOne = defineDataMigration({
  id: noBackup ? '0001-touch-v-nobk' : withReverse ? '0001-touch-v-rev' : '0001-touch-v',
  engine: 'postgres',
  table: 'fx',
  batchSize: batch,
  transform: (row) => ({ ...row, v: row.v + 1 }),
  ...(withReverse ? { reverse: (row) => ({ ...row, v: row.v - 1 }) } : {}),
  ...(noBackup ? { backup: false } : {}),
});

const migrator = createMigrator({
  engines: { postgres: postgresEngine({ shards: [{ id: 'pg-fid', connectionString: process.env.FID_URL }] }) },
  migrations: [touchOne],
  lock: { ttlMs: 1500, waitMs: 60_000 },
  throttle: { minBatchSize: batch, maxBatchSize: batch },
});
migrator.on('batch', (e) => process.stdout.write(`batch ${e.processed}\n`));
const report = process.env.FID_MODE === 'rollback' ? await migrator.rollback({ steps: 1 }) : await migrator.run();
process.stdout.write(`done ${JSON.stringify(report.totals)}\n`);
await migrator.close();
