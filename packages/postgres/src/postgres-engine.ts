/**
 * `postgresEngine`: the PostgreSQL engine adapter. One `PostgresShardAdapter` per shard, each with a
 * ledger kept in the shard itself, an advisory lock with fencing tokens, a schema-step executor with
 * `lock_timeout`, and a data store. Works over a real server and over pg-mem (with documented
 * fallbacks for what pg-mem lacks).
 *
 * ### Examples
 * ```ts
 * const postgres = postgresEngine({
 *   shards: [
 *     { id: 'pg-0', connectionString: process.env.PG_0 },
 *     { id: 'pg-1', pool: existingPool }, // the host's own pool: never closed by the SDK
 *   ],
 *   lockTimeoutMs: 3_000,
 * });
 * const migrator = createMigrator({ engines: { postgres }, migrations });
 * ```
 */
import pg from 'pg';
import { compareScalar, connectionSecrets, DefinitionError, ErrorCode, redact } from '@mcp/migrate-core/engine';
import type { ControlStore, EngineAdapter, EngineTerms, KeyValue, ShardDescriptor } from '@mcp/migrate-core/engine';
import { assertIdentifier } from './internal/identifiers.js';
import { ShardContext, type PostgresFeatures } from './internal/shard-context.js';
import { postgresControlStore } from './postgres-control.js';
import { classifyError } from './postgres-errors.js';
import { POSTGRES_CAPABILITIES, PostgresShardAdapter } from './postgres-shard.js';

/** A shard given by connection string: the adapter opens (and closes) its own pool. */
export interface PostgresConnectionShard {
  /** Stable shard name, `[A-Za-z0-9][A-Za-z0-9_.-]*`. */
  readonly id: string;
  /** `postgres://user:password@host:port/database`. Never shown unredacted. */
  readonly connectionString: string;
  readonly pool?: undefined;
}

/** A shard given by the host's own `pg.Pool` (or pg-mem's): the adapter never closes it. */
export interface PostgresPoolShard {
  readonly id: string;
  readonly pool: pg.Pool;
  readonly connectionString?: undefined;
}

export type PostgresShardConfig = PostgresConnectionShard | PostgresPoolShard;

export interface PostgresEngineOptions {
  /** The shards, in canary order. At least one; ids unique. */
  readonly shards: readonly PostgresShardConfig[];
  /** Schema of the ledger and lock tables and of unqualified table names. Default `public`. */
  readonly schema?: string | undefined;
  /** Name of the ledger table. Default `mcp_migrations`. */
  readonly ledgerTable?: string | undefined;
  /**
   * `lock_timeout` of schema steps, in ms: a DDL statement waiting longer than this for a table
   * lock fails with SQLSTATE 55P03, which is retried, instead of queueing behind a long transaction
   * (and making every later query queue behind it). Default 5000.
   */
  readonly lockTimeoutMs?: number | undefined;
  /** `statement_timeout` of schema steps (and of the adapter's own pools), in ms. Default: the server's. */
  readonly statementTimeoutMs?: number | undefined;
  /** Size of each pool the adapter opens. Default 10. Ignored for host pools. */
  readonly poolSize?: number | undefined;
}

export const DEFAULT_SCHEMA = 'public';
export const DEFAULT_LEDGER_TABLE = 'mcp_migrations';
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
export const DEFAULT_POOL_SIZE = 10;

const DEFAULT_KEY: readonly string[] = Object.freeze(['id']);
const TERMS: EngineTerms = Object.freeze({
  target: 'table',
  uniqueKey: 'it must be exactly the columns of the primary key or of a unique index (not partial, columns NOT NULL)',
});
const SHARD_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The PostgreSQL engine adapter: migrations' `up`/`down` receive a `pg.PoolClient`. */
export interface PostgresEngine extends EngineAdapter<pg.PoolClient> {
  readonly name: 'postgres';
  /** The control store on the first shard: its advisory lock, and the table `mcp_tenant_directory`. */
  control(): ControlStore;
  /** The pool of shard `id` (the host's, or the one the adapter opened), e.g. for `copyRows`. */
  pool(id: string): pg.Pool;
  /** Server features detected on shard `id` (connects if needed): what pg-mem lacks falls back. */
  features(id: string): Promise<PostgresFeatures>;
}

