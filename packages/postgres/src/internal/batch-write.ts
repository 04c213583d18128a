/**
 * `PostgresBatchWrite`: the `batchWrite` capability of `PostgresDataStore` — a batch's backup,
 * compare-and-set write and checkpoint in ONE statement, so one round trip per batch:
 *
 * ```sql
 * WITH f  AS (SELECT 1 FROM fences WHERE lock_name = … AND token = … FOR SHARE),       -- checkpoint
 *      p0 AS MATERIALIZED (SELECT * FROM ROWS FROM (json_populate_recordset(NULL::t, $docs),
 *                             unnest($versions, $save, $index)) AS x(<t's columns>, v, s, i)),
 *      u0 AS (UPDATE t AS r SET <changed columns> = p.… FROM p0 AS p
 *             WHERE <key> = p.<key> AND <batch's key range> AND md5(record_send(r.*)) = p.v RETURNING p.i),
 *      b  AS (INSERT INTO backup SELECT r.<columns> FROM t AS r JOIN (<keys of p0 where s>) …
 *             ON CONFLICT (key) DO NOTHING),                                             -- backup
 *      w  AS (SELECT count(*) AS n FROM (SELECT i FROM u0 UNION ALL …) AS done),
 *      l  AS (INSERT INTO ledger … WHERE EXISTS (SELECT 1 FROM f) AND (SELECT n FROM w) = <patches>)
 *            -- a parallel run's range: UPDATE ledger SET checkpoint = jsonb_set(checkpoint, '{ranges,i}', …)
 * SELECT CASE WHEN <fence gone> OR w.n <> <patches> THEN (<marker text>)::integer END FROM w
 * ```
 *
 * - Every sub-statement sees the statement's snapshot: `b` copies each row as stored BEFORE `u0`
 *   changes it, so the backup gets the originals, exactly, server-side, first copy winning.
 * - New values go through each column's input function (`json_populate_recordset` over the table's
 *   own row type, `json` keeping a json column's text), one UPDATE per set of changed columns.
 * - A patch applies only where the row still has the version `scan` read beside it (row-version.ts).
 *   When one does not (changed, deleted), or the fence is no longer the newest, the final SELECT
 *   fails a cast of a marker text on purpose: the statement aborts and NOTHING of it stays — no
 *   copy, no update, no checkpoint. The marker names the first refused patch.
 * - `ROWS FROM (…, unnest(…))` tells the planner how many patches there are (a bare record set is
 *   guessed at 100), and the key range lets it read the batch's rows in one range scan and hash them.
 */
import { canonicalEncode, StaleLeaseError } from '@mcp/migrate-core/engine';
import type {
  BatchWrite,
  BatchWriteRequest,
  BatchWriteResult,
  DataTarget,
  KeyRange,
  Row,
  RowPatch,
} from '@mcp/migrate-core/engine';
import { sqlState } from '../postgres-errors.js';
import type { Column } from './columns.js';
import type { TableName } from './identifiers.js';
import { fenceRow, ledgerInsert, ledgerRangeUpdate } from './ledger-sql.js';
import { isTextVersion, ROW_VERSION, TEXT_VERSION } from './row-version.js';
import type { ShardContext } from './shard-context.js';
import { keepFirst, keyColumns, Params, q } from './sql.js';
import { columnJson } from './values.js';

/** What the batch write needs of its data store. */
export interface BatchWriteAccess {
  table(target: DataTarget): TableName;
  columnsOf(t: TableName): Promise<Column[]>;
  /** ` WHERE …` for the filter and key range of `target` on alias `r`, or `''`. */
  where(target: DataTarget, range: KeyRange | undefined, p: Params): Promise<string>;
  /** Runs `save` into backup `target`, creating the table first. */
  intoBackup(target: DataTarget, save: () => Promise<number>): Promise<number>;
  /** Patches grouped by their set of changed columns and version kind; refuses unknown and dropped columns. */
  groups(target: DataTarget, patches: readonly RowPatch[]): Promise<RowPatch[][]>;
  /** The version `scan` read beside `row`; refuses a row `scan` did not return. */
  versionOf(target: DataTarget, row: Row): string;
}

/** Marker of a refusal in the text the final SELECT fails to cast (SQLSTATE 22P02). */
const MARKER = 'mcp-migrate batch refused:';
/** Result columns of a patch set beside the table's columns: not plain identifiers, so no column clashes. */
const V = q('mcp-migrate v');
const S = q('mcp-migrate s');
const I = q('mcp-migrate i');

