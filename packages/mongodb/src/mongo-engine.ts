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
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import {
  compareKeys,
  connectionSecrets,
  DefinitionError,
  ErrorCode,
  MigrateError,
  redact,
  type ControlStore,
  type EngineAdapter,
  type EngineCapabilities,
  type EngineTerms,
  type ShardAdapter,
  type ShardDescriptor,
  type StepOptions,
} from '@mcp/migrate-core/engine';
import { MongoTenantDirectory } from './mongo-directory.js';
import { classifyError, shardUnavailable } from './mongo-errors.js';
import { DEFAULT_LEDGER_COLLECTION, MongoLedgerStore } from './mongo-ledger.js';
import { DEFAULT_LOCK_COLLECTION, DEFAULT_LOCK_POLL_MS, MongoLockProvider } from './mongo-lock.js';
import { MongoDataStore } from './mongo-data-store.js';
import { executeStep } from './mongo-executor.js';
import { MongoPreserveStore } from './mongo-preserve.js';

/** Default `serverSelectionTimeoutMS` of clients the adapter creates: fail fast on a dead shard. */
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3_000;

/** A shard given by connection string: the adapter creates, connects and closes the client. */
export interface MongoUriShardConfig {
  /** Stable shard name, `[A-Za-z0-9][A-Za-z0-9_.-]*`. */
  readonly id: string;
  /** `mongodb://` or `mongodb+srv://` connection string. Shards with the same URI share one client. */
  readonly uri: string;
  /** The shard's database on that server. */
  readonly database: string;
}

/** A shard on the host's own client: the adapter uses it and never closes it. */
export interface MongoClientShardConfig {
  readonly id: string;
  readonly client: MongoClient;
  readonly database: string;
}

export type MongoShardConfig = MongoUriShardConfig | MongoClientShardConfig;

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

/** What `connect()` found out about a shard's server. */
export interface MongoServerInfo {
  /** Server version as reported by `buildInfo` (FerretDB reports the MongoDB version it emulates). */
  readonly version: string | null;
  /** FerretDB's own version when the server is FerretDB, else `null`. */
  readonly ferretdb: string | null;
  /** Replica set name (`hello.setName`), or `null` for a standalone server. */
  readonly setName: string | null;
  /** True behind a mongos router. */
  readonly mongos: boolean;
}

/**
 * What every MongoDB shard has: `inspect`; never compare-and-set (see docs/guides/mongodb.md) nor
 * server-side copies (a backup page is written back as stored BSON). The rest is known per shard.
 */
const NO_CAPABILITIES: EngineCapabilities = {
  transactions: false,
  transactionalDdl: false,
  changeCapture: false,
  compareAndSet: false,
  serverCopy: false,
  inspect: true,
};
const DEFAULT_KEY: readonly string[] = Object.freeze(['_id']);
const TERMS: EngineTerms = Object.freeze({
  target: 'collection',
  uniqueKey: 'it must be "_id" or exactly the fields of a unique index (not partial, not sparse)',
});

/** The MongoDB engine adapter, with the driver error classifier the migrator uses for retries. */
export interface MongoEngine extends EngineAdapter<Db> {
  readonly name: 'mongodb';
  /**
   * The engine-wide capabilities: only `inspect`, because the others are known only per shard,
   * after `connect()`. See {@link MongoShardAdapter.capabilities} for what each shard supports.
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
    capabilities: NO_CAPABILITIES,
    shards,
    classifyError,
    defaultKey: DEFAULT_KEY,
    // The SDK's key order is MongoDB's BSON comparison order.
    compareKeys,
    terms: TERMS,
    controlPreference: 1,
    control: () => (control ??= { lock: first.lock, directory: new MongoTenantDirectory(() => first.db()) }),
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

interface ResolvedConfig {
  readonly shards: readonly MongoShardConfig[];
  readonly ledgerCollection: string;
  readonly lockCollection: string;
  readonly clientOptions: MongoClientOptions;
  readonly lockPollMs: number;
}

/** One shard: a database on a server. Connects lazily (every operation connects first). */
export class MongoShardAdapter implements ShardAdapter<Db> {
  readonly id: string;
  readonly engine = 'mongodb' as const;
  /** The redacted location: `mongodb://***@host:port/<database>`, without query options. */
  readonly location: string;
  readonly ledger: MongoLedgerStore;
  readonly lock: MongoLockProvider;
  readonly data: MongoDataStore;
  readonly preserved: MongoPreserveStore;
  readonly #config: MongoShardConfig;
  readonly #clients: ClientPool;
  #connecting: Promise<{ client: MongoClient; db: Db }> | undefined;
  #server: MongoServerInfo | undefined;
  #capabilities: EngineCapabilities = NO_CAPABILITIES;

