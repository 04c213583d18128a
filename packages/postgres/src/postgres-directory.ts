/**
 * `PostgresTenantDirectory`: the tenant directory of a control store on PostgreSQL — table
 * `mcp_tenant_directory` (engine, tenant, shard id) in the shard's schema, created by the first
 * write. Reads of a directory never written see it empty.
 */
import type { DirectoryOverrides, EngineName, TenantDirectory } from '@mcp/migrate-core/engine';
import { sqlState } from './postgres-errors.js';
import type { ShardContext } from './shard-context.js';

export const TENANT_DIRECTORY_TABLE = 'mcp_tenant_directory';

export class PostgresTenantDirectory implements TenantDirectory {
  readonly #ctx: ShardContext;
  readonly #table: string;
  #created: Promise<void> | undefined;

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
    this.#table = `"${ctx.schema}"."${TENANT_DIRECTORY_TABLE}"`;
  }

  async get(engine: EngineName, tenant: string): Promise<string | undefined> {
    const rows = await this.#read<{ shard_id: string }>(
      `SELECT shard_id FROM ${this.#table} WHERE engine = $1 AND tenant = $2`,
      [engine, tenant],
    );
    return rows[0]?.shard_id;
  }

  async set(engine: EngineName, tenant: string, shardId: string): Promise<void> {
    await this.#ensure();
    await this.#ctx.pool.query(
      `INSERT INTO ${this.#table} (engine, tenant, shard_id, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (engine, tenant) DO UPDATE SET shard_id = EXCLUDED.shard_id, updated_at = EXCLUDED.updated_at`,
      [engine, tenant, shardId],
    );
  }

  async delete(engine: EngineName, tenant: string): Promise<boolean> {
    const rows = await this.#read<{ tenant: string }>(
      `DELETE FROM ${this.#table} WHERE engine = $1 AND tenant = $2 RETURNING tenant`,
      [engine, tenant],
    );
    return rows.length > 0;
  }

  async list(): Promise<DirectoryOverrides> {
    const rows = await this.#read<{ engine: string; tenant: string; shard_id: string }>(
      `SELECT engine, tenant, shard_id FROM ${this.#table}`,
      [],
    );
    const out: Record<string, Record<string, string>> = {};
    for (const r of rows) (out[r.engine] ??= {})[r.tenant] = r.shard_id;
    return out;
  }

  /** Runs `sql`; a directory table that does not exist yet reads as no rows. */
  async #read<R extends object>(sql: string, params: unknown[]): Promise<R[]> {
    await this.#ctx.ready();
    try {
      return (await this.#ctx.pool.query<R>(sql, params)).rows;
    } catch (error) {
      if (sqlState(error) === '42P01') return [];
      throw error;
    }
  }

  /** Creates the table once (with the schema, through the ledger's tables); a concurrent creator is fine. */
  #ensure(): Promise<void> {
    this.#created ??= (async () => {
      await this.#ctx.ensureTables();
      if (await this.#ctx.tableExists(this.#table)) return;
      await this.#ctx.pool
        .query(
          `CREATE TABLE IF NOT EXISTS ${this.#table} (
        engine text NOT NULL, tenant text NOT NULL, shard_id text NOT NULL, updated_at timestamptz NOT NULL,
        PRIMARY KEY (engine, tenant))`,
        )
        .catch(async (error: unknown) => {
          // Two creators race on pg_type (23505) or the table appeared in between (42P07): it exists now.
          if (!(await this.#ctx.tableExists(this.#table))) throw error;
        });
    })();
    this.#created.catch(() => (this.#created = undefined));
    return this.#created;
  }
}
