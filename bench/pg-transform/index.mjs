// bench/pg-transform: a batched data migration through the SDK against the same change made
// server-side in one statement, on identical copies of a table, in one run: the JS transform with
// its backup, the JS transform with `backup: false` (and an exact `reverse`), and the same change as
// a server-side `sql` migration (one UPDATE per key range), with its backup and without (`backup: false`).
// Targets (issue 11): JS ≤ 2.0 × the single UPDATE, ≤ 1.3 × with `backup: false`; `sql` ≤ 1.1 ×;
// flat memory (peak RSS < 200 MB).
//   BENCH_ROWS (1000000)  BENCH_BATCH (5000)  BENCH_SQL_BATCH (50000: rows per range of the sql migration)
//   BENCH_ONLY=sql (the sql migration only), BENCH_ONLY=js (the JS transforms only),
//   BENCH_ONLY=parallel (the JS transform with backup, serial and with each BENCH_PARALLELISM)
//   BENCH_PARALLELISM (2,4: the JS transform with backup also run with these `parallelism`s; '' for none)
//   node bench/pg-transform/index.mjs     (after `pnpm build`, with `bash scripts/services.sh start`)
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMigrator, defineDataMigration } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { benchDatabase } from '../support.mjs';
import { migrationOf, SET, transform } from './change.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const SQL_BATCH = Number(process.env.BENCH_SQL_BATCH ?? 50_000);
/** `sql`: only the server-side migration (skips the JS transforms, the long part); `js`: only the JS transforms. */
const ONLY = process.env.BENCH_ONLY;
const PARALLEL = ONLY === 'sql' ? [] : (process.env.BENCH_PARALLELISM ?? '2,4').split(',').filter(Boolean).map(Number);
const SERIAL_EXTRAS = ONLY === undefined || ONLY === 'js'; // backup: false and the plain JS loop
const { url, drop } = await benchDatabase('mcp_bench_tx');

const DDL = (name) => `CREATE TABLE ${name} (
  id bigint PRIMARY KEY, tenant_id text NOT NULL, status text NOT NULL, attempts integer NOT NULL,
  last_attempt_at timestamptz, payload jsonb, status_code integer)`;
const STATUSES = ['sent', 'failed', 'queued', 'delivered'];

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

