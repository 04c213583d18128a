import { ErrorCode, MigrateError } from '../errors/errors.js';

/** Resolves after `ms`, or rejects with `MIGRATE_ABORTED` when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): MigrateError {
  return new MigrateError(
    ErrorCode.Aborted,
    `Aborted: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'signal aborted')}`,
    {
      cause: signal.reason,
    },
  );
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
