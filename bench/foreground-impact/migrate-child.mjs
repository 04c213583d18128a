// The throttled data migration of the foreground-impact bench, in its own process so that its CPU
// work does not sit on the load generator's event loop. Prints one JSON line per batch.
import { createMigrator, defineDataMigration } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';

const rate = Number(process.env.BENCH_RATE ?? 1500);
const migration = defineDataMigration({
  id: 'bench-delivery-status-lower',
  engine: 'postgres',
  table: 'deliveries',
  batchSize: 500,
  maxRowsPerSecond: rate,
  transform: (row) => (row.status === row.status.toUpperCase() ? { ...row, status: row.status.toLowerCase() } : null),
});
const migrator = createMigrator({
  engines: { postgres: postgresEngine({ shards: [{ id: 'pg-bench', connectionString: process.env.BENCH_URL }] }) },
  migrations: [migration],
  throttle: { targetBatchMs: 100, minBatchSize: 100, maxBatchSize: 2000 },
});
migrator.on('batch', (e) =>
  process.stdout.write(`${JSON.stringify({ processed: e.processed, rate: e.rate, batchSize: e.batchSize })}\n`),
);
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort(new Error('bench window over')));
await migrator.run({ signal: stop.signal }).catch(() => undefined);
await migrator.close();
