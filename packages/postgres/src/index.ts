/**
 * `@mcp/migrate-postgres`: the PostgreSQL engine adapter of `@mcp/migrate` — ledger in each shard,
 * session advisory lock with fencing tokens, schema steps with `lock_timeout`, keyset batch
 * primitives with server-side checksums, and a COPY mover for tenant moves.
 */
export * from './postgres-engine.js';
export * from './postgres-errors.js';
export * from './identifiers.js';
export * from './copy.js';
export { lockKey, type AdvisoryKey } from './internal/advisory-key.js';
export type { PostgresFeatures } from './shard-context.js';
export { encodeKeyValue, decodeKeyValue } from './key-codec.js';
export { PostgresTenantDirectory, TENANT_DIRECTORY_TABLE } from './postgres-directory.js';
