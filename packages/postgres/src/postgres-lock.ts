/**
 * `PostgresLock`: the shard's {@link LockProvider}.
 *
 * On PostgreSQL it is a **session advisory lock** taken with `pg_try_advisory_lock` on a dedicated
 * connection, polled until `waitMs`. The server releases it when that session ends, so a runner
 * that dies (even by SIGKILL) frees the lock without manual repair. Holder information (owner,
 * since, heartbeat) lives in `mcp_migrate_locks`; `status()` reports a holder only while some session
 * holds the advisory lock, so a stale row of a dead process does not count. Each acquisition
 * increments the fencing token in `mcp_migrate_fences` (the ledger refuses writes with an older one).
 *
 * Where advisory locks are missing (pg-mem) it falls back to a **TTL lease** in the same holder
 * table, claimed with one conditional `UPDATE … WHERE expires_at <= now`.
 */
import { createHash } from 'node:crypto';
import {
  ErrorCode, LockTimeoutError, MigrateError, StaleLeaseError, sleep,
  type AcquireOptions, type Lease, type LockProvider, type LockStatus,
} from '@mcp/migrate-core';
import { sqlState } from './postgres-errors.js';
import type { Session, ShardContext } from './shard-context.js';

/** The 64-bit advisory-lock key of a lock name, and its two halves as `pg_locks` shows them. */
export interface AdvisoryKey {
  /** Signed 64-bit key, decimal. */
  readonly key: string;
  /** High 32 bits, unsigned (`pg_locks.classid`). */
  readonly classid: string;
  /** Low 32 bits, unsigned (`pg_locks.objid`). */
  readonly objid: string;
}

/**
 * The advisory-lock key of `name` in `schema`: the first 8 bytes of sha256(`schema \0 name`) as a
 * signed 64-bit integer. Computed in the client (not with `hashtext`, whose output is an internal
 * detail of the server) so every runner and every server version agree.
 */
export function lockKey(schema: string, name: string): AdvisoryKey {
  const digest = createHash('sha256').update(`${schema}\0${name}`).digest();
  const unsigned = digest.readBigUInt64BE(0);
  return { key: BigInt.asIntN(64, unsigned).toString(), classid: String(unsigned >> 32n), objid: String(unsigned & 0xffffffffn) };
}

const POLL_MS = 50;
/** How long `forceRelease` waits for a terminated session to let go. */
const TERMINATE_WAIT_MS = 5_000;
const EPOCH = new Date(0);

interface HolderRow {
  owner: string;
  token: string | number;
  since: Date | string;
  heartbeat_at: Date | string;
  expires_at: Date | string | null;
}

