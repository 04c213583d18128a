/**
 * Secrets are found nowhere (issue 8, defect 9), on real PostgreSQL and the MongoDB-wire server.
 * Passwords holding `@`, `/`, `%`, `:` and unicode are configured in every place a secret can be
 * given (a connection string, a host pool's `password`, `PGPASSWORD`, `?sslpassword=`, a MongoDB
 * URI, a host client's `auth.password`, `createMigrator({ secrets })`); then every failure path is
 * provoked (a transform throwing with the password in its message, a driver error echoing it, a
 * migration logging it, an unreachable shard with it in the URI, a lock timeout, drift, a failing
 * `down`) and the password, in each spelling, is looked for in thrown errors (message, stack, cause
 * chain, JSON), events, logs, ledger rows read back from the database, reports and `status()`.
 *
 * The test server trusts loopback connections (pg_hba `trust`), so PostgreSQL accepts the roles'
 * passwords without checking them; FerretDB v1.24 accepts any credentials over `PLAIN` and
 * refuses the driver's default SCRAM mechanism ("Unsupported authentication mechanism"), which
 * serves as a refused connection.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { MongoClient } from 'mongodb';
import {
  createMigrator,
  defineDataMigration,
  defineMigration,
  type Migrator,
  type MigratorConfig,
  type Row,
} from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import {
  captureEvents,
  capturingLogger,
  errorText,
  expectClean,
  ferretdbVersion,
  mongoAvailable,
  postgresAvailable,
  rejectionOf,
  shouldRun,
  spellings,
  withMongoDatabase,
  withPgDatabase,
} from '@mcp/test-support';

const PW = 'Pa@ss/wo%rd:?ñ€😀';
const POOL_PW = 'P0ol@pw/%zz-ünï';
const SSL_PW = 'ssl%pass@/wörd';
const ENV_PW = 'env-PGPASS@/%ß';
const HOST_SECRET = 'host-Tok@/%ñ-42';
const MONGO_PW = 'Mo@ngo/p%w:ü€';
const CLIENT_PW = 'Cli@ent/%pw-ç';
const ALL = spellings(PW, POOL_PW, SSL_PW, ENV_PW, HOST_SECRET, MONGO_PW, CLIENT_PW);

/** Everything that left the SDK in one scenario, as text. */
class Seen {
  readonly events: string[] = [];
  readonly logs: string[] = [];
  readonly errors: string[] = [];
  readonly results: string[] = [];

  migrator(config: MigratorConfig): Migrator {
    const m = createMigrator({
      retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 5 },
      logger: capturingLogger(this.logs),
      secrets: [HOST_SECRET],
      ...config,
    });
    captureEvents(m as never, this.events);
    return m;
  }

  async failure(p: Promise<unknown>): Promise<any> {
    const error = await rejectionOf(p);
    this.errors.push(errorText(error));
    if (error?.report) this.results.push(JSON.stringify(error.report));
    return error;
  }

  async result(p: Promise<unknown>): Promise<void> {
    this.results.push(JSON.stringify(await p));
  }

  expectClean(): void {
    expectClean('thrown errors', this.errors.join('\n'), ALL);
    expectClean('events', this.events.join('\n'), ALL);
    expectClean('logs', this.logs.join('\n'), ALL);
    expectClean('results (reports, status)', this.results.join('\n'), ALL);
  }
}

function pgUrl(base: string, user: string, password: string, extra = ''): string {
  const u = new URL(base);
  return `postgres://${user}:${encodeURIComponent(password)}@${u.host}${u.pathname}${extra}`;
}

