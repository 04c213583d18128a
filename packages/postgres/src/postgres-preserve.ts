/**
 * Preserved copies on a PostgreSQL shard, for schema migrations' `preserve`. Everything happens in
 * the server, so no value passes through JavaScript (timestamps keep their microseconds, numeric
 * its digits, jsonb its numbers, bytea its bytes):
 *
 * - a whole table is copied with `CREATE TABLE copy AS SELECT * FROM t` and restored with
 *   `INSERT INTO t (…) OVERRIDING SYSTEM VALUE SELECT … FROM copy` (serial/identity sequences are
 *   moved past the restored keys);
 * - columns are copied with the primary key (`CREATE TABLE copy AS SELECT pk…, col… FROM t`) and
 *   restored with `UPDATE t SET col = p.col FROM copy p WHERE t.pk = p.pk`.
 *
 * Copies live beside the table (same schema) under `preserveCopyName(migrationId, target)`, and a
 * catalog table (`mcp_preserved` in the adapter's schema) says which migration each belongs to. A
 * copy and its catalog row are written in one transaction, so a copy is never half taken.
 */
import type pg from 'pg';
import { ErrorCode, PRESERVE_CATALOG, PreserveError, preserveCopyName } from '@mcp/migrate-core/engine';
import type {
  PreservedCopy,
  PreserveRestoreOptions,
  PreserveSaveOptions,
  PreserveStore,
  PreserveTarget,
} from '@mcp/migrate-core/engine';
import { tableName, type TableName } from './internal/identifiers.js';
import { q } from './internal/sql.js';
import { sqlState } from './postgres-errors.js';
import {
  columnsOf,
  insertBack,
  primaryKey,
  toCopy,
  type CatalogRow,
  type PreservedColumn,
} from './internal/preserve-sql.js';
import { checkout, type ShardContext } from './internal/shard-context.js';

/** A pool or one client: both answer `query`. */
type Queryable = Pick<pg.ClientBase, 'query'>;

export class PostgresPreserveStore implements PreserveStore {
  readonly #ctx: ShardContext;
  readonly #catalog: string;
  #supported: Promise<boolean> | undefined;

  constructor(ctx: ShardContext) {
    this.#ctx = ctx;
    this.#catalog = `${q(ctx.schema)}.${q(PRESERVE_CATALOG)}`;
  }

  async save(
    migrationId: string,
    targets: readonly PreserveTarget[],
    options: PreserveSaveOptions,
  ): Promise<PreservedCopy[]> {
    await this.#ctx.ready();
    // One transaction for every target (the step's own when it runs in one): all copies or none.
    // Every query goes through that client: a small host pool must not wait for a second one.
    return this.#within(options.handle, async (client, inStep) => {
      await this.#assertSupported(client, migrationId);
      await this.#ensureCatalog(client);
      const out: PreservedCopy[] = [];
      for (const target of targets) {
        if (options.signal?.aborted)
          throw new PreserveError(
            ErrorCode.Aborted,
            `Preserving for "${migrationId}" on shard "${this.#ctx.shardId}" was aborted`,
            { migrationId, shardId: this.#ctx.shardId },
          );
        out.push(await this.#saveOne(client, migrationId, target, options.reuse, inStep));
      }
      return out;
    });
  }

  async restore(
    migrationId: string,
    targets: readonly PreserveTarget[],
    options: PreserveRestoreOptions = {},
  ): Promise<number> {
    await this.#ctx.ready();
    return this.#within(options.handle, async (client) => {
      await this.#assertSupported(client, migrationId);
      if (!(await this.#catalogExists(client)) && targets[0]) {
        throw new PreserveError(
          ErrorCode.PreserveMissing,
          `Rollback of "${migrationId}" on shard "${this.#ctx.shardId}": no preserved copy of "${targets[0].name}" exists (purged?)`,
          {
            migrationId,
            shardId: this.#ctx.shardId,
            field: targets[0].name,
          },
        );
      }
      let n = 0;
      for (const target of targets) {
        if (options.signal?.aborted)
          throw new PreserveError(
            ErrorCode.Aborted,
            `Restoring for "${migrationId}" on shard "${this.#ctx.shardId}" was aborted`,
            { migrationId, shardId: this.#ctx.shardId },
          );
        n += await this.#restoreOne(client, migrationId, target);
      }
      return n;
    });
  }

  async drop(migrationId: string, targets?: readonly PreserveTarget[]): Promise<PreservedCopy[]> {
    await this.#ctx.ready();
    if (!(await this.#probe(this.#ctx.pool)) || !(await this.#catalogExists(this.#ctx.pool))) return [];
    const names = targets?.map((t) => preserveCopyName(migrationId, t));
    return this.#transaction(async (client) => {
      const { rows } = await client.query<CatalogRow>(
        `DELETE FROM ${this.#catalog} WHERE migration_id = $1 AND ($2::text[] IS NULL OR copy_table = ANY($2::text[])) RETURNING *`,
        [migrationId, names ?? null],
      );
      for (const r of rows)
        await client.query(`DROP TABLE IF EXISTS ${this.#copyTable(r.copy_schema, r.copy_table).sql}`);
      return rows.map(toCopy);
    });
  }

