/**
 * Awaited hooks on a real PostgreSQL server: a `beforeBatch` veto in the middle of a data migration
 * stops it at its last checkpoint (rows after it untouched, the ledger row `failed` with
 * `MIGRATE_VETOED`), and the next run resumes there and finishes with every row transformed exactly
 * once. Rows are compared in the server's own text form.
 */
import { describe, expect, it } from 'vitest';
import { createMigrator, defineDataMigration, isMigrateError, RunFailedError, type Row } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { postgresAvailable, shouldRun, withPgDatabase } from '@mcp/test-support';

describe('hooks on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  it.skipIf(!enabled)(
    'a beforeBatch veto mid-migration leaves a resumable checkpoint; the next run finishes, each row once, other columns byte-identical',
    async () => {
      await withPgDatabase('mcp_hooks', async ({ pool }) => {
        await pool.query(
          `CREATE TABLE accounts (id integer PRIMARY KEY, visits integer NOT NULL, balance numeric(30,10), seen timestamptz(6), name text)`,
        );
        await pool.query(`INSERT INTO accounts
        SELECT g, g * 10, (g * 1234567.0123456789)::numeric(30,10), timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second', 'näme ' || g
        FROM generate_series(1, 50) g`);
        // What the finished migration must leave: visits + 1, every other column as it was, in the server's text form.
        await pool.query(`CREATE TABLE expected AS SELECT id, visits + 1 AS visits, balance, seen, name FROM accounts`);
        const text = async (table: string, where = 'true') =>
          (
            await pool.query<{ t: string | null }>(
              `SELECT string_agg(id::text || '|' || visits::text || '|' || balance::text || '|' || seen::text || '|' || name, ',' ORDER BY id) AS t FROM ${table} WHERE ${where}`,
            )
          ).rows[0]!.t;
        const original = await text('accounts');

        const bump = defineDataMigration({
          id: '0001-visits',
          engine: 'postgres',
          table: 'accounts',
          batchSize: 10,
          transform: (row: Row) => ({ ...row, visits: Number(row.visits) + 1 }),
        });
        const migrator = (hooks: Parameters<typeof createMigrator>[0]['hooks']) =>
          createMigrator({
            engines: { postgres: postgresEngine({ shards: [{ id: 'pg-h', pool }] }) },
            migrations: [bump],
            throttle: { minBatchSize: 10, maxBatchSize: 10 },
            hooks,
          });

        const seen: unknown[] = [];
        const first = migrator({
          beforeBatch: ({ after }) => {
            seen.push(after);
            if (Number(after?.[0]) === 30) throw new Error('downstream queue is full');
          },
        });
        const error = await first.run().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RunFailedError);
        expect(isMigrateError(error) && error.message).toContain('downstream queue is full');
        expect(seen.map((a) => (a === undefined ? null : Number((a as unknown[])[0])))).toEqual([null, 10, 20, 30]);
        const { rows: ledger } = await pool.query<{ state: string; code: string; read: string }>(
          `SELECT state, error->>'code' AS code, counts->>'read' AS read FROM mcp_migrations WHERE id = '0001-visits'`,
        );
        expect(ledger).toEqual([{ state: 'failed', code: 'MIGRATE_VETOED', read: '30' }]);
        const status = await first.status();
        expect(status.shards[0]!.migrations.find((m) => m.id === '0001-visits')?.checkpoint?.after).toEqual([30]);
        // Rows 1–30 are done, rows 31–50 untouched, every other column exactly as it was.
        expect(await text('accounts', 'id <= 30')).toBe(await text('expected', 'id <= 30'));
        expect(await text('accounts', 'id > 30')).toBe(original!.split(',').slice(30).join(','));
        await first.close();

        const resumedFrom: unknown[] = [];
        const second = migrator({ beforeBatch: ({ after }) => void resumedFrom.push(after) });
        const report = await second.run();
        expect(Number((resumedFrom[0] as unknown[])[0])).toBe(30);
        expect(report.shards[0]!.migrations[0]).toMatchObject({ status: 'applied', counts: { read: 50, written: 50 } });
        expect(await text('accounts')).toBe(await text('expected'));
        const { rows: done } = await pool.query<{ state: string }>(
          `SELECT state FROM mcp_migrations WHERE id = '0001-visits'`,
        );
        expect(done[0]!.state).toBe('applied');
        await second.close();
      });
    },
    120_000,
  );
});
