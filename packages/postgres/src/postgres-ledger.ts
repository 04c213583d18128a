/**
 * `PostgresLedger`: the per-shard ledger (`mcp_migrations`) and the fencing state
 * (`mcp_migrate_fences`, `mcp_migrate_locks`), created under a transaction-level advisory lock.
 * Every write is one statement that succeeds only while the writer's fencing token is the newest.
 */
import { StaleLeaseError } from '@mcp/migrate-core/engine';
import type {
  CheckpointRange,
  Fence,
  LedgerCounts,
  LedgerRecord,
  LedgerState,
  LedgerStore,
} from '@mcp/migrate-core/engine';
import { decodeKeyValue } from './internal/key-codec.js';
import { fenceHolds, LEDGER_COLUMNS as COLUMNS, ledgerInsert } from './internal/ledger-sql.js';
import { Params } from './internal/sql.js';
import { sqlState } from './postgres-errors.js';
import type { ShardContext } from './internal/shard-context.js';

interface LedgerRow {
  id: string;
  state: string;
  checksum: string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  runner_id: string | null;
  checkpoint: {
    after: unknown[] | null;
    fingerprint: string;
    direction: 'up' | 'down';
    backup?: false;
    upTo?: unknown[] | null;
    ranges?: CheckpointRange[];
  } | null;
  counts: LedgerCounts | null;
  error: LedgerRecord['error'];
  seq: number | string;
}

export class PostgresLedger implements LedgerStore {
  readonly #ctx: ShardContext;

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
  }

  async init(): Promise<void> {
    await this.#ctx.ensureTables(true);
  }

  /** Every record; `[]` when the ledger table does not exist yet (SQLSTATE 42P01: nothing was ever applied here). */
  async list(): Promise<LedgerRecord[]> {
    await this.#ctx.ready();
    try {
      const { rows } = await this.#ctx.pool.query<LedgerRow>(`SELECT ${COLUMNS} FROM ${this.#ctx.tables.ledger}`);
      return rows.map(toRecord);
    } catch (error) {
      if (sqlState(error) === '42P01') return [];
      throw error;
    }
  }

  async put(record: LedgerRecord, fence: Fence): Promise<void> {
    await this.#ctx.ready();
    const p = new Params();
    const sql = ledgerInsert(this.#ctx.tables, record, fenceHolds(this.#ctx.tables, fence, p), p);
    const result = await this.#ctx.pool.query(sql, p.values);
    if (!result.rowCount) throw this.#stale(`Ledger write of "${record.id}"`, fence);
  }

  async delete(id: string, fence: Fence): Promise<void> {
    await this.#ctx.ready();
    // The fence check and the delete are one statement; a missing record is not an error.
    const { rows } = await this.#ctx.pool.query<{ ok: number | string }>(
      `WITH f AS (SELECT token FROM ${this.#ctx.tables.fences} WHERE lock_name = $1 AND token = $2::bigint FOR SHARE),
        gone AS (DELETE FROM ${this.#ctx.tables.ledger} WHERE id = $3 AND EXISTS (SELECT 1 FROM f) RETURNING id)
       SELECT (SELECT count(*) FROM f) AS ok, (SELECT count(*) FROM gone) AS n`,
      [fence.lockName, String(fence.token), id],
    );
    if (!Number(rows[0]?.ok)) throw this.#stale(`Ledger delete of "${id}"`, fence);
  }

  #stale(what: string, fence: Fence): StaleLeaseError {
    return new StaleLeaseError(
      `${what} on shard "${this.#ctx.shardId}" refused: fencing token ${fence.token} of lock "${fence.lockName}" is not the newest`,
      {
        shardId: this.#ctx.shardId,
      },
    );
  }
}

function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function toRecord(row: LedgerRow): LedgerRecord {
  const cp = row.checkpoint;
  return {
    id: row.id,
    state: row.state as LedgerState,
    checksum: row.checksum,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    runnerId: row.runner_id,
    checkpoint: cp
      ? {
          after: cp.after === null ? null : cp.after.map(decodeKeyValue),
          fingerprint: cp.fingerprint,
          direction: cp.direction,
          ...(cp.backup === false ? { backup: false as const } : {}),
          ...(cp.upTo !== undefined ? { upTo: cp.upTo === null ? null : cp.upTo.map(decodeKeyValue) } : {}),
          ...(cp.ranges ? { ranges: cp.ranges.map(decodeRange) } : {}),
        }
      : null,
    counts: row.counts,
    error: row.error,
    seq: Number(row.seq),
  };
}

const decodeKey = (k: readonly unknown[] | null) => (k === null ? null : k.map(decodeKeyValue));

/** A parallel run's range as stored (see `encodeRange` in internal/ledger-sql.ts). */
function decodeRange(r: CheckpointRange): CheckpointRange {
  return { ...r, from: decodeKey(r.from), to: decodeKey(r.to), after: decodeKey(r.after) };
}
