/**
 * Errors that say what happened (issue 8, defect 10), on real PostgreSQL and the MongoDB-wire
 * server: a shard lost mid-step is `MIGRATE_SHARD_UNAVAILABLE`; an unreachable shard's run and
 * rollback name the shard and the cause and carry a report (and `continue` rolls back the others);
 * a failing `down` is `MIGRATE_ROLLBACK` on both engines; connection strings of the wrong kind are
 * refused when the engine is built. The memory-engine versions are in
 * packages/core/test/errors-taxonomy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import {
  createMigrator,
  defineMigration,
  ErrorCode,
  isMigrateError,
  type Migration,
  type RunFailedError,
  type RunReport,
} from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import {
  mongoAvailable,
  postgresAvailable,
  rejectionOf,
  shouldRun,
  withMongoDatabase,
  withPgDatabase,
} from '@mcp/test-support';

const QUICK = {
  retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 5 },
  lock: { ttlMs: 5_000, waitMs: 5_000 },
} as const;
const DEAD_PG = 'postgres://mcp@127.0.0.1:1/nowhere';

/** The rejection of run() of `migration` on a migrator over `engines` (closed afterwards). */
async function runRejection(
  engines: Parameters<typeof createMigrator>[0]['engines'],
  migration: Migration,
): Promise<any> {
  const migrator = createMigrator({ engines, migrations: [migration], ...QUICK });
  try {
    return await rejectionOf(migrator.run());
  } finally {
    await migrator.close();
  }
}

describe('engines refuse connection strings of the wrong kind when built', () => {
  it.each([['garbage'], ['mysql://u:p@h/db'], ['host=db user=x']])(
    'postgresEngine refuses %j with MIGRATE_CONFIG naming the field',
    (connectionString) => {
      let error: unknown;
      try {
        postgresEngine({ shards: [{ id: 'pg-0', connectionString }] });
      } catch (e) {
        error = e;
      }
      expect(isMigrateError(error)).toBe(true);
      expect(error).toMatchObject({ code: ErrorCode.Config, field: 'shards[0].connectionString' });
      expect((error as Error).message).toContain('postgres://');
    },
  );

  it('postgresEngine accepts postgres://, postgresql:// and socket paths', () => {
    for (const connectionString of ['postgres://u@h/db', 'postgresql://u@h/db', '/var/run/postgresql chat']) {
      expect(() => postgresEngine({ shards: [{ id: 'pg-0', connectionString }] })).not.toThrow();
    }
  });

  it('mongoEngine refuses a non-mongodb URI with MIGRATE_CONFIG naming the field', () => {
    let error: unknown;
    try {
      mongoEngine({ shards: [{ id: 'mg-0', uri: 'postgres://u:p@h/db', database: 'x' }] });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: ErrorCode.Config, field: 'shards[0].uri' });
  });
});

