/**
 * `PostgresServerUpdate`: the `serverUpdate` capability of a PostgreSQL shard — a data migration's
 * `sql` run by the server over each key range `(after, upTo]`, its `$1` and `$2` bound to the
 * range's bounds (as text, so every key type keeps its exact value: bigint, numeric, timestamps
 * with microseconds).
 *
 * One transaction per range: the saved originals of rows in the range are written back first (a
 * range re-done after a crash between its commit and its checkpoint runs on its originals, so no
 * row is changed twice); then ONE statement runs the migration's UPDATE with `RETURNING` the key
 * and saves the originals of exactly the rows it updated into the backup (its parts read the
 * snapshot from before the update; the first copy wins), so the backup is taken before the update
 * takes effect, and a rollback from it touches only what the migration updated. A statement that
 * fails, or updates a row outside its range, rolls its range back whole, and the error names the
 * range and the SQLSTATE. The statement must not have its own `RETURNING` (refused when defined).
 *
 * Ranges follow the key column's own order (its collation), the order `key > $1 AND key <= $2`
 * compares in. The first range has no lower bound: `$1` is then the least value of the key's type
 * (`-Infinity`, the smallest integer, `''`, the nil UUID), and `check` refuses a key type without
 * one, or a table holding a row at that value, before anything is written. `check` also runs the
 * statement once over an empty range and rolls it back, so a syntax error or an unknown column is
 * refused with its SQLSTATE before any row is touched. Not on pg-mem.
 */
import {
  DefinitionError,
  evenSplits,
  MigrationFailedError,
  StaleLeaseError,
  type MigrateErrorOptions,
} from '@mcp/migrate-core/engine';
import type {
  DataTarget,
  KeyValue,
  ServerCheckpoint,
  ServerRange,
  ServerStatement,
  ServerUpdate,
} from '@mcp/migrate-core/engine';
import type pg from 'pg';
import { assertIdentifier, tableName, type TableName } from './internal/identifiers.js';
import { checkout, type ShardContext } from './internal/shard-context.js';
import { fenceRow, ledgerInsert } from './internal/ledger-sql.js';
import { Params, q } from './internal/sql.js';
import { isPgMem } from './pg-mem/pg-mem-data-store.js';
import { classifyError, describePgError, sqlState } from './postgres-errors.js';

/** The least value of a key type (`format_type` of its base type), below every key a table can hold. */
const FLOORS: readonly [RegExp, string][] = [
  [/^smallint$/, '-32768'],
  [/^integer$/, '-2147483648'],
  [/^bigint$/, '-9223372036854775808'],
  [/^(numeric|real|double precision)\b/, '-Infinity'],
  [/^(date|timestamp)\b/, '-infinity'],
  [/^(text|character varying|character|name|citext)\b/, ''],
  [/^uuid$/, '00000000-0000-0000-0000-000000000000'],
  [/^bytea$/, '\\x'],
];

interface Shape {
  readonly t: TableName;
  readonly key: string;
  /** The least value of the key's type, bound as `$1` of the first range. */
  readonly floor: string;
  /** Columns of the table (backup: copied), and those a restore writes (not the key, generated or identity-always ones). */
  readonly columns: readonly string[];
  readonly restorable: readonly string[];
}

