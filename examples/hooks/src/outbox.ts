/**
 * A host that drains a queue before a step: webhook deliveries are queued per shard and sent by a
 * worker; before the migration that changes the deliveries' payload format, the hook waits until the
 * shard's queue is empty, so no delivery is sent in the old format after the change. The hook is
 * async: the step simply starts when it resolves. It honours the run's signal.
 */
import type { MigratorHooks } from '@mcp/migrate-core';

/** A toy outbox: a worker sends one queued delivery every `everyMs`, per shard. */
export class Outbox {
  readonly #queues = new Map<string, string[]>();
  readonly #idle = new Map<string, Array<() => void>>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(everyMs = 5) {
    this.#timer = setInterval(() => this.#sendOne(), everyMs);
  }

  enqueue(shardId: string, ...deliveries: string[]): void {
    this.#queues.set(shardId, [...this.pending(shardId), ...deliveries]);
  }

  pending(shardId: string): readonly string[] {
    return this.#queues.get(shardId) ?? [];
  }

  /** Resolves once `shardId`'s queue is empty; rejects when `signal` aborts first. */
  drained(shardId: string, signal: AbortSignal): Promise<void> {
    if (this.pending(shardId).length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#idle.set(shardId, [
        ...(this.#idle.get(shardId) ?? []),
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      ]);
    });
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #sendOne(): void {
    for (const [shardId, queue] of this.#queues) {
      if (queue.length === 0) continue;
      queue.shift();
      if (queue.length === 0) for (const wake of this.#idle.get(shardId)?.splice(0) ?? []) wake();
    }
  }
}

/** Waits for `shardId`'s queue to drain before each step of `migrationIds`. */
export function drainBefore(
  outbox: Outbox,
  migrationIds: readonly string[],
  log: (line: string) => void,
): MigratorHooks {
  return {
    beforeStep: async ({ migrationId, shardId, direction, signal }) => {
      if (direction !== 'up' || !migrationIds.includes(migrationId)) return;
      const queued = outbox.pending(shardId).length;
      await outbox.drained(shardId, signal);
      log(`drained ${queued} queued deliveries on ${shardId} before ${migrationId}`);
    },
  };
}