export class PostgresLock implements LockProvider {
  readonly #ctx: ShardContext;

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
  }

  async acquire(name: string, options: AcquireOptions): Promise<Lease> {
    const features = await this.#ctx.ready();
    await this.#ctx.ensureTables();
    return features.advisoryLocks ? this.#acquireAdvisory(name, options) : this.#acquireLease(name, options);
  }

  async status(name: string): Promise<LockStatus | null> {
    try {
      return await this.#status(name);
    } catch (error) {
      if (sqlState(error) === '42P01') return null; // no lock table yet: nobody ever held a lock here
      throw error;
    }
  }

  async #status(name: string): Promise<LockStatus | null> {
    const features = await this.#ctx.ready();
    const { locks } = this.#ctx.tables;
    if (!features.advisoryLocks) {
      const { rows } = await this.#ctx.pool.query<HolderRow>(`SELECT owner, token, since, heartbeat_at, expires_at FROM ${locks} WHERE lock_name = $1 AND expires_at > $2`, [name, new Date()]);
      return rows[0] ? toStatus(name, rows[0]) : null;
    }
    const k = lockKey(this.#ctx.schema, name);
    const { rows } = await this.#ctx.pool.query<HolderRow & { pid: number }>(
      `SELECT p.pid, l.owner, l.token, l.since, l.heartbeat_at, l.expires_at
       FROM pg_catalog.pg_locks p LEFT JOIN ${locks} l ON l.lock_name = $1
       WHERE ${HELD} LIMIT 1`,
      [name, k.classid, k.objid],
    );
    const row = rows[0];
    if (!row) return null;
    if (row.owner === null) {
      // Taken a moment ago; the holder row is being written.
      const now = new Date().toISOString();
      return { name, owner: `session ${row.pid}`, token: 0, since: now, heartbeatAt: now, expiresAt: null };
    }
    return toStatus(name, row);
  }

  async forceRelease(name: string): Promise<boolean> {
    const features = await this.#ctx.ready();
    await this.#ctx.ensureTables();
    const { locks } = this.#ctx.tables;
    if (!features.advisoryLocks) {
      const held = await this.status(name);
      const { rows } = await this.#ctx.pool.query<{ token: string }>(`UPDATE ${locks} SET token = token + 1, expires_at = $2 WHERE lock_name = $1 RETURNING token`, [name, EPOCH]);
      await this.#setFence(name, String(rows[0]?.token ?? '1'));
      return held !== null;
    }
    // Bump the fence first, so the old holder's writes are refused from now on; then end its session.
    const token = await this.#bumpFence(name);
    const k = lockKey(this.#ctx.schema, name);
    const { rows } = await this.#ctx.pool.query<{ pid: number }>(
      `SELECT p.pid, pg_terminate_backend(p.pid) AS ok FROM pg_catalog.pg_locks p WHERE ${HELD_NO_NAME}`,
      [k.classid, k.objid],
    );
    const deadline = Date.now() + TERMINATE_WAIT_MS;
    while (rows.length && Date.now() < deadline) {
      const still = await this.#ctx.pool.query(`SELECT 1 FROM pg_catalog.pg_locks p WHERE ${HELD_NO_NAME}`, [k.classid, k.objid]);
      if (!still.rowCount) break;
      await sleep(20);
    }
    const gone = await this.#ctx.pool.query(`DELETE FROM ${locks} WHERE lock_name = $1 AND token < $2::bigint`, [name, token]);
    return rows.length > 0 || (gone.rowCount ?? 0) > 0;
  }

  // ----------------------------------------------------------------------------------------------
  // Advisory lock

  async #acquireAdvisory(name: string, options: AcquireOptions): Promise<Lease> {
    const k = lockKey(this.#ctx.schema, name);
    const deadline = Date.now() + options.waitMs;
    const session = await this.#ctx.openSession();
    let leased = false;
    try {
      for (;;) {
        checkAborted(name, options.signal);
        const { rows } = await session.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [k.key]);
        if (rows[0]?.ok) break;
        const holder = await this.status(name).catch(() => null);
        if (Date.now() >= deadline) {
          throw new LockTimeoutError(`Lock "${name}" on shard "${this.#ctx.shardId}" still held by ${holder?.owner ?? 'another session'} after ${options.waitMs} ms`, { shardId: this.#ctx.shardId });
        }
        options.onWait?.(holder);
        await sleep(Math.max(1, Math.min(POLL_MS, deadline - Date.now())), options.signal);
      }
      const { fences, locks } = this.#ctx.tables;
      const { rows } = await session.client.query<{ token: string }>(
        `WITH f AS (
           INSERT INTO ${fences} AS f (lock_name, token) VALUES ($1, 1)
           ON CONFLICT (lock_name) DO UPDATE SET token = f.token + 1 RETURNING token)
         INSERT INTO ${locks} AS l (lock_name, owner, token, since, heartbeat_at, expires_at)
         SELECT $1, $2, f.token, now(), now(), NULL FROM f
         ON CONFLICT (lock_name) DO UPDATE SET owner = EXCLUDED.owner, token = EXCLUDED.token, since = EXCLUDED.since,
           heartbeat_at = EXCLUDED.heartbeat_at, expires_at = NULL
         RETURNING token`,
        [name, options.owner],
      );
      const lease = this.#advisoryLease(name, options.owner, Number(rows[0]!.token), k, session);
      leased = true;
      return lease;
    } finally {
      // Closing the session releases the advisory lock if it was taken but no lease came out.
      if (!leased) await session.close();
    }
  }

  #advisoryLease(name: string, owner: string, token: number, k: AdvisoryKey, session: Session): Lease {
    const ctx = this.#ctx;
    const { fences, locks } = ctx.tables;
    let released = false;
    const lost = (why: string, cause?: unknown) =>
      new StaleLeaseError(`Lease on "${name}" (token ${token}) on shard "${ctx.shardId}" was lost: ${why}`, { shardId: ctx.shardId, cause });
    return {
      name,
      owner,
      token,
      async renew() {
        if (released) throw lost('it was released');
        if (session.lost) throw lost('its connection ended');
        let row: { held: boolean; token: string | null } | undefined;
        try {
          ({ rows: [row] } = await session.client.query<{ held: boolean; token: string | null }>(
            `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks p WHERE ${HELD} AND p.pid = pg_backend_pid()) AS held,
                    (SELECT token FROM ${fences} WHERE lock_name = $1) AS token`,
            [name, k.classid, k.objid],
          ));
          if (row?.held && Number(row.token) === token) {
            await session.client.query(`UPDATE ${locks} SET heartbeat_at = now() WHERE lock_name = $1 AND token = $2::bigint`, [name, String(token)]);
          }
        } catch (error) {
          throw lost('its connection failed', error);
        }
        if (!row?.held) throw lost('the advisory lock is no longer held by its session');
        if (Number(row.token) !== token) throw lost(`a newer fencing token (${row.token}) was issued`);
      },
      async release() {
        if (released) return;
        released = true;
        try {
          if (!session.lost) {
            await session.client.query('SELECT pg_advisory_unlock($1::bigint)', [k.key]);
            await session.client.query(`DELETE FROM ${locks} WHERE lock_name = $1 AND token = $2::bigint`, [name, String(token)]);
          }
        } catch {
          // A lost session already released the lock on the server.
        } finally {
          await session.close();
        }
      },
    };
  }

  async #bumpFence(name: string): Promise<string> {
    const { rows } = await this.#ctx.pool.query<{ token: string }>(
      `INSERT INTO ${this.#ctx.tables.fences} AS f (lock_name, token) VALUES ($1, 1) ON CONFLICT (lock_name) DO UPDATE SET token = f.token + 1 RETURNING token`,
      [name],
    );
    return String(rows[0]!.token);
  }

  // ----------------------------------------------------------------------------------------------
  // TTL lease fallback (no advisory locks)

  async #acquireLease(name: string, options: AcquireOptions): Promise<Lease> {
    const { locks } = this.#ctx.tables;
    const deadline = Date.now() + options.waitMs;
    await this.#ctx.pool.query(
      `INSERT INTO ${locks} (lock_name, owner, token, since, heartbeat_at, expires_at) VALUES ($1, '', 0, $2, $2, $2) ON CONFLICT (lock_name) DO NOTHING`,
      [name, EPOCH],
    );
    for (;;) {
      checkAborted(name, options.signal);
      const now = new Date();
      const { rows } = await this.#ctx.pool.query<{ token: string }>(
        `UPDATE ${locks} SET owner = $2, token = token + 1, since = $3, heartbeat_at = $3, expires_at = $4
         WHERE lock_name = $1 AND expires_at <= $3 RETURNING token`,
        [name, options.owner, now, new Date(now.getTime() + options.ttlMs)],
      );
      if (rows[0]) {
        const token = String(rows[0].token);
        await this.#setFence(name, token);
        return this.#ttlLease(name, options.owner, Number(token), options.ttlMs);
      }
      const holder = await this.status(name);
      if (Date.now() >= deadline) {
        throw new LockTimeoutError(`Lock "${name}" on shard "${this.#ctx.shardId}" still held by ${holder?.owner ?? 'another runner'} after ${options.waitMs} ms`, { shardId: this.#ctx.shardId });
      }
      options.onWait?.(holder);
      await sleep(Math.max(1, Math.min(POLL_MS / 5, deadline - Date.now())), options.signal);
    }
  }

  /** Raises the fence to `token` (never lowers it). */
  async #setFence(name: string, token: string): Promise<void> {
    await this.#ctx.pool.query(
      `INSERT INTO ${this.#ctx.tables.fences} AS f (lock_name, token) VALUES ($1, $2::bigint)
       ON CONFLICT (lock_name) DO UPDATE SET token = greatest(f.token, EXCLUDED.token)`,
      [name, token],
    );
  }

  #ttlLease(name: string, owner: string, token: number, ttlMs: number): Lease {
    const ctx = this.#ctx;
    const { locks } = ctx.tables;
    return {
      name,
      owner,
      token,
      async renew() {
        const now = new Date();
        const r = await ctx.pool.query(`UPDATE ${locks} SET heartbeat_at = $3, expires_at = $4 WHERE lock_name = $1 AND token = $2::bigint AND expires_at > $3`, [
          name, String(token), now, new Date(now.getTime() + ttlMs),
        ]);
        if (!r.rowCount) throw new StaleLeaseError(`Lease on "${name}" (token ${token}) on shard "${ctx.shardId}" was lost: it expired or was taken over`, { shardId: ctx.shardId });
      },
      async release() {
        await ctx.pool.query(`UPDATE ${locks} SET expires_at = $3 WHERE lock_name = $1 AND token = $2::bigint`, [name, String(token), EPOCH]).catch(() => undefined);
      },
    };
  }
}

/** Sessions holding the advisory key whose classid/objid are parameters `$n`, `$n+1`, in this database. */
function heldWhere(n: number): string {
  return `p.locktype = 'advisory' AND p.granted AND p.objsubid = 1 AND p.classid::text = $${n} AND p.objid::text = $${n + 1}
  AND p.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`;
}
const HELD = heldWhere(2);
const HELD_NO_NAME = heldWhere(1);

function checkAborted(name: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MigrateError(ErrorCode.Aborted, `Waiting for lock "${name}" was aborted`, { cause: signal.reason });
}

function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function toStatus(name: string, row: HolderRow): LockStatus {
  return {
    name,
    owner: row.owner,
    token: Number(row.token),
    since: toIso(row.since),
    heartbeatAt: toIso(row.heartbeat_at),
    expiresAt: row.expires_at === null ? null : toIso(row.expires_at),
  };
}
