/**
 * The ledger write as SQL: one `INSERT … ON CONFLICT DO UPDATE` that takes effect only while the
 * writer's fencing token is the newest. `PostgresLedger.put` runs it alone; a batch write carries
 * it in its own statement (see batch-write.ts). Internal.
 */
import type { Checkpoint, CheckpointRange, Fence, LedgerRecord } from '@mcp/migrate-core/engine';
import { encodeKeyValue } from './key-codec.js';
import type { Params } from './sql.js';

/** The ledger table's columns, in the order of {@link ledgerInsert}'s values. */
export const LEDGER_COLUMNS = 'id, state, checksum, started_at, finished_at, runner_id, checkpoint, counts, error, seq';

/** The tables of the ledger and of the fences, quoted (`ShardContext.tables`). */
export interface LedgerTables {
  readonly ledger: string;
  readonly fences: string;
}

/**
 * `EXISTS (… FOR SHARE)`: the fence row still carries `fence.token`. `FOR SHARE` makes a concurrent
 * token bump wait for the statement's transaction, or the statement see the bump.
 */
export function fenceHolds(tables: LedgerTables, fence: Fence, p: Params): string {
  return `EXISTS (${fenceRow(tables, fence, p)})`;
}

/** The fence row of `fence`, locked `FOR SHARE`; no row when the token is not the newest. */
export function fenceRow(tables: LedgerTables, fence: Fence, p: Params): string {
  return `SELECT 1 FROM ${tables.fences} WHERE lock_name = ${p.add(fence.lockName)} AND token = ${p.add(String(fence.token))}::bigint FOR SHARE`;
}

/** `INSERT INTO ledger … SELECT <record> WHERE <where> ON CONFLICT (id) DO UPDATE …` (no trailing semicolon). */
export function ledgerInsert(tables: LedgerTables, record: LedgerRecord, where: string, p: Params): string {
  const v = [
    p.add(record.id),
    p.add(record.state),
    p.add(record.checksum),
    `${p.add(record.startedAt)}::timestamptz`,
    `${p.add(record.finishedAt)}::timestamptz`,
    p.add(record.runnerId),
    `${p.add(json(record.checkpoint ? encodeCheckpoint(record.checkpoint) : null))}::jsonb`,
    `${p.add(json(record.counts))}::jsonb`,
    `${p.add(json(record.error))}::jsonb`,
    `${p.add(record.seq)}::integer`,
  ];
  return `INSERT INTO ${tables.ledger} (${LEDGER_COLUMNS})
      SELECT ${v.join(', ')}
      WHERE ${where}
      ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, checksum = EXCLUDED.checksum, started_at = EXCLUDED.started_at,
        finished_at = EXCLUDED.finished_at, runner_id = EXCLUDED.runner_id, checkpoint = EXCLUDED.checkpoint,
        counts = EXCLUDED.counts, error = EXCLUDED.error, seq = EXCLUDED.seq`;
}

/**
 * `UPDATE ledger …` writing ONLY element `index` of `record.checkpoint.ranges` into the stored
 * checkpoint (`jsonb_set`), and the counts as the sums over the stored ranges so updated, where
 * `where` holds: the ranges of a parallel run write at once, and none may put another's back. A
 * concurrent update of the row waits for the row lock and then applies to the row as it stands.
 */
export function ledgerRangeUpdate(
  tables: LedgerTables,
  record: LedgerRecord,
  index: number,
  where: string,
  p: Params,
): string {
  const range = record.checkpoint?.ranges?.[index];
  if (!range) throw new Error(`ledgerRangeUpdate: the checkpoint of "${record.id}" has no range ${index}`);
  const merged = `jsonb_set(l.checkpoint, ${p.add(`{ranges,${index}}`)}::text[], ${p.add(JSON.stringify(encodeRange(range)))}::jsonb)`;
  const sum = (f: string) =>
    `(SELECT coalesce(sum((e->>'${f}')::bigint), 0) FROM jsonb_array_elements(${merged}->'ranges') AS e)`;
  return `UPDATE ${tables.ledger} AS l SET checkpoint = ${merged},
      counts = coalesce(l.counts, '{}'::jsonb) || jsonb_build_object('read', ${sum('read')}, 'written', ${sum('written')}, 'skipped', ${sum('skipped')})
      WHERE l.id = ${p.add(record.id)} AND jsonb_typeof(l.checkpoint->'ranges') = 'array' AND ${where}`;
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** A checkpoint as stored: keys through the key codec, the optional fields only when set. */
function encodeCheckpoint(cp: Checkpoint): unknown {
  return {
    after: cp.after === null ? null : cp.after.map(encodeKeyValue),
    fingerprint: cp.fingerprint,
    direction: cp.direction,
    ...(cp.backup === false ? { backup: false } : {}),
    ...(cp.upTo !== undefined ? { upTo: cp.upTo === null ? null : cp.upTo.map(encodeKeyValue) } : {}),
    ...(cp.ranges ? { ranges: cp.ranges.map(encodeRange) } : {}),
  };
}

const encodeKey = (k: readonly unknown[] | null) => (k === null ? null : k.map(encodeKeyValue));

/** A parallel run's range as stored: its bounds and `after` through the key codec. */
function encodeRange(r: CheckpointRange): unknown {
  return { ...r, from: encodeKey(r.from), to: encodeKey(r.to), after: encodeKey(r.after) };
}
