/**
 * The lock where the server has no advisory locks (pg-mem): a **TTL lease** in the holder table
 * `mcp_migrate_locks`, claimed with one conditional `UPDATE … WHERE expires_at <= now`. The row's
 * token is the fencing token; taking the lease also raises `mcp_migrate_fences` to it, which the
 * ledger checks. `PostgresLock` delegates here when `ShardContext.ready()` finds no advisory locks.
 */
import { StaleLeaseError } from '@mcp/migrate-core/engine';
import type { Lease, LockProvider, LockStatus, TryAcquireOptions } from '@mcp/migrate-core/engine';
import { EPOCH, toStatus, type HolderRow } from '../internal/lock-holder.js';
import type { ShardContext } from '../internal/shard-context.js';

export class TtlLeaseLock implements LockProvider {
  readonly #ctx: ShardContext;
  /** Lock names whose row this instance has made sure of. */
  readonly #rows = new Set<string>();

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
  }

  async tryAcquire(name: string, options: TryAcquireOptions): Promise<Lease | null> {
    if (!this.#rows.has(name)) {
      // The free row the claim below updates; rows are never deleted, so once per name is enough.
      await this.#ctx.pool.query(
        `INSERT INTO ${this.#ctx.tables.locks} (lock_name, owner, token, since, heartbeat_at, expires_at) VALUES ($1, '', 0, $2, $2, $2) ON CONFLICT (lock_name) DO NOTHING`,
        [name, EPOCH],
      );
      this.#rows.add(name);
    }
    const token = await this.#claim(name, options);
    if (token === undefined) return null;
    await this.#setFence(name, token);
    return this.#lease(name, options.owner, Number(token), options.ttlMs);
  }

  /** The one conditional UPDATE that takes a free or expired lease row; its new token, else `undefined`. */
  async #claim(name: string, options: TryAcquireOptions): Promise<string | undefined> {
    const now = new Date();
    const { rows } = await this.#ctx.pool.query<{ token: string }>(
      `UPDATE ${this.#ctx.tables.locks} SET owner = $2, token = token + 1, since = $3, heartbeat_at = $3, expires_at = $4
       WHERE lock_name = $1 AND expires_at <= $3 RETURNING token`,
      [name, options.owner, now, new Date(now.getTime() + options.ttlMs)],
    );
    return rows[0] ? String(rows[0].token) : undefined;
  }

  async status(name: string): Promise<LockStatus | null> {
    const { rows } = await this.#ctx.pool.query<HolderRow>(
      `SELECT owner, token, since, heartbeat_at, expires_at FROM ${this.#ctx.tables.locks} WHERE lock_name = $1 AND expires_at > $2`,
      [name, new Date()],
    );
    return rows[0] ? toStatus(name, rows[0]) : null;
  }

  async forceRelease(name: string): Promise<boolean> {
    const held = await this.status(name);
    const { rows } = await this.#ctx.pool.query<{ token: string }>(
      `UPDATE ${this.#ctx.tables.locks} SET token = token + 1, expires_at = $2 WHERE lock_name = $1 RETURNING token`,
      [name, EPOCH],
    );
    await this.#setFence(name, String(rows[0]?.token ?? '1'));
    return held !== null;
  }

  /** Raises the fence to `token` (never lowers it). */
  async #setFence(name: string, token: string): Promise<void> {
    await this.#ctx.pool.query(
      `INSERT INTO ${this.#ctx.tables.fences} AS f (lock_name, token) VALUES ($1, $2::bigint)
       ON CONFLICT (lock_name) DO UPDATE SET token = greatest(f.token, EXCLUDED.token)`,
      [name, token],
    );
  }

  #lease(name: string, owner: string, token: number, ttlMs: number): Lease {
    const ctx = this.#ctx;
    const { locks } = ctx.tables;
    return {
      name,
      owner,
      token,
      async renew() {
        const now = new Date();
        const r = await ctx.pool.query(
          `UPDATE ${locks} SET heartbeat_at = $3, expires_at = $4 WHERE lock_name = $1 AND token = $2::bigint AND expires_at > $3`,
          [name, String(token), now, new Date(now.getTime() + ttlMs)],
        );
        if (!r.rowCount)
          throw new StaleLeaseError(
            `Lease on "${name}" (token ${token}) on shard "${ctx.shardId}" was lost: it expired or was taken over`,
            { shardId: ctx.shardId },
          );
      },
      async release() {
        await ctx.pool
          .query(`UPDATE ${locks} SET expires_at = $3 WHERE lock_name = $1 AND token = $2::bigint`, [
            name,
            String(token),
            EPOCH,
          ])
          .catch(() => undefined);
      },
    };
  }
}
