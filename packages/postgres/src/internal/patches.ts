/** Validating and grouping a batch's patches before they are written. Internal. */
import { DefinitionError, ErrorCode } from '@mcp/migrate-core/engine';
import type { DataTarget, Row, RowPatch } from '@mcp/migrate-core/engine';
import { assertIdentifier, type TableName } from './identifiers.js';

/**
 * `patches` grouped by their set of changed columns (and by whether their row has a text
 * version), so each group is one `UPDATE`. Refuses, naming the migration's field, a column table
 * `t` (whose columns are `names`) does not have, and a dropped column (PostgreSQL has no "absent column").
 */
export function groupPatches(
  target: DataTarget,
  t: TableName,
  names: ReadonlySet<string>,
  patches: readonly RowPatch[],
  shardId: string,
  textVersion: (row: Row) => boolean,
): RowPatch[][] {
  const refuse = (message: string) =>
    new DefinitionError(
      `Data migration${target.migrationId === undefined ? '' : ` "${target.migrationId}"`} on shard "${shardId}": ${message}`,
      {
        code: ErrorCode.Definition,
        migrationId: target.migrationId,
        shardId,
        field: 'transform',
      },
    );
  const groups = new Map<string, RowPatch[]>();
  for (const p of patches) {
    for (const c of Object.keys(p.set)) {
      if (!names.has(c))
        throw refuse(
          `the transform returned column ${JSON.stringify(c).slice(0, 80)}, which table ${t.sql} does not have; nothing was written for this batch`,
        );
      assertIdentifier(c, 'column');
    }
    if (p.unset.length) {
      throw refuse(
        `the transform dropped column(s) ${p.unset.map((c) => JSON.stringify(c)).join(', ')} of table ${t.sql}; return every column (set one to null to clear it)`,
      );
    }
    const sig = `${textVersion(p.before) ? 't' : 'b'}\0${Object.keys(p.set).sort().join('\0')}`;
    const g = groups.get(sig);
    if (g) g.push(p);
    else groups.set(sig, [p]);
  }
  return [...groups.values()];
}
