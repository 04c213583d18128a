// Runs the example migrations against every shard in MCP_PG_SHARDS (or MCP_MIGRATE_PG_SHARDS from
// `bash scripts/services.sh start`): comma-separated connection strings. Prints the report.
//   node examples/postgres-migrations/run.mjs            apply (idempotent: a second run skips)
//   node examples/postgres-migrations/run.mjs status     ledgers and locks
//   node examples/postgres-migrations/run.mjs rollback   roll back every migration of the example
import { createMigrator } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { migrations } from './migrations/index.js';

const urls = (process.env.MCP_PG_SHARDS ?? process.env.MCP_MIGRATE_PG_SHARDS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
if (urls.length === 0) {
  console.error(
    'Set MCP_PG_SHARDS (or source .services/env for MCP_MIGRATE_PG_SHARDS): comma-separated postgres:// URLs',
  );
  process.exit(1);
}

const postgres = postgresEngine({
  shards: urls.map((connectionString, i) => ({ id: `pg-${i}`, connectionString })),
  lockTimeoutMs: 3_000,
});
const migrator = createMigrator({ name: 'platform-example', engines: { postgres }, migrations, concurrency: 4 });
migrator.on('shard:done', (e) => console.log(`  ✓ ${e.migrationId} on ${e.shardId} (${e.durationMs} ms)`));
migrator.on('shard:failed', (e) => console.log(`  ✗ ${e.migrationId} on ${e.shardId}: ${e.error.message}`));
migrator.on('batch', (e) =>
  console.log(`    ${e.migrationId} on ${e.shardId}: ${e.processed}${e.total ? `/${e.total}` : ''} rows`),
);

const command = process.argv[2] ?? 'up';
try {
  if (command === 'status') {
    const status = await migrator.status();
    for (const s of status.shards) {
      console.log(`${s.shardId} ${s.location} reachable=${s.reachable} pending=[${s.pending.join(', ')}]`);
      for (const m of s.migrations) console.log(`  ${m.id}: ${m.state}${m.drift ? ' (drifted)' : ''}`);
    }
  } else {
    const report =
      command === 'rollback' ? await migrator.rollback({ steps: migrations.length }) : await migrator.run();
    console.log(
      `${report.kind}: ok=${report.ok} applied=${report.totals.applied} skipped=${report.totals.skipped} failed=${report.totals.failed} in ${report.durationMs} ms`,
    );
    for (const s of report.shards)
      console.log(
        `  ${s.shardId}: ${s.migrations.map((m) => `${m.migrationId}=${m.status}`).join(', ') || 'nothing to do'}`,
      );
  }
} catch (error) {
  console.error(error.message);
  if (error.report) console.error(JSON.stringify(error.report.totals));
  process.exitCode = 1;
} finally {
  await migrator.close();
}
