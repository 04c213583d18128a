/**
 * An application write that lands between a batch's read and its write is not overwritten on
 * PostgreSQL (compare-and-set batch writes): the row is read again and the application's value is
 * what gets transformed; rollback restores the value it had when the migration rewrote it.
 */
import { describe, expect, it } from 'vitest';
import { createMigrator, defineDataMigration, type Row } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { postgresAvailable, shouldRun, withPgDatabase } from '@mcp/test-support';

describe('concurrent writer on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
  it.skipIf(!enabled)(
    'a row updated between a batch read and its write keeps the update (then migrated), and nothing is applied twice',
    async () => {
      await withPgDatabase('mcp_cas', async ({ pool }) => {
        await pool.query(
          `CREATE TABLE counters (id integer PRIMARY KEY, v bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
        );
        // `at` carries microseconds and is never touched by the transform: it must keep its server text.
        await pool.query(
          `INSERT INTO counters (id, v, at) SELECT g, 0, timestamptz '2026-01-01 00:00:00.000001+00' + g * interval '1.000001 second' FROM generate_series(1, 60) g`,
        );
        const ats = async () =>
          (await pool.query<{ at: string }>('SELECT at::text AS at FROM counters ORDER BY id')).rows.map((r) => r.at);
        const atBefore = await ats();
        let atWritten = '';
        const engine = postgresEngine({ shards: [{ id: 'pg-cas', pool }] });
        const data = engine.shard('pg-cas').data;
        const scan = data.scan.bind(data);
        let scans = 0;
        (data as { scan: typeof data.scan }).scan = async (t, after, limit) => {
          const rows = await scan(t, after, limit);
          if (t.name === 'counters' && ++scans === 2) {
            atWritten = (
              await pool.query<{ at: string }>(
                `UPDATE counters SET v = 100, at = now() WHERE id = 15 RETURNING at::text AS at`,
              )
            ).rows[0]!.at;
          }
          return rows;
        };
        const bump = defineDataMigration({
          id: 'bump',
          engine: 'postgres',
          table: 'counters',
          batchSize: 10,
          transform: (row: Row) => ({ ...row, v: Number(row.v) + 1 }),
        });
        const migrator = createMigrator({
          engines: { postgres: engine },
          migrations: [bump],
          throttle: { minBatchSize: 10, maxBatchSize: 10 },
        });
        const report = await migrator.run();
        const values = async () =>
          (await pool.query<{ id: number; v: string }>('SELECT id, v FROM counters ORDER BY id')).rows.map((r) =>
            Number(r.v),
          );
        expect(await values()).toEqual(Array.from({ length: 60 }, (_, i) => (i + 1 === 15 ? 101 : 1)));
        expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 60, written: 60 });
        // The application's `at` of row 15 stands; every other `at` is byte-identical.
        const atExpected = atBefore.map((at, i) => (i + 1 === 15 ? atWritten : at));
        expect(atWritten).not.toBe(atBefore[14]);
        expect(await ats()).toEqual(atExpected);
        await migrator.rollback({ steps: 1 });
        expect(await values()).toEqual(Array.from({ length: 60 }, (_, i) => (i + 1 === 15 ? 100 : 0)));
        expect(await ats()).toEqual(atExpected);
      });
    },
    120_000,
  );
});
