/**
 * `PgMemDataStore`: the data store of a shard that turns out to be pg-mem (PostgreSQL emulated in
 * memory, for tests), as `PostgresDataStore` with what pg-mem lacks done otherwise
 * (see fallback-sql.ts): multi-row `VALUES`, one `UPDATE` per patch, expanded key comparisons,
 * backups created from the information schema, checksums computed in the client over what the
 * driver returns, and upserts that write the new value (pg-mem keeps milliseconds only).
 *
 * It has none of the capabilities: no row versions, so no compare-and-set (the batch engine writes
 * with `update`), no server-side copies (backups are written and restored through JS), no batch
 * writes in one statement and no server-side migrations. The shard's `capabilities` say so once it
 * is connected ({@link PG_MEM_CAPABILITIES}).
 */
import { RowSetHash } from '@mcp/migrate-core/engine';
import type {
  DataTarget,
  EngineCapabilities,
  KeyRange,
  KeyValue,
  RangeChecksum,
  Row,
  RowPatch,
  TargetInfo,
} from '@mcp/migrate-core/engine';
import { assertIdentifier, tableName, type TableName } from '../internal/identifiers.js';
import type { Column } from '../internal/columns.js';
import { keyColumns, q, type Params } from '../internal/sql.js';
import { PostgresDataStore } from '../postgres-data-store.js';
import type { PostgresFeatures } from '../internal/shard-context.js';
import {
  createTableFrom,
  deleteWhereKeys,
  expandedCompare,
  informationSchemaColumns,
  insertValues,
  inspectWithoutCatalog,
  tableExists,
  updateEach,
} from './fallback-sql.js';

/** Rows per page when a checksum reads a range through the driver. */
const CHECKSUM_PAGE = 5_000;

/** Whether the server of a shard is pg-mem: it has no record sets (a real PostgreSQL has them all). */
export const isPgMem = (features: PostgresFeatures): boolean => !features.recordsets;

/** What a pg-mem shard turns off of its engine's capabilities. */
export const PG_MEM_CAPABILITIES = {
  compareAndSet: false,
  serverCopy: false,
  serverUpdate: false,
  batchWrite: false,
} as const satisfies Partial<EngineCapabilities>;

export class PgMemDataStore extends PostgresDataStore {
  override readonly compareAndSet = undefined;
  override readonly serverCopy = undefined;
  override readonly batchWrite = undefined;

  override async inspect(target: DataTarget): Promise<TargetInfo> {
    await this.ctx.ready();
    target.key.forEach((k) => assertIdentifier(k, 'key'));
    return inspectWithoutCatalog(this.ctx.pool, tableName(target.name, this.ctx.schema, 'table'));
  }

  /** Rows without versions; a missing backup has no rows. */
  override async scan(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue): Promise<Row[]> {
    await this.ctx.ready();
    if (target.backupOf && !(await tableExists(this.ctx.pool, this.table(target)))) return [];
    return this.select(target, { after, upTo }, limit);
  }

  /** Core's `RowSetHash` in the client, which sees only what the driver returns. */
  override async checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum> {
    await this.ctx.ready();
    const hash = new RowSetHash();
    const keys = keyColumns(target);
    let after = range?.after;
    for (;;) {
      const rows = await this.select(target, { after, upTo: range?.upTo }, CHECKSUM_PAGE);
      for (const row of rows) hash.add(row);
      if (rows.length < CHECKSUM_PAGE) break;
      after = keys.map((k) => rows.at(-1)![k]);
    }
    return { count: hash.count, hash: hash.digest() };
  }

  protected override keyCompare(exprs: readonly string[], value: KeyValue, op: '>' | '<=', p: Params): string {
    return expandedCompare(exprs, value, op, p);
  }

  protected override upsertValue(column: string): string {
    return `EXCLUDED.${q(column)}`;
  }

  protected override async insertRows(
    t: TableName,
    columns: readonly string[],
    rows: readonly Row[],
    conflict: string,
  ): Promise<number> {
    return insertValues(this.ctx.pool, t, columns, rows, await this.jsonColumns(t), conflict);
  }

  protected override async updateGroup(target: DataTarget, patches: readonly RowPatch[]): Promise<RowPatch[]> {
    const t = this.table(target);
    return updateEach(
      this.ctx.pool,
      t,
      keyColumns(target),
      Object.keys(patches[0]!.set),
      await this.jsonColumns(t),
      patches,
    );
  }

  protected override deleteKeys(t: TableName, keys: readonly string[], values: readonly KeyValue[]): Promise<number> {
    return deleteWhereKeys(this.ctx.pool, t, keys, values);
  }

  protected override async createBackupTable(t: TableName, b: TableName, keys: readonly string[]): Promise<void> {
    await createTableFrom(this.ctx.pool, t, await this.columnsOf(t), b, keys, this.ctx.shardId);
  }

  protected override readColumns(t: TableName): Promise<Column[]> {
    return informationSchemaColumns(this.ctx.pool, t);
  }
}
