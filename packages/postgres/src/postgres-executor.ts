/**
 * `PostgresExecutor`: runs a schema step on a client of its own from the shard's pool, with
 * `lock_timeout` set so that DDL never queues forever behind a long transaction (it fails with
 * 55P03, which is retryable), inside `BEGIN … COMMIT` unless the step asks for no transaction
 * (`CREATE INDEX CONCURRENTLY` cannot run in one).
 */
import type pg from 'pg';
import {
  ErrorCode,
  MigrateError,
  MigrationFailedError,
  ShardUnavailableError,
  isConnectionLoss,
  isMigrateError,
} from '@mcp/migrate-core/engine';
import type { StepOptions } from '@mcp/migrate-core/engine';
import { classifyError, describePgError, isRetryable } from './postgres-errors.js';
import { checkout, type ShardContext } from './internal/shard-context.js';

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
    if (options.signal?.aborted)
      throw new MigrateError(
        ErrorCode.Aborted,
        `Step "${options.migrationId}" on shard "${this.#ctx.shardId}" was aborted before it started`,
        { cause: options.signal.reason },
      );
    // The step's client carries an 'error' listener while it is out (a host pool may have none).
    const out = await checkout(this.#ctx.pool);
    const { client } = out;
    let broken: Error | undefined;
    // Whether the client still carries this step's session settings (SET without LOCAL).
    let settled = options.transaction;
    const tx = options.transaction;
    try {
      if (tx) await client.query('BEGIN');
      await this.#applySettings(client, tx);
      await fn(client);
      if (tx) await client.query('COMMIT');
      else await this.#resetSettings(client).then(() => (settled = true));
      // A step that swallowed its query's error may have done only part of its work: the loss the
      // listener recorded (or the end of the connection seen by the closing query) fails it.
      if (out.loss) throw out.loss;
    } catch (error) {
      if (tx && !out.loss) await client.query('ROLLBACK').catch((e: unknown) => (broken = toError(e)));
      if (!settled && !out.loss) await this.#resetSettings(client).catch((e: unknown) => (broken = toError(e)));
      const loss = out.loss ?? (broken && isConnectionLoss(broken, classifyError) ? broken : undefined);
      throw this.#wrap(options, error, loss);
    } finally {
      out.release(broken);
    }
  }

  async #applySettings(client: pg.PoolClient, tx: boolean): Promise<void> {
    const scope = tx ? 'SET LOCAL' : 'SET';
    // SET takes no bind parameters; both values are validated non-negative integers.
    await client.query(`${scope} lock_timeout = ${this.#settings.lockTimeoutMs}`);
    if (this.#settings.statementTimeoutMs !== undefined)
      await client.query(`${scope} statement_timeout = ${this.#settings.statementTimeoutMs}`);
  }

  async #resetSettings(client: pg.PoolClient): Promise<void> {
    await client.query('SET lock_timeout TO DEFAULT');
    if (this.#settings.statementTimeoutMs !== undefined) await client.query('SET statement_timeout TO DEFAULT');
  }

  /**
   * The step's error as a typed one. When the connection was lost under the step (`loss`, seen by
   * the client's 'error' listener) and the step threw something else (its own message after a
   * failed query), the loss decides: the shard is unavailable, the migration is not at fault.
   */
  #wrap(options: StepOptions, error: unknown, loss: Error | undefined): unknown {
    if (loss && !isConnectionLoss(error, classifyError)) {
      const what =
        options.direction === 'up' ? `applying "${options.migrationId}"` : `rolling back "${options.migrationId}"`;
      return new ShardUnavailableError(
        `Shard "${this.#ctx.shardId}" became unreachable while ${what}: ${describePgError(loss)}`,
        {
          migrationId: options.migrationId,
          shardId: this.#ctx.shardId,
          cause: loss,
        },
      );
    }
    if (isMigrateError(error)) return error;
    return new MigrationFailedError(
      `Migration "${options.migrationId}" (${options.direction}) failed on shard "${this.#ctx.shardId}": ${describePgError(error)}`,
      {
        migrationId: options.migrationId,
        shardId: this.#ctx.shardId,
        cause: error,
        retryable: isRetryable(error),
      },
    );
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
