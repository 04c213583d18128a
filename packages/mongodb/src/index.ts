/**
 * `@mcp/migrate-mongodb`: the MongoDB engine adapter for `@mcp/migrate-core`, with a lease lock
 * with fencing tokens, a per-shard ledger, a keyset data store, idempotent schema helpers for
 * migrations and a bulk document mover. Runs on MongoDB and on FerretDB v1.24.
 */
export * from './mongo-engine.js';
export * from './mongo-ledger.js';
export * from './mongo-lock.js';
export { CHECKSUM_CURSOR_BATCH, MongoDataStore } from './mongo-data-store.js';
export * from './mongo-executor.js';
export * from './mongo-copy.js';
export * from './helpers.js';
export { classifyError, isRetryable, isDuplicateKey } from './mongo-errors.js';
export { MongoTenantDirectory, TENANT_DIRECTORY_COLLECTION } from './mongo-directory.js';
export { afterKey, upToKey, rangeQuery, bsonTypeOf } from './keyset.js';
