/**
 * What the migrator checks about a data migration's table before its first batch: that it exists,
 * and that the migration's key identifies one row. Keyset pagination, the backup's
 * `ON CONFLICT (key)` and rollback all assume it: on a non-unique key (`status`) a batch skips the
 * rows that share a key value with the last one read, and the backup keeps one row per value.
 *
 * The key is unique when its columns are exactly the key columns of the primary key, or of a valid
 * unique index that is neither partial nor on expressions and whose columns are all NOT NULL (a
 * unique index lets NULLs repeat, and a NULL key cannot be paginated past). Included (`INCLUDE`)
 * columns are not key columns. (pg-mem has no index catalog: see `PgMemDataStore.inspect`.)
 */
import type { DataTarget, TargetInfo } from '@mcp/migrate-core/engine';
import { assertIdentifier, tableName, type TableName } from './identifiers.js';
import type { ShardContext } from './shard-context.js';

interface ColumnRow {
  readonly name: string;
  readonly notnull: boolean;
}

interface IndexRow {
  readonly primary: boolean;
  readonly columns: string[];
}

export async function inspectTable(ctx: ShardContext, target: DataTarget): Promise<TargetInfo> {
  await ctx.ready();
  const t = tableName(target.name, ctx.schema, 'table');
  target.key.forEach((k) => assertIdentifier(k, 'key'));
  const { rows: columns } = await ctx.pool.query<ColumnRow>(
    `SELECT a.attname AS name, a.attnotnull AS notnull FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [t.regclass],
  );
  if (columns.length === 0 && !(await exists(ctx, t))) return { exists: false, uniqueKey: false };
  const { rows: indexes } = await ctx.pool.query<IndexRow>(
    `SELECT i.indisprimary AS primary,
            ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                  WHERE k.pos <= i.indnkeyatts ORDER BY k.pos) AS columns
     FROM pg_catalog.pg_index i
     WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL`,
    [t.regclass],
  );
  const notNull = new Set(columns.filter((c) => c.notnull).map((c) => c.name));
  const exactly = (cols: readonly string[]) =>
    cols.length === target.key.length && target.key.every((k) => cols.includes(k));
  const uniqueKey = indexes.some((i) => exactly(i.columns) && (i.primary || target.key.every((k) => notNull.has(k))));
  return { exists: true, uniqueKey, columns: columns.map((c) => c.name) };
}

/** A table with no columns still exists (`CREATE TABLE t ()`). */
async function exists(ctx: ShardContext, t: TableName): Promise<boolean> {
  const { rows } = await ctx.pool.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    t.regclass,
  ]);
  return rows[0]?.found === true;
}
