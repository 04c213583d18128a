/**
 * `MongoShardAdapter`: one MongoDB shard, a database on a server, the aggregate of its ledger,
 * lease lock, data store, preserve store and schema-step executor. Connects lazily (every
 * operation connects first) and detects at `connect()` what the server supports.
 */
import type { Db, MongoClient } from 'mongodb';
import { ErrorCode, MigrateError, redact } from '@mcp/migrate-core/engine';
import type { EngineCapabilities, ShardAdapter, SchemaExecutor, StepOptions } from '@mcp/migrate-core/engine';
import type { ClientPool } from './internal/client-pool.js';
import { MongoDataStore } from './mongo-data-store.js';
import { shardUnavailable } from './mongo-errors.js';
import { executeStep } from './mongo-executor.js';
import { MongoLedgerStore } from './mongo-ledger.js';
import { MongoLockProvider } from './mongo-lock.js';
import { MongoPreserveStore } from './mongo-preserve.js';

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
 * What every MongoDB shard has: `inspect`, server-side updates (`serverUpdate`) and streaming reads
 * (`openScan`); never compare-and-set (see docs/guides/mongodb.md) nor server-side copies (a backup
 * page is written back as stored BSON). The rest is known per shard.
 */
export const MONGO_CAPABILITIES: EngineCapabilities = {
  transactions: false,
  transactionalDdl: false,
  changeCapture: false,
  compareAndSet: false,
  serverCopy: false,
  inspect: true,
  serverUpdate: true,
  openScan: true,
};

/** What the shards of an engine share: the collection names and the lease poll interval. */
export interface MongoShardSettings {
  readonly ledgerCollection: string;
  readonly lockCollection: string;
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
  #capabilities: EngineCapabilities = MONGO_CAPABILITIES;

  constructor(config: MongoShardConfig, engine: MongoShardSettings, clients: ClientPool) {
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
   * What this shard supports, detected at `connect()` (before: only `inspect` and `openScan`):
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

  readonly executor: SchemaExecutor<Db> = { execute: (options, fn) => this.#execute(options, fn) };

  async #execute(options: StepOptions, fn: (handle: Db) => Promise<void>): Promise<void> {
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
      ...MONGO_CAPABILITIES,
      transactions: replicated && hello.logicalSessionTimeoutMinutes != null,
      changeCapture: replicated,
    };
  }
}

/** `mongodb://user:pw@h1,h2/admin?x=y` + `chat` → `mongodb://***@h1,h2/chat` (query options dropped: they may hold secrets). */
export function uriLocation(uri: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)([^/?]*)/i.exec(uri);
  const base = match ? `${match[1]}${match[2]}` : 'mongodb://?';
  return `${redact(base)}/${database}`;
}

function clientLocation(client: MongoClient, database: string): string {
  const hosts = (client as { options?: { hosts?: readonly { toString(): string }[] } }).options?.hosts;
  return `mongodb://${hosts?.length ? hosts.map((h) => String(h)).join(',') : '(host client)'}/${database}`;
}
