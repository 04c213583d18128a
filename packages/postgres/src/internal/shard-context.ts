/**
 * What the ledger, lock, data store and executor of one shard share: the pool, the schema and
 * table names, the features detected on the server once, and dedicated sessions for locks.
 * Internal.
 */
import pg from 'pg';
import { ShardUnavailableError, redact } from '@mcp/migrate-core/engine';
import { describePgError, sqlState } from '../postgres-errors.js';
import { lockKey } from './advisory-key.js';
import { createTablesOneByOne } from '../pg-mem/create-tables.js';

/**
 * Server features, detected once per shard on first use. A real PostgreSQL server has them all;
 * pg-mem (an in-memory emulation used in tests) lacks them, and each has a documented fallback.
 */
export interface PostgresFeatures {
  /** `pg_try_advisory_lock` and `pg_locks`: else the lock is a TTL lease row. */
  readonly advisoryLocks: boolean;
  /** Row-value comparison `(a, b) > ($1, $2)` and `COLLATE "C"`: else expanded OR and default order. */
  readonly rowValues: boolean;
  /**
   * `json_populate_recordset`, `record_send` (row versions for compare-and-set) and `CREATE TABLE
   * … (LIKE …)`: else multi-row VALUES, catalog-built DDL and no compare-and-set.
   */
  readonly recordsets: boolean;
  /** `md5`, a row's text form and `bit(64)` casts: else checksums are computed in the client. */
  readonly serverChecksum: boolean;
}

/** A connection held for the lifetime of a lease, never shared with other queries. */
export interface Session {
  readonly client: pg.ClientBase;
  /** True once the connection reported an error or ended. */
  readonly lost: boolean;
  close(): Promise<void>;
}

/**
 * A client checked out of a pool with an `'error'` listener for as long as it is out. node-postgres
 * emits `'error'` on a checked-out client whose connection dies (its backend terminated, the server
 * restarting) and, with no listener, Node throws it and the host process crashes; a host's pool
 * cannot be trusted to have one. The listener records the loss, so the operation fails as a lost
 * connection (`MIGRATE_SHARD_UNAVAILABLE`), and is removed on release, leaving nothing behind.
 */
export interface Checkout {
  readonly client: pg.PoolClient;
  /** The connection error seen while checked out, if any. */
  readonly loss: Error | undefined;
  /** Returns the client to the pool, destroying it when `destroy` is given or a loss was seen. */
  release(destroy?: Error | boolean): void;
}

/** Checks a client out of `pool` with a loss-recording `'error'` listener; see {@link Checkout}. */
export async function checkout(pool: pg.Pool): Promise<Checkout> {
  const client = await pool.connect();
  let loss: Error | undefined;
  let released = false;
  const onError = (error: Error) => void (loss ??= error);
  client.on('error', onError);
  return {
    client,
    get loss() {
      return loss;
    },
    release(destroy) {
      if (released) return;
      released = true;
      client.release(destroy || loss || undefined);
      client.removeListener('error', onError);
    },
  };
}

export interface ShardContextOptions {
  readonly shardId: string;
  readonly schema: string;
  readonly ledgerTable: string;
  readonly pool: pg.Pool;
  /** Connection string of the shard, when the host gave one (dedicated lock sessions use it). */
  readonly connectionString: string | undefined;
  readonly location: string;
}

export class ShardContext {
  readonly shardId: string;
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly location: string;
  readonly tables: { readonly ledger: string; readonly fences: string; readonly locks: string };
  readonly #connectionString: string | undefined;
  #ready: Promise<PostgresFeatures> | undefined;
  #features: PostgresFeatures | undefined;
  #tables: Promise<void> | undefined;

  constructor(options: ShardContextOptions) {
    this.shardId = options.shardId;
    this.schema = options.schema;
    this.pool = options.pool;
    this.location = options.location;
    this.#connectionString = options.connectionString;
    const q = (t: string) => `"${options.schema}"."${t}"`;
    this.tables = { ledger: q(options.ledgerTable), fences: q('mcp_migrate_fences'), locks: q('mcp_migrate_locks') };
  }

  /** Connects (once) and detects features. Throws `ShardUnavailableError` naming the shard, redacted. */
  ready(): Promise<PostgresFeatures> {
    this.#ready ??= this.#connect().then((f) => (this.#features = f));
    this.#ready.catch(() => (this.#ready = undefined));
    return this.#ready;
  }

  /** The features {@link ready} detected, or `undefined` before it resolved. */
  get features(): PostgresFeatures | undefined {
    return this.#features;
  }

