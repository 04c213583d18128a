/**
 * A step that ignores its abort signal must not outlive `run({ timeoutMs })` or the caller's
 * signal and then be reported applied: the step is raced against the signal, and the loser of the
 * race is abandoned. Whatever the abandoned promise does later, the run controller has already
 * recorded the step as failed, and {@link StepDeadline.guard} refuses the ledger writes it would
 * still try (a data migration's checkpoints), so a late completion never reads as applied.
 */
import { ErrorCode, MigrateError } from '../errors/errors.js';

export class StepDeadline {
  readonly #signal: AbortSignal | undefined;
  #abandoned = false;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
  }

  /** Resolves with `work`, or rejects as soon as the signal aborts (timeout: `MIGRATE_TIMEOUT`). */
  race<T>(work: Promise<T>, what: { migrationId: string; shardId: string }): Promise<T> {
    const signal = this.#signal;
    if (!signal) return work;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // A step that was finishing when the signal fired (it aborted from inside, or its last
      // promise was already resolving) keeps its outcome: only a step still running a turn later
      // is abandoned.
      const onAbort = () => {
        setImmediate(() => {
          if (settled) return;
          settled = true;
          this.#abandoned = true;
          reject(deadlineError(signal, what));
        });
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          if (settled) return;
          settled = true;
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (settled) return;
          settled = true;
          reject(error as Error);
        },
      );
    });
  }

  /** Throws once the step was abandoned: a late ledger write of it must not land. */
  guard(what: { migrationId: string; shardId: string }): void {
    if (this.#abandoned) {
      throw new MigrateError(
        ErrorCode.Timeout,
        `Migration "${what.migrationId}" on shard "${what.shardId}" was abandoned at its deadline; its late write is refused`,
        what,
      );
    }
  }
}

/** The error of a step stopped by `signal`: `MIGRATE_TIMEOUT` for `timeoutMs`, else `MIGRATE_ABORTED`. */
export function deadlineError(signal: AbortSignal, what: { migrationId: string; shardId: string }): MigrateError {
  const reason: unknown = signal.reason;
  const timedOut = (reason as { name?: unknown } | null)?.name === 'TimeoutError';
  const message = timedOut
    ? `Migration "${what.migrationId}" on shard "${what.shardId}" exceeded timeoutMs and is reported failed; a step that ignores ctx.signal may still finish its work in the background, so it must be safe to run again`
    : `Migration "${what.migrationId}" on shard "${what.shardId}" was aborted: ${reason instanceof Error ? reason.message : String(reason ?? 'signal aborted')}`;
  return new MigrateError(timedOut ? ErrorCode.Timeout : ErrorCode.Aborted, message, { ...what, cause: reason });
}
