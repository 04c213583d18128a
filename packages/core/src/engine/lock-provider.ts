/**
 * Locks with fencing tokens: the run lock and per-shard leases. An adapter only TRIES to take a lock
 * ({@link LockProvider.tryAcquire}); waiting for a held one (deadline, abort, `onWait`, polling,
 * `LockTimeoutError` naming the holder) is core's, written once in `lock/acquire.ts`.
 */

export interface TryAcquireOptions {
  /** Who asks: the runner id (host, pid, random). Shown by `status()`. */
  readonly owner: string;
  /** How long the lease lives without a heartbeat. The SDK renews it every `ttlMs / 3`. */
  readonly ttlMs: number;
  /** Aborts the attempt (an adapter may ignore it: one attempt is short). */
  readonly signal?: AbortSignal | undefined;
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
  /**
   * Takes the lock once, without waiting: a {@link Lease} with a fencing token greater than every
   * earlier one, or `null` when someone else holds it (`status()` tells who). Throws only for
   * failures (shard unreachable, …), never for "held".
   */
  tryAcquire(name: string, options: TryAcquireOptions): Promise<Lease | null>;
  /** The current holder, or `null` when the lock is free. */
  status(name: string): Promise<LockStatus | null>;
  /** Clears the lock whoever holds it and bumps the fence, so the old holder's writes are refused. */
  forceRelease(name: string): Promise<boolean>;
  /** How often core's waiting loop tries again while the lock is held (ms). Default 50. */
  readonly pollMs?: number | undefined;
}
