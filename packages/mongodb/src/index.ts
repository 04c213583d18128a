/**
 * `@mcp/migrate-mongodb`: the MongoDB engine adapter for `@mcp/migrate-core`, with a lease lock
 * with fencing tokens, a per-shard ledger, a keyset data store, idempotent schema helpers for
 * migrations and a bulk document mover. Runs on MongoDB and on FerretDB v1.24.
 */
import type { Db } from 'mongodb';
import type {} from '@mcp/migrate-core';

export { DEFAULT_SERVER_SELECTION_TIMEOUT_MS, mongoEngine } from './mongo-engine.js';
export type { MongoEngine, MongoEngineOptions } from './mongo-engine.js';
export { MongoShardAdapter } from './mongo-shard.js';
export type { MongoClientShardConfig, MongoServerInfo, MongoShardConfig, MongoUriShardConfig } from './mongo-shard.js';
export { DEFAULT_LEDGER_COLLECTION, MongoLedgerStore } from './mongo-ledger.js';
export { DEFAULT_LOCK_COLLECTION, DEFAULT_LOCK_POLL_MS, MongoLockProvider } from './mongo-lock.js';
export { MongoDataStore } from './mongo-data-store.js';
export { mongoSession } from './mongo-executor.js';
export { classifyError, isDuplicateKey, isRetryable } from './mongo-errors.js';
export { copyDocuments } from './mongo-copy.js';
export type { CopyDocumentsOptions, CopyProgress } from './mongo-copy.js';
export { MongoTenantDirectory, TENANT_DIRECTORY_COLLECTION } from './mongo-control.js';
export {
  dropCollectionIfExists,
  dropIndexIfExists,
  ensureCollection,
  ensureIndex,
  renameField,
} from './internal/schema-helpers.js';
export type { IndexKeys, RenameFieldOptions } from './internal/schema-helpers.js';

/**
 * Registers the handle of engine `mongodb`: a schema step's `up`/`down` of
 * `defineMigration({ engine: 'mongodb', … })` receive the driver's `Db`; operations that must join
 * the step's transaction pass `{ session: mongoSession(db) }`.
 */
declare module '@mcp/migrate-core' {
  interface EngineHandles {
    mongodb: Db;
  }
}
