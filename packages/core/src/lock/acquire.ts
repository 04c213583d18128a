/**
 * Waiting for a lock, written once for every adapter: the adapters only try
 * ({@link LockProvider.tryAcquire}); this loop owns the deadline, the abort signal, `onWait`, the
 * poll interval and the `LockTimeoutError` naming the holder.
 *
 * Without a deadline (`waitMs` undefined) a waiter waits as long as the holder is alive, i.e. its
 * heartbeat keeps advancing. It gives up only when the holder looks dead (its heartbeat did not
 * advance for longer than the lease ttl, yet the lock is still not free: a hung process keeping a
 * session lock) or at the caller's own deadline (`lock.waitMs` when given, the run's
 * `timeoutMs`/`signal`). There is no fixed default deadline: a replica started during a two-hour
 * backfill waits for it instead of failing after ten minutes.
 */
import type { Lease, LockProvider, LockStatus, TryAcquireOptions } from '../engine/spi.js';
import { ErrorCode, LockTimeoutError, MigrateError } from '../errors/errors.js';
import { sleep } from '../util/time.js';

/** Poll interval while waiting, unless the provider or the caller says otherwise. */
export const DEFAULT_LOCK_POLL_MS = 50;
/**
 * The interval grows by this factor with every refused attempt, up to `MAX_BACKOFF × pollMs` or, for
 * a long wait, an eighth of the time waited so far, but never past `MAX_POLL_MS` (unless `pollMs`
 * itself is longer): many waiters for a long run then cost the server little, and one of them still
 * notices a release within a moment.
 */
const BACKOFF = 1.5;
const MAX_BACKOFF = 10;
const MAX_POLL_MS = 5_000;

export interface AcquireOptions extends TryAcquireOptions {
  /**
   * The longest to wait for a held lock before `LockTimeoutError`; `0` tries once. `undefined`
   * waits as long as the holder is alive (its heartbeat advances).
   */
  readonly waitMs?: number | undefined;
  /** Called (at most every poll) while waiting, with the current holder when it is known. */
  readonly onWait?: ((holder: LockStatus | null) => void) | undefined;
  /**
   * Time between the first two attempts (ms); it grows by half with each refusal, up to ten times
   * this (more for a long wait), with ±25% jitter, so that many waiters do not crowd the server
   * holding the lock. Default: the provider's `pollMs`, else {@link DEFAULT_LOCK_POLL_MS}.
   */
  readonly pollMs?: number | undefined;
  /** The shard the lock lives on, named in errors. */
  readonly shardId?: string | undefined;
}

/** Takes `name` from `provider`, waiting while it is held; see the file comment for when it gives up. */
export async function acquireLock(provider: LockProvider, name: string, options: AcquireOptions): Promise<Lease> {
  const { owner, ttlMs, signal, waitMs, shardId } = options;
  const started = Date.now();
  const deadline = waitMs === undefined ? Number.POSITIVE_INFINITY : started + waitMs;
  const pollMs = Math.max(1, options.pollMs ?? provider.pollMs ?? DEFAULT_LOCK_POLL_MS);
  const where = shardId === undefined ? '' : ` on shard "${shardId}"`;
  const errorOptions = shardId === undefined ? {} : { shardId };
  let interval = pollMs;
  let seen: string | undefined;
  let progressAt = Date.now();
  for (;;) {
    if (signal?.aborted)
      throw new MigrateError(ErrorCode.Aborted, `Waiting for lock "${name}"${where} was aborted`, {
        ...errorOptions,
        cause: signal.reason,
      });
    const lease = await provider.tryAcquire(name, { owner, ttlMs, signal });
    if (lease) return lease;
    const holder = await provider.status(name).catch(() => null);
    const now = Date.now();
    if (now >= deadline) {
      throw new LockTimeoutError(
        `Lock "${name}"${where} still held by ${holder?.owner ?? 'another runner'} after ${waitMs} ms`,
        errorOptions,
      );
    }
    const beat = holder ? `${holder.owner}|${holder.token}|${holder.heartbeatAt}` : undefined;
    if (holder === null || beat !== seen) {
      seen = beat;
      progressAt = now;
    } else if (now - progressAt > Math.max(ttlMs, leaseTtl(holder))) {
      const ttl = Math.max(ttlMs, leaseTtl(holder));
      throw new LockTimeoutError(
        `Lock "${name}"${where} is still held by ${holder.owner}, whose heartbeat has not advanced since ${holder.heartbeatAt} (more than the lease ttl of ${ttl} ms): the holder looks dead or hung; stop it, or clear the lock with forceRelease`,
        errorOptions,
      );
    }
    options.onWait?.(holder);
    const jittered = interval * (0.75 + Math.random() / 2);
    interval = Math.min(interval * BACKOFF, longestPoll(pollMs, now - started));
    await sleep(Math.max(1, Math.min(jittered, deadline - now)), signal);
  }
}

/** The longest interval between two attempts after waiting `waitedMs`: see {@link BACKOFF}. */
function longestPoll(pollMs: number, waitedMs: number): number {
  return Math.max(pollMs, Math.min(Math.max(pollMs * MAX_BACKOFF, waitedMs / 8), MAX_POLL_MS));
}

/** The ttl the holder's lease was given (expiry minus last heartbeat), 0 when unknown. */
function leaseTtl(holder: LockStatus): number {
  if (!holder.expiresAt) return 0;
  const ttl = Date.parse(holder.expiresAt) - Date.parse(holder.heartbeatAt);
  return Number.isFinite(ttl) && ttl > 0 ? ttl : 0;
}