  async #connect(): Promise<PostgresFeatures> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw new ShardUnavailableError(
        `Shard "${this.shardId}" (postgres at ${this.location}) is unreachable: ${redact(describePgError(error))}`,
        {
          shardId: this.shardId,
          cause: error,
        },
      );
    }
    const probe = async (sql: string) => {
      try {
        await this.pool.query(sql);
        return true;
      } catch {
        return false;
      }
    };
    return {
      advisoryLocks: await probe(
        'SELECT pg_try_advisory_xact_lock(0::bigint) AS ok, (SELECT count(*) FROM pg_catalog.pg_locks WHERE false) AS n',
      ),
      rowValues: await probe(`SELECT (1, 'a' COLLATE "C") > (0, 'b') AS ok`),
      recordsets: await probe(
        `SELECT count(md5(record_send(r.*))) AS n FROM json_populate_recordset(NULL::pg_catalog.pg_am, '[]'::json) AS r`,
      ),
      serverChecksum: await probe(
        `SELECT ('x' || substr(md5(ROW(r.a)::text), 1, 16))::bit(64)::bigint AS h FROM (SELECT 1 AS a) r`,
      ),
    };
  }

  /**
   * Creates the ledger, fence and holder tables if absent (once per context unless `force`). Safe
   * when several runners call it at once.
   */
  ensureTables(force = false): Promise<void> {
    if (force || !this.#tables) {
      this.#tables = this.#createTables();
      this.#tables.catch(() => (this.#tables = undefined));
    }
    return this.#tables;
  }

  async #createTables(): Promise<void> {
    const features = await this.ready();
    const { ledger, fences, locks } = this.tables;
    const ddl = [
      `CREATE TABLE IF NOT EXISTS ${ledger} (
        id text PRIMARY KEY, state text NOT NULL, checksum text NOT NULL,
        started_at timestamptz, finished_at timestamptz, runner_id text,
        checkpoint jsonb, counts jsonb, error jsonb, seq integer NOT NULL DEFAULT 0)`,
      `CREATE TABLE IF NOT EXISTS ${fences} (lock_name text PRIMARY KEY, token bigint NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${locks} (
        lock_name text PRIMARY KEY, owner text NOT NULL, token bigint NOT NULL,
        since timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL, expires_at timestamptz)`,
    ];
    if (this.schema !== 'public') ddl.unshift(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    if (!features.advisoryLocks)
      return createTablesOneByOne(this.pool, ddl, [ledger, fences, locks], (t) => this.tableExists(t));
    // Concurrent CREATE TABLE IF NOT EXISTS races on pg_type's unique index (23505) or reports
    // 42P07: a transaction-level advisory lock serialises our initialisers, and a retry covers a
    // creator outside this SDK.
    for (let attempt = 0; ; attempt++) {
      const out = await checkout(this.pool);
      const { client } = out;
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(this.schema, 'mcp-migrate:init').key]);
        for (const sql of ddl) await client.query(sql);
        await client.query('COMMIT');
        return;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const state = sqlState(error);
        if (attempt < 2 && (state === '23505' || state === '42P07')) continue;
        throw error;
      } finally {
        out.release();
      }
    }
  }

  /** Whether table `quoted` (`"schema"."table"`, as in {@link tables}) exists. */
  async tableExists(quoted: string): Promise<boolean> {
    const table = quoted.slice(quoted.lastIndexOf('.') + 2, -1);
    const { rows } = await this.pool.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
      [this.schema, table],
    );
    return rows.length > 0;
  }

  /**
   * A dedicated session: a new `pg.Client` on the shard's connection string, or (for a host pool)
   * a client checked out of that pool and destroyed, not returned, when closed.
   */
  async openSession(): Promise<Session> {
    let lost = false;
    let client: pg.ClientBase;
    let close: () => Promise<void>;
    let isLost = () => false;
    if (this.#connectionString !== undefined) {
      const own = new pg.Client({
        connectionString: this.#connectionString,
        keepAlive: true,
        application_name: 'mcp-migrate-lock',
      });
      own.on('error', () => (lost = true));
      own.on('end', () => (lost = true));
      try {
        await own.connect();
      } catch (error) {
        throw new ShardUnavailableError(
          `Shard "${this.shardId}" (postgres at ${this.location}) is unreachable: ${redact(describePgError(error))}`,
          { shardId: this.shardId, cause: error },
        );
      }
      client = own;
      close = () => own.end().catch(() => undefined);
    } else {
      const pooled = await checkout(this.pool);
      client = pooled.client;
      // A loss is seen by the listener `checkout` attaches; the lease reads it through `lost`.
      isLost = () => pooled.loss !== undefined;
      close = async () => {
        // Destroy rather than return it: the session may still hold advisory locks or be broken.
        pooled.release(true);
      };
    }
    return {
      client,
      get lost() {
        return lost || isLost();
      },
      close,
    };
  }
}
