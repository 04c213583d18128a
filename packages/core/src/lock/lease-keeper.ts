/**
 * Leases of a run: the names of the run lock and the shard locks, acquiring a shard's lease, and the
 * heartbeat that renews a lease and notices when it is lost.
 */
import type { Lease } from '../engine/spi.js';
import { serializeError } from '../errors/errors.js';
import { ttlOf, type MigratorContext, type ShardRef } from '../run/context.js';
import { acquireLock, type AcquireOptions } from './acquire.js';

export interface Heartbeat {
  stop(): void;
  /** Throws once a renewal failed (the lease is lost). */
  check(): void;
}

export { fenceOf } from './fence.js';

export function runLockName(ctx: MigratorContext): string {
  return `mcp-migrate:${ctx.name}:run`;
}

export function shardLockName(ctx: MigratorContext, shardId: string): string {
  return `mcp-migrate:${ctx.name}:shard:${shardId}`;
}

export async function shardLease(
  ctx: MigratorContext,
  ref: ShardRef,
  runId: string,
  signal: AbortSignal | undefined,
): Promise<Lease> {
  const name = shardLockName(ctx, ref.descriptor.id);
  return acquireLock(ref.adapter.lock, name, {
    owner: ctx.runnerId,
    ttlMs: ttlOf(ctx),
    waitMs: ctx.config.lock?.waitMs,
    signal,
    shardId: ref.descriptor.id,
    onWait: (holder) => ctx.emit('lock:wait', { runId, lock: name, holder }),
  });
}

/** Renews a lease every ttl/3; `check()` throws once a renewal failed (the lease is lost). */
export function startHeartbeat(ctx: MigratorContext, lease: Lease): Heartbeat {
  let lost: unknown;
  const timer = setInterval(
    () => {
      lease.renew().catch((error: unknown) => {
        lost = error;
        ctx.log.error(`lost lease "${lease.name}"`, { error: serializeError(error) });
      });
    },
    Math.max(50, Math.floor(ttlOf(ctx) / 3)),
  );
  timer.unref?.();
  return {
    stop: () => clearInterval(timer),
    check: () => {
      if (lost) throw lost;
    },
  };
}

/** Takes the run lock in the control store (`ctx.control`), waiting while its holder is alive (see `acquire.ts`). */
export async function acquireRunLock(
  ctx: MigratorContext,
  options: { signal: AbortSignal | undefined; onWait?: AcquireOptions['onWait'] },
): Promise<Lease> {
  return acquireLock(ctx.control.lock, runLockName(ctx), {
    owner: ctx.runnerId,
    ttlMs: ttlOf(ctx),
    waitMs: ctx.config.lock?.waitMs,
    signal: options.signal,
    ...(options.onWait ? { onWait: options.onWait } : {}),
  });
}
