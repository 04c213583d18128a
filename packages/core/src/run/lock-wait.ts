/**
 * Waiting for a lock held by someone else, in core (the adapters' `acquire` waits only one chunk):
 * a waiter waits as long as the holder is alive, i.e. its heartbeat keeps advancing. It gives up
 * only when the holder looks dead (its heartbeat did not advance for longer than the lease ttl, yet
 * the lock is still not free: a hung process keeping a session lock) or at the caller's own deadline
 * (`lock.waitMs` when given, the run's `timeoutMs`/`signal`). There is no fixed default deadline: a
 * replica started during a two-hour backfill waits for it instead of failing after ten minutes.
 */
import type { AcquireOptions, Lease, LockProvider, LockStatus } from '../engine/index.js';
import { ErrorCode, isMigrateError, LockTimeoutError } from '../errors/errors.js';
import { sleep } from '../util/time.js';

export interface LockWaitOptions extends Omit<AcquireOptions, 'waitMs'> {
  /** The caller's own deadline for waiting; `undefined` waits as long as the holder is alive. */
  readonly waitMs: number | undefined;
}

/** Least time between two attempts, so a provider that refuses at once is not polled in a hot loop. */
const MIN_ATTEMPT_MS = 20;

export async function acquireWhileHolderAlive(provider: LockProvider, name: string, options: LockWaitOptions): Promise<Lease> {
  const deadline = options.waitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.waitMs;
  let seen: string | undefined;
  let progressAt = Date.now();
  for (;;) {
    const started = Date.now();
    const chunk = Math.max(0, Math.min(options.ttlMs, deadline - started));
    try {
      return await provider.acquire(name, { ...options, waitMs: chunk });
    } catch (error) {
      if (!isMigrateError(error) || error.code !== ErrorCode.LockTimeout) throw error;
      if (Date.now() >= deadline) throw error;
      const holder = await provider.status(name).catch(() => null);
      const beat = holder ? `${holder.owner}|${holder.token}|${holder.heartbeatAt}` : undefined;
      if (holder === null || beat !== seen) {
        seen = beat;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > Math.max(options.ttlMs, leaseTtl(holder))) {
        throw new LockTimeoutError(
          `Lock "${name}" is still held by ${holder.owner}, whose heartbeat has not advanced since ${holder.heartbeatAt} (more than the lease ttl of ${Math.max(options.ttlMs, leaseTtl(holder))} ms): the holder looks dead or hung; stop it, or clear the lock with forceRelease`,
          { shardId: error.shardId, cause: error },
        );
      }
      const spent = Date.now() - started;
      if (spent < MIN_ATTEMPT_MS) await sleep(MIN_ATTEMPT_MS - spent, options.signal);
    }
  }
}

function leaseTtl(holder: LockStatus): number {
  if (!holder.expiresAt) return 0;
  const ttl = Date.parse(holder.expiresAt) - Date.parse(holder.heartbeatAt);
  return Number.isFinite(ttl) && ttl > 0 ? ttl : 0;
}
