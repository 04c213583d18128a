/**
 * `PostgresExecutor`: runs a schema step on a client of its own from the shard's pool, with
 * `lock_timeout` set so that DDL never queues forever behind a long transaction (it fails with
 * 55P03, which is retryable), inside `BEGIN … COMMIT` unless the step asks for no transaction
 * (`CREATE INDEX CONCURRENTLY` cannot run in one).
 */
import type pg from 'pg';
import { ErrorCode, MigrateError, MigrationFailedError, isMigrateError, type StepOptions } from '@mcp/migrate-core';
import { describePgError, isRetryable } from './postgres-errors.js';
import type { ShardContext } from './shard-context.js';

export interface ExecutorSettings {
  /** `lock_timeout` of schema steps, in ms. */
  readonly lockTimeoutMs: number;
  /** `statement_timeout` of schema steps, in ms; `undefined` leaves the server's. */
  readonly statementTimeoutMs: number | undefined;
}

export class PostgresExecutor {
  readonly #ctx: ShardContext;
  readonly #settings: ExecutorSettings;

  constructor(ctx: ShardContext, settings: ExecutorSettings) {
    this.#ctx = ctx;
    this.#settings = settings;
  }

  async execute(options: StepOptions, fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    await this.#ctx.ready();
    if (options.signal?.aborted) throw new MigrateError(ErrorCode.Aborted, `Step "${options.migrationId}" on shard "${this.#ctx.shardId}" was aborted before it started`, { cause: options.signal.reason });
    const client = await this.#ctx.pool.connect();
    let broken: Error | undefined;
    const tx = options.transaction;
    try {
      if (tx) await client.query('BEGIN');
      await this.#applySettings(client, tx);
      await fn(client);
      if (tx) await client.query('COMMIT');
    } catch (error) {
      if (tx) await client.query('ROLLBACK').catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
      throw this.#wrap(options, error);
    } finally {
      if (!tx && !broken) await this.#resetSettings(client).catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
      client.release(broken);
    }
  }

  async #applySettings(client: pg.PoolClient, tx: boolean): Promise<void> {
    const scope = tx ? 'SET LOCAL' : 'SET';
    // SET takes no bind parameters; both values are validated non-negative integers.
    await client.query(`${scope} lock_timeout = ${this.#settings.lockTimeoutMs}`);
    if (this.#settings.statementTimeoutMs !== undefined) await client.query(`${scope} statement_timeout = ${this.#settings.statementTimeoutMs}`);
  }

  async #resetSettings(client: pg.PoolClient): Promise<void> {
    await client.query('SET lock_timeout TO DEFAULT');
    if (this.#settings.statementTimeoutMs !== undefined) await client.query('SET statement_timeout TO DEFAULT');
  }

  #wrap(options: StepOptions, error: unknown): unknown {
    if (isMigrateError(error)) return error;
    return new MigrationFailedError(`Migration "${options.migrationId}" (${options.direction}) failed on shard "${this.#ctx.shardId}": ${describePgError(error)}`, {
      migrationId: options.migrationId,
      shardId: this.#ctx.shardId,
      cause: error,
      retryable: isRetryable(error),
    });
  }
}
