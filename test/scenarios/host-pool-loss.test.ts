/**
 * A HOST-supplied `pg.Pool` whose connection dies while a step has a client checked out (issue 8
 * follow-up). node-postgres emits 'error' on a checked-out client; with no listener Node throws it
 * and the host process crashes ("Connection terminated unexpectedly"). The SDK attaches a listener
 * to every client it checks out, for as long as it is out: the step fails as
 * MIGRATE_SHARD_UNAVAILABLE and the process lives (vitest fails a file on an uncaught error, so a
 * crash fails these cases), and no listener is left on the pool's clients afterwards.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  createMigrator,
  defineMigration,
  ErrorCode,
  type Migration,
  type RunFailedError,
  type RunReport,
} from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { postgresAvailable, rejectionOf, shouldRun, withPgDatabase } from '@mcp/test-support';

const QUICK = {
  retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 5 },
  lock: { ttlMs: 5_000, waitMs: 5_000 },
} as const;

/** Resolves with the step's backend pid once the step has started its long query. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits (bounded) until `pid` is running `pg_sleep`, then terminates that backend from another connection. */
async function terminateWhenSleeping(url: string, pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    for (let i = 0; i < 200; i++) {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep%'`,
        [pid],
      );
      if (rows[0]!.n === 1) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const { rows } = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
    expect(rows[0]!.ok).toBe(true);
  } finally {
    await admin.end();
  }
}

/** Every client the host pool hands out, to count the 'error' listeners left on them afterwards. */
function trackClients(pool: pg.Pool): Set<pg.PoolClient> {
  const clients = new Set<pg.PoolClient>();
  pool.on('acquire', (client) => void clients.add(client));
  return clients;
}

/**
 * Runs `migration` on the host pool, terminates its backend once it is sleeping (`started` gives
 * the pid), and checks the step failed as MIGRATE_SHARD_UNAVAILABLE naming shard and migration.
 */
async function expectStepLost(
  url: string,
  pool: pg.Pool,
  migration: Migration,
  started: Promise<number>,
): Promise<void> {
  const migrator = createMigrator({
    engines: { postgres: postgresEngine({ shards: [{ id: 'pg-host', pool }] }) },
    migrations: [migration],
    ...QUICK,
  });
  try {
    const run = rejectionOf(migrator.run());
    await terminateWhenSleeping(url, await started);
    const err = (await run) as RunFailedError<RunReport>;
    const step = err.report.shards[0]!.migrations[0]!;
    expect(step.status).toBe('failed');
    expect(step.error).toMatchObject({ code: ErrorCode.ShardUnavailable });
    expect(step.error!.message).toContain(`Shard "pg-host" became unreachable while applying "${migration.id}"`);
  } finally {
    await migrator.close();
  }
}

describe('a host pg.Pool losing the step’s connection', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  it.skipIf(!enabled)(
    'a backend terminated mid-step fails the step as MIGRATE_SHARD_UNAVAILABLE, the process does not crash',
    async () => {
      await withPgDatabase('mcp_hostpool_loss', async ({ url, pool }) => {
        const clients = trackClients(pool);
        const started = deferred<number>();
        const dies = defineMigration({
          id: '0001-dies',
          engine: 'postgres',
          down: () => undefined,
          up: async (client: pg.PoolClient) => {
            const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
            started.resolve(rows[0]!.pid);
            await client.query('SELECT pg_sleep(60)');
          },
        });
        await expectStepLost(url, pool, dies, started.promise);
        // The SDK's listener went with its checkout: a client back in the pool has at most the pool's own.
        expect(clients.size).toBeGreaterThan(0);
        for (const c of clients) expect(c.listenerCount('error')).toBeLessThanOrEqual(1);
      });
    },
    60_000,
  );

  it.skipIf(!enabled)(
    'a step that swallows the failed query and returns is not recorded as applied: the recorded loss fails it',
    async () => {
      await withPgDatabase('mcp_hostpool_swallow', async ({ url, pool }) => {
        const started = deferred<number>();
        const swallows = defineMigration({
          id: '0001-swallows',
          engine: 'postgres',
          transaction: false,
          down: () => undefined,
          up: async (client: pg.PoolClient) => {
            const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
            started.resolve(rows[0]!.pid);
            await client.query('SELECT pg_sleep(60)').catch(() => undefined);
          },
        });
        await expectStepLost(url, pool, swallows, started.promise);
      });
    },
    60_000,
  );
});
