/**
 * Server-side data migrations on one shard: the migration's `sql` / `update` runs inside the
 * server over consecutive key ranges `(after, upTo]`, each range found by reading keys only (the
 * `batchSize`-th key after `after`), with the guarantees of a JS transform:
 *
 * - a checkpoint after every range, so a crash re-does at most one range; the adapter saves the
 *   range's originals BEFORE the statement (in the same transaction where the engine has them) and
 *   writes them back before a re-done range runs again, so every row is changed exactly once;
 * - the throttle (rate ceiling, adaptive range size, `pressure`), `pause()`/`resume()`, the
 *   `beforeBatch` hook and a `batch` event per range with the rows it held and the rows it changed;
 * - rollback with `reverseSql` / `reverseUpdate` over the same ranges when the migration was
 *   applied and has one, else from the backup, exactly (a partial run always restores from it).
 *
 * The work inside a range is the adapter's: `DataStore.serverUpdate` (capability `serverUpdate`).
 */
import type { Checkpoint, DataTarget, KeyValue, LedgerCounts, LedgerRecord, ServerUpdate } from '../engine/spi.js';
import { DefinitionError, ErrorCode, MigrateError } from '../errors/errors.js';
import type { ServerDataMigration } from '../definition/migration-types.js';
import { serverStatement } from '../definition/server-statement.js';
import { throwIfAborted } from '../util/time.js';
import { backupTarget, restoreOriginals } from './backup.js';
import { fingerprint } from './batch-runner.js';
import type { BatchRunInput } from './batch-step.js';
import { BatchPacer } from './throttle.js';

/** One range done: rows it held, rows changed, the key it ended at (`undefined`: nothing was left). */
interface RangeResult {
  readonly read: number;
  readonly written: number;
  readonly last: KeyValue | undefined;
  readonly done: boolean;
}

type RangeFn = (after: KeyValue | undefined, size: number) => Promise<RangeResult>;

/**
 * The shard's `serverUpdate`, or a `DefinitionError` (nothing written) when it has none: pg-mem,
 * a third-party adapter, or `sql` on an engine that runs no SQL.
 */
export function serverUpdateOf(input: Pick<BatchRunInput, 'shard' | 'migration'>): ServerUpdate {
  const { shard, migration: m } = input;
  const su = shard.capabilities.serverUpdate ? shard.data.serverUpdate : undefined;
  if (su) return su;
  const field = (m as ServerDataMigration).sql !== undefined ? 'sql' : 'update';
  throw new DefinitionError(
    `Data migration "${m.id}" on shard "${shard.id}": field "${field}": engine "${shard.engine}" cannot run server-side migrations here (its shard has no serverUpdate capability); nothing was applied`,
    { migrationId: m.id, shardId: shard.id, field },
  );
}

/** Runs one direction of a server-side data migration on one shard to the end. */
export async function runServerBatches(input: BatchRunInput): Promise<{ record: LedgerRecord; counts: LedgerCounts }> {
  const m = input.migration as ServerDataMigration;
  const { direction, shard } = input;
  const target: DataTarget = { ...m.target, filter: m.filter, migrationId: m.id };
  const backup = backupTarget(target, m.id);
  const su = serverUpdateOf(input);
  const statement = serverStatement(m, direction);
  let step: RangeFn;
  if (statement && (direction === 'up' || input.record.state === 'applied')) {
    await su.check(target, statement);
    const saveTo = direction === 'up' ? backup : undefined;
    step = async (after, size) => {
      const range = await su.nextRange(target, after, size);
      if (!range) return { read: 0, written: 0, last: undefined, done: true };
      const { affected } = await su.apply(target, { after, upTo: range.upTo }, statement, saveTo);
      return { read: range.rows, written: affected, last: range.upTo, done: range.rows < size };
    };
  } else {
    // No reverse, or a run that never completed: the backup holds the original of every row it changed.
    step = async (after, size) => {
      const r = await restoreOriginals(shard, { target, backup, after, size });
      return { ...r, done: r.last === undefined || r.read < size };
    };
  }
  const out = await loop(input, step);
  if (direction === 'down') await shard.data.drop(backup);
  return out;
}

/** The range loop: gate, pace, hook, range, checkpoint, event; as the row batches' loop does. */
async function loop(input: BatchRunInput, step: RangeFn): Promise<{ record: LedgerRecord; counts: LedgerCounts }> {
  const { migration: m, direction } = input;
  const print = fingerprint(m);
  let record = input.record;
  const cp = record.checkpoint;
  if (cp && cp.fingerprint !== print) {
    throw new MigrateError(
      ErrorCode.CheckpointMismatch,
      `Data migration "${m.id}" on shard "${input.shard.id}": its checkpoint was made by a different version of the migration (fingerprint ${cp.fingerprint} ≠ ${print}); restore the code it ran with, or restart it from the first key with repair({ resetCheckpoints: true })`,
      { migrationId: m.id, shardId: input.shard.id, field: 'checkpoint' },
    );
  }
  const resuming = cp !== null && cp !== undefined && cp.direction === direction;
  let after: KeyValue | undefined = resuming && cp.after ? cp.after : undefined;
  const counts = { ...(resuming && record.counts ? record.counts : { read: 0, written: 0, skipped: 0 }) };
  const pacer = new BatchPacer(m.batchSize, m.maxRowsPerSecond, input.throttle);
  const total = await input.shard.data.count({ ...m.target, filter: m.filter }).catch(() => undefined);
  const started = Date.now();
  const readAtStart = counts.read;
  for (;;) {
    throwIfAborted(input.signal);
    await input.gate.wait(input.signal);
    await pacer.pace(input.signal);
    await input.beforeBatch?.(after, pacer.size);
    const t0 = Date.now();
    const size = pacer.size;
    const r = await step(after, size);
    if (r.last === undefined) break;
    counts.read += r.read;
    counts.written += r.written;
    counts.skipped += Math.max(0, r.read - r.written);
    after = r.last;
    const checkpoint: Checkpoint = { after: [...r.last], fingerprint: print, direction };
    const next = { ...record, checkpoint, counts: { ...counts } };
    await input.checkpoint(next);
    record = next;
    pacer.record(r.read, Date.now() - t0);
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (counts.read - readAtStart) / elapsed : 0;
    input.emit({
      runId: input.runId,
      migrationId: m.id,
      shardId: input.shard.id,
      direction,
      processed: counts.read,
      written: counts.written,
      total,
      rate: Math.round(rate),
      eta: total !== undefined && rate > 0 ? Math.max(0, (total - counts.read) / rate) : undefined,
      batchSize: size,
      throttled: pacer.throttled,
    });
    if (r.done) break;
  }
  return { record, counts };
}
