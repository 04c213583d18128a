/**
 * The data store of one PostgreSQL shard. What its server is — PostgreSQL, or pg-mem emulating it
 * in tests — is known only once connected (`ShardContext.ready()`), while `ShardAdapter.data` must
 * exist before: each call goes to the store made for that server, {@link PostgresDataStore} or
 * {@link PgMemDataStore}. The capability objects are always here, as the engine declares them; on
 * pg-mem the shard's `capabilities` turn them off after `connect()`, and a call anyway is refused.
 */
import { MigrateError, ErrorCode } from '@mcp/migrate-core/engine';
import type {
  BatchWrite,
  CompareAndSet,
  DataStore,
  DataTarget,
  KeyRange,
  KeyValue,
  RangeChecksum,
  Row,
  RowPatch,
  ServerCopy,
  TargetInfo,
} from '@mcp/migrate-core/engine';
import { isPgMem, PgMemDataStore } from '../pg-mem/pg-mem-data-store.js';
import { PostgresDataStore } from '../postgres-data-store.js';
import { PostgresServerUpdate } from '../postgres-server-update.js';
import type { ShardContext } from './shard-context.js';

export class ShardDataStore implements DataStore {
  readonly #ctx: ShardContext;
  readonly #server: PostgresDataStore;
  readonly #pgMem: PgMemDataStore;

  readonly compareAndSet: CompareAndSet = {
    writeIfUnchanged: async (target, patches) =>
      (await this.#capability('compareAndSet')).writeIfUnchanged(target, patches),
  };

  readonly serverCopy: ServerCopy = {
    copy: async (from, to, keys) => (await this.#capability('serverCopy')).copy(from, to, keys),
    restore: async (from, to, after, limit) => (await this.#capability('serverCopy')).restore(from, to, after, limit),
  };

  /** `sql` migrations, per key range in the server (refused on pg-mem by its `check`). */
  readonly serverUpdate: PostgresServerUpdate;

  /** A batch's backup, write and checkpoint in one statement (refused on pg-mem, whose `capabilities` say so). */
  readonly batchWrite: BatchWrite = {
    checkpoints: true,
    rangeCheckpoints: true,
    apply: async (request) => (await this.#capability('batchWrite')).apply(request),
  };

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
    this.#server = new PostgresDataStore(ctx);
    this.#pgMem = new PgMemDataStore(ctx);
    this.serverUpdate = new PostgresServerUpdate(ctx);
  }

  /** The store for this shard's server (connects first). */
  async store(): Promise<PostgresDataStore> {
    return isPgMem(await this.#ctx.ready()) ? this.#pgMem : this.#server;
  }

  /** Forgets cached table shapes (a schema step may have changed them). */
  invalidate(): void {
    this.#server.invalidate();
    this.#pgMem.invalidate();
    this.serverUpdate.invalidate();
  }

  async inspect(target: DataTarget): Promise<TargetInfo> {
    return (await this.store()).inspect(target);
  }

  async scan(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue): Promise<Row[]> {
    return (await this.store()).scan(target, after, limit, upTo);
  }

  async splitKeys(target: DataTarget, parts: number): Promise<KeyValue[]> {
    return (await this.store()).splitKeys(target, parts);
  }

  async count(target: DataTarget, range?: KeyRange): Promise<number> {
    return (await this.store()).count(target, range);
  }

  async checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum> {
    return (await this.store()).checksum(target, range);
  }

  async write(target: DataTarget, rows: readonly Row[]): Promise<number> {
    return (await this.store()).write(target, rows);
  }

  async update(target: DataTarget, patches: readonly RowPatch[]): Promise<number> {
    return (await this.store()).update(target, patches);
  }

  async remove(target: DataTarget, keys: readonly KeyValue[]): Promise<number> {
    return (await this.store()).remove(target, keys);
  }

  async drop(target: DataTarget): Promise<void> {
    return (await this.store()).drop(target);
  }

  async #capability<K extends 'compareAndSet' | 'serverCopy' | 'batchWrite'>(
    name: K,
  ): Promise<NonNullable<PostgresDataStore[K]>> {
    const found = (await this.store())[name];
    if (found) return found as NonNullable<PostgresDataStore[K]>;
    throw new MigrateError(
      ErrorCode.Definition,
      `postgres: shard "${this.#ctx.shardId}" is pg-mem, which has no ${name} (its capabilities.${name} is false)`,
      {
        shardId: this.#ctx.shardId,
        field: name,
      },
    );
  }
}
