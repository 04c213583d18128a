/**
 * The SQL of PostgreSQL preserved copies that needs no state: the catalog row type, a table's
 * columns and primary key as the server declares them, and the insert that brings a whole table
 * back. Internal to `postgres-preserve.ts`.
 */
import type pg from 'pg';
import type { PreservedCopy } from '@mcp/migrate-core/engine';
import type { TableName } from './identifiers.js';
import { q } from './sql.js';

export interface PreservedColumn {
  readonly name: string;
  /** `format_type(atttypid, atttypmod)`: the exact declared type, e.g. `numeric(40,10)`. */
  readonly type: string;
  readonly generated: boolean;
}

export interface CatalogRow {
  readonly copy_schema: string;
  readonly copy_table: string;
  readonly migration_id: string;
  readonly target: string;
  readonly columns: string[] | null;
  readonly key: string[];
  readonly rows: string;
  readonly created_at: Date;
}

/**
 * Inserts the saved rows (generated columns are recomputed); a row `down` already inserted with
 * the same primary key takes the saved values. Then moves serial/identity sequences past them.
 */
export async function insertBack(
  client: pg.ClientBase,
  t: TableName,
  copy: TableName,
  columns: readonly PreservedColumn[],
): Promise<number> {
  const list = columns.map((c) => q(c.name)).join(', ');
  const key = await primaryKey(client, t);
  const others = columns.filter((c) => !key.includes(c.name)).map((c) => `${q(c.name)} = EXCLUDED.${q(c.name)}`);
  const conflict =
    key.length === 0
      ? ''
      : ` ON CONFLICT (${key.map(q).join(', ')}) DO ${others.length ? `UPDATE SET ${others.join(', ')}` : 'NOTHING'}`;
  const r = await client.query(
    `INSERT INTO ${t.sql} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM ${copy.sql}${conflict}`,
  );
  for (const c of columns) {
    const { rows } = await client.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [
      t.sql,
      c.name,
    ]);
    if (!rows[0]?.seq) continue;
    await client.query(
      `SELECT setval($1::regclass, m) FROM (SELECT max(${q(c.name)})::bigint AS m FROM ${t.sql}) x WHERE m IS NOT NULL`,
      [rows[0].seq],
    );
  }
  return r.rowCount ?? 0;
}

/** The table's columns in order, or `null` when it does not exist. */
export async function columnsOf(client: pg.ClientBase, t: TableName): Promise<PreservedColumn[] | null> {
  const { rows } = await client.query<{
    exists: boolean;
    name: string | null;
    type: string | null;
    generated: boolean | null;
  }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated
       FROM (SELECT to_regclass($1) AS oid) r
       LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [t.sql],
  );
  if (!rows[0]?.exists) return null;
  return rows
    .filter((r) => r.name !== null)
    .map((r) => ({ name: r.name!, type: r.type!, generated: r.generated === true }));
}

/** Primary key columns in key order (`[]` without one). */
export async function primaryKey(client: pg.ClientBase, t: TableName): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [t.sql],
  );
  return rows.map((r) => r.name);
}

export function toCopy(r: CatalogRow): PreservedCopy {
  return {
    migrationId: r.migration_id,
    target: r.target,
    columns: r.columns,
    copy: `${r.copy_schema}.${r.copy_table}`,
    rows: Number(r.rows),
    createdAt: r.created_at.toISOString(),
    complete: true,
  };
}
