// bench/foreground-impact: foreground p50/p99 latency of reads and writes on the migrated table,
// alone and beside a throttled data migration, measured in one run (alone → beside → alone again).
// Target: p99 beside ≤ 1.05 × p99 alone, with the migration still progressing.
// Reports the highest migration rate that still holds the target.
//   BENCH_ROWS (600000) BENCH_SECONDS (15) BENCH_WORKERS (4) BENCH_RATES (500,1500,3000,5000,20000 rows/s ceilings)
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { benchDatabase } from '../support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.BENCH_ROWS ?? 600_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
/** The migration's rate ceilings tried, one window each. */
const RATES = (process.env.BENCH_RATES ?? '500,1500,3000,5000,20000').split(',').map(Number);
const { url, drop } = await benchDatabase('mcp_bench_fg');

try {
  const setup = new pg.Client({ connectionString: url.toString() });
  await setup.connect();
  await setup.query(
    `CREATE TABLE deliveries (id integer PRIMARY KEY, tenant_id text NOT NULL, status text NOT NULL, attempts integer NOT NULL, last_attempt_at timestamptz)`,
  );
  await setup.query(
    `INSERT INTO deliveries SELECT g, 't-' || (g % 500), CASE WHEN g % 7 = 0 THEN 'FAILED' ELSE 'SENT' END, g % 5, now() - g * interval '1 second' FROM generate_series(1, $1) g`,
    [ROWS],
  );
  await setup.query(
    `CREATE TABLE delivery_events (id bigserial PRIMARY KEY, delivery_id integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  );
  await setup.query('VACUUM ANALYZE deliveries');
  await setup.end();

  const load = async (label) => {
    const latencies = [];
    const deadline = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        const c = new pg.Client({ connectionString: url.toString() });
        await c.connect();
        try {
          while (Date.now() < deadline) {
            const id = 1 + Math.floor(Math.random() * ROWS);
            const t0 = process.hrtime.bigint();
            if (Math.random() < 0.8) await c.query('SELECT * FROM deliveries WHERE id = $1', [id]);
            else await c.query('INSERT INTO delivery_events (delivery_id) VALUES ($1)', [id]);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
        } finally {
          await c.end();
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { label, ops: latencies.length, p50: q(0.5), p99: q(0.99) };
  };

  const before = await load('alone');
  // One window beside the migration per ceiling, lowest first; the migration resumes from its
  // checkpoint each time (the ceiling is not part of a checkpoint's fingerprint).
  const besides = [];
  for (const rate of RATES) {
    const child = spawn(process.execPath, [join(here, 'migrate-child.mjs')], {
      env: { ...process.env, BENCH_URL: url.toString(), BENCH_RATE: String(rate) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last = { processed: 0, rate: 0 };
    child.stdout.on('data', (chunk) => {
      for (const line of chunk.toString().trim().split('\n')) {
        try {
          last = JSON.parse(line);
        } catch {
          /* partial line */
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1000)); // let the migration reach its steady rate
    const startProcessed = last.processed;
    const t0 = Date.now();
    const beside = await load(`beside ≤${rate}/s`);
    const migrated = last.processed - startProcessed;
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    besides.push({ ...beside, ceiling: rate, migrated, migrationRate: migrated / ((Date.now() - t0) / 1000) });
  }
  const after = await load('alone again');

  const baseline = { p50: (before.p50 + after.p50) / 2, p99: (before.p99 + after.p99) / 2 };
  const fmt = (r) =>
    `${r.label.padEnd(18)} ops ${String(r.ops).padStart(7)}  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms`;
  console.log(
    `foreground: ${WORKERS} workers, ${SECONDS}s per phase, 80% point reads / 20% inserts, ${ROWS.toLocaleString('en-US')} rows`,
  );
  for (const r of [before, after]) console.log(fmt(r));
  let held;
  for (const r of besides) {
    const ratio = r.p99 / baseline.p99;
    const progressing = r.migrated > 0;
    if (ratio <= 1.05 && progressing) held = r;
    console.log(
      `${fmt(r)}  p50 ratio ${(r.p50 / baseline.p50).toFixed(3)}  p99 ratio ${ratio.toFixed(3)}  migration ${Math.round(r.migrationRate).toLocaleString('en-US')} rows/s${progressing ? '' : '  — NOT PROGRESSING'}`,
    );
  }
  console.log(
    held
      ? `highest migration rate holding p99 ratio ≤ 1.05: ${Math.round(held.migrationRate).toLocaleString('en-US')} rows/s (ceiling ${held.ceiling}/s)`
      : 'no ceiling tried held p99 ratio ≤ 1.05 with the migration progressing',
  );
} finally {
  await drop();
}
