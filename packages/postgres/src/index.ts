/**
 * `@mcp/migrate-postgres`: the PostgreSQL engine adapter of `@mcp/migrate` — ledger in each shard,
 * session advisory lock with fencing tokens, schema steps with `lock_timeout`, keyset batch
 * primitives with server-side checksums, and a COPY mover for tenant moves.
 */
import type { PoolClient } from 'pg';
import type {} from '@mcp/migrate-core';

export {
  DEFAULT_LEDGER_TABLE,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_POOL_SIZE,
  DEFAULT_SCHEMA,
  postgresEngine,
} from './postgres-engine.js';
export type {
  PostgresConnectionShard,
  PostgresEngine,
  PostgresEngineOptions,
  PostgresPoolShard,
  PostgresShardConfig,
} from './postgres-engine.js';
export { classifyError, describePgError, isRetryable, sqlState } from './postgres-errors.js';
export { copyRows } from './postgres-copy.js';
export type { CopyRowsOptions, CopyRowsResult } from './postgres-copy.js';
export { PostgresTenantDirectory, TENANT_DIRECTORY_TABLE } from './postgres-control.js';
export {
  assertIdentifier,
  IDENTIFIER_PATTERN,
  MAX_IDENTIFIER_LENGTH,
  quoteIdentifier,
  tableName,
} from './internal/identifiers.js';
export type { TableName } from './internal/identifiers.js';
export { lockKey } from './internal/advisory-key.js';
export type { AdvisoryKey } from './internal/advisory-key.js';
export type { PostgresFeatures } from './internal/shard-context.js';

/**
 * Registers the handle of engine `postgres`: a schema step's `up`/`down` of
 * `defineMigration({ engine: 'postgres', … })` receive pg's `PoolClient` (inside the step's
 * transaction unless `transaction: false`).
 */
declare module '@mcp/migrate-core' {
  interface EngineHandles {
    postgres: PoolClient;
  }
}