describe('error taxonomy on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  it.skipIf(!enabled)(
    'a connection lost in the middle of a step is MIGRATE_SHARD_UNAVAILABLE naming the shard, not MIGRATE_MIGRATION_FAILED',
    async () => {
      await withPgDatabase('mcp_err_kill', async ({ url }) => {
        // The step's own backend is terminated (57P01), as when the server restarts under it.
        const dies = defineMigration({
          id: '0001-dies',
          engine: 'postgres',
          transaction: false,
          down: () => undefined,
          up: async (client: pg.PoolClient) =>
            void (await client.query('SELECT pg_terminate_backend(pg_backend_pid())')),
        });
        const err = (await runRejection(
          { postgres: postgresEngine({ shards: [{ id: 'pg-a', connectionString: url }] }) },
          dies,
        )) as RunFailedError<RunReport>;
        const step = err.report.shards[0]!.migrations[0]!;
        expect(step.error).toMatchObject({ code: ErrorCode.ShardUnavailable, causeCode: '57P01' });
        expect(step.error!.message).toContain('Shard "pg-a" became unreachable while applying "0001-dies"');
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    'an unreachable shard fails run() with a message naming the shard and the cause',
    async () => {
      await withPgDatabase('mcp_err_unreach', async ({ url }) => {
        const engine = postgresEngine({
          shards: [
            { id: 'pg-a', connectionString: url },
            { id: 'pg-dead', connectionString: DEAD_PG },
          ],
        });
        const err = await runRejection(
          { postgres: engine },
          defineMigration({ id: '0001-a', engine: 'postgres', up: () => undefined }),
        );
        expect(err.message).toMatch(
          /^Migration run failed: shard "pg-dead" is unavailable \(MIGRATE_SHARD_UNAVAILABLE\): .*ECONNREFUSED/,
        );
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    "rollback() with an unreachable shard throws with a report; under 'continue' the reachable shard is rolled back",
    async () => {
      await withPgDatabase('mcp_err_rb_a', async (a) => {
        await withPgDatabase('mcp_err_rb_b', async (b) => {
          const m = defineMigration({
            id: '0001-t',
            engine: 'postgres',
            up: async (c: pg.PoolClient) => void (await c.query('CREATE TABLE t (id int)')),
            down: async (c: pg.PoolClient) => void (await c.query('DROP TABLE t')),
          });
          const both = createMigrator({
            engines: {
              postgres: postgresEngine({
                shards: [
                  { id: 'pg-a', connectionString: a.url },
                  { id: 'pg-b', connectionString: b.url },
                ],
              }),
            },
            migrations: [m],
            ...QUICK,
          });
          await both.run();
          await both.close();
          // The same shards, pg-b now unreachable.
          const engine = postgresEngine({
            shards: [
              { id: 'pg-a', connectionString: a.url },
              { id: 'pg-b', connectionString: DEAD_PG },
            ],
          });
          for (const onFailure of ['halt', 'continue'] as const) {
            const migrator = createMigrator({ engines: { postgres: engine }, migrations: [m], ...QUICK, onFailure });
            const err = (await rejectionOf(migrator.rollback({ steps: 1 }))) as RunFailedError<RunReport>;
            expect(err.report.kind).toBe('rollback');
            expect(err.report.shards[1]!.error).toMatchObject({ code: ErrorCode.ShardUnavailable });
            expect(err.message).toContain('shard "pg-b" is unavailable');
            const exists = (await a.pool.query<{ r: string | null }>(`SELECT to_regclass('public.t')::text AS r`))
              .rows[0]!.r;
            if (onFailure === 'halt') expect(exists).toBe('t');
            else {
              expect(exists).toBeNull();
              expect(err.report.shards[0]!.migrations).toMatchObject([{ migrationId: '0001-t', status: 'applied' }]);
            }
          }
          await engine.close();
          expect(
            (await b.pool.query<{ r: string | null }>(`SELECT to_regclass('public.t')::text AS r`)).rows[0]!.r,
          ).toBe('t');
        });
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    'a failing down is MIGRATE_ROLLBACK with the SQLSTATE as causeCode',
    async () => {
      await withPgDatabase('mcp_err_down', async ({ url }) => {
        const m = defineMigration({
          id: '0001-bad-down',
          engine: 'postgres',
          up: () => undefined,
          down: async (c: pg.PoolClient) => void (await c.query('DROP TABLE no_such_table')),
        });
        const migrator = createMigrator({
          engines: { postgres: postgresEngine({ shards: [{ id: 'pg-a', connectionString: url }] }) },
          migrations: [m],
          ...QUICK,
        });
        try {
          await migrator.run();
          const err = (await rejectionOf(migrator.rollback({ steps: 1 }))) as RunFailedError<RunReport>;
          expect(err.report.shards[0]!.migrations[0]!.error).toMatchObject({
            code: ErrorCode.Rollback,
            causeCode: '42P01',
          });
        } finally {
          await migrator.close();
        }
      });
    },
    60_000,
  );
});

describe('error taxonomy on the MongoDB-wire server', async () => {
  const enabled = shouldRun({ name: 'MongoDB', available: await mongoAvailable() });

  it.skipIf(!enabled)(
    'a failing down is MIGRATE_ROLLBACK, as on PostgreSQL',
    async () => {
      await withMongoDatabase('mcp_err_down', async ({ name }) => {
        const m = defineMigration({
          id: '0001-bad-down',
          engine: 'mongodb',
          up: () => undefined,
          down: async (db) => void (await db.command({ noSuchCommand: 1 })),
        });
        const migrator = createMigrator({
          engines: {
            mongodb: mongoEngine({ shards: [{ id: 'mg-a', uri: process.env.MONGODB_URI!, database: name }] }),
          },
          migrations: [m],
          ...QUICK,
        });
        try {
          await migrator.run();
          const err = (await rejectionOf(migrator.rollback({ steps: 1 }))) as RunFailedError<RunReport>;
          expect(err.report.shards[0]!.migrations[0]!.error).toMatchObject({ code: ErrorCode.Rollback });
          expect(err.report.shards[0]!.migrations[0]!.error!.causeCode).toBeDefined();
        } finally {
          await migrator.close();
        }
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    'an unreachable MongoDB shard fails run() naming the shard and the cause',
    async () => {
      await withMongoDatabase('mcp_err_unreach', async ({ name }) => {
        const engine = mongoEngine({
          serverSelectionTimeoutMS: 500,
          shards: [
            { id: 'mg-a', uri: process.env.MONGODB_URI!, database: name },
            { id: 'mg-dead', uri: 'mongodb://127.0.0.1:1/', database: 'x' },
          ],
        });
        const err = await runRejection(
          { mongodb: engine },
          defineMigration({ id: '0001-a', engine: 'mongodb', up: () => undefined }),
        );
        expect(err.message).toMatch(
          /^Migration run failed: shard "mg-dead" is unavailable \(MIGRATE_SHARD_UNAVAILABLE\): .*unreachable/,
        );
      });
    },
    60_000,
  );
});
