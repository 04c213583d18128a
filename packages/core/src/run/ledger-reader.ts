/**
 * Reading what the shards know: every shard's ledger (with the unreachable ones set apart) and the
 * directory overrides of the control store.
 */
import PQueue from 'p-queue';
import type { LedgerRecord } from '../engine/index.js';
import { asShardUnavailable } from '../errors/classify.js';
import type { DirectoryOverrides } from '../router/router.js';
import { concurrencyOf, type MigratorContext } from './context.js';

export interface Ledgers {
  readonly ledgers: Map<string, LedgerRecord[]>;
  /** Shard id → its `ShardUnavailable` error. */
  readonly unreachable: Map<string, unknown>;
}

/** Connects every shard and lists its ledger; `init` creates missing ledgers (otherwise a missing one reads as empty). */
export async function readLedgers(ctx: MigratorContext, signal: AbortSignal | undefined, init = false): Promise<Ledgers> {
  const ledgers = new Map<string, LedgerRecord[]>();
  const unreachable = new Map<string, unknown>();
  const queue = new PQueue({ concurrency: Math.max(concurrencyOf(ctx), 8) });
  for (const ref of ctx.shards) {
    void queue.add(async () => {
      try {
        await ref.adapter.connect(signal);
        if (init) await ref.adapter.ledger.init();
        ledgers.set(ref.descriptor.id, await ref.adapter.ledger.list());
      } catch (error) {
        if (!init && isMissingLedger(error)) ledgers.set(ref.descriptor.id, []);
        else unreachable.set(ref.descriptor.id, asShardUnavailable(ref.descriptor.id, error));
      }
    });
  }
  await queue.onIdle();
  return { ledgers, unreachable };
}

export async function directoryOverrides(ctx: MigratorContext): Promise<DirectoryOverrides | undefined> {
  return ctx.config.control?.directory ? await ctx.config.control.directory() : undefined;
}

function isMissingLedger(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '42P01';
}
