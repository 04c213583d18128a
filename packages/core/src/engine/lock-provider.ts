/** Locks with fencing tokens: the run lock and per-shard leases. */

export interface AcquireOptions {
  /** Who asks: the runner id (host, pid, random). Shown by `status()`. */
  readonly owner: string;
  /** How long the lease lives without a heartbeat. The SDK renews it every `ttlMs / 3`. */
  readonly ttlMs: number;
  /** How long to wait for a held lock before `LockTimeoutError`. `0` tries once. */
  readonly waitMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Called (at most every poll) while waiting, with the current holder when it is known. */
  readonly onWait?: ((holder: LockStatus | null) => void) | undefined;
}

/**
 * A held lock. `token` is a fencing token: strictly greater than every token issued before for the
 * same name on the same shard, so a stale holder (paused, partitioned) is refused by
 * {@link LedgerStore.put} once another runner took the lock.
 */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  /** Extends the lease; throws `StaleLeaseError` when it was lost (expired and taken over). */
  renew(): Promise<void>;
  /** Releases the lock; idempotent; never throws for a lease already lost. */
  release(): Promise<void>;
}

export interface LockStatus {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  readonly since: string;
  readonly heartbeatAt: string;
  /** `null` when the server releases the lock with the holder's session (PostgreSQL advisory lock). */
  readonly expiresAt: string | null;
}

export interface LockProvider {
  /** Takes the lock, waiting up to `waitMs`. Throws `LockTimeoutError` naming the holder. */
  acquire(name: string, options: AcquireOptions): Promise<Lease>;
  /** The current holder, or `null` when the lock is free. */
  status(name: string): Promise<LockStatus | null>;
  /** Clears the lock whoever holds it and bumps the fence, so the old holder's writes are refused. */
  forceRelease(name: string): Promise<boolean>;
}

