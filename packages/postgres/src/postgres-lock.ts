/**
 * `PostgresLock`: the shard's {@link LockProvider}, a **session advisory lock** taken with
 * `pg_try_advisory_lock` on a dedicated connection. The server releases it when that session ends,
 * so a runner that dies (even by SIGKILL) frees the lock without manual repair. Holder information
 * (owner, since, heartbeat) lives in `mcp_migrate_locks`; `status()` reports a holder only while
 * some session holds the advisory lock, so a stale row of a dead process does not count. Each
 * acquisition increments the fencing token in `mcp_migrate_fences` (the ledger refuses writes with
 * an older one). Waiting for a held lock is core's (`acquireLock`); this only tries.
 *
 * Where advisory locks are missing (pg-mem) every call goes to the TTL lease of
 * `pg-mem/ttl-lease-lock.ts`.
 */
import { StaleLeaseError, sleep } from '@mcp/migrate-core/engine';
import type { Lease, LockProvider, LockStatus, TryAcquireOptions } from '@mcp/migrate-core/engine';
import { lockKey, type AdvisoryKey } from './internal/advisory-key.js';
import { toStatus, type HolderRow } from './internal/lock-holder.js';
import { TtlLeaseLock } from './pg-mem/ttl-lease-lock.js';
import { sqlState } from './postgres-errors.js';
import type { Session, ShardContext } from './internal/shard-context.js';

/** How long `forceRelease` waits for a terminated session to let go. */
const TERMINATE_WAIT_MS = 5_000;

export class PostgresLock implements LockProvider {
  readonly #ctx: ShardContext;
  readonly #ttlLease: TtlLeaseLock;

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
    this.#ttlLease = new TtlLeaseLock(ctx);
  }

  async tryAcquire(name: string, options: TryAcquireOptions): Promise<Lease | null> {
    const features = await this.#ctx.ready();
    await this.#ctx.ensureTables();
    return features.advisoryLocks ? this.#tryAdvisory(name, options) : this.#ttlLease.tryAcquire(name, options);
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
    if (!features.advisoryLocks) return this.#ttlLease.status(name);
    const { locks } = this.#ctx.tables;
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
    if (!features.advisoryLocks) return this.#ttlLease.forceRelease(name);
    const { locks } = this.#ctx.tables;
    // Bump the fence first, so the old holder's writes are refused from now on; then end its session.
    const token = await this.#bumpFence(name);
    const k = lockKey(this.#ctx.schema, name);
    const { rows } = await this.#ctx.pool.query<{ pid: number }>(
      `SELECT p.pid, pg_terminate_backend(p.pid) AS ok FROM pg_catalog.pg_locks p WHERE ${HELD_NO_NAME}`,
      [k.classid, k.objid],
    );
    const deadline = Date.now() + TERMINATE_WAIT_MS;
    while (rows.length && Date.now() < deadline) {
      const still = await this.#ctx.pool.query(`SELECT 1 FROM pg_catalog.pg_locks p WHERE ${HELD_NO_NAME}`, [
        k.classid,
        k.objid,
      ]);
      if (!still.rowCount) break;
      await sleep(20);
    }
    const gone = await this.#ctx.pool.query(`DELETE FROM ${locks} WHERE lock_name = $1 AND token < $2::bigint`, [
      name,
      token,
    ]);
    return rows.length > 0 || (gone.rowCount ?? 0) > 0;
  }

  // ----------------------------------------------------------------------------------------------
  // Advisory lock

  async #tryAdvisory(name: string, options: TryAcquireOptions): Promise<Lease | null> {
    const k = lockKey(this.#ctx.schema, name);
    // A look through the pool first: a lock that is held needs no dedicated session to be refused.
    const held = await this.#ctx.pool.query(`SELECT 1 FROM pg_catalog.pg_locks p WHERE ${HELD_NO_NAME} LIMIT 1`, [
      k.classid,
      k.objid,
    ]);
    if (held.rowCount) return null;
    const session = await this.#ctx.openSession();
    let leased = false;
    try {
      const {
        rows: [taken],
      } = await session.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [k.key]);
      if (!taken?.ok) return null;
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
      new StaleLeaseError(`Lease on "${name}" (token ${token}) on shard "${ctx.shardId}" was lost: ${why}`, {
        shardId: ctx.shardId,
        cause,
      });
    return {
      name,
      owner,
      token,
      async renew() {
        if (released) throw lost('it was released');
        if (session.lost) throw lost('its connection ended');
        let row: { held: boolean; token: string | null } | undefined;
        try {
          ({
            rows: [row],
          } = await session.client.query<{ held: boolean; token: string | null }>(
            `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks p WHERE ${HELD} AND p.pid = pg_backend_pid()) AS held,
                    (SELECT token FROM ${fences} WHERE lock_name = $1) AS token`,
            [name, k.classid, k.objid],
          ));
          if (row?.held && Number(row.token) === token) {
            await session.client.query(
              `UPDATE ${locks} SET heartbeat_at = now() WHERE lock_name = $1 AND token = $2::bigint`,
              [name, String(token)],
            );
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
            await session.client.query(`DELETE FROM ${locks} WHERE lock_name = $1 AND token = $2::bigint`, [
              name,
              String(token),
            ]);
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
}

/** Sessions holding the advisory key whose classid/objid are parameters `$n`, `$n+1`, in this database. */
function heldWhere(n: number): string {
  return `p.locktype = 'advisory' AND p.granted AND p.objsubid = 1 AND p.classid::text = $${n} AND p.objid::text = $${n + 1}
  AND p.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`;
}
const HELD = heldWhere(2);
const HELD_NO_NAME = heldWhere(1);