/**
 * Creates the PostgreSQL engine adapter. Validates the options at once (a `DefinitionError` names
 * the field); connects nothing until a shard is used.
 */
export function postgresEngine(options: PostgresEngineOptions): PostgresEngine {
  const settings = validate(options);
  const owned: pg.Pool[] = [];
  const contexts = new Map<string, ShardContext>();
  const adapters = new Map<string, PostgresShardAdapter>();
  const descriptors: ShardDescriptor[] = [];
  for (const shard of options.shards) {
    let pool: pg.Pool;
    if (shard.pool) pool = shard.pool;
    else {
      pool = new pg.Pool({
        connectionString: shard.connectionString,
        max: settings.poolSize,
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        application_name: 'mcp-migrate',
        ...(settings.statementTimeoutMs !== undefined ? { statement_timeout: settings.statementTimeoutMs } : {}),
      });
      // An idle client's error (server restart) must not crash the host; the next query reports it.
      pool.on('error', () => undefined);
      // Nor may a checked-out client's (its backend terminated mid-step): the pending query rejects
      // with the cause, which the migrator reports as MIGRATE_SHARD_UNAVAILABLE.
      pool.on('connect', (client) => void client.on('error', () => undefined));
      owned.push(pool);
    }
    const location = shard.connectionString !== undefined ? redact(shard.connectionString) : poolLocation(pool);
    const ctx = new ShardContext({
      shardId: shard.id,
      schema: settings.schema,
      ledgerTable: settings.ledgerTable,
      pool,
      connectionString: shard.connectionString,
      location,
    });
    contexts.set(shard.id, ctx);
    adapters.set(shard.id, new PostgresShardAdapter(ctx, settings));
    descriptors.push({ id: shard.id, engine: 'postgres', location });
  }
  const context = (id: string): ShardContext => {
    const ctx = contexts.get(id);
    if (!ctx)
      throw new DefinitionError(`postgresEngine: no shard "${id}"`, {
        code: ErrorCode.Config,
        shardId: id,
        field: 'shards',
      });
    return ctx;
  };
  let closed: Promise<void> | undefined;
  let control: ControlStore | undefined;
  const first = options.shards[0]!.id;
  return {
    name: 'postgres',
    capabilities: POSTGRES_CAPABILITIES,
    shards: descriptors,
    classifyError,
    defaultKey: DEFAULT_KEY,
    compareKeys,
    terms: TERMS,
    controlPreference: 2,
    control: () => (control ??= postgresControlStore(adapters.get(first)!.lock, context(first))),
    shard(id) {
      context(id);
      return adapters.get(id)!;
    },
    pool: (id) => context(id).pool,
    features: (id) => context(id).ready(),
    secrets: () => options.shards.flatMap((shard) => poolSecrets(context(shard.id).pool, shard.connectionString)),
    close() {
      closed ??= Promise.allSettled(owned.map((p) => p.end())).then(() => undefined);
      return closed;
    },
  };
}

/**
 * Key order on PostgreSQL: the SDK's (numbers by value, text by code point as `COLLATE "C"`, time
 * by instant), except `bytea`, which the server orders bytewise (MongoDB puts shorter binary first).
 */
