/**
 * `PostgresDataStore`: the rows of one PostgreSQL shard, for the batch engine. Keyset pagination on
 * the (possibly composite) key with row-value comparison and `COLLATE "C"` on text key columns; one
 * statement per batch for writes (`json_populate_recordset` over the table's own row type, so every
 * column keeps its exact type); counts and order-independent checksums computed in the server;
 * compare-and-set writes guarded by a row version; backups copied and restored inside the server.
 *
 * pg-mem, which emulates PostgreSQL in tests, lacks much of this: `PgMemDataStore` (pg-mem/)
 * overrides the protected members below. Identifiers are validated and quoted; values are bound.
 */
import { assertBackupTarget, ErrorCode, evenSplits, MigrateError } from '@mcp/migrate-core/engine';
import type {
  BatchWrite,
  CompareAndSet,
  DataStore,
  DataTarget,
  KeyRange,
  KeyValue,
  RangeChecksum,
  Row,
  RowPatch,
  ServerCopy,
  TargetInfo,
} from '@mcp/migrate-core/engine';
import { assertIdentifier, tableName, tableNotFound, type TableName } from './internal/identifiers.js';
import { inspectTable } from './internal/inspect.js';
import { sqlState } from './postgres-errors.js';
import { catalogColumns, type Column } from './internal/columns.js';
import {
  checkKey,
  filterClauses,
  keepFirst,
  keyColumns,
  Params,
  preserveMicros,
  q,
  rowColumns,
  rowCompare,
  upsertConflict,
} from './internal/sql.js';
import { serverChecksum } from './internal/checksum.js';
import { PostgresServerCopy } from './internal/server-copy.js';
import { PostgresBatchWrite } from './internal/batch-write.js';
import { groupPatches } from './internal/patches.js';
import { isTextVersion, ROW_VERSION, RowVersions, selectWithVersions, TEXT_VERSION } from './internal/row-version.js';
import { columnJson, jsonValue } from './internal/values.js';
import type { ShardContext } from './internal/shard-context.js';

export class PostgresDataStore implements DataStore {
  protected readonly ctx: ShardContext;
  readonly #columns = new Map<string, Promise<Column[]>>();
  /** Backup tables this store created or found (their `sql`), once per table: the ranges of a parallel run share one. */
  readonly #backups = new Map<string, Promise<void>>();
  /** Row version per row object `scan` returned (the `before` of a patch is that very object). */
  readonly #versions = new RowVersions();

  /**
   * A row is rewritten only where the stored row is still the one `scan` returned as `before`,
   * compared by a version the server computed in the same SELECT (`md5` of the row's binary send
   * form, which no session setting changes and which tells apart every value JS cannot: timestamp
   * microseconds, float `-0`, jsonb `0.0`, JSON `null`, long numbers, `json` text). A row deleted
   * meanwhile is not brought back.
   */
  readonly compareAndSet: CompareAndSet | undefined = {
    writeIfUnchanged: async (target, patches) => {
      if (patches.length === 0) return { written: 0, conflicts: [] };
      const done = new Set<RowPatch>();
      for (const group of await this.#groups(target, patches)) {
        for (const p of await this.updateGroup(target, group, true)) done.add(p);
      }
      return { written: done.size, conflicts: patches.filter((p) => !done.has(p)).map((p) => p.key) };
    },
  };

  /** Backups made and restored with `INSERT … SELECT` in the server: timestamps keep their microseconds. */
  readonly serverCopy: ServerCopy | undefined;

  /** A batch's backup, compare-and-set write and checkpoint in one statement (see internal/batch-write.ts). */
  readonly batchWrite: BatchWrite | undefined;

  constructor(ctx: ShardContext) {
    this.ctx = ctx;
    this.serverCopy = new PostgresServerCopy(ctx, {
      table: (target) => this.table(target),
      columnsOf: (t) => this.columnsOf(t),
      where: (target, range, p) => this.where(target, range, p),
      scan: (target, after, limit) => this.scan(target, after, limit),
      intoBackup: (target, save) => this.#intoBackup(target, save),
    });
    this.batchWrite = new PostgresBatchWrite(ctx, {
      table: (target) => this.table(target),
      columnsOf: (t) => this.columnsOf(t),
      where: (target, range, p) => this.where(target, range, p),
      intoBackup: (target, save) => this.#intoBackup(target, save),
      groups: (target, patches) => this.#groups(target, patches),
      versionOf: (target, row) => this.#versionOf(target, row),
    });
  }

  /** Forgets cached table shapes (a schema step may have changed them). */
  invalidate(): void {
    this.#columns.clear();
    this.#backups.clear();
    this.#versions.clear();
  }

