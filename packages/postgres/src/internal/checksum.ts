/**
 * Order-independent checksums computed in the server. Internal.
 *
 * `count(*)` and the sum modulo 2^64 of two 64-bit halves of the md5 of each row's text form. The
 * row text is `ROW(<columns in name order>)::text`: every column's own output function (so float
 * `-0` ≠ `0`, JSON `null` ≠ SQL NULL, jsonb `0.0` ≠ `0`, microseconds count), record quoting that
 * keeps NULL, `""` and separators apart, and column order that does not depend on the table's
 * physical order. The settings that change output (TimeZone, DateStyle, IntervalStyle,
 * extra_float_digits, bytea_output) are pinned, so equal rows on two servers encode equally.
 */
import type pg from 'pg';
import type { RangeChecksum } from '@mcp/migrate-core/engine';
import { checkout } from '../shard-context.js';
import { q } from './sql.js';

/**
 * Opens a read-only transaction whose text output of every type is the same on every server and
 * session (one round trip: a simple-protocol multi-statement). extra_float_digits 3 is the exact
 * form before PostgreSQL 12 and the shortest exact form since.
 */
const PINNED_OUTPUT = `BEGIN READ ONLY; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'`;
const MOD64 = 1n << 64n;

/** The checksum of the rows of `from` (`<table> AS r WHERE …`, bound by `values`) over `columns`. */
export async function serverChecksum(
  pool: pg.Pool,
  from: string,
  columns: readonly string[],
  values: readonly unknown[],
): Promise<RangeChecksum> {
  const rowText = `ROW(${[...columns]
    .sort()
    .map((c) => `r.${q(c)}`)
    .join(', ')})::text`;
  const out = await checkout(pool);
  const { client } = out;
  try {
    await client.query(PINNED_OUTPUT);
    const { rows } = await client.query<{ n: string; a: string; b: string }>(
      `SELECT count(*)::text AS n,
         coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text AS a,
         coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text AS b
       FROM (SELECT md5(${rowText}) AS h FROM ${from}) x`,
      [...values],
    );
    await client.query('COMMIT');
    const row = rows[0]!;
    return { count: Number(row.n), hash: hex64(row.a) + hex64(row.b) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    out.release();
  }
}

function hex64(sum: string): string {
  const n = ((BigInt(sum) % MOD64) + MOD64) % MOD64;
  return n.toString(16).padStart(16, '0');
}
