/**
 * Row versions for compare-and-set: read beside each row in a scan, compared in the guarded
 * `UPDATE`. Internal.
 */
import type pg from 'pg';
import type { Row } from '@mcp/migrate-core/engine';
import { sqlState } from '../postgres-errors.js';
import { q } from './sql.js';

/**
 * A row's version: md5 of its binary send form, which depends on no session setting (TimeZone,
 * DateStyle, IntervalStyle, extra_float_digits, bytea_output) and differs for any two stored
 * values that differ (microseconds, float -0, numeric scale, jsonb 0.0, json text).
 */
export const ROW_VERSION = 'md5(record_send(r.*))';

/**
 * The version of rows of a table with a column type that has no binary send function (in core
 * PostgreSQL only `aclitem`): md5 of the row's text form under the session's settings, marked `t:`.
 * Weaker only if a session changes output settings between a batch's read and its write (then a
 * row may look changed and is re-read, which is safe).
 */
export const TEXT_VERSION = `'t:' || md5(ROW(r.*)::text)`;

/** Result column of the version in a scan: not a plain identifier, so no table column can have it. */
export const VERSION_FIELD = 'mcp-migrate row version';

/** Whether `version` was computed with {@link TEXT_VERSION}. */
export const isTextVersion = (version: string | undefined): boolean => version?.startsWith('t:') === true;

/**
 * The version of each row object a scan returned, kept beside the object (not as a column:
 * transforms never see it), and the tables whose rows need {@link TEXT_VERSION}.
 */
export class RowVersions {
  readonly #versions = new WeakMap<Row, string>();
  /** Tables whose rows have no binary send form. */
  readonly #textTables = new Set<string>();

  /**
   * Runs `select(column)`, `column` being the version expression with its alias, and keeps each
   * row's version (`select` returns the rows without it, and the versions in the same order); on a
   * table with a column type without a binary send function (42883, "no binary output function")
   * once more with {@link TEXT_VERSION}, which the table keeps.
   */
  async read(table: string, select: (column: string) => Promise<{ rows: Row[]; versions: string[] }>): Promise<Row[]> {
    const versioned = () =>
      select(`${this.#textTables.has(table) ? TEXT_VERSION : ROW_VERSION} AS ${q(VERSION_FIELD)}`);
    let read: { rows: Row[]; versions: string[] };
    try {
      read = await versioned();
    } catch (error) {
      if (this.#textTables.has(table) || sqlState(error) !== '42883') throw error;
      this.#textTables.add(table);
      read = await versioned();
    }
    const { rows, versions } = read;
    for (let i = 0; i < rows.length; i++) this.#versions.set(rows[i]!, versions[i]!);
    return rows;
  }

  /** The version of a row object {@link read} returned. */
  of(row: Row): string | undefined {
    return this.#versions.get(row);
  }

  /** Forgets which tables need text versions (a schema step may have changed them). */
  clear(): void {
    this.#textTables.clear();
  }
}

/**
 * Runs `sql` (whose last result column is a row version) with rows read as arrays, and builds each
 * row object without the version: deleting a property afterwards would leave every row a slow
 * dictionary object. Rows are built as node-postgres builds them, from one prebuilt object, so
 * that every row has the same shape and a column named like an `Object.prototype` member
 * (`__proto__`) is an own property.
 */
export async function selectWithVersions(
  pool: pg.Pool,
  sql: string,
  values: unknown[],
): Promise<{ rows: Row[]; versions: string[] }> {
  const result = await pool.query<unknown[]>({ text: sql, values, rowMode: 'array' });
  const names = result.fields.slice(0, -1).map((f) => f.name);
  const n = names.length;
  const shape = Object.create(null) as Row;
  for (const name of names) shape[name] = null;
  const empty = { ...shape };
  const rows: Row[] = new Array<Row>(result.rows.length);
  const versions: string[] = new Array<string>(result.rows.length);
  result.rows.forEach((values, i) => {
    const row: Row = { ...empty };
    for (let c = 0; c < n; c++) row[names[c]!] = values[c];
    rows[i] = row;
    versions[i] = values[n] as string;
  });
  return { rows, versions };
}