export class PostgresServerUpdate implements ServerUpdate {
  /** A range and its checkpoint commit together (see `apply`). */
  readonly checkpoints = true;
  readonly #ctx: ShardContext;
  readonly #shapes = new Map<string, Promise<Shape>>();
  /** Backup tables known to exist (created by this store or found). */
  readonly #backups = new Map<string, Promise<void>>();

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
  }

  /** Forgets table shapes and known backups (a schema step may have changed them). */
  invalidate(): void {
    this.#shapes.clear();
    this.#backups.clear();
  }

  async check(target: DataTarget, statement: ServerStatement): Promise<void> {
    const refuse = (field: string, why: string): never => {
      throw new DefinitionError(
        `Data migration "${target.migrationId ?? target.name}" on shard "${this.#ctx.shardId}": field "${field}": ${why}; nothing was applied`,
        { migrationId: target.migrationId, shardId: this.#ctx.shardId, field },
      );
    };
    if (isPgMem(await this.#ctx.ready()))
      refuse('sql', 'pg-mem runs no server-side migrations (test them on PostgreSQL)');
    if (statement.sql === undefined) return refuse('update', 'PostgreSQL runs "sql", not a MongoDB "update"');
    this.#shapes.delete(target.name);
    const shape = await this.#shape(target).catch((error: unknown) => refuse('key', (error as Error).message));
    const sql = statement.sql;
    await this.#transaction(target, 'trial', async (client) => {
      const { rows } = await client.query<{ below: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM ${shape.t.sql} WHERE ${q(shape.key)} <= $1) AS below`,
        [shape.floor],
      );
      if (rows[0]?.below)
        refuse(
          'key',
          `a row of ${shape.t.sql} has "${shape.key}" = the least value of its type, which no range "> $1" holds`,
        );
      // Once over an empty range, rolled back: a statement the server refuses is refused now, with its SQLSTATE.
      await client.query(wrapped(sql, shape, undefined), [shape.floor, shape.floor]);
      return false;
    });
  }

  async nextRange(target: DataTarget, after: KeyValue | undefined, limit: number, bound?: KeyValue) {
    const { t, key } = await this.#shape(target);
    const k = q(key);
    const p = new Params();
    const size = p.add(Math.max(1, Math.floor(limit)));
    const where = [after ? `${k} > ${p.add(after[0])}` : '', bound ? `${k} <= ${p.add(bound[0])}` : ''].filter(Boolean);
    const { rows } = await this.#ctx.pool.query<{ up_to: string | null; n: string }>(
      `WITH s AS (SELECT ${k} AS k FROM ${t.sql}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${k} LIMIT ${size})
       SELECT (SELECT s.k::text AS last FROM s ORDER BY s.k DESC LIMIT 1) AS up_to, (SELECT count(*) FROM s) AS n`,
      p.values,
    );
    const last = rows[0]?.up_to;
    return last === null || last === undefined ? undefined : { upTo: [last], rows: Number(rows[0]!.n) };
  }

  /** Keys at even row positions in the key column's own order, the order the ranges compare in. */
  async splitKeys(target: DataTarget, parts: number): Promise<KeyValue[]> {
    const { t, key } = await this.#shape(target);
    const k = q(key);
    const { rows } = await this.#ctx.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${t.sql}`);
    const keys: KeyValue[] = [];
    for (const at of evenSplits(Number(rows[0]!.n), parts)) {
      const found = await this.#ctx.pool.query<{ k: string }>(
        `SELECT ${k}::text AS k FROM ${t.sql} ORDER BY ${k} OFFSET $1 LIMIT 1`,
        [at],
      );
      if (found.rows[0]) keys.push([found.rows[0].k]);
    }
    return keys;
  }

  async apply(
    target: DataTarget,
    range: ServerRange,
    statement: ServerStatement,
    backup: DataTarget | undefined,
    checkpoint?: ServerCheckpoint,
  ) {
    const shape = await this.#shape(target);
    const b = backup && this.#backupTable(backup, shape);
    const run = async () => {
      if (b) await this.#ensureBackup(shape, b);
      return this.#transaction(target, range, async (client) => {
        const bounds = [range.after?.[0] ?? shape.floor, range.upTo[0]];
        if (b) {
          if (shape.restorable.length)
            await client.query(
              `UPDATE ${shape.t.sql} AS r SET ${shape.restorable.map((c) => `${q(c)} = b.${q(c)}`).join(', ')}
               FROM ${b.sql} AS b WHERE r.${q(shape.key)} = b.${q(shape.key)} AND b.${q(shape.key)} > $1 AND b.${q(shape.key)} <= $2
                 AND r.${q(shape.key)} > $1 AND r.${q(shape.key)} <= $2`,
              bounds,
            );
        }
        const { rows } = await client.query<{ affected: string; outside: string }>(
          wrapped(statement.sql!, shape, b),
          bounds,
        );
        const { affected, outside } = rows[0]!;
        if (Number(outside) > 0) throw new RangeOverflow(Number(affected), Number(outside));
        if (checkpoint) await this.#checkpoint(client, checkpoint, Number(affected));
        return Number(affected);
      });
    };
    let affected: number;
    try {
      affected = await run();
    } catch (error) {
      // The backup was dropped since (a rollback elsewhere): create it again, once.
      if (!b || !isMissingTable(error)) throw error;
      this.#backups.delete(b.sql);
      affected = await run();
    }
    return { affected };
  }

  /** The range's checkpoint, in its transaction, while the fence holds; else the range is refused whole. */
  async #checkpoint(client: pg.PoolClient, checkpoint: ServerCheckpoint, affected: number): Promise<void> {
    const p = new Params();
    const record = checkpoint.recordFor(affected);
    const sql = `WITH f AS (${fenceRow(this.#ctx.tables, checkpoint.fence, p)}),
      l AS (${ledgerInsert(this.#ctx.tables, record, 'EXISTS (SELECT 1 FROM f)', p)})
      SELECT EXISTS (SELECT 1 FROM f) AS held`;
    const { rows } = await client.query<{ held: boolean }>(sql, p.values);
    if (!rows[0]?.held)
      throw new StaleLeaseError(
        `Range of "${record.id}" on shard "${this.#ctx.shardId}" refused: fencing token ${checkpoint.fence.token} of lock "${checkpoint.fence.lockName}" is not the newest; nothing of the range was written`,
        { shardId: this.#ctx.shardId },
      );
  }

  /**
   * Runs `work` in a transaction on one connection (the search path set to the shard's schema),
   * committing when it returns true; a failure rolls back and is rethrown naming the range.
   */
  async #transaction<T>(target: DataTarget, range: ServerRange | 'trial', work: (client: pg.PoolClient) => Promise<T>) {
    const out = await checkout(this.#ctx.pool);
    const { client } = out;
    try {
      await client.query('BEGIN');
      if (this.#ctx.schema !== 'public')
        await client.query(`SELECT set_config('search_path', $1, true)`, [`${q(this.#ctx.schema)}, public`]);
      const result = await work(client);
      await client.query(result === false ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof DefinitionError || error instanceof StaleLeaseError) throw error;
      throw rangeFailure(target, range, this.#ctx.shardId, error);
    } finally {
      out.release();
    }
  }

  /** The table, its one key column, the key type's least value and the columns, read once per target. */
  #shape(target: DataTarget): Promise<Shape> {
    let shape = this.#shapes.get(target.name);
    if (!shape) {
      shape = this.#readShape(target);
      this.#shapes.set(target.name, shape);
      shape.catch(() => this.#shapes.delete(target.name));
    }
    return shape;
  }

  async #readShape(target: DataTarget): Promise<Shape> {
    await this.#ctx.ready();
    if (target.key.length !== 1)
      throw new Error(`bounds ONE key column with $1 and $2, not (${target.key.join(', ')})`);
    const key = target.key[0]!;
    assertIdentifier(key, 'key');
    const t = tableName(target.name, this.#ctx.schema, 'table');
    const { rows } = await this.#ctx.pool.query<{ name: string; type: string; writable: boolean }>(
      `SELECT a.attname AS name, format_type(CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE a.atttypid END, NULL) AS type,
              a.attgenerated = '' AND a.attidentity <> 'a' AS writable
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
       WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [t.regclass],
    );
    const column = rows.find((r) => r.name === key);
    if (!column) throw new Error(`${t.sql} has no column "${key}"`);
    const floor = FLOORS.find(([type]) => type.test(column.type))?.[1];
    if (floor === undefined)
      throw new Error(
        `the key "${key}" is of type ${column.type}; a "sql" migration needs a key of an integer, numeric, float, text, uuid, bytea or date/time type (its least value bounds the first range)`,
      );
    return {
      t,
      key,
      floor,
      columns: rows.map((r) => r.name),
      restorable: rows.filter((r) => r.writable && r.name !== key).map((r) => r.name),
    };
  }

  #backupTable(backup: DataTarget, shape: Shape): TableName {
    assertIdentifier(backup.name, 'backup');
    return tableName(`${shape.t.schema}.${backup.name}`, this.#ctx.schema, 'backup');
  }

  /** Creates the backup like its table, in the range's transaction (a failed first range leaves none). */
  /**
   * Creates the backup table, once per table and process, before (not inside) a range's
   * transaction: the ranges of a parallel run share it, and two transactions creating the same
   * table at once would fail one of them (SQLSTATE 23505 on the catalog).
   */
  #ensureBackup(shape: Shape, b: TableName): Promise<void> {
    const made =
      this.#backups.get(b.sql) ??
      this.#ctx.pool
        .query(
          `CREATE TABLE IF NOT EXISTS ${b.sql} (LIKE ${shape.t.sql} INCLUDING DEFAULTS, PRIMARY KEY (${q(shape.key)}))`,
        )
        .then(() => undefined);
    this.#backups.set(b.sql, made);
    return made.catch((error: unknown) => {
      this.#backups.delete(b.sql);
      throw error;
    });
  }
}

/**
 * The migration's statement with the SDK's clause: `RETURNING` the key of each row it updated,
 * and, with a backup, the originals of exactly those rows saved in the SAME statement (its parts
 * all read the snapshot from before the update), the first copy winning; then how many rows it
 * updated and how many of those lie outside the range. The originals are read by the range's
 * bounds as well as the join (an index range scan, never a pass over the whole table per range); a
 * row updated outside the range fails the range anyway.
 */
function wrapped(sql: string, shape: Shape, b: TableName | undefined): string {
  const k = q(shape.key);
  const cols = shape.columns.map(q);
  const save = b
    ? `, saved AS (INSERT INTO ${b.sql} (${cols.join(', ')}) SELECT ${cols.map((c) => `r.${c}`).join(', ')}
         FROM ${shape.t.sql} AS r JOIN updated AS u ON r.${k} = u.k WHERE r.${k} > $1 AND r.${k} <= $2
         ON CONFLICT (${k}) DO NOTHING)`
    : '';
  return `WITH updated AS (${sql}\nRETURNING ${k} AS k)${save}
    SELECT count(*) AS affected, count(*) FILTER (WHERE NOT (u.k > $1 AND u.k <= $2)) AS outside FROM updated AS u`;
}

/** The statement updated rows outside its range: its WHERE does not keep to `$1`/`$2`. */
class RangeOverflow extends Error {
  constructor(affected: number, outside: number) {
    super(
      `the statement updated ${affected} rows, ${outside} of them outside the range: its WHERE must keep to it (<key> > $1 AND <key> <= $2)`,
    );
  }
}

const isMissingTable = (error: unknown): boolean =>
  ['42P01', '42704'].includes(sqlState((error as { cause?: unknown }).cause ?? error) ?? '');

function rangeFailure(
  target: DataTarget,
  range: ServerRange | 'trial',
  shardId: string,
  error: unknown,
): MigrationFailedError {
  const where =
    range === 'trial'
      ? 'the statement, tried over an empty range before any row was touched,'
      : `the range (${range.after ? JSON.stringify(range.after[0]) : 'the first key'}, ${JSON.stringify(range.upTo[0])}]`;
  const options: MigrateErrorOptions = {
    migrationId: target.migrationId,
    shardId,
    field: 'sql',
    cause: error,
    retryable: !(error instanceof RangeOverflow) && classifyError(error).retryable,
  };
  const what =
    error instanceof RangeOverflow || !sqlState(error)
      ? (error as Error).message
      : `SQLSTATE ${describePgError(error)}`;
  return new MigrationFailedError(
    `Data migration "${target.migrationId ?? target.name}" on shard "${shardId}": ${where} failed (${what}); it was rolled back, nothing of it is written`,
    options,
  );
}
