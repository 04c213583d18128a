/**
 * The memory engine's tenant directory: a map kept on the control shard (like the
 * `mcp_tenant_directory` table of a PostgreSQL one), so migrators over one store share it.
 */
import type { DirectoryOverrides, EngineName, TenantDirectory } from '../engine/index.js';
import type { MemoryShard } from './memory-engine.js';

export class MemoryTenantDirectory implements TenantDirectory {
  readonly #shard: () => MemoryShard;
  readonly #io: <T>(op: () => T) => Promise<T>;

  constructor(shard: () => MemoryShard, io: <T>(op: () => T) => Promise<T>) {
    this.#shard = shard;
    this.#io = io;
  }

  get(engine: EngineName, tenant: string): Promise<string | undefined> {
    return this.#io(() => this.#shard().directory.get(engine)?.get(tenant));
  }

  set(engine: EngineName, tenant: string, shardId: string): Promise<void> {
    return this.#io(() => {
      const placements = this.#shard().directory;
      let tenants = placements.get(engine);
      if (!tenants) placements.set(engine, (tenants = new Map()));
      tenants.set(tenant, shardId);
    });
  }

  delete(engine: EngineName, tenant: string): Promise<boolean> {
    return this.#io(() => this.#shard().directory.get(engine)?.delete(tenant) ?? false);
  }

  list(): Promise<DirectoryOverrides> {
    return this.#io(() => Object.fromEntries([...this.#shard().directory].map(([engine, tenants]) => [engine, Object.fromEntries(tenants)])));
  }
}
