/**
 * The rollback controller: under the run lock, plans what to roll back on each shard, refuses up
 * front (changing nothing) what cannot be rolled back, then rolls back one migration at a time
 * across shards, latest first.
 */
import PQueue from 'p-queue';
import { RollbackError, serializeError } from '../errors/errors.js';
import type { Migration } from '../definition/migration.js';
import { orderMigrations, planRollback, type RollbackStep, type RollbackTarget } from '../plan/planner.js';
import { refusePurgedRollback } from './backups.js';
import { concurrencyOf, onFailureOf, type MigratorContext } from './context.js';
import { readLedgers } from './ledger-reader.js';
import { assertPreservedCopies } from './preserve-steps.js';
import { shardReport } from './report-builder.js';
import type { RunReport } from './report.js';
import { rollbackStep } from './step-runner.js';

export interface RollbackInput {
  readonly target: RollbackTarget;
  readonly migrations: readonly Migration[];
  readonly report: RunReport;
  readonly signal: AbortSignal | undefined;
}

/** Rolls back `target`; an unreachable shard under `halt` stops it before anything is done (the report says why). */
export async function rollbackUnderLock(ctx: MigratorContext, input: RollbackInput): Promise<void> {
  const { migrations, report, signal } = input;
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const { ledgers, unreachable } = await readLedgers(ctx, signal, true);
  // An unreachable shard is reported like in run(): under `halt` nothing is rolled back, under
  // `continue` the reachable shards are; either way the error carries the report.
  for (const [shardId, error] of unreachable) shardReport(report, shardId).error = serializeError(error);
  if (unreachable.size && onFailureOf(ctx) === 'halt') return;
  const perShard = planRollback({ migrations, shards: ctx.shards.map((r) => r.descriptor), ledgers }, input.target);
  const ids = [...new Set([...perShard.values()].flat().map((s) => s.migrationId))];
  for (const id of ids) {
    const m = byId.get(id)!;
    if (m.kind === 'schema' && !m.down) {
      throw new RollbackError(`Migration "${id}" has no "down"; nothing was rolled back`, {
        migrationId: id,
        field: 'down',
      });
    }
  }
  refusePurgedRollback(ids, byId, ledgers);
  await assertPreservedCopies(byId, perShard, ctx.shards);
  // Latest first, one migration at a time across shards, so cross-engine dependents go before their dependencies.
  const sequence = orderMigrations(migrations)
    .map((m) => m.id)
    .filter((id) => ids.includes(id))
    .reverse();
  ctx.emit('rollback:start', { runId: report.runId, migrations: sequence });
  let failed = false;
  for (const id of sequence) {
    if (failed && onFailureOf(ctx) === 'halt') break;
    failed = (await rollbackEverywhere(ctx, { ...input, migration: byId.get(id)!, perShard, ledgers })) || failed;
  }
}

interface MigrationRollback extends RollbackInput {
  readonly migration: Migration;
  readonly perShard: ReadonlyMap<string, readonly RollbackStep[]>;
  readonly ledgers: Awaited<ReturnType<typeof readLedgers>>['ledgers'];
}

/** Rolls one migration back on every shard where it is to be rolled back; says whether any failed. */
async function rollbackEverywhere(ctx: MigratorContext, input: MigrationRollback): Promise<boolean> {
  const { migration, report } = input;
  let failed = false;
  const queue = new PQueue({ concurrency: concurrencyOf(ctx) });
  for (const ref of ctx.shards) {
    if (!(input.perShard.get(ref.descriptor.id) ?? []).some((s) => s.migrationId === migration.id)) continue;
    void queue.add(async () => {
      const step = await rollbackStep(ctx, {
        migration,
        ref,
        records: input.ledgers.get(ref.descriptor.id) ?? [],
        runId: report.runId,
        signal: input.signal,
      });
      shardReport(report, ref.descriptor.id).migrations.push(step);
      if (step.status === 'failed') failed = true;
    });
  }
  await queue.onIdle();
  return failed;
}
