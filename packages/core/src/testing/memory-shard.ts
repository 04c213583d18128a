/**
 * The memory engine's state: {@link MemoryShard}, the native handle a memory shard's migrations
 * receive, and {@link MemoryStore}, the shards and lock table memory engines of one process share.
 */
import type { LedgerRecord } from '../engine/spi.js';
import { MemoryCollection } from './memory-collection.js';
import { MemoryLockTable } from './memory-lock.js';

/** The native handle a memory shard's migrations receive: a named bag of collections. */
export class MemoryShard {
  readonly id: string;
  readonly #collections = new Map<string, MemoryCollection>();
  /** Free-form schema facts a migration may record (e.g. `{ 'tenants.region': 'text' }`). */
  readonly schema = new Map<string, unknown>();
  /** False makes every operation on this shard fail as unreachable (fault injection). */
  available = true;

  constructor(id: string) {
    this.id = id;
  }

  /** The collection `name`, created with `key` (default `['id']`) when absent. */
  collection(name: string, key: readonly string[] = ['id']): MemoryCollection {
    let c = this.#collections.get(name);
    if (!c) this.#collections.set(name, (c = new MemoryCollection(name, key)));
    return c;
  }

  createCollection(name: string, key: readonly string[] = ['id']): MemoryCollection {
    if (this.#collections.has(name)) throw new Error(`collection "${name}" already exists on ${this.id}`);
    return this.collection(name, key);
  }

  hasCollection(name: string): boolean {
    return this.#collections.has(name);
  }

  dropCollection(name: string): boolean {
    return this.#collections.delete(name);
  }

  renameCollection(from: string, to: string): void {
    const c = this.#collections.get(from);
    if (!c) throw new Error(`collection "${from}" does not exist on ${this.id}`);
    if (this.#collections.has(to)) throw new Error(`collection "${to}" already exists on ${this.id}`);
    const moved = new MemoryCollection(to, c.key);
    moved.upsert(c.rows());
    for (const [k, v] of c.indexes) moved.indexes.set(k, v);
    this.#collections.delete(from);
    this.#collections.set(to, moved);
  }

  collectionNames(): string[] {
    return [...this.#collections.keys()].sort();
  }

  /** The ledger as stored on this shard (like the `mcp_migrations` table of a real one). */
  readonly ledger = new Map<string, LedgerRecord>();
  /** The tenant directory, on the control shard (engine → tenant → shard id). */
  readonly directory = new Map<string, Map<string, string>>();
}

/**
 * State shared by memory engines in one process: shards by id and the lock table. Several migrators
 * built over one store behave like several replicas over the same databases.
 */
export class MemoryStore {
  readonly locks = new MemoryLockTable();
  readonly #shards = new Map<string, MemoryShard>();

  shard(id: string): MemoryShard {
    let s = this.#shards.get(id);
    if (!s) this.#shards.set(id, (s = new MemoryShard(id)));
    return s;
  }
}

export function createMemoryStore(): MemoryStore {
  return new MemoryStore();
}
