/**
 * The control store: where a migration set keeps what belongs to no single shard — the run lock and
 * the tenant directory. An adapter offers one with `EngineAdapter.control()` (on its first shard);
 * the host may give its own (`createMigrator({ control })`).
 */
import type { EngineName } from './engine-name.js';
import type { LockProvider } from './lock-provider.js';

/** Per-engine tenant placements: engine → tenant → shard id. */
export type DirectoryOverrides = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * The tenant directory: which shard holds a tenant when that is not where the router's rule puts it
 * (a tenant move wrote it). Persistent: a table (`mcp_tenant_directory`) on PostgreSQL, a collection
 * on MongoDB, a map of the store in memory. Routers read it as their overrides.
 */
export interface TenantDirectory {
  /** The shard `tenant` of `engine` was placed on, or `undefined` when the router's rule decides. */
  get(engine: EngineName, tenant: string): Promise<string | undefined>;
  /** Places `tenant` of `engine` on `shardId` (inserts or replaces). */
  set(engine: EngineName, tenant: string, shardId: string): Promise<void>;
  /** Removes the placement; `true` when there was one. */
  delete(engine: EngineName, tenant: string): Promise<boolean>;
  /** Every placement. A directory never written (no table or collection yet) reads as `{}`. */
  list(): Promise<DirectoryOverrides>;
}

export interface ControlStore {
  /** Holds the run lock of each migration set (`mcp-migrate:<set>:run`). */
  readonly lock: LockProvider;
  readonly directory: TenantDirectory;
}
