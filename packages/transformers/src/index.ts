/**
 * `@mcp/migrate-transformers`: pure, typed transformers for the messaging platform's data, each with an
 * exact inverse where one exists, shaped to plug into `defineDataMigration({ transform, reverse })` of
 * `@mcp/migrate-core` (without depending on it).
 */
export type * from './transformer.js';
export { isInvertible } from './transformer.js';
export * from './compose.js';
export * from './registry.js';
export * from './errors.js';
export * from './builtins.js';
export * from './message/index.js';
export * from './tenant/index.js';
export * from './channel/index.js';
export type { FieldSpec, KeyValueSchema, NonCanonicalPolicy } from './internal/key-value-codec.js';
export type { Id } from './internal/key-value-rows.js';
