/**
 * The memory engine's tenant directory: a map kept on the control shard (like the
 * `mcp_tenant_directory` table of a PostgreSQL one), so migrators over one store share it.
 */
import type { DirectoryOverrides, EngineName, TenantDirectory } from '../engine/spi.js';

/** Placements as a memory shard keeps them: engine → tenant → shard id. */
export type Placements = Map<string, Map<string, string>>;

export class MemoryTenantDirectory implements TenantDirectory {
  readonly #placements: () => Placements;
  readonly #io: <T>(op: () => T) => Promise<T>;

  /** `placements` gives the control shard's map (looked up at each call, as the shard may be replaced). */
  constructor(placements: () => Placements, io: <T>(op: () => T) => Promise<T>) {
    this.#placements = placements;
    this.#io = io;
  }

  get(engine: EngineName, tenant: string): Promise<string | undefined> {
    return this.#io(() => this.#placements().get(engine)?.get(tenant));
  }

  set(engine: EngineName, tenant: string, shardId: string): Promise<void> {
    return this.#io(() => {
      const placements = this.#placements();
      let tenants = placements.get(engine);
      if (!tenants) placements.set(engine, (tenants = new Map()));
      tenants.set(tenant, shardId);
    });
  }

  delete(engine: EngineName, tenant: string): Promise<boolean> {
    return this.#io(() => this.#placements().get(engine)?.delete(tenant) ?? false);
  }

  list(): Promise<DirectoryOverrides> {
    return this.#io(() =>
      Object.fromEntries([...this.#placements()].map(([engine, tenants]) => [engine, Object.fromEntries(tenants)])),
    );
  }
}