function compareKeys(a: KeyValue, b: KeyValue): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const c = x instanceof Uint8Array && y instanceof Uint8Array ? Buffer.compare(x, y) : compareScalar(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

interface Settings {
  readonly schema: string;
  readonly ledgerTable: string;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number | undefined;
  readonly poolSize: number;
}

function fail(field: string, message: string): never {
  throw new DefinitionError(`postgresEngine: field "${field}": ${message}`, { code: ErrorCode.Config, field });
}

/** Connections a run may hold at once from a host pool: a lock session, a step's client, the ledger. */
const MIN_HOST_POOL_SIZE = 3;

function validate(options: PostgresEngineOptions): Settings {
  if (typeof options !== 'object' || options === null) fail('(root)', 'expected an options object');
  if (!Array.isArray(options.shards) || options.shards.length === 0) fail('shards', 'needs at least one shard');
  const ids = new Set<string>();
  options.shards.forEach((shard: PostgresShardConfig, i: number) => {
    const at = `shards[${i}]`;
    if (typeof shard !== 'object' || shard === null) fail(at, 'expected { id, connectionString } or { id, pool }');
    if (typeof shard.id !== 'string' || !SHARD_ID.test(shard.id)) fail(`${at}.id`, `must match ${SHARD_ID.source}`);
    if (ids.has(shard.id)) fail(`${at}.id`, `duplicate shard id "${shard.id}"`);
    ids.add(shard.id);
    const hasUrl = shard.connectionString !== undefined;
    const hasPool = shard.pool !== undefined;
    if (hasUrl === hasPool) fail(at, `shard "${shard.id}" needs exactly one of "connectionString" and "pool"`);
    if (hasUrl && (typeof shard.connectionString !== 'string' || shard.connectionString.length === 0))
      fail(`${at}.connectionString`, 'must be a non-empty string');
    // Refused here rather than at the first connect; the message never repeats the string (it may hold a password).
    if (hasUrl && !/^(postgres(ql)?:\/\/|socket:|\/)/i.test(shard.connectionString))
      fail(
        `${at}.connectionString`,
        `shard "${shard.id}": must be a postgres:// or postgresql:// URL (or a socket path)`,
      );
    if (hasPool && typeof (shard.pool as { query?: unknown }).query !== 'function')
      fail(`${at}.pool`, 'must be a pg.Pool');
    // A run holds a lock session and a step's client at once, and writes the ledger beside them: a
    // smaller host pool waits for itself forever, so refuse it here rather than hang in run().
    const max = (shard.pool as { options?: { max?: unknown } } | undefined)?.options?.max;
    if (hasPool && typeof max === 'number' && max < MIN_HOST_POOL_SIZE) {
      fail(
        `${at}.pool`,
        `the host pg.Pool of shard "${shard.id}" has max ${max}; the SDK needs at least ${MIN_HOST_POOL_SIZE} connections of it (a lock session, a step's client and the ledger): create it with { max: ${MIN_HOST_POOL_SIZE} } or more, or give a connectionString`,
      );
    }
  });
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertIdentifier(schema, 'schema');
  const ledgerTable = options.ledgerTable ?? DEFAULT_LEDGER_TABLE;
  assertIdentifier(ledgerTable, 'ledgerTable');
  const int = (field: string, value: number | undefined, min: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min) fail(field, `must be an integer ≥ ${min}`);
    return value;
  };
  return {
    schema,
    ledgerTable,
    lockTimeoutMs: int('lockTimeoutMs', options.lockTimeoutMs, 0) ?? DEFAULT_LOCK_TIMEOUT_MS,
    statementTimeoutMs: int('statementTimeoutMs', options.statementTimeoutMs, 0),
    poolSize: int('poolSize', options.poolSize, 1) ?? DEFAULT_POOL_SIZE,
  };
}

/** The passwords a shard's pool connects with: its connection string's, its `password` option, `ssl.passphrase`, `PGPASSWORD`. */
function poolSecrets(pool: pg.Pool, connectionString: string | undefined): string[] {
  const o = (pool as { options?: { password?: unknown; connectionString?: unknown; ssl?: { passphrase?: unknown } } })
    .options;
  const strings = [o?.password, o?.ssl?.passphrase, process.env.PGPASSWORD].filter(
    (v): v is string => typeof v === 'string',
  );
  return [
    ...strings,
    ...connectionSecrets(connectionString),
    ...connectionSecrets(typeof o?.connectionString === 'string' ? o.connectionString : undefined),
  ];
}

/** `postgres://host:port/database` of a host pool, from its options when it exposes them. */
function poolLocation(pool: pg.Pool): string {
  const o = (pool as { options?: { host?: unknown; port?: unknown; database?: unknown; connectionString?: unknown } })
    .options;
  if (typeof o?.connectionString === 'string') return redact(o.connectionString);
  if (typeof o?.host === 'string')
    return `postgres://${o.host}${o.port ? `:${String(o.port)}` : ''}/${typeof o.database === 'string' ? o.database : ''}`;
  return 'postgres (host pool)';
}
