/**
 * `@mcp/migrate-transformers`: pure, typed transformers for the messaging platform's data, each with an
 * exact inverse where one exists. Row transformers plug into `defineDataMigration({ transform, reverse })`
 * of `@mcp/migrate-core` (or `...rowTransform(t)`); the key/value packs, which read all the rows of one
 * tenant or channel at once, into a grouped data migration with `...groupedTransform(pack, edit)`. This
 * package does not depend on core.
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
export * from './data-migration.js';
export type { FieldSpec, KeyValueSchema, NonCanonicalPolicy } from './internal/key-value-codec.js';
export type { Id } from './internal/key-value-rows.js';