describe('secrets on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
  const roles = [`mcp_secret_a_${randomUUID().slice(0, 6)}`, `mcp_secret_b_${randomUUID().slice(0, 6)}`];
  let admin: pg.Client;
  const savedEnv = process.env.PGPASSWORD;

  beforeAll(async () => {
    if (!enabled) return;
    admin = new pg.Client({ connectionString: process.env.MCP_MIGRATE_PG_URL });
    await admin.connect();
    for (const [role, password] of [
      [roles[0]!, PW],
      [roles[1]!, POOL_PW],
    ] as const) {
      // CREATE ROLE takes no bind parameters: format() quotes the name and the password literal.
      const { rows } = await admin.query<{ sql: string }>(
        `SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', $1::text, $2::text) AS sql`,
        [role, password],
      );
      await admin.query(rows[0]!.sql);
    }
    process.env.PGPASSWORD = ENV_PW;
  });
  afterAll(async () => {
    if (!enabled) return;
    if (savedEnv === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = savedEnv;
    for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it.skipIf(!enabled)(
    'the passwords are nowhere after a transform, a driver error, ctx.log, an unreachable shard, a lock timeout and drift',
    async () => {
      await withPgDatabase('mcp_sec_a', async (a) => {
        await withPgDatabase('mcp_sec_b', async (b) => {
          const seen = new Seen();
          const u = new URL(b.url);
          const hostPool = new pg.Pool({
            host: u.hostname,
            port: Number(u.port),
            database: u.pathname.slice(1),
            user: roles[1],
            password: POOL_PW,
            max: 4,
          });
          hostPool.on('error', () => undefined);
          const engine = (ledgerTable: string) =>
            postgresEngine({
              ledgerTable,
              shards: [
                {
                  id: 'pg-url',
                  connectionString: pgUrl(a.url, roles[0]!, PW, `?sslpassword=${encodeURIComponent(SSL_PW)}`),
                },
                { id: 'pg-pool', pool: hostPool },
              ],
            });
          for (const pool of [a.pool, b.pool]) {
            await pool.query('CREATE TABLE t (id integer PRIMARY KEY, v integer)');
            await pool.query('INSERT INTO t SELECT g, g FROM generate_series(1, 5) g');
          }
          try {
            // 1. A migration that logs the secrets, and a transform that throws with them in its message.
            const logs = defineMigration({
              id: '0001-logs',
              engine: 'postgres',
              down: () => undefined,
              up: (_c, ctx) =>
                ctx.log.info(`connecting as ${PW}`, {
                  pool: POOL_PW,
                  env: `PGPASSWORD=${ENV_PW}`,
                  nested: { ssl: SSL_PW, host: HOST_SECRET },
                }),
            });
            const throws = defineDataMigration({
              id: '0002-throws',
              engine: 'postgres',
              table: 't',
              transform: (row: Row) => {
                if (row.id === 3) throw new Error(`cannot use ${PW} / ${POOL_PW} / ${encodeURIComponent(PW)}`);
                return { ...row, v: (row.v as number) + 1 };
              },
            });
            const e1 = await seen.failure(
              seen
                .migrator({
                  engines: { postgres: engine('l_transform') },
                  migrations: [logs, throws],
                  onFailure: 'continue',
                })
                .run(),
            );
            expect(e1.report.totals.failed).toBe(2);
            expect(seen.logs.some((l) => l.includes('connecting as ***'))).toBe(true);

            // 2. A driver error that echoes the literal: 22P02 invalid input syntax for type integer: "<password>".
            const echo = defineMigration({
              id: '0001-echo',
              engine: 'postgres',
              down: () => undefined,
              up: async (client: pg.PoolClient) => void (await client.query('SELECT $1::integer', [PW])),
            });
            const e2 = await seen.failure(
              seen
                .migrator({ engines: { postgres: engine('l_echo') }, migrations: [echo], onFailure: 'continue' })
                .run(),
            );
            expect(e2.report.shards[0].migrations[0].error.causeCode).toBe('22P02');

            // 3. Unreachable shards with the passwords in their URIs (one that pg cannot even parse).
            const dead = postgresEngine({
              ledgerTable: 'l_dead',
              shards: [
                { id: 'pg-url', connectionString: pgUrl(a.url, roles[0]!, PW) },
                { id: 'pg-pool', pool: hostPool },
                {
                  id: 'pg-dead',
                  connectionString: `postgres://${roles[0]}:${encodeURIComponent(PW)}@127.0.0.1:1/x?sslpassword=${encodeURIComponent(SSL_PW)}`,
                },
                {
                  id: 'pg-garbled',
                  connectionString: `postgres://${roles[0]}:${PW}@127.0.0.1:1/x?sslpassword=${SSL_PW}`,
                },
              ],
            });
            const deadMigrator = seen.migrator({
              engines: { postgres: dead },
              migrations: [logs],
              onFailure: 'continue',
            });
            const e3 = await seen.failure(deadMigrator.run());
            expect(e3.report.shards.filter((s: { error?: unknown }) => s.error).length).toBe(2);
            await seen.result(deadMigrator.status());
            await seen.failure(deadMigrator.rollback({ steps: 1 }));
            await deadMigrator.close();

            // 4. A lock timeout (its message names the holder and the lock).
            let release!: () => void;
            const gate = new Promise<void>((r) => (release = r));
            let entered!: () => void;
            const inside = new Promise<void>((r) => (entered = r));
            const slow = defineMigration({
              id: '0001-slow',
              engine: 'postgres',
              down: () => undefined,
              up: async () => {
                entered();
                await gate;
              },
            });
            // The host-chosen runner id holds secrets: it is stored scrubbed (lock rows, ledger rows).
            const holder = seen.migrator({
              engines: { postgres: engine('l_lock') },
              migrations: [slow],
              runnerId: `holder-${HOST_SECRET}-${PW}`,
            });
            const holding = holder.run();
            await inside;
            const owners: string[] = [];
            for (const pool of [a.pool, b.pool])
              owners.push(
                ...(await pool.query<{ owner: string }>('SELECT owner FROM mcp_migrate_locks')).rows.map(
                  (r) => r.owner,
                ),
              );
            const waiter = seen.migrator({
              engines: { postgres: engine('l_lock') },
              migrations: [slow],
              lock: { ttlMs: 5_000, waitMs: 300 },
            });
            const e4 = await seen.failure(waiter.run());
            expect(e4.code).toBe('MIGRATE_LOCK_TIMEOUT');
            release();
            await seen.result(holding);
            // Asserted once the holder is released, so that a failure cannot leave its run hanging.
            expect(owners.length).toBeGreaterThan(0);
            for (const owner of owners) expect(owner).toBe('holder-***-***');

            // 5. Drift: the same id declared as another version (an edited body alone is not drift:
            // checksums hash what is declared, never compiled function text).
            const drifted = defineMigration({
              id: '0001-slow',
              engine: 'postgres',
              version: 2,
              down: () => undefined,
              up: async () => void PW.length,
            });
            const e5 = await seen.failure(
              seen.migrator({ engines: { postgres: engine('l_lock') }, migrations: [drifted] }).run(),
            );
            expect(e5.code).toBe('MIGRATE_DRIFT');
            await seen.result(
              seen.migrator({ engines: { postgres: engine('l_transform') }, migrations: [logs, throws] }).status(),
            );

            // 6. A failing down whose driver error echoes the password.
            const badDown = defineMigration({
              id: '0001-bad-down',
              engine: 'postgres',
              up: () => undefined,
              down: async (client: pg.PoolClient) => void (await client.query('SELECT $1::integer', [POOL_PW])),
            });
            const downMigrator = seen.migrator({
              engines: { postgres: engine('l_down') },
              migrations: [badDown],
              onFailure: 'continue',
            });
            await seen.result(downMigrator.run());
            const e6 = await seen.failure(downMigrator.rollback({ steps: 1 }));
            expect(e6.report.shards[0].migrations[0].error.code).toBe('MIGRATE_ROLLBACK');

            seen.expectClean();
            // The ledger rows as stored in the databases, failures included.
            for (const pool of [a.pool, b.pool]) {
              const { rows } = await pool.query<{ t: string }>(
                `SELECT string_agg(row_to_json(l)::text, E'\\n') AS t FROM (SELECT * FROM l_transform UNION ALL SELECT * FROM l_echo UNION ALL SELECT * FROM l_lock) l`,
              );
              expect(rows[0]!.t).toContain('"state":"failed"');
              expectClean('ledger rows', rows[0]!.t, ALL);
              const held = await pool.query<{ runner_id: string }>(
                `SELECT runner_id FROM l_lock WHERE id = '0001-slow'`,
              );
              expect(held.rows.map((r) => r.runner_id)).toEqual(['holder-***-***']);
            }
          } finally {
            await hostPool.end();
          }
        });
      });
    },
    120_000,
  );
});

describe('secrets on the MongoDB-wire server', async () => {
  const enabled = shouldRun({ name: 'MongoDB', available: await mongoAvailable() });
  const ferret = enabled ? await ferretdbVersion() : null;

  it.skipIf(!enabled)(
    'the passwords are nowhere after a transform, a driver error, ctx.log and unreachable shards',
    async () => {
      await withMongoDatabase('mcp_sec_a', async (a) => {
        await withMongoDatabase('mcp_sec_b', async (b) => {
          const seen = new Seen();
          const base = new URL(process.env.MONGODB_URI!);
          // FerretDB accepts any credentials over PLAIN; a MongoDB server would need the users to exist.
          const mechanism = ferret ? '?authMechanism=PLAIN' : '';
          const uri = `mongodb://mcpuser:${encodeURIComponent(MONGO_PW)}@${base.host}/${mechanism}`;
          const hostClient = new MongoClient(`mongodb://${base.host}/`, {
            auth: { username: 'mcpclient', password: CLIENT_PW },
            ...(ferret ? { authMechanism: 'PLAIN' as const } : {}),
          });
          await hostClient.connect().catch(() => undefined);
          for (const db of [a.db, b.db])
            await db
              .collection<{ _id: string; v: number }>('t')
              .insertMany([1, 2, 3, 4].map((i) => ({ _id: `d${i}`, v: i })));
          const engine = (ledgerCollection: string) =>
            mongoEngine({
              ledgerCollection,
              shards: [
                { id: 'mg-uri', uri, database: a.name },
                { id: 'mg-client', client: hostClient, database: b.name },
              ],
            });
          try {
            const logs = defineMigration({
              id: '0001-logs',
              engine: 'mongodb',
              down: () => undefined,
              up: (_db, ctx) => ctx.log.warn(`uri password ${MONGO_PW}`, { client: CLIENT_PW, host: HOST_SECRET }),
            });
            const throws = defineDataMigration({
              id: '0002-throws',
              engine: 'mongodb',
              collection: 't',
              transform: (doc: Row) => {
                if (doc._id === 'd3') throw new Error(`no ${MONGO_PW} or ${CLIENT_PW}`);
                return { ...doc, v: (doc.v as number) + 1 };
              },
            });
            if (ferret) {
              const e1 = await seen.failure(
                seen
                  .migrator({
                    engines: { mongodb: engine('l_transform') },
                    migrations: [logs, throws],
                    onFailure: 'continue',
                    runnerId: `mg-${HOST_SECRET}-${MONGO_PW}`,
                  })
                  .run(),
              );
              expect(e1.report.totals.failed).toBe(2);
              expect(seen.logs.some((l) => l.includes('uri password ***'))).toBe(true);
              // The server echoes an unknown command's name: "no such command: '<password>'".
              const echo = defineMigration({
                id: '0001-echo',
                engine: 'mongodb',
                down: () => undefined,
                up: async (db) => void (await db.command({ [MONGO_PW]: 1 })),
              });
              const e2 = await seen.failure(
                seen
                  .migrator({ engines: { mongodb: engine('l_echo') }, migrations: [echo], onFailure: 'continue' })
                  .run(),
              );
              expect(e2.report.totals.failed).toBe(2);
            }
            // Unreachable: a closed port, and (on FerretDB) the driver's default SCRAM mechanism refused.
            const dead = mongoEngine({
              ledgerCollection: 'l_dead',
              serverSelectionTimeoutMS: 500,
              shards: [
                {
                  id: 'mg-dead',
                  uri: `mongodb://mcpuser:${encodeURIComponent(MONGO_PW)}@127.0.0.1:1/?authSource=admin`,
                  database: 'x',
                },
                {
                  id: 'mg-scram',
                  uri: `mongodb://mcpuser:${encodeURIComponent(CLIENT_PW)}@${base.host}/`,
                  database: a.name,
                },
              ],
            });
            const deadMigrator = seen.migrator({
              engines: { mongodb: dead },
              migrations: [logs],
              onFailure: 'continue',
            });
            const e3 = await seen.failure(deadMigrator.run());
            expect(e3.report.shards.some((s: { error?: unknown }) => s.error)).toBe(true);
            await seen.result(deadMigrator.status());
            await seen.failure(deadMigrator.rollback({ steps: 1 }));
            await deadMigrator.close();
            await seen.result(
              seen.migrator({ engines: { mongodb: engine('l_transform') }, migrations: [logs, throws] }).status(),
            );

            seen.expectClean();
            if (ferret) {
              for (const db of [a.db, b.db]) {
                const rows = JSON.stringify([
                  ...(await db.collection('l_transform').find().toArray()),
                  ...(await db.collection('l_echo').find().toArray()),
                ]);
                expect(rows).toContain('"state":"failed"');
                expectClean('ledger documents', rows, ALL);
                const runners = await db.collection('l_transform').distinct('runnerId');
                expect(runners).toEqual(['mg-***-***']);
              }
            }
          } finally {
            await hostClient.close();
          }
        });
      });
    },
    120_000,
  );
});
