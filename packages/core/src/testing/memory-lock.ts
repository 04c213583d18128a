/**
 * In-process lock with leases and fencing tokens: the reference implementation of `LockProvider`.
 * Tokens are monotonic per lock name for the lifetime of the {@link MemoryLockTable}, which several
 * migrators in one process may share (as several replicas share a database).
 */
import type { Fence, Lease, LockProvider, LockStatus, TryAcquireOptions } from '../engine/spi.js';
import { StaleLeaseError } from '../errors/errors.js';

interface Holder {
  owner: string;
  token: number;
  since: number;
  heartbeatAt: number;
  expiresAt: number;
}

export class MemoryLockTable {
  readonly #holders = new Map<string, Holder>();
  readonly #tokens = new Map<string, number>();
  /** Poll interval of core's waiting loop for the providers over this table. */
  pollMs = 5;

  /** The newest token ever issued for `name` (0 when none). */
  newestToken(name: string): number {
    return this.#tokens.get(name) ?? 0;
  }

  /** Throws `StaleLeaseError` unless `fence` carries the newest token issued for its lock. */
  checkFence(fence: Fence, what: string): void {
    const newest = this.newestToken(fence.lockName);
    if (fence.token !== newest) {
      throw new StaleLeaseError(
        `${what} refused: fencing token ${fence.token} of lock "${fence.lockName}" is stale (newest is ${newest})`,
      );
    }
  }

  tryTake(name: string, owner: string, ttlMs: number, now = Date.now()): Holder | null {
    const held = this.#holders.get(name);
    if (held && held.expiresAt > now) return null;
    const token = this.newestToken(name) + 1;
    this.#tokens.set(name, token);
    const holder = { owner, token, since: now, heartbeatAt: now, expiresAt: now + ttlMs };
    this.#holders.set(name, holder);
    return holder;
  }

  renew(name: string, token: number, ttlMs: number): void {
    const held = this.#holders.get(name);
    const now = Date.now();
    if (!held || held.token !== token || held.expiresAt <= now) {
      throw new StaleLeaseError(`Lease on "${name}" (token ${token}) was lost: it expired or was taken over`);
    }
    held.heartbeatAt = now;
    held.expiresAt = now + ttlMs;
  }

  release(name: string, token: number): void {
    if (this.#holders.get(name)?.token === token) this.#holders.delete(name);
  }

  status(name: string): LockStatus | null {
    const h = this.#holders.get(name);
    if (!h || h.expiresAt <= Date.now()) return null;
    const iso = (t: number) => new Date(t).toISOString();
    return {
      name,
      owner: h.owner,
      token: h.token,
      since: iso(h.since),
      heartbeatAt: iso(h.heartbeatAt),
      expiresAt: iso(h.expiresAt),
    };
  }

  forceRelease(name: string): boolean {
    const had = this.#holders.delete(name);
    this.#tokens.set(name, this.newestToken(name) + 1);
    return had;
  }
}

/** A `LockProvider` over a {@link MemoryLockTable}. */
export class MemoryLockProvider implements LockProvider {
  readonly #table: MemoryLockTable;

  constructor(table: MemoryLockTable) {
    this.#table = table;
  }

  get pollMs(): number {
    return this.#table.pollMs;
  }

  async tryAcquire(name: string, options: TryAcquireOptions): Promise<Lease | null> {
    const holder = this.#table.tryTake(name, options.owner, options.ttlMs);
    return holder ? this.#lease(name, holder.owner, holder.token, options.ttlMs) : null;
  }

  async status(name: string): Promise<LockStatus | null> {
    return this.#table.status(name);
  }

  async forceRelease(name: string): Promise<boolean> {
    return this.#table.forceRelease(name);
  }

  #lease(name: string, owner: string, token: number, ttlMs: number): Lease {
    const table = this.#table;
    return {
      name,
      owner,
      token,
      async renew() {
        table.renew(name, token, ttlMs);
      },
      async release() {
        table.release(name, token);
      },
    };
  }
}
