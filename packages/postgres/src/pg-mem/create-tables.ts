/**
 * The ledger, fence and holder tables where the server has no advisory locks (pg-mem), created one
 * statement at a time: pg-mem rejects `CREATE TABLE IF NOT EXISTS` on an existing table with
 * constraints, so each table is looked for first, and a creator that raced us is fine.
 * `ShardContext.ensureTables` comes here when `ready()` found no advisory locks.
 */
import type pg from 'pg';

/**
 * Runs `ddl`, whose last `tables.length` statements create `tables` (quoted names, in order), the
 * ones before them (a `CREATE SCHEMA`) unconditionally; skips a table that exists.
 */
export async function createTablesOneByOne(
  pool: pg.Pool,
  ddl: readonly string[],
  tables: readonly string[],
  tableExists: (quoted: string) => Promise<boolean>,
): Promise<void> {
  for (const [i, sql] of ddl.entries()) {
    const name = tables[i - (ddl.length - tables.length)];
    if (name && (await tableExists(name))) continue;
    await pool.query(sql).catch(async (error: unknown) => {
      if (!name || !(await tableExists(name))) throw error;
    });
  }
}
