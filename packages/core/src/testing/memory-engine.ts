/**
 * `memoryEngine`: shards that hold rows/documents in memory, with the same contract a real adapter
 * has (ledger, lock with fencing, schema-step executor, batch primitives). Host services use it in
 * their own fast tests; the SDK's demo and conformance suite run on it too.
 *
 * ### Examples
 * ```ts
 * const store = createMemoryStore();
 * const postgres = memoryEngine({ name: 'postgres', shards: ['pg-0', 'pg-1'], store });
 * store.shard('pg-0').collection('tenants', ['id']).upsert([{ id: 't1', name: 'Acme' }]);
 * ```
 */
import {
  engineAdapterDefaults,
  errorClass,
  type ControlStore,
  type EngineAdapter,
  type EngineCapabilities,
  type EngineName,
  type ErrorClass,
  type Fence,
  type KeyValue,
  type LedgerRecord,
  type LedgerStore,
  type PreserveStore,
  type Row,
  type ShardAdapter,
  type ShardDescriptor,
  type SchemaExecutor,
  type StepOptions,
} from '../engine/spi.js';
import { definedDefaultKey } from '../definition/checksum.js';
import { DefinitionError, ErrorCode, isMigrateError, ShardUnavailableError } from '../errors/errors.js';
import { compareKeys } from '../engine/key-order.js';
import { MemoryDataStore } from './memory-data-store.js';
import { MemoryTenantDirectory } from './memory-directory.js';
import { MemoryLockProvider } from './memory-lock.js';
import { MemoryPreserveStore } from './memory-preserve.js';
import { createMemoryStore, type MemoryShard, type MemoryStore } from './memory-shard.js';

export interface MemoryEngineOptions {
  /** Engine name the migrations target, e.g. `postgres` or `mongodb`. Default `memory`. */
  readonly name?: EngineName;
  /** Shard ids, or a count (ids `<name>-0`, `<name>-1`, …). Default 1. */
  readonly shards?: readonly string[] | number;
  /** Shared state; default a new store per engine. */
  readonly store?: MemoryStore;
  /** Artificial latency per operation, to make concurrency observable. Default 0. */
  readonly latencyMs?: number;
  /**
   * Offer the compare-and-set capability (`DataStore.compareAndSet`, flag
   * `capabilities.compareAndSet`), as an adapter that can guard against concurrent writers does.
   * Default `false`: the batch engine then writes with `update`.
   */
  readonly compareAndSet?: boolean;
  /**
   * Offer the batch-write capability (`DataStore.batchWrite`, flag `capabilities.batchWrite`): a
   * batch's backup, write and checkpoint in one atomic step, as PostgreSQL does in one statement.
   * Default `false`: the batch engine then makes those calls one after another.
   */
  readonly batchWrite?: boolean;
  /**
   * Offer streaming reads (`DataStore.openScan`, flag `capabilities.openScan`): a cursor that reads
   * a snapshot at its first `next`, as FerretDB's and PostgreSQL's server-side cursors do. Default
   * `false`: the batch engine then reads page by page with `scan`.
   */
  readonly openScan?: boolean;
  /** Offer preserved copies (`ShardAdapter.preserved`) for schema migrations' `preserve`. Default `true`. */
  readonly preserve?: boolean;
  /**
   * The key of data migrations that declare none (`EngineAdapter.defaultKey`). Default: what such a
   * migration of this engine name is defined with (`['_id']` for `mongodb`, else `['id']`).
   */
  readonly defaultKey?: readonly string[];
}

const capabilitiesOf = (compareAndSet: boolean, batchWrite: boolean, openScan: boolean): EngineCapabilities => ({
  transactions: false,
  transactionalDdl: false,
  changeCapture: false,
  compareAndSet,
  serverCopy: false,
  inspect: true,
  serverUpdate: true,
  batchWrite,
  openScan,
});

export interface MemoryEngine extends EngineAdapter<MemoryShard> {
  readonly store: MemoryStore;
  /** The handle of shard `id`, for seeding and assertions in tests. */
  handle(id: string): MemoryShard;
}

