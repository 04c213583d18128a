/**
 * Rollback is exact on PostgreSQL even for values JS cannot carry: a transform that changes a
 * timestamptz with microseconds is rolled back from the backup in the server, to the microsecond;
 * and the forward run leaves the column it does not touch (microsecond timestamps, jsonb with
 * JSON null, 0.0 and 30-digit numbers, float -0) exactly as it was.
 */
import { describe, expect, it } from 'vitest';
import { createMigrator, defineDataMigration, type Row } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { postgresAvailable, shouldRun, withPgDatabase } from '@mcp/test-support';

describe('exact rollback on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
  it.skipIf(!enabled)(
    'leaves untouched columns exact after the forward run, and restores timestamptz microseconds, numeric scale and jsonb that the transform changed',
    async () => {
      await withPgDatabase('mcp_exact', async ({ pool }) => {
        await pool.query(`CREATE TABLE deliveries (id integer PRIMARY KEY, last_attempt_at timestamptz, amount numeric, payload jsonb,
        created_at timestamptz, meta jsonb, weight float8)`);
        await pool.query(`INSERT INTO deliveries SELECT g, timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1.000001 second', (g || '.50')::numeric, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g)),
        timestamptz '1969-12-31 23:59:59.000001+00' + g * interval '1.000001 second',
        (ARRAY['null', '{"z": 0.0, "n": 123456789012345678901234567890}', '0.0'])[1 + (g + 50) % 3]::jsonb, CASE WHEN g % 2 = 0 THEN '-0' ELSE 'NaN' END::float8
        FROM generate_series(-50, 250) g`);
        const snapshot = async () =>
          (
            await pool.query<{ t: string }>(
              `SELECT string_agg(id || '|' || last_attempt_at::text || '|' || amount::text || '|' || payload::text, ',' ORDER BY id) AS t FROM deliveries`,
            )
          ).rows[0]!.t;
        const untouched = async () =>
          (
            await pool.query<{ t: string }>(
              `SELECT string_agg(id || '|' || created_at::text || '|' || meta::text || '|' || weight::text, ',' ORDER BY id) AS t FROM deliveries`,
            )
          ).rows[0]!.t;
        const changed = async () =>
          (
            await pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM deliveries WHERE amount = 0 AND payload = '{"moved": true}'`,
            )
          ).rows[0]!.n;
        const before = await snapshot();
        const untouchedBefore = await untouched();
        const m = defineDataMigration({
          id: 'bump-attempt',
          engine: 'postgres',
          table: 'deliveries',
          batchSize: 64,
          transform: (row: Row) => ({
            ...row,
            last_attempt_at: new Date((row.last_attempt_at as Date).getTime() + 86_400_000),
            amount: '0',
            payload: { moved: true },
          }),
        });
        const migrator = () =>
          createMigrator({
            engines: { postgres: postgresEngine({ shards: [{ id: 'pg-exact', pool }] }) },
            migrations: [m],
          });
        await migrator().run();
        expect(await changed()).toBe(301);
        expect(await untouched()).toBe(untouchedBefore);
        await migrator().rollback({ steps: 1 });
        expect(await snapshot()).toBe(before);
        expect(await untouched()).toBe(untouchedBefore);
      });
    },
    120_000,
  );
});