  constructor(config: MongoShardConfig, engine: ResolvedConfig, clients: ClientPool) {
    this.id = config.id;
    this.#config = config;
    this.#clients = clients;
    this.location =
      'uri' in config ? uriLocation(config.uri, config.database) : clientLocation(config.client, config.database);
    const db = async () => (await this.#connect()).db;
    this.ledger = new MongoLedgerStore(db, engine.ledgerCollection, engine.lockCollection, config.id);
    this.lock = new MongoLockProvider(db, engine.lockCollection, config.id, engine.lockPollMs);
    this.data = new MongoDataStore(db, config.id);
    this.preserved = new MongoPreserveStore(db, config.id);
  }

  /**
   * What this shard supports, detected at `connect()` (before: only `inspect`):
   * `transactions` and `changeCapture` need a replica set or mongos that is not FerretDB;
   * `transactionalDdl` is always `false` (MongoDB DDL is not transactional in general); so are
   * `compareAndSet` and `serverCopy` (see {@link MongoDataStore}).
   */
  get capabilities(): EngineCapabilities {
    return this.#capabilities;
  }

  /** The server `connect()` found, or `undefined` before it connected. */
  get server(): MongoServerInfo | undefined {
    return this.#server;
  }

  async connect(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted)
      throw new MigrateError(ErrorCode.Aborted, `Connecting to shard "${this.id}" was aborted`, { shardId: this.id });
    const connecting = this.#connect();
    if (!signal) return void (await connecting);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(
          new MigrateError(ErrorCode.Aborted, `Connecting to shard "${this.id}" was aborted`, { shardId: this.id }),
        );
      signal.addEventListener('abort', onAbort, { once: true });
      connecting.then(() => resolve(), reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** The native `Db` of this shard (connects first). For seeding and assertions in tests. */
  async db(): Promise<Db> {
    return (await this.#connect()).db;
  }

  async execute(options: StepOptions, fn: (handle: Db) => Promise<void>): Promise<void> {
    const { client } = await this.#connect();
    await executeStep(client, this.#config.database, this.#capabilities.transactions, options, fn);
  }

  /** Releases this shard's client (closing it when the adapter created it and no other shard uses it). */
  async close(): Promise<void> {
    const connecting = this.#connecting;
    this.#connecting = undefined;
    if (!connecting) return;
    const ok = await connecting.then(
      () => true,
      () => false,
    );
    if (ok && 'uri' in this.#config) await this.#clients.release(this.#config.uri);
  }

  #connect(): Promise<{ client: MongoClient; db: Db }> {
    this.#connecting ??= this.#open().catch((error: unknown) => {
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  async #open(): Promise<{ client: MongoClient; db: Db }> {
    const config = this.#config;
    let client: MongoClient;
    try {
      client = 'uri' in config ? await this.#clients.acquire(config.uri) : config.client;
    } catch (error) {
      throw shardUnavailable(this.id, this.location, error);
    }
    try {
      const db = client.db(config.database);
      await db.command({ ping: 1 });
      await this.#detect(db);
      return { client, db };
    } catch (error) {
      if ('uri' in config) await this.#clients.release(config.uri);
      throw shardUnavailable(this.id, this.location, error);
    }
  }

  async #detect(db: Db): Promise<void> {
    const hello = await db.command({ hello: 1 }).catch(() => db.command({ isMaster: 1 }));
    const build = await db.command({ buildInfo: 1 }).catch(() => ({}) as Record<string, unknown>);
    const ferretdb = typeof build.ferretdbVersion === 'string' ? build.ferretdbVersion : null;
    const setName = typeof hello.setName === 'string' ? hello.setName : null;
    const mongos = hello.msg === 'isdbgrid';
    this.#server = { version: typeof build.version === 'string' ? build.version : null, ferretdb, setName, mongos };
    const replicated = ferretdb === null && (setName !== null || mongos);
    this.#capabilities = {
      ...NO_CAPABILITIES,
      transactions: replicated && hello.logicalSessionTimeoutMinutes != null,
      changeCapture: replicated,
    };
  }
}

/** Clients the adapter created, one per URI, shared by the shards on it and reference-counted. */
class ClientPool {
  readonly #options: MongoClientOptions;
  readonly #entries = new Map<string, { client: Promise<MongoClient>; users: number }>();

  constructor(options: MongoClientOptions) {
    this.#options = options;
  }

  async acquire(uri: string): Promise<MongoClient> {
    let entry = this.#entries.get(uri);
    if (!entry) {
      const client = new MongoClient(uri, this.#options);
      entry = { client: client.connect(), users: 0 };
      this.#entries.set(uri, entry);
      entry.client.catch(() => {
        if (this.#entries.get(uri) === entry) this.#entries.delete(uri);
        void client.close().catch(() => undefined);
      });
    }
    entry.users++;
    return entry.client;
  }

  async release(uri: string): Promise<void> {
    const entry = this.#entries.get(uri);
    if (!entry || --entry.users > 0) return;
    this.#entries.delete(uri);
    await (await entry.client.catch(() => null))?.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map(async (e) => (await e.client.catch(() => null))?.close()));
  }
}

/** `mongodb://user:pw@h1,h2/admin?x=y` + `chat` → `mongodb://***@h1,h2/chat` (query options dropped: they may hold secrets). */
export function uriLocation(uri: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)([^/?]*)/i.exec(uri);
  const base = match ? `${match[1]}${match[2]}` : 'mongodb://?';
  return `${redact(base)}/${database}`;
}

/** The password a host's client authenticates with (`auth.password` or the URI's), when it exposes it. */
function clientSecrets(client: MongoClient): string[] {
  const password = (client as { options?: { credentials?: { password?: unknown } } }).options?.credentials?.password;
  return typeof password === 'string' ? [password] : [];
}

function clientLocation(client: MongoClient, database: string): string {
  const hosts = (client as { options?: { hosts?: readonly { toString(): string }[] } }).options?.hosts;
  return `mongodb://${hosts?.length ? hosts.map((h) => String(h)).join(',') : '(host client)'}/${database}`;
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
