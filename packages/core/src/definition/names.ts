/**
 * A plain table, collection or field name (no spaces or quotes, at most 63 characters): what a data
 * migration's `collection`/`table`/`key` and a router's shard-key field accept. Internal: not exported
 * from the package.
 */
export const NAME = /^[A-Za-z_][A-Za-z0-9_$.-]{0,62}$/;
