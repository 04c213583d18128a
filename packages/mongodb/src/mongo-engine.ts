/**
 * `mongoEngine`: the MongoDB engine adapter. One {@link MongoShardAdapter} per configured shard (a
 * database on a server), each with its ledger, lease lock, batch primitives and schema executor.
 * Runs on MongoDB (standalone, replica set, mongos) and on MongoDB-wire servers such as FerretDB
 * v1.24; what differs is feature-detected per shard at `connect()`.
 *
 * ### Examples
 * ```ts
 * const mongodb = mongoEngine({
 *   shards: [
 *     { id: 'mg-0', uri: process.env.MONGODB_URI!, database: 'chat_0' },
 *     { id: 'mg-1', client: hostsOwnClient, database: 'chat_1' }, // never closed by the SDK
 *   ],
 * });
 * const migrator = createMigrator({ engines: { mongodb }, migrations });
 * ```
 */
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
import { compareKeys, connectionSecrets, DefinitionError, ErrorCode } from '@mcp/migrate-core/engine';
import type {
  ControlStore,
  EngineAdapter,
  EngineCapabilities,
  EngineTerms,
  ShardDescriptor,
} from '@mcp/migrate-core/engine';
import { ClientPool } from './internal/client-pool.js';
import { mongoControlStore } from './mongo-control.js';
import { classifyError } from './mongo-errors.js';
import { DEFAULT_LEDGER_COLLECTION } from './mongo-ledger.js';
import { DEFAULT_LOCK_COLLECTION, DEFAULT_LOCK_POLL_MS } from './mongo-lock.js';
import {
  MONGO_CAPABILITIES,
  MongoShardAdapter,
  type MongoClientShardConfig,
  type MongoShardConfig,
  type MongoShardSettings,
  type MongoUriShardConfig,
} from './mongo-shard.js';

/** Default `serverSelectionTimeoutMS` of clients the adapter creates: fail fast on a dead shard. */
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3_000;

export interface MongoEngineOptions {
  /** The shards, in canary order. At least one. */
  readonly shards: readonly MongoShardConfig[];
  /** Ledger collection in each shard's database. Default `mcp_migrations`. */
  readonly ledgerCollection?: string | undefined;
  /** Lease collection in each shard's database. Default `mcp_migrate_locks`. */
  readonly lockCollection?: string | undefined;
  /** Options for the clients the adapter creates (not for clients the host passes in). */
  readonly clientOptions?: MongoClientOptions | undefined;
  /**
   * How long `connect()` waits for a server before `ShardUnavailableError`, for clients the adapter
   * creates. Default 3000 ms (the driver's own default is 30 s). `clientOptions` may override it.
   */
  readonly serverSelectionTimeoutMS?: number | undefined;
  /** Poll interval while waiting for a held lease. Default 100 ms. */
  readonly lockPollMs?: number | undefined;
}

const DEFAULT_KEY: readonly string[] = Object.freeze(['_id']);
const TERMS: EngineTerms = Object.freeze({
  target: 'collection',
  uniqueKey: 'it must be "_id" or exactly the fields of a unique index (not partial, not sparse)',
});

/** The MongoDB engine adapter, with the driver error classifier the migrator uses for retries. */
export interface MongoEngine extends EngineAdapter<Db> {
  readonly name: 'mongodb';
  /**
   * The engine-wide capabilities: only `inspect`, `serverUpdate` and `openScan`, because the others
   * are known only per shard, after `connect()`. See {@link MongoShardAdapter.capabilities} for what each shard supports.
   */
  readonly capabilities: EngineCapabilities;
  shard(id: string): MongoShardAdapter;
  /** The control store on the first shard: its lease lock, and the collection `mcp_tenant_directory`. */
  control(): ControlStore;
}

/**
 * Creates the MongoDB engine adapter. Validates the options at once (a `DefinitionError` with code
 * `MIGRATE_CONFIG` naming the field); connects nothing until a shard's `connect()`.
 */
export function mongoEngine(options: MongoEngineOptions): MongoEngine {
  const config = validate(options);
  const clients = new ClientPool(config.clientOptions);
  const adapters = new Map<string, MongoShardAdapter>();
  for (const shard of config.shards) adapters.set(shard.id, new MongoShardAdapter(shard, config, clients));
  const shards: ShardDescriptor[] = config.shards.map((s) => ({
    id: s.id,
    engine: 'mongodb',
    location: adapters.get(s.id)!.location,
  }));
  const first = adapters.get(config.shards[0]!.id)!;
  let control: ControlStore | undefined;
  return {
    name: 'mongodb',
    capabilities: MONGO_CAPABILITIES,
    shards,
    classifyError,
    defaultKey: DEFAULT_KEY,
    // The SDK's key order is MongoDB's BSON comparison order.
    compareKeys,
    terms: TERMS,
    controlPreference: 1,
    control: () => (control ??= mongoControlStore(first.lock, () => first.db())),
    shard(id) {
      const a = adapters.get(id);
      if (!a)
        throw new DefinitionError(`mongoEngine: no shard "${id}"`, {
          code: ErrorCode.Config,
          shardId: id,
          field: 'shards',
        });
      return a;
    },
    secrets: () => [
      ...config.shards.flatMap((s) => ('uri' in s ? connectionSecrets(s.uri) : clientSecrets(s.client))),
      ...[config.clientOptions.auth?.password, config.clientOptions.tlsCertificateKeyFilePassword].filter(
        (v): v is string => typeof v === 'string',
      ),
    ],
    async close() {
      await Promise.allSettled([...adapters.values()].map((a) => a.close()));
      await clients.closeAll();
    },
  };
}

