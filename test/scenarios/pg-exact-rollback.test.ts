/**
 * Rollback is exact on PostgreSQL even for values JS cannot carry: a transform that changes a
 * timestamptz with microseconds is rolled back from the backup in the server, to the microsecond.
 */
import { describe, expect, it } from 'vitest';
import { createMigrator, defineDataMigration, type Row } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { shouldRun } from '../support/services.js';
import { pgAvailable, withPgDatabase } from '../support/servers.js';

describe('exact rollback on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await pgAvailable() });
  it.skipIf(!enabled)('restores timestamptz microseconds, numeric scale and jsonb that the transform changed', async () => {
    await withPgDatabase('mcp_exact', async ({ pool }) => {
      await pool.query(`CREATE TABLE deliveries (id integer PRIMARY KEY, last_attempt_at timestamptz, amount numeric, payload jsonb)`);
      await pool.query(`INSERT INTO deliveries SELECT g, timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1.000001 second', (g || '.50')::numeric, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g)) FROM generate_series(-50, 250) g`);
      const snapshot = async () => (await pool.query<{ t: string }>(`SELECT string_agg(id || '|' || last_attempt_at::text || '|' || amount::text || '|' || payload::text, ',' ORDER BY id) AS t FROM deliveries`)).rows[0]!.t;
      const before = await snapshot();
      const m = defineDataMigration({
        id: 'bump-attempt', engine: 'postgres', table: 'deliveries', batchSize: 64,
        transform: (row: Row) => ({ ...row, last_attempt_at: new Date((row.last_attempt_at as Date).getTime() + 86_400_000), amount: '0', payload: { moved: true } }),
      });
      const migrator = () => createMigrator({ engines: { postgres: postgresEngine({ shards: [{ id: 'pg-exact', pool }] }) }, migrations: [m] });
      await migrator().run();
      expect(await snapshot()).not.toBe(before);
      await migrator().rollback({ steps: 1 });
      expect(await snapshot()).toBe(before);
    });
  }, 120_000);
});
