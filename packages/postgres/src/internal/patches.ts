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
  // Column lists seen (as the patches list them), checked once each, with their sorted signature.
  const checked = new Map<string, string>();
  // The usual batch: every patch changes the same columns, listed in the same order, and its rows
  // have the same kind of version; such a patch joins the previous one's group without a lookup.
  let previous: { columns: string[]; text: boolean; group: RowPatch[] } | undefined;
  for (const p of patches) {
    if (p.unset.length) {
      throw refuse(
        `the transform dropped column(s) ${p.unset.map((c) => JSON.stringify(c)).join(', ')} of table ${t.sql}; return every column (set one to null to clear it)`,
      );
    }
    const columns = Object.keys(p.set);
    const text = textVersion(p.before);
    if (previous && previous.text === text && sameList(previous.columns, columns)) {
      previous.group.push(p);
      continue;
    }
    const listed = columns.join('\0');
    let signature = checked.get(listed);
    if (signature === undefined) {
      for (const c of columns) {
        if (!names.has(c))
          throw refuse(
            `the transform returned column ${JSON.stringify(c).slice(0, 80)}, which table ${t.sql} does not have; nothing was written for this batch`,
          );
        assertIdentifier(c, 'column');
      }
      signature = [...columns].sort().join('\0');
      checked.set(listed, signature);
    }
    const sig = `${text ? 't' : 'b'}\0${signature}`;
    let group = groups.get(sig);
    if (group) group.push(p);
    else groups.set(sig, (group = [p]));
    previous = { columns, text, group };
  }
  return [...groups.values()];
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};
