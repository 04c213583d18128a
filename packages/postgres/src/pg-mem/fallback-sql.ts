/**
 * The SQL pg-mem understands, for what it lacks of PostgreSQL: no record sets
 * (`json_populate_recordset`), no row-value comparison, no `CREATE TABLE … (LIKE …)`, no index
 * catalog, and errors without SQLSTATE. Statements are plain and values bound; multi-row ones are
 * cut so no statement binds more than {@link FALLBACK_CHUNK_PARAMS} parameters. Internal.
 */
import type pg from 'pg';
import { DefinitionError, ErrorCode } from '@mcp/migrate-core/engine';
import type { KeyValue, Row, RowPatch, TargetInfo } from '@mcp/migrate-core/engine';
import type { TableName } from '../internal/identifiers.js';
import type { Column } from '../internal/columns.js';
import { Params, q } from '../internal/sql.js';
import { columnJson } from '../internal/values.js';

/** Bound parameters per statement of a multi-row statement. */
export const FALLBACK_CHUNK_PARAMS = 10_000;

/** `exprs op value` on the key, expanded: `a > $1 OR (a = $1 AND b > $2)`. */
export function expandedCompare(exprs: readonly string[], value: KeyValue, op: '>' | '<=', p: Params): string {
  const params = value.map((v) => p.add(v));
  if (exprs.length === 1) return `${exprs[0]} ${op} ${params[0]}`;
  const strict = op === '>' ? '>' : '<';
  const parts = exprs.map((e, i) => {
    const eq = exprs.slice(0, i).map((x, j) => `${x} = ${params[j]}`);
    const last = i === exprs.length - 1 ? op : strict;
    return `(${[...eq, `${e} ${last} ${params[i]}`].join(' AND ')})`;
  });
  return `(${parts.join(' OR ')})`;
}

/** Multi-row `INSERT … VALUES … <conflict>`; returns rows inserted or updated. */
export async function insertValues(
  pool: pg.Pool,
  t: TableName,
  columns: readonly string[],
  rows: readonly Row[],
  json: ReadonlySet<string>,
  conflict: string,
): Promise<number> {
  let written = 0;
  for (const chunk of chunks(rows, Math.max(1, Math.floor(FALLBACK_CHUNK_PARAMS / columns.length)))) {
    const p = new Params();
    const values = chunk
      .map((row) => `(${columns.map((c) => p.add(bound(row[c], json.has(c)))).join(', ')})`)
      .join(', ');
    written +=
      (
        await pool.query(
          `INSERT INTO ${t.sql} AS r (${columns.map(q).join(', ')}) VALUES ${values} ${conflict}`,
          p.values,
        )
      ).rowCount ?? 0;
  }
  return written;
}

/** One bound `UPDATE` per patch of the columns in `columns`; returns the patches applied. */
export async function updateEach(
  pool: pg.Pool,
  t: TableName,
  keys: readonly string[],
  columns: readonly string[],
  json: ReadonlySet<string>,
  patches: readonly RowPatch[],
): Promise<RowPatch[]> {
  const done: RowPatch[] = [];
  for (const patch of patches) {
    const p = new Params();
    const set = columns.map((c) => `${q(c)} = ${p.add(bound(patch.set[c], json.has(c)))}`).join(', ');
    const where = keys.map((k, i) => `${q(k)} = ${p.add(patch.key[i])}`).join(' AND ');
    if ((await pool.query(`UPDATE ${t.sql} SET ${set} WHERE ${where}`, p.values)).rowCount) done.push(patch);
  }
  return done;
}

/** `DELETE … WHERE (k = $1) OR (k = $2) …`; returns rows deleted. */
export async function deleteWhereKeys(
  pool: pg.Pool,
  t: TableName,
  keys: readonly string[],
  values: readonly KeyValue[],
): Promise<number> {
  let deleted = 0;
  for (const chunk of chunks(values, Math.max(1, Math.floor(FALLBACK_CHUNK_PARAMS / keys.length)))) {
    const p = new Params();
    const where = chunk.map((k) => `(${keys.map((c, i) => `${q(c)} = ${p.add(k[i])}`).join(' AND ')})`).join(' OR ');
    deleted += (await pool.query(`DELETE FROM ${t.sql} WHERE ${where}`, p.values)).rowCount ?? 0;
  }
  return deleted;
}

/**
 * Creates table `b` with the columns of `t` (as the information schema names their types) and the
 * key as primary key, unless it exists: pg-mem rejects `CREATE TABLE IF NOT EXISTS` with a
 * constraint when the table exists, so look first.
 */
export async function createTableFrom(
  pool: pg.Pool,
  t: TableName,
  columns: readonly Column[],
  b: TableName,
  keys: readonly string[],
  shardId: string,
): Promise<void> {
  if (await tableExists(pool, b)) return;
  if (columns.length === 0)
    throw new DefinitionError(`postgres: table ${t.sql} not found on shard "${shardId}"`, {
      code: ErrorCode.Config,
      shardId,
      field: 'table',
    });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${b.sql} (${columns.map((c) => `${q(c.name)} ${c.type}`).join(', ')}, PRIMARY KEY (${keys.map(q).join(', ')}))`,
  );
}

/** The columns of `t` from the information schema (no collations there; json by type name). */
export async function informationSchemaColumns(pool: pg.Pool, t: TableName): Promise<Column[]> {
  const { rows } = await pool.query<{ name: string; type: string }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
    [t.schema, t.table],
  );
  return rows.map((r) => ({ ...r, collatable: false, json: r.type === 'json' || r.type === 'jsonb' }));
}

/** pg-mem's "does not exist" error carries no SQLSTATE: ask the catalog instead. */
export async function tableExists(pool: pg.Pool, t: TableName): Promise<boolean> {
  const { rows } = await pool.query(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
    [t.schema, t.table],
  );
  return rows.length > 0;
}

/** pg-mem has no index catalog: existence is checked and uniqueness reported unknown (nothing is refused). */
export async function inspectWithoutCatalog(pool: pg.Pool, t: TableName): Promise<TargetInfo> {
  const columns = await informationSchemaColumns(pool, t);
  if (columns.length) return { exists: true, uniqueKey: undefined, columns: columns.map((c) => c.name) };
  return (await tableExists(pool, t)) ? { exists: true, uniqueKey: undefined } : { exists: false, uniqueKey: false };
}

/**
 * A column value as a bound parameter: a json/jsonb document as its JSON text (a JS string would
 * otherwise be sent bare and not parse as JSON); JS `null` is SQL NULL.
 */
function bound(value: unknown, json: boolean): unknown {
  if (value === undefined || value === null) return null;
  return json ? columnJson(value, true) : value;
}

function* chunks<T>(items: readonly T[], size: number): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
