/**
 * Run behaviour on a real PostgreSQL server (issue 8, defect 11): a host pool too small for a run is
 * refused at construction instead of hanging `run()`, the smallest pool that suffices runs, and
 * backups are listed, purged and then refuse the rollback that would need them.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createMigrator, defineDataMigration, defineMigration, isMigrateError, type Row } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { postgresAvailable, shouldRun, withPgDatabase } from '@mcp/test-support';

describe('run behaviour on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  it.skipIf(!enabled)(
    'a host pg.Pool with max 1 or 2 is refused at construction naming the option; max 3 runs a schema and a data migration',
    async () => {
      await withPgDatabase('mcp_rb_pool', async ({ url, pool }) => {
        await pool.query(`CREATE TABLE t (id integer PRIMARY KEY, v integer)`);
        await pool.query(`INSERT INTO t SELECT g, g FROM generate_series(1, 20) g`);
        for (const max of [1, 2]) {
          const small = new pg.Pool({ connectionString: url, max });
          try {
            let error: unknown;
            try {
              postgresEngine({ shards: [{ id: 'pg-small', pool: small }] });
            } catch (e) {
              error = e;
            }
            expect(isMigrateError(error) && error.code).toBe('MIGRATE_CONFIG');
            expect((error as { field?: string }).field).toBe('shards[0].pool');
            expect((error as Error).message).toContain(`max ${max}`);
            expect((error as Error).message).toContain('at least 3');
          } finally {
            await small.end();
          }
        }
        const three = new pg.Pool({ connectionString: url, max: 3 });
        three.on('error', () => undefined);
        try {
          const migrations = [
            defineMigration({
              id: '0001-col',
              engine: 'postgres',
              up: async (c: pg.PoolClient) => void (await c.query('ALTER TABLE t ADD COLUMN w integer')),
            }),
            defineDataMigration({
              id: '0002-bump',
              engine: 'postgres',
              table: 't',
              dependsOn: ['0001-col'],
              transform: (row: Row) => ({ ...row, v: (row.v as number) + 1 }),
            }),
          ];
          const migrator = createMigrator({
            engines: { postgres: postgresEngine({ shards: [{ id: 'pg-3', pool: three }] }) },
            migrations,
          });
          const report = await migrator.run({ timeoutMs: 60_000 });
          expect(report.totals).toMatchObject({ applied: 2, failed: 0 });
          const { rows } = await pool.query<{ s: string }>(`SELECT sum(v)::text AS s FROM t`);
          expect(rows[0]!.s).toBe(String(((1 + 20) * 20) / 2 + 20));
          await migrator.close();
        } finally {
          await three.end();
        }
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    'backups: listed by status(), kept by default, dropped by purgeBackups(); the rollback that needs one is then refused and changes nothing',
    async () => {
      await withPgDatabase('mcp_rb_backup', async ({ pool }) => {
        await pool.query(`CREATE TABLE accounts (id integer PRIMARY KEY, plan text, seen timestamptz)`);
        await pool.query(
          `INSERT INTO accounts SELECT g, 'free', timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 second' FROM generate_series(1, 30) g`,
        );
        const snapshot = async () =>
          (
            await pool.query<{ t: string }>(
              `SELECT string_agg(id || '|' || plan || '|' || seen::text, ',' ORDER BY id) AS t FROM accounts`,
            )
          ).rows[0]!.t;
        const exists = async (name: string) =>
          (await pool.query<{ r: string | null }>(`SELECT to_regclass($1)::text AS r`, [name])).rows[0]!.r !== null;
        const m = defineDataMigration({
          id: '0001-plan',
          engine: 'postgres',
          table: 'accounts',
          transform: (row: Row) => ({ ...row, plan: 'pro' }),
        });
        const migrator = createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'pg-b', pool }] }) },
          migrations: [m],
        });
        await migrator.run();
        const applied = await snapshot();
        expect(applied).toContain('|pro|');
        expect(await exists('mcp_backup_0001_plan')).toBe(true);
        expect((await migrator.status()).shards[0]!.backups.map((b) => b.name)).toEqual(['mcp_backup_0001_plan']);

        expect(await migrator.purgeBackups()).toEqual([
          { shardId: 'pg-b', migrationId: '0001-plan', name: 'mcp_backup_0001_plan' },
        ]);
        expect(await exists('mcp_backup_0001_plan')).toBe(false);
        expect((await migrator.status()).shards[0]!.backups).toEqual([]);

        const error = await migrator.rollback({ steps: 1 }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(isMigrateError(error) && error.code).toBe('MIGRATE_ROLLBACK');
        expect((error as Error).message).toContain('purged');
        expect(await snapshot()).toBe(applied);
        const { rows } = await pool.query<{ state: string }>(`SELECT state FROM mcp_migrations WHERE id = '0001-plan'`);
        expect(rows[0]!.state).toBe('applied');
        await migrator.close();
      });
    },
    120_000,
  );
});