try {
  const db = new pg.Client({ connectionString: url.toString() });
  db.on('error', () => undefined); // dropping the database at the end ends this session
  await db.connect();
  await db.query(DDL('deliveries_sdk'));
  // Seed with COPY from a generated CSV stream (constant memory).
  const t0 = Date.now();
  async function* csv() {
    const base = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < ROWS; i += 10_000) {
      let chunk = '';
      for (let id = i; id < Math.min(ROWS, i + 10_000); id++) {
        const ts = new Date(base + id * 1000).toISOString();
        chunk += `${id},t-${id % 500},${STATUSES[id % 4]},${id % 5},${ts},"{""n"":${id},""tags"":[""a"",""b""]}",\n`;
      }
      yield chunk;
    }
  }
  await pipeline(
    Readable.from(csv()),
    db.query(
      copyFrom(
        `COPY deliveries_sdk (id, tenant_id, status, attempts, last_attempt_at, payload, status_code) FROM STDIN (FORMAT csv)`,
      ),
    ),
  );
  // The database is dropped WITH (FORCE) at the end, which ends this session if still open.
  db.on('error', () => undefined);
  await db.query(DDL('deliveries_sql'));
  await db.query('INSERT INTO deliveries_sql SELECT * FROM deliveries_sdk');
  await db.query(DDL('deliveries_srv'));
  await db.query('INSERT INTO deliveries_srv SELECT * FROM deliveries_sdk');
  await db.query(DDL('deliveries_srvnb'));
  await db.query('INSERT INTO deliveries_srvnb SELECT * FROM deliveries_sdk');
  await db.query('VACUUM ANALYZE deliveries_srvnb');
  await db.query(DDL('deliveries_loop'));
  await db.query('INSERT INTO deliveries_loop SELECT * FROM deliveries_sdk');
  await db.query(DDL('deliveries_nobk'));
  await db.query('INSERT INTO deliveries_nobk SELECT * FROM deliveries_sdk');
  for (const p of PARALLEL) {
    await db.query(DDL(`deliveries_p${p}`));
    await db.query(`INSERT INTO deliveries_p${p} SELECT * FROM deliveries_sdk`);
    await db.query(`VACUUM ANALYZE deliveries_p${p}`);
  }
  await db.query(DDL('deliveries_jsloop'));
  await db.query('INSERT INTO deliveries_jsloop SELECT * FROM deliveries_sdk');
  await db.query('VACUUM ANALYZE deliveries_jsloop');
  await db.query('VACUUM ANALYZE deliveries_loop');
  await db.query('VACUUM ANALYZE deliveries_nobk');
  await db.query('VACUUM ANALYZE deliveries_sdk');
  await db.query('VACUUM ANALYZE deliveries_sql');
  await db.query('VACUUM ANALYZE deliveries_srv');
  await db.query('CHECKPOINT');
  console.log(
    `seeded ${7 + PARALLEL.length} × ${ROWS.toLocaleString()} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const s0 = Date.now();
  await db.query(`UPDATE deliveries_sql ${SET}`);
  const sqlMs = Date.now() - s0;
  await db.query('CHECKPOINT');

  /** One SDK run in a child process (its peak RSS is the migration's own), timed there. */
  const ran = [];
  const timed = async (mode) => {
    await db.query('CHECKPOINT');
    const child = spawn(process.execPath, [join(here, 'migrate-child.mjs')], {
      env: {
        ...process.env,
        BENCH_URL: url.toString(),
        BENCH_BATCH: String(BATCH),
        BENCH_MODE: mode,
        BENCH_PRIOR: ran.join(','),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const code = await new Promise((r) => child.on('exit', r));
    if (code !== 0) throw new Error(`the ${mode} migration failed (exit ${code})`);
    ran.push(mode);
    return JSON.parse(out.trim().split('\n').at(-1));
  };
  const js = ONLY === 'sql' ? undefined : await timed('backup');
  const jsNoBackup = SERIAL_EXTRAS ? await timed('no-backup') : undefined;
  // The same transform with backup as `parallelism` key ranges at once, each on its own copy.
  const parallel = [];
  for (const p of PARALLEL) parallel.push({ p, ...(await timed(`parallel-${p}`)) });
  // A reference for the JS transforms: a plain loop with none of the SDK's guarantees (keyset read
  // of BATCH rows, the same transform in JS, one UPDATE … FROM unnest(…) per batch; no backup, no
  // compare-and-set, no checkpoint), timed in the same run on its own copy of the table.
  let jsLoopMs = 0;
  if (SERIAL_EXTRAS) {
    await db.query('CHECKPOINT');
    const j0 = Date.now();
    for (let after = -1; ;) {
      const { rows } = await db.query(`SELECT * FROM deliveries_jsloop WHERE id > $1 ORDER BY id LIMIT ${BATCH}`, [
        after,
      ]);
      if (rows.length === 0) break;
      after = rows.at(-1).id;
      const next = rows.map(transform);
      await db.query(
        `UPDATE deliveries_jsloop AS d SET status = u.status, status_code = u.code
         FROM unnest($1::bigint[], $2::text[], $3::integer[]) AS u(id, status, code) WHERE d.id = u.id`,
        [next.map((r) => r.id), next.map((r) => r.status), next.map((r) => r.status_code)],
      );
    }
    jsLoopMs = Date.now() - j0;
  }
  if (jsNoBackup) {
    const kept = await db.query(`SELECT to_regclass('mcp_backup_0001_status_upper_no_backup') AS t`);
    if (kept.rows[0].t !== null) throw new Error('backup: false wrote a backup table');
  }

  let loopMs = 0;
  let srvMs = 0;
  let srvNoBackupMs = 0;
  if (ONLY === undefined || ONLY === 'sql') {
    // A reference: the same UPDATE in a plain loop over key ranges of SQL_BATCH rows (no backup, no
    // checkpoint), which is what the ranges alone cost against the single statement.
    await db.query('CHECKPOINT');
    const l0 = Date.now();
    for (let lo = -1; ; lo += SQL_BATCH) {
      const r = await db.query(`UPDATE deliveries_loop ${SET} WHERE id > $1 AND id <= $2`, [lo, lo + SQL_BATCH]);
      if (r.rowCount === 0 && lo >= ROWS) break;
    }
    loopMs = Date.now() - l0;

    // The same change as a server-side `sql` migration: one UPDATE per key range of SQL_BATCH rows.
    await db.query('CHECKPOINT');
    const server = defineDataMigration({
      id: '0002-status-upper-sql',
      engine: 'postgres',
      table: 'deliveries_srv',
      key: 'id',
      batchSize: SQL_BATCH,
      sql: `UPDATE deliveries_srv ${SET} WHERE id > $1 AND id <= $2`,
    });
    const srvMigrator = createMigrator({
      engines: {
        postgres: postgresEngine({ shards: [{ id: 'bench', connectionString: url.toString() }], poolSize: 4 }),
      },
      migrations: [...ran.map((mode) => migrationOf(mode, BATCH)), server],
      throttle: { minBatchSize: SQL_BATCH, maxBatchSize: SQL_BATCH },
    });
    const q0 = Date.now();
    const srvReport = await srvMigrator.run();
    srvMs = Date.now() - q0;
    await srvMigrator.close();
    if (!srvReport.ok)
      throw new Error(`sql migration failed: ${JSON.stringify(srvReport.shards[0].migrations[0].error)}`);

    // The same, keeping no backup: each range and its checkpoint in one transaction, rollback by `reverseSql`.
    await db.query('CHECKPOINT');
    const noBackupSql = defineDataMigration({
      id: '0003-status-upper-sql-no-backup',
      engine: 'postgres',
      table: 'deliveries_srvnb',
      key: 'id',
      batchSize: SQL_BATCH,
      sql: `UPDATE deliveries_srvnb ${SET} WHERE id > $1 AND id <= $2`,
      reverseSql: `UPDATE deliveries_srvnb SET status = lower(status), status_code = NULL WHERE id > $1 AND id <= $2`,
      backup: false,
    });
    const nbMigrator = createMigrator({
      engines: {
        postgres: postgresEngine({ shards: [{ id: 'bench', connectionString: url.toString() }], poolSize: 4 }),
      },
      migrations: [...ran.map((mode) => migrationOf(mode, BATCH)), server, noBackupSql],
      throttle: { minBatchSize: SQL_BATCH, maxBatchSize: SQL_BATCH },
    });
    const n0 = Date.now();
    const nbReport = await nbMigrator.run();
    srvNoBackupMs = Date.now() - n0;
    await nbMigrator.close();
    if (!nbReport.ok)
      throw new Error(`sql migration failed: ${JSON.stringify(nbReport.shards[0].migrations[0].error)}`);
  }

  const checked = [
    ...(js ? ['deliveries_sdk'] : []),
    ...(SERIAL_EXTRAS ? ['deliveries_nobk', 'deliveries_jsloop'] : []),
    ...PARALLEL.map((p) => `deliveries_p${p}`),
    ...(ONLY === undefined || ONLY === 'sql' ? ['deliveries_srv', 'deliveries_srvnb'] : []),
  ];
  for (const other of checked) {
    const diff = await db.query(`SELECT count(*) AS n FROM ${other} a JOIN deliveries_sql b USING (id)
      WHERE a.status IS DISTINCT FROM b.status OR a.status_code IS DISTINCT FROM b.status_code`);
    if (Number(diff.rows[0].n) !== 0) throw new Error(`${diff.rows[0].n} rows differ between ${other} and the UPDATE`);
  }
  await db.end();

  const maxRss = process.resourceUsage().maxRSS * 1024;
  const rate = (ms) => `${Math.round(ROWS / (ms / 1000)).toLocaleString()} rows/s`;
  console.log(`single UPDATE      ${(sqlMs / 1000).toFixed(2)} s`);
  if (js && jsNoBackup) {
    console.log(`SDK (batch ${BATCH})  ${(js.ms / 1000).toFixed(2)} s  (${rate(js.ms)}, backup included)`);
    console.log(`ratio SDK/UPDATE   ${(js.ms / sqlMs).toFixed(2)}  (target ≤ 2.0)`);
    console.log(`SDK backup: false  ${(jsNoBackup.ms / 1000).toFixed(2)} s  (${rate(jsNoBackup.ms)})`);
    console.log(`ratio SDK/UPDATE   ${(jsNoBackup.ms / sqlMs).toFixed(2)}  (target ≤ 1.3)`);
    console.log(
      `JS loop            ${(jsLoopMs / 1000).toFixed(2)} s  (ratio ${(jsLoopMs / sqlMs).toFixed(2)}: read, transform, UPDATE … FROM unnest per batch of ${BATCH}; no backup, compare-and-set or checkpoint)`,
    );
  }
  if (js && !jsNoBackup) {
    console.log(`SDK (batch ${BATCH})  ${(js.ms / 1000).toFixed(2)} s  (${rate(js.ms)}, backup included)`);
    console.log(`ratio SDK/UPDATE   ${(js.ms / sqlMs).toFixed(2)}  (target ≤ 2.0)`);
  }
  for (const r of parallel) {
    console.log(
      `SDK parallelism ${r.p}  ${(r.ms / 1000).toFixed(2)} s  (${rate(r.ms)}, backup included; ratio ${(r.ms / sqlMs).toFixed(2)} to the UPDATE, ${(js.ms / r.ms).toFixed(2)}× the serial SDK; peak RSS ${mb(r.maxRss)})`,
    );
  }
  if (ONLY === undefined || ONLY === 'sql') {
    console.log(
      `range loop         ${(loopMs / 1000).toFixed(2)} s  (ratio ${(loopMs / sqlMs).toFixed(2)}: the same UPDATE over ranges of ${SQL_BATCH}, no backup, no checkpoint)`,
    );
    console.log(
      `sql migration      ${(srvMs / 1000).toFixed(2)} s  (ranges of ${SQL_BATCH}, backup of the changed rows and a checkpoint per range included)`,
    );
    console.log(`ratio sql/UPDATE   ${(srvMs / sqlMs).toFixed(2)}  (target ≤ 1.1)`);
    console.log(
      `sql, backup: false ${(srvNoBackupMs / 1000).toFixed(2)} s  (each range and its checkpoint in one transaction)`,
    );
    console.log(`ratio sql/UPDATE   ${(srvNoBackupMs / sqlMs).toFixed(2)}  (target ≤ 1.1)`);
  }
  const during = [js, jsNoBackup].filter(Boolean);
  console.log(
    `peak RSS           ${during.length ? `${during.map((r) => mb(r.maxRss)).join(', ')} (each migration process: backup, backup: false; target < 200 MB); ` : ''}${mb(maxRss)} (this process: seeding and baselines)`,
  );
} finally {
  await drop();
}
