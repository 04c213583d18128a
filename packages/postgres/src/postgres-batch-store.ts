/**
 * `PostgresBatchStore`: the batch primitives of one shard. Keyset pagination on the (possibly
 * composite) key with row-value comparison and `COLLATE "C"` on text key columns; one statement per
 * batch for writes (`jsonb_populate_recordset` over the table's own row type, so every column keeps
 * its exact type); counts and order-independent checksums computed in the server.
 *
 * Identifiers are validated and quoted; values are always bound.
 */
import {
  DefinitionError, ErrorCode, MigrateError, RowSetHash,
  type BatchStore, type DataTarget, type KeyRange, type KeyValue, type RangeChecksum, type Row, type RowPatch, type TargetInfo,
} from '@mcp/migrate-core';
import { assertIdentifier, tableName, type TableName } from './identifiers.js';
import { inspectTable } from './postgres-inspect.js';
import { sqlState } from './postgres-errors.js';
import { columnJson, jsonValue } from './row-values.js';
import { checkout, type PostgresFeatures, type ShardContext } from './shard-context.js';

interface Column {
  readonly name: string;
  readonly type: string;
  readonly collatable: boolean;
  /** `json`/`jsonb` or a domain over them: new values are written as the document's JSON text. */
  readonly json: boolean;
}

export { jsonValue };

/**
 * A row's version: md5 of its binary send form, which depends on no session setting (TimeZone,
 * DateStyle, IntervalStyle, extra_float_digits, bytea_output) and differs for any two stored
 * values that differ (microseconds, float -0, numeric scale, jsonb 0.0, json text).
 */
const ROW_VERSION = 'md5(record_send(r.*))';
/**
 * The version of rows of a table with a column type that has no binary send function (in core
 * PostgreSQL only `aclitem`): md5 of the row's text form under the session's settings, marked `t:`.
 * Weaker only if a session changes output settings between a batch's read and its write (then a
 * row may look changed and is re-read, which is safe).
 */
const TEXT_VERSION = `'t:' || md5(ROW(r.*)::text)`;
/**
 * Opens a read-only transaction whose text output of every type is the same on every server and
 * session (one round trip: a simple-protocol multi-statement). extra_float_digits 3 is the exact
 * form before PostgreSQL 12 and the shortest exact form since.
 */
const PINNED_OUTPUT = `BEGIN READ ONLY; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'`;
/** Result column of the version in a scan: not a plain identifier, so no table column can have it. */
const VERSION_FIELD = 'mcp-migrate row version';

/** Rows per statement in the pg-mem fallback (multi-row VALUES with bound parameters). */
const FALLBACK_CHUNK_PARAMS = 10_000;
const CHECKSUM_PAGE = 5_000;
const MOD64 = 1n << 64n;

