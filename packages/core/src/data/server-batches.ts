/**
 * Server-side data migrations on one shard: the migration's `sql` / `update` runs inside the
 * server over consecutive key ranges `(after, upTo]`, each range found by reading keys only (the
 * `batchSize`-th key after `after`), with the guarantees of a JS transform:
 *
 * - a checkpoint after every range, so a crash re-does at most one range; the adapter saves the
 *   range's originals BEFORE the statement (in the same transaction where the engine has them) and
 *   writes them back before a re-done range runs again, so every row is changed exactly once.
 *   Where the adapter writes the checkpoint in the range's own transaction (`checkpoints`:
 *   PostgreSQL), nothing is ever re-done, and a migration with an exact reverse statement may keep
 *   no backup (`backup: false`): its rollback runs the reverse over the ranges it checkpointed;
 * - the throttle (rate ceiling, adaptive range size, `pressure`), `pause()`/`resume()`, the
 *   `beforeBatch` hook and a `batch` event per range with the rows it held and the rows it changed;
 * - rollback with `reverseSql` / `reverseUpdate` over the same ranges when the migration was
 *   applied and has one, else from the backup, exactly (a partial run always restores from it).
 *
 * The work inside a range is the adapter's: `DataStore.serverUpdate` (capability `serverUpdate`).
 */
import type { Checkpoint, DataTarget, KeyValue, LedgerCounts, LedgerRecord, ServerUpdate } from '../engine/spi.js';
import type { DataMigration } from '../definition/migration.js';
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

/** The ledger record after a range of `read` rows that changed `written` and ended at `last`. */
type RecordFor = (read: number, written: number, last: KeyValue) => LedgerRecord;

type RangeFn = (after: KeyValue | undefined, size: number, recordFor: RecordFor) => Promise<RangeResult>;

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

/**
 * Whether a run of `m` on this shard keeps a backup: unless `backup: false` and the shard writes a
 * range and its checkpoint in one transaction (else a range re-done after a crash would change its
 * rows twice).
 */
export function keepsServerBackup(m: DataMigration, su: ServerUpdate): boolean {
  return m.backup !== false || su.checkpoints !== true;
}

/** Runs one direction of a server-side data migration on one shard to the end. */
export async function runServerBatches(input: BatchRunInput): Promise<{ record: LedgerRecord; counts: LedgerCounts }> {
  const m = input.migration as ServerDataMigration;
  const { direction, shard, record } = input;
  const target: DataTarget = { ...m.target, filter: m.filter, migrationId: m.id };
  const backup = backupTarget(target, m.id);
  const su = serverUpdateOf(input);
  const statement = serverStatement(m, direction);
  const keeps = keepsServerBackup(m, su);
  // A rollback of a partly applied run that kept no backup: reverse its ranges up to where it stopped.
  const upTo = direction === 'down' && record.checkpoint?.direction === 'down' ? record.checkpoint.upTo : undefined;
  let step: RangeFn;
  let carries = false;
  if (statement && (direction === 'up' || record.state === 'applied' || upTo !== undefined)) {
    await su.check(target, statement);
    const saveTo = direction === 'up' && keeps ? backup : undefined;
    // A range of a parallel run checkpoints through the parallel runner, which merges the ranges'
    // records: never carried (and a parallel run keeps its backup: `backup: false` is refused there).
    carries = su.checkpoints === true && !input.range;
    step = async (after, size, recordFor) => {
      if (upTo === null) return { read: 0, written: 0, last: undefined, done: true };
      const range = await su.nextRange(target, after, size, upTo ?? input.range?.to);
      if (!range) return { read: 0, written: 0, last: undefined, done: true };
      const bounds = { after, upTo: range.upTo };
      const carried = carries
        ? { fence: input.fence, recordFor: (affected: number) => recordFor(range.rows, affected, range.upTo) }
        : undefined;
      const { affected } = await su.apply(target, bounds, statement, saveTo, carried);
      return { read: range.rows, written: affected, last: range.upTo, done: range.rows < size };
    };
  } else {
    // No reverse, or a run that never completed: the backup holds the original of every row it changed.
    step = async (after, size) => {
      const r = await restoreOriginals(shard, { target, backup, after, size });
      return { ...r, done: r.last === undefined || r.read < size };
    };
  }
  const mark: Partial<Checkpoint> = direction === 'up' ? (keeps ? {} : { backup: false }) : upToMark(upTo);
  const out = await loop(input, step, { mark, carries });
  if (direction === 'down') await shard.data.drop(backup);
  return out;
}

const upToMark = (upTo: KeyValue | null | undefined): Partial<Checkpoint> =>
  upTo === undefined ? {} : { backup: false, upTo: upTo === null ? null : [...upTo] };

/** The range loop: gate, pace, hook, range, checkpoint, event; as the row batches' loop does. */
async function loop(
  input: BatchRunInput,
  step: RangeFn,
  o: { mark: Partial<Checkpoint>; carries: boolean },
): Promise<{ record: LedgerRecord; counts: LedgerCounts }> {
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
  let counts: LedgerCounts = { ...(resuming && record.counts ? record.counts : { read: 0, written: 0, skipped: 0 }) };
  const pacer = input.pacer ?? new BatchPacer(m.batchSize, m.maxRowsPerSecond, input.throttle);
  // A parallel run's range leaves the total to the parallel runner, which reports the sum.
  const total = input.range
    ? undefined
    : await input.shard.data.count({ ...m.target, filter: m.filter }).catch(() => undefined);
  const started = Date.now();
  const readAtStart = counts.read;
  const recordFor: RecordFor = (read, written, last) => ({
    ...record,
    checkpoint: { after: [...last], fingerprint: print, direction, ...o.mark },
    counts: {
      ...counts,
      read: counts.read + read,
      written: counts.written + written,
      skipped: counts.skipped + Math.max(0, read - written),
    },
  });
  for (;;) {
    throwIfAborted(input.signal);
    await input.gate.wait(input.signal);
    await pacer.pace(input.signal);
    await input.beforeBatch?.(after, pacer.size);
    const t0 = Date.now();
    const size = pacer.size;
    const { r, next } = await range(input, { step, after, size, recordFor, carries: o.carries });
    if (r.last === undefined || !next) break;
    record = next;
    counts = next.counts!;
    after = r.last;
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

/**
 * One range and its checkpoint: written by the range itself where the shard carries checkpoints
 * (all or nothing), else put after it. `next` is the record as checkpointed.
 */
async function range(
  input: BatchRunInput,
  o: { step: RangeFn; after: KeyValue | undefined; size: number; recordFor: RecordFor; carries: boolean },
): Promise<{ r: RangeResult; next?: LedgerRecord | undefined }> {
  if (!o.carries) {
    const r = await o.step(o.after, o.size, o.recordFor);
    if (r.last === undefined) return { r };
    const next = o.recordFor(r.read, r.written, r.last);
    await input.checkpoint(next);
    return { r, next };
  }
  let r: RangeResult | undefined;
  let next: LedgerRecord | undefined;
  await input.checkpoint(input.record, async () => {
    r = await o.step(o.after, o.size, (read, written, last) => (next = o.recordFor(read, written, last)));
    return next ?? false;
  });
  return { r: r!, next };
}