export class PostgresBatchWrite implements BatchWrite {
  readonly checkpoints = true;
  /** A parallel run's range writes its element of the checkpoint alone (`jsonb_set`, see internal/ledger-sql.ts). */
  readonly rangeCheckpoints = true;
  readonly #ctx: ShardContext;
  readonly #store: BatchWriteAccess;

  constructor(ctx: ShardContext, store: BatchWriteAccess) {
    this.#ctx = ctx;
    this.#store = store;
  }

  async apply(request: BatchWriteRequest): Promise<BatchWriteResult> {
    const { target, patches, backup } = request;
    if (patches.length === 0) return { written: 0, conflicts: [] };
    await this.#ctx.ready();
    const groups = await this.#store.groups(target, patches);
    const run = async () => {
      const p = new Params();
      const sql = await this.#statement(request, groups, p);
      await this.#ctx.pool.query(sql, p.values);
      return patches.length;
    };
    try {
      await (backup ? this.#store.intoBackup(backup.target, run) : run());
    } catch (error) {
      const refused = refusal(error);
      if (!refused) throw error;
      if (refused.stale) throw this.#stale(request);
      return { written: 0, conflicts: [patches[refused.at]!.key] };
    }
    return { written: patches.length, conflicts: [] };
  }

  /** The statement (see the module's comment). */
  async #statement(request: BatchWriteRequest, groups: readonly RowPatch[][], p: Params): Promise<string> {
    const { target, patches, backup, checkpoint } = request;
    const t = this.#store.table(target);
    const columns = await this.#store.columnsOf(t);
    const index = new Map(patches.map((patch, i) => [patch, i]));
    // The keys to save are the keys of patches: all of them, unless a re-done batch found copies.
    const all = backup !== undefined && backup.keys.length === patches.length;
    const save = all ? undefined : new Set(backup?.keys.map((k) => canonicalEncode(k)) ?? []);
    const saved = (patch: RowPatch) => save?.has(canonicalEncode(patch.key)) ?? true;
    const range = (await this.#store.where(target, request.range, p)).replace(/^ WHERE /, ' AND ');
    const ctes: string[] = [];
    if (checkpoint) ctes.push(`f AS (${fenceRow(this.#ctx.tables, checkpoint.fence, p)})`);
    groups.forEach((group, g) => {
      ctes.push(
        `p${g} AS MATERIALIZED (${this.#patchSet(t, columns, group, { index, saved, p, cas: request.compareAndSet, target })})`,
      );
      ctes.push(`u${g} AS (${this.#update(t, target, group, { g, range, cas: request.compareAndSet })})`);
    });
    if (backup) ctes.push(`b AS (${await this.#backup(t, backup.target, groups.length, range)})`);
    const done = groups.map((_, g) => `SELECT i FROM u${g}`).join(' UNION ALL ');
    ctes.push(`w AS (SELECT count(*) AS n FROM (${done}) AS done)`);
    const n = `${p.add(patches.length)}::bigint`;
    if (checkpoint) {
      const where = `EXISTS (SELECT 1 FROM f) AND (SELECT n FROM w) = ${n}`;
      // One range of a parallel run's checkpoint alone (see BatchWrite.rangeCheckpoints), else the whole record.
      const ledger =
        checkpoint.range === undefined
          ? ledgerInsert(this.#ctx.tables, checkpoint.record, where, p)
          : ledgerRangeUpdate(this.#ctx.tables, checkpoint.record, checkpoint.range, where, p);
      ctes.push(`l AS (${ledger})`);
    }
    const first = groups
      .map((_, g) => `SELECT ${I} AS i FROM p${g} WHERE ${I} NOT IN (SELECT i FROM u${g})`)
      .join(' UNION ALL ');
    const conflict = `WHEN w.n <> ${n} THEN ('${MARKER} conflict at ' || (SELECT min(i) FROM (${first}) AS c))::integer`;
    const stale = checkpoint
      ? `WHEN NOT EXISTS (SELECT 1 FROM f) THEN ('${MARKER} stale fence, ' || w.n)::integer `
      : '';
    return `WITH ${ctes.join(',\n')}\nSELECT CASE ${stale}${conflict} END AS refused FROM w`;
  }

  /** The patches of one group: `json_populate_recordset` of their new values beside version, save flag and index. */
  #patchSet(
    t: TableName,
    columns: readonly Column[],
    group: readonly RowPatch[],
    o: { index: Map<RowPatch, number>; saved: (p: RowPatch) => boolean; p: Params; cas: boolean; target: DataTarget },
  ): string {
    const keys = keyColumns(o.target).map((k) => `${JSON.stringify(k)}:`);
    const json = new Set(columns.filter((c) => c.json).map((c) => c.name));
    const set = Object.keys(group[0]!.set).map((c) => ({ c, name: `${JSON.stringify(c)}:`, json: json.has(c) }));
    let docs = '';
    for (const patch of group) {
      let doc = '';
      for (let j = 0; j < keys.length; j++) doc += `${j ? ',' : ''}${keys[j]}${columnJson(patch.key[j], false)}`;
      for (const { c, name, json } of set) doc += `,${name}${columnJson(patch.set[c], json)}`;
      docs += `${docs ? ',' : ''}{${doc}}`;
    }
    // Array literals written here rather than by the driver (which escapes element by element).
    const versions = o.cas
      ? group.map((patch) => arrayElement(this.#store.versionOf(o.target, patch.before))).join(',')
      : '';
    const flags = group.map((patch) => (o.saved(patch) ? 't' : 'f')).join(',');
    const indexes = group.map((patch) => o.index.get(patch)!).join(',');
    const names = [...columns.map((c) => q(c.name)), V, S, I].join(', ');
    const vs = o.cas ? `${o.p.add(`{${versions}}`)}::text[]` : `array_fill(NULL::text, ARRAY[${group.length}])`;
    return `SELECT * FROM ROWS FROM (json_populate_recordset(NULL::${t.sql}, ${o.p.add(`[${docs}]`)}::json),
      unnest(${vs}), unnest(${o.p.add(`{${flags}}`)}::boolean[]), unnest(${o.p.add(`{${indexes}}`)}::integer[])) AS x(${names})`;
  }

  /** The UPDATE of group `g`: its changed columns, by key, within the batch's range, guarded by the row version. */
  #update(
    t: TableName,
    target: DataTarget,
    group: readonly RowPatch[],
    o: { g: number; range: string; cas: boolean },
  ): string {
    const keys = keyColumns(target);
    const set = Object.keys(group[0]!.set);
    const version = isTextVersion(this.#store.versionOf(target, group[0]!.before)) ? TEXT_VERSION : ROW_VERSION;
    const guard = o.cas ? ` AND ${version} = p.${V}` : '';
    return `UPDATE ${t.sql} AS r SET ${set.map((c) => `${q(c)} = p.${q(c)}`).join(', ')}
      FROM p${o.g} AS p WHERE ${keys.map((k) => `r.${q(k)} = p.${q(k)}`).join(' AND ')}${o.range}${guard}
      RETURNING p.${I} AS i`;
  }

  /** The INSERT of the saved rows' originals into `backup`, as stored (the statement's snapshot). */
  async #backup(t: TableName, backup: DataTarget, groupCount: number, range: string): Promise<string> {
    const b = this.#store.table(backup);
    const keys = keyColumns(backup);
    const columns = (await this.#store.columnsOf(b)).map((c) => q(c.name));
    const rows = Array.from(
      { length: groupCount },
      (_, g) => `SELECT ${keys.map((k) => q(k)).join(', ')} FROM p${g} WHERE ${S}`,
    );
    return `INSERT INTO ${b.sql} (${columns.join(', ')}) SELECT ${columns.map((c) => `r.${c}`).join(', ')}
      FROM ${t.sql} AS r JOIN (${rows.join(' UNION ALL ')}) AS s ON ${keys.map((k) => `r.${q(k)} = s.${q(k)}`).join(' AND ')}${range.replace(/^ AND /, ' WHERE ')}
      ${keepFirst(keys)}`;
  }

  #stale(request: BatchWriteRequest): StaleLeaseError {
    const fence = request.checkpoint!.fence;
    return new StaleLeaseError(
      `Batch write of "${request.target.name}" with the checkpoint of "${request.checkpoint!.record.id}" on shard "${this.#ctx.shardId}" refused: fencing token ${fence.token} of lock "${fence.lockName}" is not the newest; nothing of the batch was written`,
      { shardId: this.#ctx.shardId },
    );
  }
}

/** A text as an element of an array literal: quoted, `"` and `\` escaped. */
const arrayElement = (text: string): string => `"${text.replace(/["\\]/g, '\\$&')}"`;

/** The refusal a batch statement aborted with on purpose, if `error` is one. */
function refusal(error: unknown): { stale: true } | { stale: false; at: number } | undefined {
  if (sqlState(error) !== '22P02') return undefined;
  const message = (error as { message?: unknown }).message;
  if (typeof message !== 'string' || !message.includes(MARKER)) return undefined;
  if (message.includes(`${MARKER} stale fence`)) return { stale: true };
  const at = /conflict at (\d+)/.exec(message);
  return at ? { stale: false, at: Number(at[1]) } : undefined;
}
