/**
 * `PostgresShardAdapter`: one PostgreSQL shard, the aggregate of its ledger, lock, data store,
 * preserve store and schema-step executor over one {@link ShardContext} (its pool, schema, table
 * names and the server features detected once). Connects lazily: `connect()` or the first use.
 */
import type pg from 'pg';
import type {
  EngineCapabilities,
  LedgerStore,
  LockProvider,
  PreserveStore,
  ShardAdapter,
  SchemaExecutor,
  StepOptions,
} from '@mcp/migrate-core/engine';
import type { ShardContext } from './internal/shard-context.js';
import { ShardDataStore } from './internal/shard-data-store.js';
import { isPgMem, PG_MEM_CAPABILITIES } from './pg-mem/pg-mem-data-store.js';
import { PostgresExecutor, type ExecutorSettings } from './postgres-executor.js';
import { PostgresLedger } from './postgres-ledger.js';
import { PostgresLock } from './postgres-lock.js';
import { PostgresPreserveStore } from './postgres-preserve.js';

/** What a PostgreSQL server supports: everything. */
export const POSTGRES_CAPABILITIES: EngineCapabilities = {
  transactions: true,
  transactionalDdl: true,
  changeCapture: true,
  compareAndSet: true,
  serverCopy: true,
  inspect: true,
  serverUpdate: true,
  batchWrite: true,
};
/** A shard on pg-mem (known once connected) has neither compare-and-set nor server-side copies. */
const PG_MEM_SHARD_CAPABILITIES: EngineCapabilities = { ...POSTGRES_CAPABILITIES, ...PG_MEM_CAPABILITIES };

export class PostgresShardAdapter implements ShardAdapter<pg.PoolClient> {
  readonly id: string;
  readonly engine = 'postgres';
  readonly ledger: LedgerStore;
  readonly lock: LockProvider;
  readonly data: ShardDataStore;
  readonly preserved: PreserveStore;
  readonly #ctx: ShardContext;
  readonly #executor: PostgresExecutor;

  constructor(ctx: ShardContext, settings: ExecutorSettings) {
    this.id = ctx.shardId;
    this.#ctx = ctx;
    this.ledger = new PostgresLedger(ctx);
    this.lock = new PostgresLock(ctx);
    this.data = new ShardDataStore(ctx);
    this.preserved = new PostgresPreserveStore(ctx);
    this.#executor = new PostgresExecutor(ctx, settings);
  }

  /** The engine's capabilities; on pg-mem, once connected, without compare-and-set and server-side copies. */
  get capabilities(): EngineCapabilities {
    const f = this.#ctx.features;
    return f && isPgMem(f) ? PG_MEM_SHARD_CAPABILITIES : POSTGRES_CAPABILITIES;
  }

  async connect(): Promise<void> {
    await this.#ctx.ready();
  }

  readonly executor: SchemaExecutor<pg.PoolClient> = { execute: (options, fn) => this.#execute(options, fn) };

  async #execute(options: StepOptions, fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    try {
      await this.#executor.execute(options, fn);
    } finally {
      // A schema step may have changed the tables the data store knows.
      this.data.invalidate();
    }
  }

  /** The pool belongs to the engine (closed by `engine.close()` when the adapter opened it). */
  async close(): Promise<void> {}
}
