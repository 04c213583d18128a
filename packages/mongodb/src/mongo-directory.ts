/**
 * `MongoTenantDirectory`: the tenant directory of a control store on MongoDB — collection
 * `mcp_tenant_directory` in the shard's database, one document per placement
 * (`{ _id: "<engine>/<tenant>", engine, tenant, shardId, updatedAt }`). A collection never written
 * reads as empty.
 */
import type { Db } from 'mongodb';
import type { DirectoryOverrides, EngineName, TenantDirectory } from '@mcp/migrate-core/engine';

export const TENANT_DIRECTORY_COLLECTION = 'mcp_tenant_directory';

interface PlacementDocument {
  _id: string;
  engine: string;
  tenant: string;
  shardId: string;
  updatedAt: Date;
}

/** One document per (engine, tenant): engine names have no `/` (`[a-z][a-z0-9-]*`). */
const idOf = (engine: string, tenant: string): string => `${engine}/${tenant}`;

export class MongoTenantDirectory implements TenantDirectory {
  readonly #db: () => Promise<Db>;

  constructor(db: () => Promise<Db>) {
    this.#db = db;
  }

  async get(engine: EngineName, tenant: string): Promise<string | undefined> {
    const doc = await (await this.#collection()).findOne({ _id: idOf(engine, tenant) });
    return doc?.shardId;
  }

  async set(engine: EngineName, tenant: string, shardId: string): Promise<void> {
    const _id = idOf(engine, tenant);
    await (
      await this.#collection()
    ).replaceOne({ _id }, { engine, tenant, shardId, updatedAt: new Date() }, { upsert: true });
  }

  async delete(engine: EngineName, tenant: string): Promise<boolean> {
    return (await (await this.#collection()).deleteOne({ _id: idOf(engine, tenant) })).deletedCount > 0;
  }

  async list(): Promise<DirectoryOverrides> {
    const out: Record<string, Record<string, string>> = {};
    for (const d of await (await this.#collection()).find({}).toArray()) (out[d.engine] ??= {})[d.tenant] = d.shardId;
    return out;
  }

  async #collection() {
    return (await this.#db()).collection<PlacementDocument>(TENANT_DIRECTORY_COLLECTION);
  }
}
