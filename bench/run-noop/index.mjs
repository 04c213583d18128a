// bench/run-noop: what a service pays at startup when nothing is pending. 16 shards (8 PostgreSQL
// databases + 8 MongoDB databases on the test services), 12 schema migrations and 2 data migrations
// per engine, all applied once; then `run()` is timed cold (a new migrator: connections, lock, ledger
// reads) and warm (the same migrator again, connections open). Baseline in the same run: reading every
// shard's ledger directly with the drivers, all shards at once (the least a "nothing pending" answer
// can cost). Target (issue 11): warm < 100 ms.
//   BENCH_REPEAT (20)
//   node bench/run-noop/index.mjs     (after `pnpm build`, with `bash scripts/services.sh start`)
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { createMigrator, defineDataMigration, defineMigration } from '@mcp/migrate-core';
import { mongoEngine } from '@mcp/migrate-mongodb';
import { postgresEngine } from '@mcp/migrate-postgres';

const SHARDS = 8;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 20);
const admin = process.env.MCP_MIGRATE_PG_URL;
const mongoUri = process.env.MONGODB_URI;
if (!admin || !mongoUri) {
  console.error('MCP_MIGRATE_PG_URL / MONGODB_URI are not set: run `bash scripts/services.sh start` first');
  process.exit(1);
}
const tag = randomUUID().slice(0, 8);
const pgNames = Array.from({ length: SHARDS }, (_, i) => `mcp_bench_noop_${tag}_${i}`);
const mongoNames = Array.from({ length: SHARDS }, (_, i) => `mcp_bench_noop_${tag}_${i}`);
const pgUrl = (name) => Object.assign(new URL(admin), { pathname: `/${name}` }).toString();

const migrations = [
  ...Array.from({ length: 12 }, (_, i) =>
    defineMigration({
      id: `pg-${String(i).padStart(4, '0')}`,
      engine: 'postgres',
      up: (client) => client.query(`CREATE TABLE IF NOT EXISTS t${i} (id bigint PRIMARY KEY, v text)`),
      down: (client) => client.query(`DROP TABLE IF EXISTS t${i}`),
    }),
  ),
  ...Array.from({ length: 12 }, (_, i) =>
    defineMigration({
      id: `mg-${String(i).padStart(4, '0')}`,
      engine: 'mongodb',
      up: (db) => db.createCollection(`c${i}`).then(() => undefined),
    }),
  ),
  ...[0, 1].map((i) =>
    defineDataMigration({
      id: `pg-data-${i}`,
      engine: 'postgres',
      table: 't0',
      dependsOn: ['pg-0000'],
      transform: (row) => ({ ...row, v: String(row.v).toUpperCase() }),
    }),
  ),
  ...[0, 1].map((i) =>
    defineDataMigration({
      id: `mg-data-${i}`,
      engine: 'mongodb',
      collection: 'c0',
      dependsOn: ['mg-0000'],
      transform: (doc) => ({ ...doc, v: String(doc.v).toUpperCase() }),
    }),
  ),
];

const migratorOf = () =>
  createMigrator({
    engines: {
      postgres: postgresEngine({
        shards: pgNames.map((name, i) => ({ id: `pg-${i}`, connectionString: pgUrl(name) })),
      }),
      mongodb: mongoEngine({ shards: mongoNames.map((database, i) => ({ id: `mg-${i}`, uri: mongoUri, database })) }),
    },
    migrations,
    concurrency: 16,
  });

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
const fmt = (x) => `${x.toFixed(1)} ms`;

const adminClient = new pg.Client({ connectionString: admin });
await adminClient.connect();
const mongo = new MongoClient(mongoUri);
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
try {
  for (const name of pgNames) await adminClient.query(`CREATE DATABASE ${name}`);
  const setup = migratorOf();
  const first = await setup.run();
  await setup.close();
  console.log(`16 shards, ${migrations.length} migrations (8 PG × 14 + 8 Mongo × 14 applied: ${first.totals.applied})`);

  // Baseline: every shard's ledger read directly, all shards at once, connections open.
  const pools = pgNames.map((name) => new pg.Pool({ connectionString: pgUrl(name), max: 1 }));
  await mongo.connect();
  const readLedgers = () =>
    Promise.all([
      ...pools.map((p) => p.query('SELECT * FROM mcp_migrations')),
      ...mongoNames.map((name) => mongo.db(name).collection('mcp_migrations').find({}).toArray()),
    ]);
  await readLedgers();
  const base = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = process.hrtime.bigint();
    await readLedgers();
    base.push(ms(t0));
  }
  await Promise.all(pools.map((p) => p.end()));

  const cold = [];
  const warm = [];
  for (let i = 0; i < Math.min(REPEAT, 5); i++) {
    const migrator = migratorOf();
    let t0 = process.hrtime.bigint();
    const report = await migrator.run();
    cold.push(ms(t0));
    if (report.totals.applied !== 0)
      throw new Error(`run() applied ${report.totals.applied}: expected nothing pending`);
    for (let j = 0; j < REPEAT; j++) {
      t0 = process.hrtime.bigint();
      await migrator.run();
      warm.push(ms(t0));
    }
    await migrator.close();
  }
  console.log(`baseline: ledgers read directly   median ${fmt(median(base))}  p95 ${fmt(p95(base))}`);
  console.log(`run() cold (new migrator)         median ${fmt(median(cold))}  p95 ${fmt(p95(cold))}`);
  console.log(
    `run() warm (connections open)     median ${fmt(median(warm))}  p95 ${fmt(p95(warm))}  (target < 100 ms)`,
  );
  console.log(`ratio warm/baseline               ${(median(warm) / median(base)).toFixed(1)}`);
  console.log(`peak RSS                          ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
} finally {
  clearInterval(sampler);
  for (const name of mongoNames)
    await mongo
      .db(name)
      .dropDatabase()
      .catch(() => undefined);
  await mongo.close();
  for (const name of pgNames)
    await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await adminClient.end();
}
