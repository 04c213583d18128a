/**
 * `@mcp/migrate-core/testing`: in-memory adapters for host services' fast tests and the demo.
 */
export * from './memory-engine.js';
export * from './memory-shard.js';
export * from './memory-collection.js';
export * from './memory-data-store.js';
export * from './memory-lock.js';
export * from './memory-preserve.js';
