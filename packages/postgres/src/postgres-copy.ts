/**
 * `copyRows`: moves rows from one PostgreSQL database to another with `COPY (SELECT …) TO STDOUT`
 * piped into `COPY … FROM STDIN`, in binary format, without holding the rows in memory. The
 * building block of tenant moves.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DefinitionError, ErrorCode } from '@mcp/migrate-core/engine';
import { assertIdentifier, tableName } from './internal/identifiers.js';
import { checkout as checkoutClient } from './internal/shard-context.js';

export interface CopyRowsOptions {
  /**
   * A condition on the source rows, e.g. `tenant_id = $1`. Trusted SQL written by the developer;
   * `$n` placeholders take {@link CopyRowsOptions.params}. COPY accepts no bind parameters, so the
   * parameters are inlined as escaped literals (strings, finite numbers, booleans, bigints, Dates,
   * null). Use `$n` only as placeholders in it.
   */
  readonly where?: string | undefined;
  readonly params?: readonly unknown[] | undefined;
  /** Columns to copy. Default: every column of the target table, in its order. */
  readonly columns?: readonly string[] | undefined;
  /** Schema of unqualified table names. Default `public`. */
  readonly schema?: string | undefined;
  /** `binary` (default; exact, needs identical column types) or `csv`. */
  readonly format?: 'binary' | 'csv' | undefined;
}

export interface CopyRowsResult {
  /** Rows the target received. */
  readonly rows: number;
}

/**
 * Copies the rows of `table` matching `options.where` from `source` to `target` (pools or
 * connected clients). The target's `COPY` is one statement: on any error it inserts nothing.
 *
 * ### Examples
 * ```ts
 * await copyRows(shard0Pool, shard3Pool, 'channels', { where: 'tenant_id = $1', params: [tenantId] });
 * ```
 */
export async function copyRows(
  source: pg.Pool | pg.ClientBase,
  target: pg.Pool | pg.ClientBase,
  table: string,
  options: CopyRowsOptions = {},
): Promise<CopyRowsResult> {
  const t = tableName(table, options.schema ?? 'public');
  const format = options.format ?? 'binary';
  if (format !== 'binary' && format !== 'csv')
    throw new DefinitionError(`copyRows: field "format" must be "binary" or "csv"`, {
      code: ErrorCode.Config,
      field: 'format',
    });
  const src = await checkout(source);
  const dst = await checkout(target);
  try {
    const columns = options.columns ? [...options.columns] : await columnsOf(dst.client, t.regclass);
    if (columns.length === 0)
      throw new DefinitionError(`copyRows: table ${t.sql} has no columns on the target (does it exist?)`, {
        code: ErrorCode.Config,
        field: 'table',
      });
    for (const c of columns) assertIdentifier(c, 'columns');
    const list = columns.map((c) => `"${c}"`).join(', ');
    const where = options.where ? ` WHERE ${inline(options.where, options.params ?? [], src.client)}` : '';
    const opts = format === 'binary' ? '(FORMAT binary)' : '(FORMAT csv)';
    const out = src.client.query(copyTo(`COPY (SELECT ${list} FROM ${t.sql}${where}) TO STDOUT ${opts}`));
    const into = dst.client.query(copyFrom(`COPY ${t.sql} (${list}) FROM STDIN ${opts}`));
    await pipeline(out, into);
    return { rows: into.rowCount ?? 0 };
  } finally {
    src.release();
    dst.release();
  }
}

async function checkout(from: pg.Pool | pg.ClientBase): Promise<{ client: pg.ClientBase; release(): void }> {
  if ('totalCount' in from) {
    // With an 'error' listener while out: a host pool's client dying mid-copy must not crash the host.
    return checkoutClient(from as pg.Pool);
  }
  return { client: from as pg.ClientBase, release: () => undefined };
}

async function columnsOf(client: pg.ClientBase, regclass: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT attname AS name FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [regclass],
  );
  return rows.map((r) => r.name);
}

function inline(sql: string, params: readonly unknown[], client: pg.ClientBase): string {
  return sql.replace(/\$(\d+)\b/g, (_m, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= params.length)
      throw new DefinitionError(`copyRows: "where" uses $${n} but ${params.length} param(s) were given`, {
        code: ErrorCode.Config,
        field: 'params',
      });
    return literal(params[i], client);
  });
}

function literal(value: unknown, client: pg.ClientBase): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return `'${value.toString()}'`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new DefinitionError(`copyRows: param ${value} is not a finite number`, {
        code: ErrorCode.Config,
        field: 'params',
      });
    return `'${String(value)}'`;
  }
  if (value instanceof Date) return client.escapeLiteral(value.toISOString());
  if (typeof value === 'string') return client.escapeLiteral(value);
  throw new DefinitionError(`copyRows: param of type ${typeof value} cannot be inlined into COPY`, {
    code: ErrorCode.Config,
    field: 'params',
  });
}
