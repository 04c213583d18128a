// One SDK run of the pg-transform bench in a process of its own, so that its peak RSS is the
// migration's and not the seeding's. Prints one JSON line: { ms, maxRss } (bytes).
//   BENCH_URL, BENCH_BATCH, BENCH_MODE = backup | no-backup | parallel-<n>, BENCH_PRIOR (modes run before, comma-separated)
import { createMigrator } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { migrationOf } from './change.mjs';

const batch = Number(process.env.BENCH_BATCH);
// The modes run before this one (already applied), then this one.
const modes = [...(process.env.BENCH_PRIOR ?? '').split(',').filter(Boolean), process.env.BENCH_MODE];
const migrations = modes.map((mode) => migrationOf(mode, batch));
const poolSize = Math.max(4, (migrations.at(-1).parallelism ?? 1) + 2);
const migrator = createMigrator({
  engines: {
    postgres: postgresEngine({ shards: [{ id: 'bench', connectionString: process.env.BENCH_URL }], poolSize }),
  },
  migrations,
  throttle: { minBatchSize: batch, maxBatchSize: batch },
});
const t0 = Date.now();
const report = await migrator.run();
const ms = Date.now() - t0;
await migrator.close();
if (!report.ok) {
  console.error(JSON.stringify(report.shards[0].migrations.at(-1).error));
  process.exit(1);
}
console.log(JSON.stringify({ ms, maxRss: process.resourceUsage().maxRSS * 1024 }));