/** Bound parameters of one statement: `add(v)` returns its placeholder. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(bindable(value));
    return `$${this.values.length}`;
  }
}

export class PostgresBatchStore implements BatchStore {
  readonly #ctx: ShardContext;
  readonly #columns = new Map<string, Promise<Column[]>>();
  readonly #backups = new Set<string>();
  /** Row version per row object `scan` returned (the `before` of a patch is that very object). */
  readonly #versions = new WeakMap<Row, string>();
  /** Tables whose rows have no binary send form: versions use {@link TEXT_VERSION}. */
  readonly #textVersions = new Set<string>();

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
  }

  /** Forgets cached table shapes (a schema step may have changed them). */
  invalidate(): void {
    this.#columns.clear();
    this.#backups.clear();
    this.#textVersions.clear();
  }

  /** Whether the table exists and the key is unique (see postgres-inspect.ts). */
  inspect(target: DataTarget): Promise<TargetInfo> {
    return inspectTable(this.#ctx, target);
  }

  /**
   * On PostgreSQL each row's version is read in the same SELECT and kept beside the row object (not
   * as a column: transforms never see it), for {@link writeIfUnchanged}.
   */
  async scan(target: DataTarget, after: KeyValue | undefined, limit: number): Promise<Row[]> {
    const f = await this.#ctx.ready();
    const rows = await this.#scan(target, this.#table(target.name), { after }, limit, target.filter, undefined, f.recordsets);
    if (f.recordsets) {
      for (const row of rows) {
        this.#versions.set(row, row[VERSION_FIELD] as string);
        delete row[VERSION_FIELD];
      }
    }
    return rows;
  }

  async write(target: DataTarget, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    const f = await this.#ctx.ready();
    const t = this.#table(target.name);
    const keys = keyColumns(target);
    const columns = rowColumns(rows, keys);
    const types = new Map((await this.#columnsOf(t, f)).map((c) => [c.name, c.type]));
    // pg-mem keeps milliseconds only (and has no date_trunc): nothing to preserve there.
    const set = columns.filter((c) => !keys.includes(c)).map((c) => `"${c}" = ${f.recordsets ? preserveMicros(c, types.get(c)) : `EXCLUDED.${q(c)}`}`);
    const conflict = `ON CONFLICT (${keys.map(q).join(', ')}) DO UPDATE SET ${set.length ? set.join(', ') : `${q(keys[0]!)} = EXCLUDED.${q(keys[0]!)}`}`;
    return this.#insert(f, t, columns, rows, conflict);
  }

  /**
   * Writes only the changed columns: one `UPDATE … SET <changed columns>` per distinct set of
   * changed columns in the batch (usually one), so an untouched column is never written back and
   * keeps its stored bytes. New values go through the column's input function (see row-values.ts).
   */
  async update(target: DataTarget, patches: readonly RowPatch[]): Promise<number> {
    if (patches.length === 0) return 0;
    let written = 0;
    for (const group of await this.#groups(target, patches)) written += (await this.#update(target, group, false)).length;
    return written;
  }

  /**
   * Compare-and-set form of {@link update}: a row is rewritten only where the stored row is still
   * the one `scan` returned as `before`, compared by a version the server computed in the same
   * SELECT (`md5` of the row's binary send form, which no session setting changes and which tells
   * apart every value JS cannot: timestamp microseconds, float `-0`, jsonb `0.0`, JSON `null`,
   * long numbers, `json` text). An application write between a batch's read and its write is
   * never overwritten, and a row deleted meanwhile is not brought back. Returns the keys not
   * written. On pg-mem (no record sets, no row versions) it degrades to the plain update and
   * reports no conflicts.
   */
  async writeIfUnchanged(target: DataTarget, patches: readonly RowPatch[]): Promise<{ written: number; conflicts: KeyValue[] }> {
    if (patches.length === 0) return { written: 0, conflicts: [] };
    const f = await this.#ctx.ready();
    if (!f.recordsets) return { written: await this.update(target, patches), conflicts: [] };
    const done = new Set<RowPatch>();
    for (const group of await this.#groups(target, patches)) {
      for (const p of await this.#update(target, group, true)) done.add(p);
    }
    return { written: done.size, conflicts: patches.filter((p) => !done.has(p)).map((p) => p.key) };
  }

  /** Patches grouped by their set of changed columns; refuses unknown and dropped columns. */
  async #groups(target: DataTarget, patches: readonly RowPatch[]): Promise<RowPatch[][]> {
    const f = await this.#ctx.ready();
    const t = this.#table(target.name);
    const names = new Set((await this.#columnsOf(t, f)).map((c) => c.name));
    const groups = new Map<string, RowPatch[]>();
    const refuse = (message: string, field: string) =>
      new DefinitionError(`Data migration${target.migrationId === undefined ? '' : ` "${target.migrationId}"`} on shard "${this.#ctx.shardId}": ${message}`, {
        code: ErrorCode.Definition, migrationId: target.migrationId, shardId: this.#ctx.shardId, field,
      });
    for (const p of patches) {
      for (const c of Object.keys(p.set)) {
        if (!names.has(c)) throw refuse(`the transform returned column ${JSON.stringify(c).slice(0, 80)}, which table ${t.sql} does not have; nothing was written for this batch`, 'transform');
        assertIdentifier(c, 'column');
      }
      if (p.unset.length) {
        throw refuse(`the transform dropped column(s) ${p.unset.map((c) => JSON.stringify(c)).join(', ')} of table ${t.sql}; return every column (set one to null to clear it)`, 'transform');
      }
      // A group shares one version expression: binary unless the row was read with a text version.
      const sig = `${this.#versions.get(p.before)?.startsWith('t:') ? 't' : 'b'}\0${Object.keys(p.set).sort().join('\0')}`;
      const g = groups.get(sig);
      if (g) g.push(p);
      else groups.set(sig, [p]);
    }
    return [...groups.values()];
  }

  /**
   * One `UPDATE` of the columns in `patches[0].set` (all patches of a group change the same
   * columns), guarded by the row version when `guarded`; returns the patches applied.
   */
  async #update(target: DataTarget, patches: readonly RowPatch[], guarded: boolean): Promise<RowPatch[]> {
    const f = await this.#ctx.ready();
    const t = this.#table(target.name);
    const keys = keyColumns(target);
    const columns = Object.keys(patches[0]!.set);
    const json = new Set((await this.#columnsOf(t, f)).filter((c) => c.json).map((c) => c.name));
    if (!f.recordsets) return this.#updateEach(t, keys, columns, json, patches);
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
    const version = guarded && this.#versionOf(target, patches[0]!.before).startsWith('t:') ? TEXT_VERSION : ROW_VERSION;
    const { rows } = await this.#ctx.pool.query<{ i: number }>(
      `UPDATE ${t.sql} AS r SET ${columns.map((c) => `${q(c)} = d.${q(c)}`).join(', ')}
       FROM json_array_elements($1::json) AS e
         CROSS JOIN LATERAL json_populate_record(NULL::${t.sql}, e->'a') AS d
       WHERE ${joinD}${guarded ? ` AND ${version} = e->>'v'` : ''}
       RETURNING (e->>'i')::integer AS i`,
      [`[${elements.join(',')}]`],
    );
    return rows.map((r) => patches[r.i]!);
  }

  /** pg-mem: one bound `UPDATE` per patch. */
  async #updateEach(t: TableName, keys: readonly string[], columns: readonly string[], json: ReadonlySet<string>, patches: readonly RowPatch[]): Promise<RowPatch[]> {
    const done: RowPatch[] = [];
    for (const patch of patches) {
      const p = new Params();
      const set = columns.map((c) => `${q(c)} = ${p.add(bound(patch.set[c], json.has(c)))}`).join(', ');
      const where = keys.map((k, i) => `${q(k)} = ${p.add(patch.key[i])}`).join(' AND ');
      if ((await this.#ctx.pool.query(`UPDATE ${t.sql} SET ${set} WHERE ${where}`, p.values)).rowCount) done.push(patch);
    }
    return done;
  }

  /** The server's version of a row `scan` returned (see {@link writeIfUnchanged}). */
  #versionOf(target: DataTarget, row: Row): string {
    const version = this.#versions.get(row);
    if (version === undefined) {
      throw new MigrateError(ErrorCode.Definition, `postgres: writeIfUnchanged on "${target.name}" needs each patch's \`before\` to be the very row object scan() returned (shard "${this.#ctx.shardId}")`, {
        migrationId: target.migrationId, shardId: this.#ctx.shardId, field: 'before',
      });
    }
    return version;
  }

  /** Deletes saved copies by key (the copies of rows a compare-and-set write refused are stale). */
  async backupRemove(target: DataTarget, backup: string, keys: readonly KeyValue[]): Promise<number> {
    const b = this.#backupTable(this.#table(target.name), backup);
    return this.remove({ name: `${b.schema}.${b.table}`, key: target.key }, keys);
  }

  async remove(target: DataTarget, keys: readonly KeyValue[]): Promise<number> {
    if (keys.length === 0) return 0;
    const f = await this.#ctx.ready();
    const t = this.#table(target.name);
    const cols = keyColumns(target);
    if (f.recordsets) {
      const payload = keys.map((k) => Object.fromEntries(cols.map((c, i) => [c, jsonValue(k[i])])));
      const on = cols.map((c) => `r.${q(c)} = d.${q(c)}`).join(' AND ');
      const r = await this.#ctx.pool.query(`DELETE FROM ${t.sql} AS r USING jsonb_populate_recordset(NULL::${t.sql}, $1::jsonb) AS d WHERE ${on}`, [JSON.stringify(payload)]);
      return r.rowCount ?? 0;
    }
    let deleted = 0;
    for (const chunk of chunks(keys, Math.max(1, Math.floor(FALLBACK_CHUNK_PARAMS / cols.length)))) {
      const p = new Params();
      const where = chunk.map((k) => `(${cols.map((c, i) => `${q(c)} = ${p.add(k[i])}`).join(' AND ')})`).join(' OR ');
      deleted += (await this.#ctx.pool.query(`DELETE FROM ${t.sql} WHERE ${where}`, p.values)).rowCount ?? 0;
    }
    return deleted;
  }

  /**
   * Saves `rows` into the backup table (created `LIKE` the target, with the same primary key) with
   * `ON CONFLICT DO NOTHING`: the first copy of a row wins. On PostgreSQL the copy is made in the
   * server from the stored rows with the keys of `rows` (`INSERT … SELECT … JOIN`), so values the
   * driver cannot represent exactly in JS (timestamp microseconds) are saved exactly and only keys
   * travel. Returns `rows.length`, the rows sent (rows already saved are expected after a re-done
   * batch and are not counted apart).
   */
  async backupWrite(target: DataTarget, backup: string, rows: readonly Row[]): Promise<number> {
    if (rows.length === 0) return 0;
    const f = await this.#ctx.ready();
    const t = this.#table(target.name);
    const b = this.#backupTable(t, backup);
    const keys = keyColumns(target);
    const conflict = `ON CONFLICT (${keys.map(q).join(', ')}) DO NOTHING`;
    const save = async () => {
      await this.#ensureBackup(f, t, b, keys);
      if (!f.recordsets) return this.#insert(f, b, rowColumns(rows, keys), rows, conflict);
      const columns = (await this.#columnsOf(b, f)).map((c) => q(c.name));
      const payload = JSON.stringify(rows.map((row) => Object.fromEntries(keys.map((k) => [k, jsonValue(row[k])]))));
      const on = keys.map((k) => `r.${q(k)} = d.${q(k)}`).join(' AND ');
      return (await this.#ctx.pool.query(
        `INSERT INTO ${b.sql} (${columns.join(', ')}) SELECT ${columns.map((c) => `r.${c}`).join(', ')}
         FROM ${t.sql} AS r JOIN jsonb_populate_recordset(NULL::${t.sql}, $1::jsonb) AS d ON ${on} ${conflict}`,
        [payload],
      )).rowCount ?? 0;
    };
    try {
      await save();
    } catch (error) {
      if (sqlState(error) !== '42P01' && sqlState(error) !== '42704') throw error;
      // Dropped by another runner since we created it: create it again, once.
      this.#backups.delete(b.sql);
      this.#columns.delete(b.sql);
      await save();
    }
    return rows.length;
  }

  async backupScan(target: DataTarget, backup: string, after: KeyValue | undefined, limit: number): Promise<Row[]> {
    const t = this.#table(target.name);
    const b = this.#backupTable(t, backup);
    const f = await this.#ctx.ready();
    // pg-mem's "does not exist" error carries no SQLSTATE: ask the catalog instead.
    if (!f.recordsets && !(await this.#exists(b))) return [];
    try {
      return await this.#scan(target, b, { after }, limit, undefined, t);
    } catch (error) {
      if (sqlState(error) === '42P01') return [];
      throw error;
    }
  }

  /**
   * Restores the next `limit` saved originals after `after` with one `INSERT … SELECT … FROM backup
   * ON CONFLICT DO UPDATE` in the server, so every value comes back exactly as it was stored
   * (timestamps keep their microseconds). `null` on pg-mem (no record sets): the batch engine then
   * restores through JS.
   */
  async backupRestore(target: DataTarget, backup: string, after: KeyValue | undefined, limit: number): Promise<{ restored: number; last: KeyValue | undefined } | null> {
    const f = await this.#ctx.ready();
    if (!f.recordsets) return null;
    const t = this.#table(target.name);
    const b = this.#backupTable(t, backup);
    const keys = keyColumns(target);
    const page = await this.backupScan(target, backup, after, limit);
    if (page.length === 0) return { restored: 0, last: undefined };
    const last = keys.map((k) => page.at(-1)![k]);
    const p = new Params();
    const where = await this.#where(f, t, { ...target, filter: undefined }, { after, upTo: last }, p);
    const columns = (await this.#columnsOf(b, f)).map((c) => c.name);
    const set = columns.filter((c) => !keys.includes(c)).map((c) => `${q(c)} = EXCLUDED.${q(c)}`);
    const conflict = `ON CONFLICT (${keys.map(q).join(', ')}) DO UPDATE SET ${set.length ? set.join(', ') : `${q(keys[0]!)} = EXCLUDED.${q(keys[0]!)}`}`;
    const r = await this.#ctx.pool.query(
      `INSERT INTO ${t.sql} (${columns.map(q).join(', ')}) SELECT ${columns.map((c) => `r.${q(c)}`).join(', ')} FROM ${b.sql} AS r${where} ${conflict}`,
      p.values,
    );
    if ((r.rowCount ?? 0) !== page.length) {
      throw new Error(`restoring "${target.name}" from backup wrote ${r.rowCount ?? 0} of ${page.length} rows; refusing to continue`);
    }
    return { restored: page.length, last };
  }

  async backupDrop(target: DataTarget, backup: string): Promise<void> {
    await this.#ctx.ready();
    const b = this.#backupTable(this.#table(target.name), backup);
    await this.#ctx.pool.query(`DROP TABLE IF EXISTS ${b.sql}`);
    this.#backups.delete(b.sql);
    this.#columns.delete(b.sql);
  }

  async count(target: DataTarget, range?: KeyRange): Promise<number> {
    const f = await this.#ctx.ready();
    const t = this.#table(target.name);
    const p = new Params();
    const where = await this.#where(f, t, target, range, p);
    const { rows } = await this.#ctx.pool.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${t.sql} AS r${where}`, p.values);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * `count(*)` and the sum modulo 2^64 of two 64-bit halves of the md5 of each row's text form, in
   * the server. The row text is `ROW(<columns in name order>)::text`: every column's own output
   * function (so float `-0` ≠ `0`, JSON `null` ≠ SQL NULL, jsonb `0.0` ≠ `0`, microseconds count),
   * record quoting that keeps NULL, `""` and separators apart, and column order that does not
   * depend on the table's physical order. The settings that change output (TimeZone, DateStyle,
   * IntervalStyle, extra_float_digits, bytea_output) are pinned, so equal rows on two servers
   * encode equally. Without those functions (pg-mem), core's `RowSetHash` in the client, which
   * sees only what the driver returns.
   */
  async checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum> {
    const f = await this.#ctx.ready();
    const t = this.#table(target.name);
    if (!f.serverChecksum) return this.#clientChecksum(target, range);
    const p = new Params();
    const where = await this.#where(f, t, target, range, p);
    const names = (await this.#columnsOf(t, f)).map((c) => c.name).sort();
    if (names.length === 0) throw new DefinitionError(`postgres: table ${t.sql} not found on shard "${this.#ctx.shardId}"`, { code: ErrorCode.Config, shardId: this.#ctx.shardId, field: 'table' });
    const rowText = `ROW(${names.map((c) => `r.${q(c)}`).join(', ')})::text`;
    const out = await checkout(this.#ctx.pool);
    const { client } = out;
    try {
      await client.query(PINNED_OUTPUT);
      const { rows } = await client.query<{ n: string; a: string; b: string }>(
        `SELECT count(*)::text AS n,
           coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text AS a,
           coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text AS b
         FROM (SELECT md5(${rowText}) AS h FROM ${t.sql} AS r${where}) x`,
        p.values,
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

  // ----------------------------------------------------------------------------------------------

  async #scan(target: DataTarget, t: TableName, range: KeyRange, limit: number, filter: DataTarget['filter'], shapeOf: TableName = t, versioned = false): Promise<Row[]> {
    const f = await this.#ctx.ready();
    const p = new Params();
    const where = await this.#where(f, shapeOf, { ...target, filter }, range, p);
    const order = (await this.#keyExprs(f, shapeOf, keyColumns(target))).join(', ');
    const lim = p.add(Math.max(0, Math.floor(limit)));
    const text = (): string => `SELECT ${versioned ? `r.*, ${this.#textVersions.has(t.sql) ? TEXT_VERSION : ROW_VERSION} AS "${VERSION_FIELD}"` : '*'} FROM ${t.sql} AS r${where} ORDER BY ${order} LIMIT ${lim}`;
    try {
      return (await this.#ctx.pool.query<Row>(text(), p.values)).rows;
    } catch (error) {
      // 42883: a column type without a binary send function ("no binary output function").
      if (!versioned || this.#textVersions.has(t.sql) || sqlState(error) !== '42883') throw error;
      this.#textVersions.add(t.sql);
      return (await this.#ctx.pool.query<Row>(text(), p.values)).rows;
    }
  }

  /** ` WHERE …` for the filter and key range, or `''`. */
  async #where(f: PostgresFeatures, t: TableName, target: DataTarget, range: KeyRange | undefined, p: Params): Promise<string> {
    const clauses: string[] = [];
    for (const [field, value] of Object.entries(target.filter ?? {})) {
      assertIdentifier(field, 'filter');
      clauses.push(value === null || value === undefined ? `r.${q(field)} IS NULL` : `r.${q(field)} = ${p.add(value)}`);
    }
    const keys = keyColumns(target);
    const exprs = range?.after || range?.upTo ? await this.#keyExprs(f, t, keys) : [];
    if (range?.after) clauses.push(compare(f, exprs, checkKey(range.after, keys), '>', p));
    if (range?.upTo) clauses.push(compare(f, exprs, checkKey(range.upTo, keys), '<=', p));
    return clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '';
  }

  /** `r."k"`, with `COLLATE "C"` on collatable columns where the server has it (bytewise order). */
  async #keyExprs(f: PostgresFeatures, t: TableName, keys: readonly string[]): Promise<string[]> {
    const collatable = f.rowValues ? new Set((await this.#columnsOf(t, f)).filter((c) => c.collatable).map((c) => c.name)) : new Set<string>();
    return keys.map((k) => (collatable.has(k) ? `r.${q(k)} COLLATE "C"` : `r.${q(k)}`));
  }

  async #insert(f: PostgresFeatures, t: TableName, columns: readonly string[], rows: readonly Row[], conflict: string): Promise<number> {
    const list = columns.map(q).join(', ');
    const json = new Set((await this.#columnsOf(t, f)).filter((c) => c.json).map((c) => c.name));
    if (f.recordsets) {
      const payload = `[${rows.map((row) => `{${columns.map((c) => `${JSON.stringify(c)}:${columnJson(row[c], json.has(c))}`).join(',')}}`).join(',')}]`;
      const r = await this.#ctx.pool.query(
        `INSERT INTO ${t.sql} AS r (${list}) SELECT ${columns.map((c) => `d.${q(c)}`).join(', ')} FROM json_populate_recordset(NULL::${t.sql}, $1::json) AS d ${conflict}`,
        [payload],
      );
      return r.rowCount ?? 0;
    }
    let written = 0;
    for (const chunk of chunks(rows, Math.max(1, Math.floor(FALLBACK_CHUNK_PARAMS / columns.length)))) {
      const p = new Params();
      const values = chunk.map((row) => `(${columns.map((c) => p.add(bound(row[c], json.has(c)))).join(', ')})`).join(', ');
      written += (await this.#ctx.pool.query(`INSERT INTO ${t.sql} AS r (${list}) VALUES ${values} ${conflict}`, p.values)).rowCount ?? 0;
    }
    return written;
  }

  async #ensureBackup(f: PostgresFeatures, t: TableName, b: TableName, keys: readonly string[]): Promise<void> {
    if (this.#backups.has(b.sql)) return;
    const pk = `PRIMARY KEY (${keys.map(q).join(', ')})`;
    if (f.recordsets) {
      await this.#ctx.pool.query(`CREATE TABLE IF NOT EXISTS ${b.sql} (LIKE ${t.sql} INCLUDING DEFAULTS, ${pk})`);
    } else if (!(await this.#exists(b))) {
      // pg-mem rejects CREATE TABLE IF NOT EXISTS with a constraint when the table exists: look first.
      const columns = await this.#columnsOf(t, f);
      if (columns.length === 0) throw new DefinitionError(`postgres: table ${t.sql} not found on shard "${this.#ctx.shardId}"`, { code: ErrorCode.Config, shardId: this.#ctx.shardId, field: 'table' });
      await this.#ctx.pool.query(`CREATE TABLE IF NOT EXISTS ${b.sql} (${columns.map((c) => `${q(c.name)} ${c.type}`).join(', ')}, ${pk})`);
    }
    this.#backups.add(b.sql);
  }

  /** Columns of `t` (cached until {@link invalidate}); empty when the table does not exist. */
  #columnsOf(t: TableName, f: PostgresFeatures): Promise<Column[]> {
    let cached = this.#columns.get(t.sql);
    if (!cached) {
      cached = (async () => {
        if (f.recordsets) {
          const { rows } = await this.#ctx.pool.query<Column>(
            `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attcollation <> 0 AS collatable,
               (CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END) IN ('pg_catalog.json'::regtype, 'pg_catalog.jsonb'::regtype) AS json
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
             WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
            [t.regclass],
          );
          return rows;
        }
        const { rows } = await this.#ctx.pool.query<{ name: string; type: string }>(
          `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
          [t.schema, t.table],
        );
        return rows.map((r) => ({ ...r, collatable: false, json: r.type === 'json' || r.type === 'jsonb' }));
      })();
      this.#columns.set(t.sql, cached);
      cached.then((cols) => cols.length === 0 && this.#columns.delete(t.sql), () => this.#columns.delete(t.sql));
    }
    return cached;
  }

  async #clientChecksum(target: DataTarget, range: KeyRange | undefined): Promise<RangeChecksum> {
    const hash = new RowSetHash();
    const keys = keyColumns(target);
    let after = range?.after;
    for (;;) {
      const rows = await this.#scan(target, this.#table(target.name), { after, upTo: range?.upTo }, CHECKSUM_PAGE, target.filter);
      for (const row of rows) hash.add(row);
      if (rows.length < CHECKSUM_PAGE) break;
      after = keys.map((k) => rows.at(-1)![k]);
    }
    return { count: hash.count, hash: hash.digest() };
  }

  async #exists(t: TableName): Promise<boolean> {
    const { rows } = await this.#ctx.pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [t.schema, t.table]);
    return rows.length > 0;
  }

  #table(name: string): TableName {
    return tableName(name, this.#ctx.schema, 'table');
  }

  #backupTable(t: TableName, backup: string): TableName {
    assertIdentifier(backup, 'backup');
    return tableName(`${t.schema}.${backup}`, t.schema, 'backup');
  }
}

// -------------------------------------------------------------------------------------------------

function q(name: string): string {
  return `"${name}"`;
}

function keyColumns(target: DataTarget): readonly string[] {
  if (!target.key.length) throw new DefinitionError(`postgres: table "${target.name}" needs a key`, { code: ErrorCode.Config, field: 'key' });
  for (const k of target.key) assertIdentifier(k, 'key');
  return target.key;
}

function checkKey(value: KeyValue, keys: readonly string[]): KeyValue {
  if (value.length !== keys.length) {
    throw new DefinitionError(`postgres: key value has ${value.length} part(s), key (${keys.join(', ')}) has ${keys.length}`, { code: ErrorCode.Config, field: 'key' });
  }
  return value;
}

/** Union of the rows' columns, keys first, each validated. */
function rowColumns(rows: readonly Row[], keys: readonly string[]): string[] {
  const seen = new Set<string>(keys);
  for (const row of rows) for (const c of Object.keys(row)) seen.add(c);
  for (const c of seen) assertIdentifier(c, 'column');
  return [...seen];
}

/**
 * `exprs op values` on the key: a row-value comparison where the server has it, else the expanded
 * form `a > $1 OR (a = $1 AND b > $2)`.
 */
function compare(f: PostgresFeatures, exprs: readonly string[], value: KeyValue, op: '>' | '<=', p: Params): string {
  const params = value.map((v) => p.add(v));
  if (exprs.length === 1) return `${exprs[0]} ${op} ${params[0]}`;
  if (f.rowValues) return `(${exprs.join(', ')}) ${op} (${params.join(', ')})`;
  const strict = op === '>' ? '>' : '<';
  const parts = exprs.map((e, i) => {
    const eq = exprs.slice(0, i).map((x, j) => `${x} = ${params[j]}`);
    const last = i === exprs.length - 1 ? op : strict;
    return `(${[...eq, `${e} ${last} ${params[i]}`].join(' AND ')})`;
  });
  return `(${parts.join(' OR ')})`;
}

/**
 * The SET expression of a column in an upsert. node-postgres reads timestamps as JS `Date`s
 * (millisecond precision): keep the stored microseconds when the written value is the stored one
 * truncated to milliseconds, so an untouched timestamp survives a read-modify-write exactly.
 */
function preserveMicros(column: string, type: string | undefined): string {
  if (type === undefined || !/^timestamp/.test(type)) return `EXCLUDED.${q(column)}`;
  return `CASE WHEN date_trunc('milliseconds', r.${q(column)}) = EXCLUDED.${q(column)} THEN r.${q(column)} ELSE EXCLUDED.${q(column)} END`;
}

function* chunks<T>(items: readonly T[], size: number): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function hex64(sum: string): string {
  const n = ((BigInt(sum) % MOD64) + MOD64) % MOD64;
  return n.toString(16).padStart(16, '0');
}

/**
 * A column value as a bound parameter of the pg-mem fallback: a json/jsonb document as its JSON
 * text (a JS string would otherwise be sent bare and not parse as JSON); JS `null` is SQL NULL.
 */
function bound(value: unknown, json: boolean): unknown {
  if (value === undefined || value === null) return null;
  return json ? columnJson(value, true) : value;
}

/** A value as a bound parameter: `bigint` as text (node-postgres handles Date, Buffer, arrays, objects). */
function bindable(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