  async list(): Promise<PreservedCopy[]> {
    await this.#ctx.ready();
    if (!(await this.#probe(this.#ctx.pool)) || !(await this.#catalogExists(this.#ctx.pool))) return [];
    const { rows } = await this.#ctx.pool.query<CatalogRow>(
      `SELECT * FROM ${this.#catalog} ORDER BY created_at, copy_table`,
    );
    return rows.map(toCopy);
  }

  // ---------------------------------------------------------------------------------------------

  async #saveOne(
    client: pg.ClientBase,
    migrationId: string,
    target: PreserveTarget,
    reuse: boolean,
    inStep: boolean,
  ): Promise<PreservedCopy> {
    const t = tableName(target.name, this.#ctx.schema, 'preserve');
    const copy = this.#copyTable(t.schema, preserveCopyName(migrationId, target));
    const existing = await this.#entry(client, copy);
    // A retry keeps the first attempt's copy: that attempt's `up` may have run in part (no transaction).
    if (reuse && existing) return toCopy(existing);
    const columns = await columnsOf(client, t);
    const problem = columns === null ? `table "${t.schema}.${t.table}" does not exist` : undefined;
    if (problem) throw this.#targetError(migrationId, target.name, problem);
    const key = await primaryKey(client, t);
    const kept = this.#checkColumns(migrationId, target, t, columns!, key);
    // In the step's transaction, writers wait from the copy until `up` commits: none is lost in between.
    if (inStep) await client.query(`LOCK TABLE ${t.sql} IN SHARE MODE`);
    await client.query(`DROP TABLE IF EXISTS ${copy.sql}`);
    const list = kept ? [...key, ...kept].map(q).join(', ') : '*';
    const created = await client.query(`CREATE TABLE ${copy.sql} AS SELECT ${list} FROM ${t.sql}`);
    if (kept) await client.query(`ALTER TABLE ${copy.sql} ADD PRIMARY KEY (${key.map(q).join(', ')})`);
    const { rows } = await client.query<CatalogRow>(
      `INSERT INTO ${this.#catalog} (copy_schema, copy_table, migration_id, target, columns, key, rows, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, now())
       ON CONFLICT (copy_schema, copy_table) DO UPDATE SET migration_id = EXCLUDED.migration_id, target = EXCLUDED.target,
         columns = EXCLUDED.columns, key = EXCLUDED.key, rows = EXCLUDED.rows, created_at = EXCLUDED.created_at
       RETURNING *`,
      [
        copy.schema,
        copy.table,
        migrationId,
        target.name,
        JSON.stringify(target.columns ?? null),
        JSON.stringify(key),
        created.rowCount ?? 0,
      ],
    );
    return toCopy(rows[0]!);
  }

  /** The columns to copy beside the key (`undefined` for the whole table), after checking they can be restored by key. */
  #checkColumns(
    migrationId: string,
    target: PreserveTarget,
    t: TableName,
    columns: readonly PreservedColumn[],
    key: readonly string[],
  ): readonly string[] | undefined {
    if (!target.columns) return undefined;
    if (key.length === 0)
      throw this.#targetError(
        migrationId,
        target.name,
        `table "${t.schema}.${t.table}" has no primary key to restore columns by`,
      );
    for (const c of target.columns) {
      if (!columns.some((x) => x.name === c))
        throw this.#targetError(
          migrationId,
          `${target.name}.${c}`,
          `column "${c}" of "${t.schema}.${t.table}" does not exist`,
        );
      if (key.includes(c))
        throw this.#targetError(
          migrationId,
          `${target.name}.${c}`,
          `column "${c}" is part of the primary key of "${t.schema}.${t.table}", which cannot be restored by key`,
        );
    }
    return target.columns;
  }

  async #restoreOne(client: pg.ClientBase, migrationId: string, target: PreserveTarget): Promise<number> {
    const t = tableName(target.name, this.#ctx.schema, 'preserve');
    const copy = this.#copyTable(t.schema, preserveCopyName(migrationId, target));
    const entry = await this.#entry(client, copy);
    const saved = entry ? await columnsOf(client, copy) : null;
    if (!entry || !saved) {
      throw new PreserveError(
        ErrorCode.PreserveMissing,
        `Rollback of "${migrationId}" on shard "${this.#ctx.shardId}": the preserved copy ${copy.schema}.${copy.table} of "${target.name}" is missing (purged?)`,
        {
          migrationId,
          shardId: this.#ctx.shardId,
          field: target.name,
        },
      );
    }
    const now = await columnsOf(client, t);
    if (!now)
      throw this.#restoreError(migrationId, target.name, `"down" did not recreate table "${t.schema}.${t.table}"`);
    for (const c of saved) {
      const there = now.find((x) => x.name === c.name);
      if (!there)
        throw this.#restoreError(
          migrationId,
          `${target.name}.${c.name}`,
          `"down" did not recreate column "${c.name}" of "${t.schema}.${t.table}"`,
        );
      if (there.type !== c.type)
        throw this.#restoreError(
          migrationId,
          `${target.name}.${c.name}`,
          `column "${c.name}" of "${t.schema}.${t.table}" is ${there.type} after "down" but ${c.type} in the copy; values would not come back exactly`,
        );
    }
    if (!target.columns)
      return insertBack(
        client,
        t,
        copy,
        saved.filter((c) => !now.find((x) => x.name === c.name)!.generated),
      );
    const set = target.columns.map((c) => `${q(c)} = p.${q(c)}`).join(', ');
    const on = entry.key.map((k) => `d.${q(k)} = p.${q(k)}`).join(' AND ');
    const r = await client.query(`UPDATE ${t.sql} AS d SET ${set} FROM ${copy.sql} AS p WHERE ${on}`);
    return r.rowCount ?? 0;
  }

  async #entry(client: pg.ClientBase, copy: TableName): Promise<CatalogRow | undefined> {
    const { rows } = await client.query<CatalogRow>(
      `SELECT c.* FROM ${this.#catalog} c WHERE c.copy_schema = $1 AND c.copy_table = $2 AND to_regclass($3) IS NOT NULL`,
      [copy.schema, copy.table, copy.sql],
    );
    return rows[0];
  }

  #copyTable(schema: string, table: string): TableName {
    return tableName(`${schema}.${table}`, schema, 'preserve');
  }

  #targetError(migrationId: string, field: string, problem: string): PreserveError {
    return new PreserveError(
      ErrorCode.PreserveTarget,
      `Migration "${migrationId}": field "preserve": ${problem} on shard "${this.#ctx.shardId}"; nothing was run`,
      {
        migrationId,
        shardId: this.#ctx.shardId,
        field,
      },
    );
  }

  #restoreError(migrationId: string, field: string, problem: string): PreserveError {
    return new PreserveError(
      ErrorCode.PreserveRestore,
      `Rollback of "${migrationId}" on shard "${this.#ctx.shardId}": ${problem}; the copy is kept`,
      {
        migrationId,
        shardId: this.#ctx.shardId,
        field,
      },
    );
  }

  /**
   * Whether the server has the catalog functions copies need (`to_regclass`, `format_type`,
   * `pg_get_serial_sequence`): a real PostgreSQL server does, pg-mem does not. Probed once.
   */
  #probe(db: Queryable): Promise<boolean> {
    if (this.#supported) return this.#supported;
    const probe = db
      .query(
        `SELECT to_regclass('pg_catalog.pg_class') IS NOT NULL AS a, format_type(23, -1) AS b, pg_get_serial_sequence('pg_catalog.pg_class', 'oid') AS c`,
      )
      .then(
        () => true,
        (error: unknown) => {
          // Only "no such function" (42883, or pg-mem's uncoded error) means unsupported; a lost connection is asked again.
          const state = sqlState(error);
          if (state !== undefined && state !== '42883') throw error;
          return false;
        },
      );
    this.#supported = probe;
    probe.catch(() => {
      if (this.#supported === probe) this.#supported = undefined;
    });
    return probe;
  }

  async #assertSupported(db: Queryable, migrationId: string): Promise<void> {
    if (await this.#probe(db)) return;
    throw new PreserveError(
      ErrorCode.PreserveUnsupported,
      `Migration "${migrationId}": field "preserve": shard "${this.#ctx.shardId}" cannot keep preserved copies (the server lacks to_regclass/format_type, e.g. pg-mem); nothing was run`,
      {
        migrationId,
        shardId: this.#ctx.shardId,
        field: 'preserve',
      },
    );
  }

  async #ensureCatalog(db: Queryable): Promise<void> {
    if (await this.#catalogExists(db)) return;
    await db.query(`CREATE TABLE IF NOT EXISTS ${this.#catalog} (
      copy_schema text NOT NULL, copy_table text NOT NULL, migration_id text NOT NULL, target text NOT NULL,
      columns jsonb, key jsonb NOT NULL, rows bigint NOT NULL, created_at timestamptz NOT NULL,
      PRIMARY KEY (copy_schema, copy_table))`);
  }

  async #catalogExists(db: Queryable): Promise<boolean> {
    const { rows } = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [this.#catalog]);
    return rows[0]!.ok;
  }

  /** Runs `fn` in the step's transaction (`handle`, the step's client), else in a transaction of its own. */
  async #within<T>(handle: unknown, fn: (client: pg.ClientBase, inStep: boolean) => Promise<T>): Promise<T> {
    if (handle !== undefined) return fn(handle as pg.ClientBase, true);
    return this.#transaction((client) => fn(client, false));
  }

  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const out = await checkout(this.#ctx.pool);
    const { client } = out;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      out.release();
    }
  }
}
