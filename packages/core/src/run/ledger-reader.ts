/**
 * Reading what the shards know: every shard's ledger (with the unreachable ones set apart) and the
 * placements of the control store's tenant directory.
 */
import PQueue from 'p-queue';
import type { LedgerRecord } from '../engine/spi.js';
import { asShardUnavailable } from '../errors/classify.js';
import type { DirectoryOverrides } from '../router/router.js';
import { concurrencyOf, type MigratorContext } from './context.js';

export interface Ledgers {
  readonly ledgers: Map<string, LedgerRecord[]>;
  /** Shard id → its `ShardUnavailable` error. */
  readonly unreachable: Map<string, unknown>;
}

/**
 * Connects every shard and lists its ledger; `init` creates missing ledgers (otherwise a missing
 * one reads as empty: `LedgerStore.list()` returns `[]` for a ledger not created yet).
 */
export async function readLedgers(
  ctx: MigratorContext,
  signal: AbortSignal | undefined,
  init = false,
): Promise<Ledgers> {
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
        unreachable.set(
          ref.descriptor.id,
          asShardUnavailable(ref.descriptor.id, error, (e) => ref.engine.classifyError(e)),
        );
      }
    });
  }
  await queue.onIdle();
  return { ledgers, unreachable };
}

/** The tenant directory's placements, as the router's overrides; read only when a router is configured. */
export async function directoryOverrides(ctx: MigratorContext): Promise<DirectoryOverrides | undefined> {
  return ctx.config.router ? await ctx.control.directory.list() : undefined;
}