export function memoryEngine(options: MemoryEngineOptions = {}): MemoryEngine {
  const name = options.name ?? 'memory';
  const ids =
    typeof options.shards === 'number' || options.shards === undefined
      ? Array.from({ length: (options.shards as number | undefined) ?? 1 }, (_, i) => `${name}-${i}`)
      : [...options.shards];
  if (
    ids.length === 0 ||
    new Set(ids).size !== ids.length ||
    ids.some((id) => !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id))
  ) {
    throw new DefinitionError(
      `memoryEngine "${name}": field "shards": needs unique ids matching [A-Za-z0-9][A-Za-z0-9_.-]*`,
      { code: ErrorCode.Config, field: 'shards' },
    );
  }
  const store = options.store ?? createMemoryStore();
  const lock = new MemoryLockProvider(store.locks);
  const capabilities = capabilitiesOf(
    options.compareAndSet ?? false,
    options.batchWrite ?? false,
    options.openScan ?? false,
  );
  const adapters = new Map(
    ids.map((id) => [
      id,
      new MemoryShardAdapter({
        id,
        engine: name,
        store,
        lock,
        latencyMs: options.latencyMs ?? 0,
        capabilities,
        preserve: options.preserve ?? true,
      }),
    ]),
  );
  const shards: ShardDescriptor[] = ids.map((id) => ({ id, engine: name, location: `memory://${id}` }));
  const first = adapters.get(ids[0]!)!;
  return {
    name,
    capabilities,
    shards,
    defaultKey: options.defaultKey ?? definedDefaultKey(name),
    classifyError: classifyMemoryError,
    compareKeys,
    control: (): ControlStore => ({ lock: first.lock, directory: first.directory }),
    store,
    handle: (id) => store.shard(id),
    shard(id) {
      const a = adapters.get(id);
      if (!a)
        throw new DefinitionError(`memoryEngine "${name}": no shard "${id}"`, {
          code: ErrorCode.Config,
          shardId: id,
          field: 'shards',
        });
      return a;
    },
    async close() {},
  };
}

/** What one memory shard's adapter is built from. */
interface MemoryShardSettings {
  readonly id: string;
  readonly engine: EngineName;
  readonly store: MemoryStore;
  readonly lock: MemoryLockProvider;
  readonly latencyMs: number;
  readonly capabilities: EngineCapabilities;
  readonly preserve: boolean;
}

class MemoryShardAdapter implements ShardAdapter<MemoryShard> {
  readonly id: string;
  readonly engine: EngineName;
  readonly ledger: LedgerStore;
  readonly lock: MemoryLockProvider;
  readonly data: MemoryDataStore;
  readonly capabilities: EngineCapabilities;
  readonly preserved: PreserveStore | undefined;
  /** The tenant directory kept on this shard, used when it is the control shard. */
  readonly directory: MemoryTenantDirectory;
  readonly #store: MemoryStore;
  readonly #latencyMs: number;

  constructor(settings: MemoryShardSettings) {
    const { id, engine, store, lock, latencyMs, capabilities, preserve } = settings;
    this.id = id;
    this.capabilities = capabilities;
    this.engine = engine;
    this.#store = store;
    this.#latencyMs = latencyMs;
    this.lock = lock;
    const io = this.#io.bind(this);
    const shard = () => store.shard(id);
    const locks = store.locks;
    const putRecord = (record: LedgerRecord, fence: Fence) => {
      locks.checkFence(fence, `Ledger write of "${record.id}" on shard "${id}"`);
      shard().ledger.set(record.id, structuredClone(record));
    };
    this.ledger = {
      init: () => io(() => undefined),
      list: () => io(() => [...shard().ledger.values()].map((r) => structuredClone(r))),
      put: (record: LedgerRecord, fence: Fence) => io(() => putRecord(record, fence)),
      delete: (mid: string, fence: Fence) =>
        io(() => {
          locks.checkFence(fence, `Ledger delete of "${mid}" on shard "${id}"`);
          shard().ledger.delete(mid);
        }),
    };
    this.preserved = preserve ? new MemoryPreserveStore(shard, io) : undefined;
    this.data = new MemoryDataStore(shard, io, {
      compareAndSet: capabilities.compareAndSet === true,
      batchWrite: capabilities.batchWrite ? { putRecord, getRecord: (mid) => shard().ledger.get(mid) } : undefined,
      openScan: capabilities.openScan === true,
    });
    this.directory = new MemoryTenantDirectory(() => shard().directory, io);
  }

  async connect(): Promise<void> {
    await this.#io(() => undefined);
  }

  readonly executor: SchemaExecutor<MemoryShard> = { execute: (options, fn) => this.#execute(options, fn) };

  async #execute(options: StepOptions, fn: (handle: MemoryShard) => Promise<void>): Promise<void> {
    await this.#io(() => undefined);
    void options;
    await fn(this.#store.shard(this.id));
  }

  async close(): Promise<void> {}

  async #io<T>(op: () => T): Promise<T> {
    if (this.#latencyMs > 0) await new Promise((r) => setTimeout(r, this.#latencyMs));
    else await Promise.resolve();
    if (!this.#store.shard(this.id).available) {
      throw new ShardUnavailableError(`Shard "${this.id}" (${this.engine}) is unreachable`, { shardId: this.id });
    }
    return op();
  }
}

/** The memory engine's errors are the SDK's own: an unreachable shard is a lost connection, a lock wait a lock timeout. */
function classifyMemoryError(error: unknown): ErrorClass {
  if (isMigrateError(error) && error.code === ErrorCode.ShardUnavailable) return errorClass('connection-lost');
  if (isMigrateError(error) && error.code === ErrorCode.LockTimeout) return errorClass('lock-timeout');
  return engineAdapterDefaults.classifyError(error);
}

export type { KeyValue, Row };
