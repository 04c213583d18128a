/**
 * Checks a data migration's target on each shard before anything is written: the table/collection
 * must exist (unless the migration says `ifMissing: 'skip'`) and its key must identify one row.
 * A key that does not (`key: 'status'`) makes keyset pagination skip rows and the backup keep one
 * row per key value, so rollback cannot restore the others: that is data loss, refused up front.
 *
 * Two moments: {@link preflight} before a run applies anything on any shard, for every data step of
 * the plan; and {@link beforeFirstBatch} on the shard, right before the step's first batch, for the
 * steps the pre-flight had to leave open because a schema step planned before them on that shard
 * may create the table or its unique index.
 */
import {
  DEFAULT_TERMS,
  type DataTarget,
  type EngineTerms,
  type LedgerRecord,
  type ShardAdapter,
  type TargetInfo,
} from '../engine/spi.js';
import { DefinitionError, ErrorCode } from '../errors/errors.js';
import type { DataMigration, Migration } from '../definition/migration.js';
import type { Plan } from '../plan/planner.js';
import { isServerMigration, serverStatement } from '../definition/server-statement.js';
import { serverUpdateOf } from '../data/server-batches.js';

const targetOf = (m: DataMigration): DataTarget => ({ ...m.target, filter: m.filter });
/** The shard's `inspect`, when its capability says it has one. */
const inspector = (adapter: ShardAdapter) =>
  adapter.capabilities.inspect ? adapter.data.inspect?.bind(adapter.data) : undefined;

/** A shard to check: its adapter, and how its engine names things in refusals (`terms`). */
export interface PreflightShard {
  readonly descriptor: { readonly id: string };
  readonly adapter: ShardAdapter;
  readonly engine: { readonly terms?: EngineTerms | undefined };
}

/** What is wrong with `info` for `m` on shard `shardId`, as the typed error to throw; `null` when nothing is. */
function problem(m: DataMigration, shard: PreflightShard, info: TargetInfo): DefinitionError | null {
  const terms = shard.engine.terms ?? DEFAULT_TERMS;
  const shardId = shard.descriptor.id;
  const noun = terms.target;
  const what = `${noun} "${m.target.name}"`;
  if (!info.exists) {
    if (m.ifMissing === 'skip') return null;
    return new DefinitionError(
      `Data migration "${m.id}" on shard "${shardId}": field "${noun}": ${what} does not exist; nothing was applied (declare ifMissing: 'skip' if it may be absent on some shards)`,
      { code: ErrorCode.TargetMissing, migrationId: m.id, shardId, field: noun },
    );
  }
  if (info.uniqueKey === false) {
    return new DefinitionError(
      `Data migration "${m.id}" on shard "${shardId}": field "key": (${m.target.key.join(', ')}) does not identify one row of ${what}: ${terms.uniqueKey}; nothing was applied`,
      { code: ErrorCode.KeyNotUnique, migrationId: m.id, shardId, field: 'key' },
    );
  }
  return null;
}

/**
 * Before a run applies anything: inspects the target of every data step of `plan` on the shards in
 * `shards`, and throws the first problem (shards in configured order). A problem of a step that
 * follows a schema step on the same shard is left to {@link beforeFirstBatch}: that schema step may
 * create the table or the index. Shards without the `inspect` capability are not checked.
 */
export async function preflight(
  plan: Plan,
  migrations: readonly Migration[],
  shards: readonly PreflightShard[],
): Promise<void> {
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const found = await Promise.all(
    shards.map(async (shard) => {
      const inspect = inspector(shard.adapter);
      const steps = plan.shards.find((s) => s.shardId === shard.descriptor.id)?.steps ?? [];
      if (!inspect) return null;
      let schemaBefore = false;
      for (const step of steps) {
        const m = byId.get(step.migrationId);
        if (m?.kind === 'schema') schemaBefore = true;
        if (m?.kind !== 'data' || schemaBefore) continue;
        const info = await inspect(targetOf(m));
        const error = problem(m, shard, info) ?? (info.exists ? await serverProblem(m, shard.adapter) : null);
        if (error) return error;
      }
      return null;
    }),
  );
  const first = found.find((e) => e !== null);
  if (first) throw first;
}

/**
 * Why the shard cannot run server-side migration `m` (no `serverUpdate`, or its `check` refuses the
 * statement: a pipeline FerretDB does not take, `sql` on MongoDB), as the error to throw; else `null`.
 */
async function serverProblem(m: DataMigration, adapter: ShardAdapter): Promise<unknown> {
  if (!isServerMigration(m)) return null;
  try {
    await serverUpdateOf({ shard: adapter, migration: m }).check(
      { ...targetOf(m), migrationId: m.id },
      serverStatement(m, 'up')!,
    );
    return null;
  } catch (error) {
    return error;
  }
}

/** The note a ledger record of a step skipped for a missing target carries (state `applied`). */
export function skippedNote(record: LedgerRecord): string | undefined {
  return record.state !== 'failed' && record.error?.code === ErrorCode.TargetMissing ? record.error.message : undefined;
}

/**
 * Right before a data step's first batch on a shard: throws `MIGRATE_TARGET_MISSING` or
 * `MIGRATE_KEY_NOT_UNIQUE` (nothing written), or returns the record to store as applied when the
 * target is missing and the migration says `ifMissing: 'skip'`; `null` to go on with the batches.
 */
export async function beforeFirstBatch(
  m: DataMigration,
  shard: PreflightShard,
  record: LedgerRecord,
): Promise<LedgerRecord | null> {
  const inspect = inspector(shard.adapter);
  if (!inspect) return null;
  const info = await inspect(targetOf(m));
  const error = problem(m, shard, info);
  if (error) throw error;
  if (info.exists) return null;
  const noun = (shard.engine.terms ?? DEFAULT_TERMS).target;
  const message = `skipped: ${noun} "${m.target.name}" does not exist on shard "${shard.descriptor.id}" (ifMissing: 'skip')`;
  return {
    ...record,
    checkpoint: null,
    counts: { read: 0, written: 0, skipped: 0 },
    error: { code: ErrorCode.TargetMissing, message },
  };
}
