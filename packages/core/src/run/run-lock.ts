/**
 * The run lock around `run()`, `rollback()` and `purgeBackups()`: taken in the control store
 * (waiting while its holder is alive), kept alive by a heartbeat while `body` runs, released after.
 */
import type { LockStatus } from '../engine/spi.js';
import { acquireRunLock, runLockName, startHeartbeat } from '../lock/lease-keeper.js';
import type { MigratorContext } from './context.js';
import { markUnavailable } from './report-builder.js';
import type { RunReport } from './report.js';

export interface RunLockInput {
  readonly signal: AbortSignal | undefined;
  /**
   * When given, an unreachable control store is marked on this report and `body` is not run
   * (`withRunLock` returns `null`) instead of throwing.
   */
  readonly report?: RunReport | undefined;
  /** `run()`: announce `lock:wait` (once; sets `report.waitedForLock`), `lock:acquired` and `lock:released`. */
  readonly announce?: boolean | undefined;
}

export async function withRunLock<T>(
  ctx: MigratorContext,
  input: RunLockInput,
  body: () => Promise<T>,
): Promise<T | null> {
  const { report, announce } = input;
  const lock = runLockName(ctx);
  const onWait =
    announce && report
      ? (holder: LockStatus | null) => {
          if (!report.waitedForLock) ctx.emit('lock:wait', { runId: report.runId, lock, holder });
          report.waitedForLock = true;
        }
      : undefined;
  const acquiring = acquireRunLock(ctx, { signal: input.signal, ...(onWait ? { onWait } : {}) });
  const lease = report ? await acquiring.catch((error: unknown) => markUnavailable(report, error)) : await acquiring;
  if (!lease) return null;
  if (announce && report) ctx.emit('lock:acquired', { runId: report.runId, lock, token: lease.token });
  const heartbeat = startHeartbeat(ctx, lease);
  try {
    return await body();
  } finally {
    heartbeat.stop();
    await lease.release().catch(() => undefined);
    if (announce && report) ctx.emit('lock:released', { runId: report.runId, lock });
  }
}
