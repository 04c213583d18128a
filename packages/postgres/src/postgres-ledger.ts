/**
 * `PostgresLedger`: the per-shard ledger (`mcp_migrations`) and the fencing state
 * (`mcp_migrate_fences`, `mcp_migrate_locks`), created under a transaction-level advisory lock.
 * Every write is one statement that succeeds only while the writer's fencing token is the newest.
 */
import { StaleLeaseError } from '@mcp/migrate-core/engine';
import type { Checkpoint, Fence, LedgerCounts, LedgerRecord, LedgerState, LedgerStore } from '@mcp/migrate-core/engine';
import { decodeKeyValue, encodeKeyValue } from './internal/key-codec.js';
import { sqlState } from './postgres-errors.js';
import type { ShardContext } from './internal/shard-context.js';

interface LedgerRow {
  id: string;
  state: string;
  checksum: string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  runner_id: string | null;
  checkpoint: { after: unknown[] | null; fingerprint: string; direction: 'up' | 'down' } | null;
  counts: LedgerCounts | null;
  error: LedgerRecord['error'];
  seq: number | string;
}

const COLUMNS = 'id, state, checksum, started_at, finished_at, runner_id, checkpoint, counts, error, seq';

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
    const { ledger } = this.#ctx.tables;
    const sql = `INSERT INTO ${ledger} (${COLUMNS})
      SELECT $3, $4, $5, $6::timestamptz, $7::timestamptz, $8, $9::jsonb, $10::jsonb, $11::jsonb, $12::integer
      WHERE ${this.#fenceHolds()}
      ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, checksum = EXCLUDED.checksum, started_at = EXCLUDED.started_at,
        finished_at = EXCLUDED.finished_at, runner_id = EXCLUDED.runner_id, checkpoint = EXCLUDED.checkpoint,
        counts = EXCLUDED.counts, error = EXCLUDED.error, seq = EXCLUDED.seq`;
    const result = await this.#ctx.pool.query(sql, [
      fence.lockName,
      String(fence.token),
      record.id,
      record.state,
      record.checksum,
      record.startedAt,
      record.finishedAt,
      record.runnerId,
      json(record.checkpoint ? encodeCheckpoint(record.checkpoint) : null),
      json(record.counts),
      json(record.error),
      record.seq,
    ]);
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

  /** `$1` lock name, `$2` token. `FOR SHARE` makes a concurrent token bump wait for this write, or this write see the bump. */
  #fenceHolds(): string {
    return `EXISTS (SELECT 1 FROM ${this.#ctx.tables.fences} WHERE lock_name = $1 AND token = $2::bigint FOR SHARE)`;
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

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function encodeCheckpoint(cp: Checkpoint): unknown {
  return {
    after: cp.after === null ? null : cp.after.map(encodeKeyValue),
    fingerprint: cp.fingerprint,
    direction: cp.direction,
  };
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
        }
      : null,
    counts: row.counts,
    error: row.error,
    seq: Number(row.seq),
  };
}
