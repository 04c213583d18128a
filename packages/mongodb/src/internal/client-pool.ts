/**
 * `ClientPool`: the MongoDB clients an engine created from connection strings, one per URI, shared
 * by the shards on it and reference-counted (the last shard to release it closes it). Clients the
 * host passes in are never here.
 */
import { MongoClient, type MongoClientOptions } from 'mongodb';

/** Clients the adapter created, one per URI, shared by the shards on it and reference-counted. */
export class ClientPool {
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