interface ResolvedConfig extends MongoShardSettings {
  readonly shards: readonly MongoShardConfig[];
  readonly clientOptions: MongoClientOptions;
}

/** The password a host's client authenticates with (`auth.password` or the URI's), when it exposes it. */
function clientSecrets(client: MongoClient): string[] {
  const password = (client as { options?: { credentials?: { password?: unknown } } }).options?.credentials?.password;
  return typeof password === 'string' ? [password] : [];
}

// ---------------------------------------------------------------------------------------------
// Option validation

const SHARD_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const OPTION_KEYS = new Set([
  'shards',
  'ledgerCollection',
  'lockCollection',
  'clientOptions',
  'serverSelectionTimeoutMS',
  'lockPollMs',
]);

function fail(field: string, problem: string): never {
  throw new DefinitionError(`mongoEngine: field "${field}": ${problem}`, { code: ErrorCode.Config, field });
}

function validate(options: MongoEngineOptions): ResolvedConfig {
  if (typeof options !== 'object' || options === null) fail('(root)', 'expected an options object');
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) fail(key, 'unknown option');
  const { shards } = options;
  if (!Array.isArray(shards) || shards.length === 0) fail('shards', 'needs at least one shard');
  const ids = new Set<string>();
  const places = new Map<unknown, Set<string>>();
  shards.forEach((shard: MongoShardConfig, i: number) => {
    const at = `shards[${i}]`;
    if (typeof shard !== 'object' || shard === null)
      fail(at, 'expected { id, uri, database } or { id, client, database }');
    if (typeof shard.id !== 'string' || !SHARD_ID.test(shard.id))
      fail(`${at}.id`, 'must match [A-Za-z0-9][A-Za-z0-9_.-]*');
    if (ids.has(shard.id)) fail(`${at}.id`, `duplicate shard id "${shard.id}"`);
    ids.add(shard.id);
    const hasUri = 'uri' in shard && shard.uri !== undefined;
    const hasClient = 'client' in shard && shard.client !== undefined;
    if (hasUri === hasClient) fail(at, 'needs exactly one of "uri" and "client"');
    if (hasUri && (typeof shard.uri !== 'string' || !/^mongodb(\+srv)?:\/\/[^/?]+/i.test(shard.uri)))
      fail(`${at}.uri`, 'must be a mongodb:// or mongodb+srv:// connection string');
    if (hasClient && typeof (shard as MongoClientShardConfig).client?.db !== 'function')
      fail(`${at}.client`, 'must be a MongoClient');
    if (typeof shard.database !== 'string' || !/^[^/\\. "$*<>:|?\0]{1,63}$/.test(shard.database)) {
      fail(`${at}.database`, 'must be a database name (1-63 characters, none of /\\. "$*<>:|?)');
    }
    const server = hasUri ? (shard as MongoUriShardConfig).uri : (shard as MongoClientShardConfig).client;
    const databases = places.get(server) ?? new Set<string>();
    if (databases.has(shard.database))
      fail(
        `${at}.database`,
        `another shard already uses database "${shard.database}" on the same server: shards would share a ledger`,
      );
    databases.add(shard.database);
    places.set(server, databases);
  });
  const ledgerCollection = collectionName(options.ledgerCollection, 'ledgerCollection', DEFAULT_LEDGER_COLLECTION);
  const lockCollection = collectionName(options.lockCollection, 'lockCollection', DEFAULT_LOCK_COLLECTION);
  if (ledgerCollection === lockCollection) fail('lockCollection', 'must differ from "ledgerCollection"');
  const timeout = options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 1)
    fail('serverSelectionTimeoutMS', 'must be a positive integer (milliseconds)');
  const lockPollMs = options.lockPollMs ?? DEFAULT_LOCK_POLL_MS;
  if (!Number.isInteger(lockPollMs) || lockPollMs < 1) fail('lockPollMs', 'must be a positive integer (milliseconds)');
  if (
    options.clientOptions !== undefined &&
    (typeof options.clientOptions !== 'object' || options.clientOptions === null)
  )
    fail('clientOptions', 'must be MongoClientOptions');
  return {
    shards,
    ledgerCollection,
    lockCollection,
    lockPollMs,
    clientOptions: { serverSelectionTimeoutMS: timeout, ...options.clientOptions },
  };
}

function collectionName(value: unknown, field: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[^$\0]{1,120}$/.test(value) || value.startsWith('system.')) {
    fail(field, 'must be a collection name (no "$", not "system.*")');
  }
  return value;
}
