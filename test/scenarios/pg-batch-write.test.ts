/**
 * Batch writes on PostgreSQL: a batch is one scan and ONE write statement (backup copy,
 * compare-and-set update and checkpoint together), the next batch is read while the current one is
 * written (two statements in flight on two connections), and the values are exact by `t::text`,
 * with the backup and with `backup: false`.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createMigrator, defineDataMigration, type Row } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { postgresAvailable, shouldRun, withPgDatabase } from '@mcp/test-support';

/** What the pool ran, by kind, and how many statements were in flight at once at most. */
function countStatements(pool: pg.Pool) {
  const kinds = new Map<string, number>();
  let inFlight = 0;
  let most = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: unknown }).text ?? '');
    const kind = text.startsWith('WITH f AS')
      ? 'batch'
      : /^SELECT r\.\*, md5\(record_send/.test(text)
        ? 'scan'
        : /^INSERT INTO "public"\."mcp_migrations"/.test(text)
          ? 'ledger'
          : 'other';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    most = Math.max(most, ++inFlight);
    try {
      return await query(...args);
    } finally {
      inFlight--;
    }
  };
  return { kinds, most: () => most };
}

const text = async (pool: pg.Pool) =>
  (await pool.query<{ t: string }>('SELECT t::text AS t FROM items t ORDER BY id')).rows.map((r) => r.t);

describe('batch writes on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  for (const backup of [true, false]) {
    it.skipIf(!enabled)(
      `${backup ? 'with the backup' : 'backup: false'}: one scan and one write statement per batch, the next read in flight during the write; exact by t::text both ways`,
      async () => {
        await withPgDatabase('mcp_bw', async ({ pool }) => {
          await pool.query(`CREATE TABLE items (id integer PRIMARY KEY, v integer NOT NULL, at timestamptz NOT NULL,
            doc jsonb, note text)`);
          await pool.query(`INSERT INTO items SELECT g, g, timestamptz '2026-01-01 00:00:00.000001+00' + g * interval '1.000001 s',
            jsonb_build_object('n', g, 'x', 0.10), NULL FROM generate_series(1, 2000) g`);
          const before = await text(pool);
          const counts = countStatements(pool);
          const m = defineDataMigration({
            id: '0001-bump',
            engine: 'postgres',
            table: 'items',
            batchSize: 100,
            transform: (row: Row) => ({ ...row, v: Number(row.v) + 1 }),
            reverse: (row: Row) => ({ ...row, v: Number(row.v) - 1 }),
            backup,
          });
          const migrator = () =>
            createMigrator({
              engines: { postgres: postgresEngine({ shards: [{ id: 'pg-bw', pool }] }) },
              migrations: [m],
              throttle: { minBatchSize: 100, maxBatchSize: 100 },
            });
          const report = await migrator().run();
          expect(report.ok).toBe(true);
          // 20 batches: 20 write statements, 22 scans (the first read of the run probes 16 rows for
          // the row size, the byte bound's; the last finds nothing), no ledger put per batch.
          expect(counts.kinds.get('batch')).toBe(20);
          expect(counts.kinds.get('scan')).toBe(22);
          expect(counts.kinds.get('ledger')).toBeLessThanOrEqual(3);
          expect(counts.most(), 'the next batch read while this one is written').toBeGreaterThanOrEqual(2);
          const after = await text(pool);
          expect(after.map((t) => t.replace(/^\((\d+),(\d+),/, (_, id, v) => `(${id},${Number(v) - 1},`))).toEqual(
            before,
          );
          const kept = await pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_class WHERE relname = 'mcp_backup_0001_bump'`,
          );
          expect(Number(kept.rows[0]!.n)).toBe(backup ? 1 : 0);
          await migrator().rollback({ steps: 1 });
          expect(await text(pool)).toEqual(before);
        });
      },
      120_000,
    );
  }
});
