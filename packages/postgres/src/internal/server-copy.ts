/**
 * `PostgresServerCopy`: the `serverCopy` capability of `PostgresDataStore` — backups copied and
 * restored with `INSERT … SELECT` inside the server, so values the driver cannot represent exactly
 * in JS (timestamp microseconds, long numerics) are saved and brought back exactly, and only keys
 * travel. Internal: it reaches the store's tables through {@link BackupAccess}.
 */
import { DefinitionError, ErrorCode } from '@mcp/migrate-core/engine';
import type { DataTarget, KeyRange, KeyValue, Row, ServerCopy } from '@mcp/migrate-core/engine';
import type { Column } from './columns.js';
import type { TableName } from './identifiers.js';
import type { ShardContext } from './shard-context.js';
import { keepFirst, keyColumns, Params, q, upsertConflict } from './sql.js';
import { jsonValue } from './values.js';

/** What the copy needs of its data store. */
export interface BackupAccess {
  /** The table of `target`; a backup's lives in its source table's schema. */
  table(target: DataTarget): TableName;
  /** Columns of `t`; empty when the table does not exist. */
  columnsOf(t: TableName): Promise<Column[]>;
  /** ` WHERE …` for the filter and key range of `target`, or `''`. */
  where(target: DataTarget, range: KeyRange | undefined, p: Params): Promise<string>;
  scan(target: DataTarget, after: KeyValue | undefined, limit: number): Promise<Row[]>;
  /** Runs `save` into backup `target`, creating the table first. */
  intoBackup(target: DataTarget, save: () => Promise<number>): Promise<number>;
}

export class PostgresServerCopy implements ServerCopy {
  readonly #ctx: ShardContext;
  readonly #store: BackupAccess;

  constructor(ctx: ShardContext, store: BackupAccess) {
    this.#ctx = ctx;
    this.#store = store;
  }

  /**
   * Copies the stored rows of `from` with `keys` into backup `to` (`INSERT … SELECT … JOIN`).
   * Returns the keys sent (rows already saved are expected after a re-done batch).
   */
  async copy(from: DataTarget, to: DataTarget, keys: readonly KeyValue[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (!to.backupOf)
      throw new DefinitionError(
        `postgres: serverCopy.copy writes into a backup of "${from.name}", not into "${to.name}"`,
        { code: ErrorCode.Definition, field: 'backupOf' },
      );
    await this.#ctx.ready();
    const t = this.#store.table(from);
    const b = this.#store.table(to);
    const cols = keyColumns(from);
    const payload = JSON.stringify(keys.map((k) => Object.fromEntries(cols.map((c, i) => [c, jsonValue(k[i])]))));
    const on = cols.map((k) => `r.${q(k)} = d.${q(k)}`).join(' AND ');
    await this.#store.intoBackup(to, async () => {
      const columns = (await this.#store.columnsOf(b)).map((c) => q(c.name));
      return (
        (
          await this.#ctx.pool.query(
            `INSERT INTO ${b.sql} (${columns.join(', ')}) SELECT ${columns.map((c) => `r.${c}`).join(', ')}
         FROM ${t.sql} AS r JOIN jsonb_populate_recordset(NULL::${t.sql}, $1::jsonb) AS d ON ${on} ${keepFirst(cols)}`,
            [payload],
          )
        ).rowCount ?? 0
      );
    });
    return keys.length;
  }

  /**
   * Restores the next `limit` rows of backup `from` after `after` into `to` with one `INSERT …
   * SELECT … FROM backup ON CONFLICT DO UPDATE` in the server, so every value comes back exactly
   * as it was stored (timestamps keep their microseconds).
   */
  async restore(
    from: DataTarget,
    to: DataTarget,
    after: KeyValue | undefined,
    limit: number,
  ): Promise<{ restored: number; last: KeyValue | undefined }> {
    const page = await this.#store.scan(from, after, limit);
    if (page.length === 0) return { restored: 0, last: undefined };
    const t = this.#store.table(to);
    const b = this.#store.table(from);
    const keys = keyColumns(to);
    const last = keys.map((k) => page.at(-1)![k]);
    const p = new Params();
    const where = await this.#store.where(from, { after, upTo: last }, p);
    const columns = (await this.#store.columnsOf(b)).map((c) => c.name);
    const conflict = upsertConflict(
      keys,
      columns.filter((c) => !keys.includes(c)).map((c) => `${q(c)} = EXCLUDED.${q(c)}`),
    );
    const r = await this.#ctx.pool.query(
      `INSERT INTO ${t.sql} (${columns.map(q).join(', ')}) SELECT ${columns.map((c) => `r.${q(c)}`).join(', ')} FROM ${b.sql} AS r${where} ${conflict}`,
      p.values,
    );
    if ((r.rowCount ?? 0) !== page.length) {
      throw new Error(
        `restoring "${to.name}" from backup wrote ${r.rowCount ?? 0} of ${page.length} rows; refusing to continue`,
      );
    }
    return { restored: page.length, last };
  }
}