  /** Whether the table exists and the key is unique (see internal/inspect.ts). */
  inspect(target: DataTarget): Promise<TargetInfo> {
    return inspectTable(this.ctx, target);
  }

  /** Rows, each with its version read in the same SELECT kept beside it (never a column), for {@link compareAndSet}; a missing backup has none. */
  async scan(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue): Promise<Row[]> {
    await this.ctx.ready();
    if (target.backupOf) {
      try {
        return await this.select(target, { after, upTo }, limit);
      } catch (error) {
        if (sqlState(error) === '42P01') return [];
        throw error;
      }
    }
    const range = { after, upTo };
    return this.#versions.read(this.table(target).sql, (column) => this.#selectVersioned(target, range, limit, column));
  }

  /** Keys at even row positions, by `OFFSET` in the very order scans use (see `DataStore.splitKeys`). */
  async splitKeys(target: DataTarget, parts: number): Promise<KeyValue[]> {
    const at = evenSplits(await this.count(target), parts);
    const rows = (await Promise.all(at.map((i) => this.select(target, {}, 1, i)))).flat();
    return rows.map((row) => keyColumns(target).map((k) => row[k]));
  }

  async count(target: DataTarget, range?: KeyRange): Promise<number> {
    await this.ctx.ready();
    const p = new Params();
    const where = await this.where(target, range, p);
    const { rows } = await this.ctx.pool.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM ${this.table(target).sql} AS r${where}`,
      p.values,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Computed in the server, under pinned output settings (see internal/checksum.ts). */
  async checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum> {
    await this.ctx.ready();
    const t = this.table(target);
    const p = new Params();
    const where = await this.where(target, range, p);
    const names = (await this.columnsOf(t)).map((c) => c.name);
    if (names.length === 0) throw tableNotFound(t, this.ctx.shardId);
    return serverChecksum(this.ctx.pool, `${t.sql} AS r${where}`, names, p.values);
  }

  /**
   * Upserts whole rows. Into a backup: `ON CONFLICT DO NOTHING`, the first copy winning, the
   * backup table created like its source on first use.
   */
  async write(target: DataTarget, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.ctx.ready();
    const t = this.table(target);
    const keys = keyColumns(target);
    const columns = rowColumns(rows, keys);
    if (target.backupOf) return this.#intoBackup(target, () => this.insertRows(t, columns, rows, keepFirst(keys)));
    const types = new Map((await this.columnsOf(t)).map((c) => [c.name, c.type]));
    const set = columns.filter((c) => !keys.includes(c)).map((c) => `${q(c)} = ${this.upsertValue(c, types.get(c))}`);
    return this.insertRows(t, columns, rows, upsertConflict(keys, set));
  }

  /**
   * Writes only the changed columns: one `UPDATE … SET <changed columns>` per distinct set of
   * changed columns in the batch (usually one), so an untouched column is never written back and
   * keeps its stored bytes. New values go through the column's input function (see internal/values.ts).
   */
  async update(target: DataTarget, patches: readonly RowPatch[]): Promise<number> {
    if (patches.length === 0) return 0;
    let written = 0;
    for (const group of await this.#groups(target, patches))
      written += (await this.updateGroup(target, group, false)).length;
    return written;
  }

  async remove(target: DataTarget, keys: readonly KeyValue[]): Promise<number> {
    if (keys.length === 0) return 0;
    await this.ctx.ready();
    return this.deleteKeys(this.table(target), keyColumns(target), keys);
  }

  async drop(target: DataTarget): Promise<void> {
    assertBackupTarget(target, this.ctx.shardId);
    await this.ctx.ready();
    const b = this.table(target);
    await this.ctx.pool.query(`DROP TABLE IF EXISTS ${b.sql}`);
    this.#backups.delete(b.sql);
    this.#columns.delete(b.sql);
  }

  // -- what pg-mem's variant overrides ------------------------------------------------------------

  /** `exprs op value` on the key. */
  protected keyCompare(exprs: readonly string[], value: KeyValue, op: '>' | '<=', p: Params): string {
    return rowCompare(exprs, value, op, p);
  }

  /** The SET expression of column `column` (of type `type`) in an upsert: its new value, timestamps keeping their microseconds. */
  protected upsertValue(column: string, type: string | undefined): string {
    return preserveMicros(column, type);
  }

  /** One `INSERT … SELECT … FROM json_populate_recordset(…) <conflict>`; returns rows inserted or updated. */
  protected async insertRows(
    t: TableName,
    columns: readonly string[],
    rows: readonly Row[],
    conflict: string,
  ): Promise<number> {
    const json = await this.jsonColumns(t);
    const payload = `[${rows.map((row) => `{${columns.map((c) => `${JSON.stringify(c)}:${columnJson(row[c], json.has(c))}`).join(',')}}`).join(',')}]`;
    const r = await this.ctx.pool.query(
      `INSERT INTO ${t.sql} AS r (${columns.map(q).join(', ')}) SELECT ${columns.map((c) => `d.${q(c)}`).join(', ')} FROM json_populate_recordset(NULL::${t.sql}, $1::json) AS d ${conflict}`,
      [payload],
    );
    return r.rowCount ?? 0;
  }

  /**
   * One `UPDATE` of the columns in `patches[0].set` (all patches of a group change the same
   * columns), guarded by the row version when `guarded`; returns the patches applied.
   */
  protected async updateGroup(target: DataTarget, patches: readonly RowPatch[], guarded: boolean): Promise<RowPatch[]> {
    const t = this.table(target);
    const keys = keyColumns(target);
    const columns = Object.keys(patches[0]!.set);
    const json = await this.jsonColumns(t);
    // One element per patch, read with json_populate_record over the table's own row type, so each
    // new value goes through its column's input function. `json` (not jsonb) keeps the text of a
    // json column's document as written. A join of two record sets by key would be planned as a
    // nested loop over both (quadratic in the batch), hence one element per patch.
    const elements = patches.map((p, i) => {
      const a = [
        ...keys.map((k, j) => `${JSON.stringify(k)}:${columnJson(p.key[j], false)}`),
        ...columns.map((c) => `${JSON.stringify(c)}:${columnJson(p.set[c], json.has(c))}`),
      ];
      return `{"i":${i},${guarded ? `"v":${JSON.stringify(this.#versionOf(target, p.before))},` : ''}"a":{${a.join(',')}}}`;
    });
    const joinD = keys.map((k) => `d.${q(k)} = r.${q(k)}`).join(' AND ');
    const version = guarded && isTextVersion(this.#versionOf(target, patches[0]!.before)) ? TEXT_VERSION : ROW_VERSION;
    const { rows } = await this.ctx.pool.query<{ i: number }>(
      `UPDATE ${t.sql} AS r SET ${columns.map((c) => `${q(c)} = d.${q(c)}`).join(', ')}
       FROM json_array_elements($1::json) AS e
         CROSS JOIN LATERAL json_populate_record(NULL::${t.sql}, e->'a') AS d
       WHERE ${joinD}${guarded ? ` AND ${version} = e->>'v'` : ''}
       RETURNING (e->>'i')::integer AS i`,
      [`[${elements.join(',')}]`],
    );
    return rows.map((r) => patches[r.i]!);
  }

  /** One `DELETE … USING jsonb_populate_recordset(…)`; returns rows deleted. */
  protected async deleteKeys(t: TableName, keys: readonly string[], values: readonly KeyValue[]): Promise<number> {
    const payload = values.map((k) => Object.fromEntries(keys.map((c, i) => [c, jsonValue(k[i])])));
    const on = keys.map((c) => `r.${q(c)} = d.${q(c)}`).join(' AND ');
    const r = await this.ctx.pool.query(
      `DELETE FROM ${t.sql} AS r USING jsonb_populate_recordset(NULL::${t.sql}, $1::jsonb) AS d WHERE ${on}`,
      [JSON.stringify(payload)],
    );
    return r.rowCount ?? 0;
  }

  /** Creates backup table `b` like its source `t`, with the key as primary key. */
  protected async createBackupTable(t: TableName, b: TableName, keys: readonly string[]): Promise<void> {
    await this.ctx.pool.query(
      `CREATE TABLE IF NOT EXISTS ${b.sql} (LIKE ${t.sql} INCLUDING DEFAULTS, PRIMARY KEY (${keys.map(q).join(', ')}))`,
    );
  }

  /** The columns of `t`, in table order; empty when the table does not exist. */
  protected readColumns(t: TableName): Promise<Column[]> {
    return catalogColumns(this.ctx.pool, t);
  }

  // -- shared with pg-mem's variant ---------------------------------------------------------------

  /** The table of `target`; a backup's lives in its source table's schema. */
  protected table(target: DataTarget): TableName {
    if (!target.backupOf) return tableName(target.name, this.ctx.schema, 'table');
    assertIdentifier(target.name, 'backup');
    return tableName(`${this.table(target.backupOf).schema}.${target.name}`, this.ctx.schema, 'backup');
  }

  /** `SELECT * [, extra] … ORDER BY key LIMIT n` over `target` within its filter and `range`. */
  protected async select(target: DataTarget, range: KeyRange, limit: number, offset = 0): Promise<Row[]> {
    const p = new Params();
    const where = await this.where(target, range, p);
    const order = (await this.#keyExprs(target)).join(', ');
    const lim = p.add(Math.max(0, Math.floor(limit)));
    const skip = offset > 0 ? ` OFFSET ${p.add(Math.floor(offset))}` : '';
    return (
      await this.ctx.pool.query<Row>(
        `SELECT * FROM ${this.table(target).sql} AS r${where} ORDER BY ${order} LIMIT ${lim}${skip}`,
        p.values,
      )
    ).rows;
  }

  /** {@link select} with the row version `column` last, kept apart from the rows (see internal/row-version.ts). */
  async #selectVersioned(target: DataTarget, range: KeyRange, limit: number, column: string) {
    const p = new Params();
    const where = await this.where(target, range, p);
    const order = (await this.#keyExprs(target)).join(', ');
    const lim = p.add(Math.max(0, Math.floor(limit)));
    const sql = `SELECT r.*, ${column} FROM ${this.table(target).sql} AS r${where} ORDER BY ${order} LIMIT ${lim}`;
    return selectWithVersions(this.ctx.pool, sql, p.values);
  }

  /** ` WHERE …` for the filter and key range, or `''`. */
  protected async where(target: DataTarget, range: KeyRange | undefined, p: Params): Promise<string> {
    const clauses = filterClauses(target.filter, p);
    const keys = keyColumns(target);
    const exprs = range?.after || range?.upTo ? await this.#keyExprs(target) : [];
    if (range?.after) clauses.push(this.keyCompare(exprs, checkKey(range.after, keys), '>', p));
    if (range?.upTo) clauses.push(this.keyCompare(exprs, checkKey(range.upTo, keys), '<=', p));
    return clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '';
  }

  /** Columns of `t` (cached until {@link invalidate}); empty when the table does not exist. */
  protected columnsOf(t: TableName): Promise<Column[]> {
    let cached = this.#columns.get(t.sql);
    if (!cached) {
      cached = this.readColumns(t);
      this.#columns.set(t.sql, cached);
      cached.then(
        (cols) => cols.length === 0 && this.#columns.delete(t.sql),
        () => this.#columns.delete(t.sql),
      );
    }
    return cached;
  }

  protected async jsonColumns(t: TableName): Promise<Set<string>> {
    return new Set((await this.columnsOf(t)).filter((c) => c.json).map((c) => c.name));
  }

  // ----------------------------------------------------------------------------------------------

  /** `r."k"`, with `COLLATE "C"` on collatable columns (bytewise order); a backup's as its source's. */
  async #keyExprs(target: DataTarget): Promise<string[]> {
    const shape = this.table(target.backupOf ?? target);
    const collatable = new Set((await this.columnsOf(shape)).filter((c) => c.collatable).map((c) => c.name));
    return keyColumns(target).map((k) => (collatable.has(k) ? `r.${q(k)} COLLATE "C"` : `r.${q(k)}`));
  }

  /** Runs `save` into backup `target`, creating the table first; once more if it was dropped meanwhile. */
  async #intoBackup(target: DataTarget & { backupOf?: DataTarget }, save: () => Promise<number>): Promise<number> {
    const b = this.table(target);
    const ensure = () => {
      const made =
        this.#backups.get(b.sql) ?? this.createBackupTable(this.table(target.backupOf!), b, keyColumns(target));
      this.#backups.set(b.sql, made);
      return made.catch((error: unknown) => (this.#backups.delete(b.sql), Promise.reject(error)));
    };
    try {
      await ensure();
      return await save();
    } catch (error) {
      if (sqlState(error) !== '42P01' && sqlState(error) !== '42704') throw error;
      // Dropped by another runner since we created it: create it again, once.
      this.#backups.delete(b.sql);
      this.#columns.delete(b.sql);
      await ensure();
      return save();
    }
  }

  /** Patches grouped by their set of changed columns; refuses unknown and dropped columns. */
  async #groups(target: DataTarget, patches: readonly RowPatch[]): Promise<RowPatch[][]> {
    await this.ctx.ready();
    const t = this.table(target);
    const names = new Set((await this.columnsOf(t)).map((c) => c.name));
    return groupPatches(target, t, names, patches, this.ctx.shardId, (row) => isTextVersion(this.#versions.of(row)));
  }

  /** The server's version of a row `scan` returned (see {@link compareAndSet}). */
  #versionOf(target: DataTarget, row: Row): string {
    const version = this.#versions.of(row);
    if (version === undefined) {
      throw new MigrateError(
        ErrorCode.Definition,
        `postgres: writeIfUnchanged on "${target.name}" needs each patch's \`before\` to be the very row object scan() returned (shard "${this.ctx.shardId}")`,
        { migrationId: target.migrationId, shardId: this.ctx.shardId, field: 'before' },
      );
    }
    return version;
  }
}
