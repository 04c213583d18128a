/** The columns of a table, as the data store needs to know them. Internal. */
import type pg from 'pg';
import type { TableName } from './identifiers.js';

export interface Column {
  readonly name: string;
  readonly type: string;
  readonly collatable: boolean;
  /** `json`/`jsonb` or a domain over them: new values are written as the document's JSON text. */
  readonly json: boolean;
}

/** The columns of `t` from the catalog, in table order; empty when the table does not exist. */
export async function catalogColumns(pool: pg.Pool, t: TableName): Promise<Column[]> {
  const { rows } = await pool.query<Column>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attcollation <> 0 AS collatable,
       (CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END) IN ('pg_catalog.json'::regtype, 'pg_catalog.jsonb'::regtype) AS json
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [t.regclass],
  );
  return rows;
}
