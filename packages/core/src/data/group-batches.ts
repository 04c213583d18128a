/**
 * Grouped batches: the batches of a data migration declared with `groupBy` (a prefix of its key).
 * A group is the rows that share their `groupBy` values; they are contiguous in key order, and
 * `transformGroup`/`reverseGroup` receive all of them at once.
 *
 * Rules: a batch never splits a group. The batch reads one row more than its size; when that row
 * continues the batch's last group, the batch ends before that group (read again next time), or,
 * when the group is the batch's only one, the batch reads on to the group's end, however long
 * (a group is held in memory whole). So checkpoints fall on group boundaries and a crash re-does
 * whole groups. A group transform returns the group's rows with the same keys (changed non-key
 * fields only): a row added, dropped or re-keyed fails the step, naming the group.
 *
 * The per-row guarantees hold per group: backups keep the first copy of a row; a re-done group is
 * transformed again from its saved originals (rows without a saved copy as they are now), and a
 * row that already holds the result counts as done earlier; with compare-and-set, a conflict ends
 * the batch at the start of the conflicting row's group, which is read again whole.
 */
import type { DataTarget, KeyValue, Row, RowPatch } from '../engine/spi.js';
import { MigrationFailedError } from '../errors/errors.js';
import { describeRow } from '../errors/classify.js';
import type { GroupedDataMigration, GroupTransformFn } from '../definition/migration.js';
import { canonicalEncode, looseCanonicalEncode } from '../util/canonical.js';
import { cloneValue } from '../util/clone.js';
import { sameValue } from '../util/same-value.js';
import {
  keyOf,
  nothingLeft,
  patchOf,
  type Batch,
  type BatchResult,
  type BatchRunInput,
  type BatchSpan,
  type Page,
  type PreparedBatch,
} from './batch-step.js';
import { writeBatch } from './write-batch.js';
import { boundedPage, writeReversed } from './reverse-batches.js';

const idOf = (target: DataTarget, row: Row): string => canonicalEncode(keyOf(target, row));
const groupValues = (groupBy: readonly string[], row: Row): KeyValue => groupBy.map((f) => row[f]);
const groupIdOf = (groupBy: readonly string[], row: Row): string => canonicalEncode(groupValues(groupBy, row));

/** How messages name a group: `group (tenant_id) ["t1"]`. */
export function describeGroup(groupBy: readonly string[], values: KeyValue): string {
  return `group (${groupBy.join(', ')}) ${describeRow(values).slice('row '.length)}`;
}

/** The grouped migration of a batch (the batch engine calls these only for one). */
const grouped = (input: BatchRunInput) => input.migration as GroupedDataMigration;

/**
 * The whole groups after `after`: at most `size` rows (fewer once their size passes the byte
 * bound), unless the first group alone is longer (then exactly that group). `done` when nothing is
 * left after them. Reads one row past the batch to see whether its last group goes on; rows read
 * past the batch are put back for the next one.
 */
export async function readGroups(
  input: BatchRunInput,
  window: Pick<BatchSpan, 'after' | 'size' | 'scan'>,
): Promise<Page> {
  const { size } = window;
  const reader = await window.scan.at(window.after);
  const { groupBy } = grouped(input);
  const rows = await reader.read(size + 1);
  if (rows.length === 0) return { rows, done: true };
  // The row after the batch: read with it unless the byte bound cut the read short.
  const next = rows.length > size ? rows.pop() : (await reader.read(1))[0];
  if (next === undefined) return { rows, done: true };
  const lastGroup = groupIdOf(groupBy, rows.at(-1)!);
  if (groupIdOf(groupBy, next) !== lastGroup) {
    reader.unread([next]);
    return { rows, done: false };
  }
  // The last group goes on past the batch: end the batch before it, or read on to its end when it is the batch's only group.
  let start = rows.length - 1;
  while (start > 0 && groupIdOf(groupBy, rows[start - 1]!) === lastGroup) start--;
  if (start > 0) {
    reader.unread([...rows.slice(start), next]);
    return { rows: rows.slice(0, start), done: false };
  }
  rows.push(next);
  for (;;) {
    const more = await reader.read(size + 1);
    const end = more.findIndex((row) => groupIdOf(groupBy, row) !== lastGroup);
    if (end >= 0) {
      reader.unread(more.slice(end));
      return { rows: [...rows, ...more.slice(0, end)], done: false };
    }
    rows.push(...more);
    if (reader.done) return { rows, done: true };
  }
}

/** `rows` (whole groups, in key order) cut into their groups. */
function groupsOf(groupBy: readonly string[], rows: readonly Row[]): Row[][] {
  const out: Row[][] = [];
  let id: string | undefined;
  for (const row of rows) {
    const next = groupIdOf(groupBy, row);
    if (next !== id) out.push([]);
    id = next;
    out.at(-1)!.push(row);
  }
  return out;
}

/** `transformGroup` over whole groups: read and transform each group; `commit` backs up and writes (see the module's rules). */
export async function prepareGroups(input: BatchRunInput, span: BatchSpan): Promise<PreparedBatch> {
  const { target, after } = span;
  const m = grouped(input);
  const { rows: current, done } = await readGroups(input, span);
  if (current.length === 0) return nothingLeft;
  // A batch re-done after a crash finds some of its rows already backed up (and maybe written).
  const saved = await span.originals.of(after, current);
  const changed: RowPatch[] = [];
  const firstCopies: Row[] = [];
  const earlier = new Set<string>();
  for (const group of groupsOf(m.groupBy, current)) {
    // A re-done group is transformed from its originals, never from this migration's own output.
    const next = await applyGroup(
      m.transformGroup,
      group.map((row) => saved.get(idOf(target, row)) ?? row),
      input,
      target,
    );
    if (!next) continue;
    for (const row of group) {
      const id = idOf(target, row);
      const original = saved.get(id);
      const out = next.get(id)!;
      // Compared loosely, as a re-done row batch does: drivers read some types back differently.
      if (original && looseCanonicalEncode(out) === looseCanonicalEncode(row)) {
        earlier.add(id);
        continue;
      }
      const patch = patchOf(target, row, out);
      if (!patch) continue;
      if (!original) firstCopies.push(row);
      changed.push(patch);
    }
  }
  // On a conflict, everything before the conflicting row's group is done; that group is read again whole.
  const cut = groupCut(m.groupBy, current);
  return {
    last: keyOf(target, current.at(-1)!),
    done,
    commit: (batch) => writeBatch(input, batch, current, { changed, earlier, firstCopies, done, cut }),
  };
}

/**
 * `reverseGroup` over whole groups. Of a migration that never completed, only the groups with rows
 * the forward run changed are reversed, and only those rows are written (the backup tells which;
 * without one, the groups up to the last key the run checkpointed, see reverse-batches.ts).
 */
export async function reverseGroupBatch(input: BatchRunInput, batch: Batch): Promise<BatchResult> {
  const { target, after } = batch;
  const m = grouped(input);
  const { rows: current, done } = await boundedPage(input, batch, () => readGroups(input, batch));
  if (current.length === 0) return { rows: { read: 0, written: 0 }, last: undefined, done: true };
  const partial = input.record.state !== 'applied' && batch.upTo === undefined;
  const saved = partial ? await batch.originals.of(after, current) : undefined;
  const changed: RowPatch[] = [];
  for (const group of groupsOf(m.groupBy, current)) {
    const touched = saved
      ? group.filter((row) => {
          const original = saved.get(idOf(target, row));
          return original !== undefined && !sameValue(original, row);
        })
      : group;
    if (touched.length === 0) continue;
    const prev = await applyGroup(m.reverseGroup!, group, input, target);
    if (!prev) continue;
    for (const row of touched) {
      const patch = patchOf(target, row, prev.get(idOf(target, row))!);
      if (patch) changed.push(patch);
    }
  }
  return writeReversed(input, batch, current, { changed, done, cut: groupCut(m.groupBy, current) });
}

/** Where a conflict at row `at` cuts a batch of whole groups: at the start of that row's group. */
const groupCut =
  (groupBy: readonly string[], current: readonly Row[]) =>
  (at: number): number => {
    const id = groupIdOf(groupBy, current[at]!);
    return current.findIndex((row) => groupIdOf(groupBy, row) === id);
  };

/**
 * Runs a group transform on (copies of) `rows`, one whole group: its output rows by canonical key,
 * or `null` when it leaves the group. Refuses anything but the group's rows with the same keys.
 */
async function applyGroup(
  fn: GroupTransformFn,
  rows: readonly Row[],
  input: BatchRunInput,
  target: DataTarget,
): Promise<Map<string, Row> | null> {
  const { migration: m, shard } = input;
  const groupBy = grouped(input).groupBy;
  const which = input.direction === 'up' ? 'transformGroup' : 'reverseGroup';
  const values = groupValues(groupBy, rows[0]!);
  const subject = `Data migration "${m.id}" on shard "${shard.id}": ${which} for ${describeGroup(groupBy, values)}`;
  const fail = (why: string, cause?: unknown): never => {
    throw new MigrationFailedError(`${subject} ${why}`, { migrationId: m.id, shardId: shard.id, field: which, cause });
  };
  let out: readonly Row[] | null | undefined;
  try {
    const group = Object.fromEntries(groupBy.map((f, i) => [f, cloneValue(values[i])]));
    out = await fn(cloneValue(rows), { shard: input.descriptor, migrationId: m.id, group });
  } catch (error) {
    return fail(`threw: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (out === null || out === undefined) return null;
  if (!Array.isArray(out)) return fail(`must return the group's rows (an array) or null, got ${typeof out}`);
  const byId = new Map<string, Row>();
  for (const row of out as unknown[]) {
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      return fail(`returned ${Array.isArray(row) ? 'an array' : typeof row} where a row belongs`);
    const id = idOf(target, row as Row);
    if (byId.has(id)) return fail(`returned ${describeRow(keyOf(target, row as Row))} twice`);
    byId.set(id, row as Row);
  }
  const expected = new Set(rows.map((row) => idOf(target, row)));
  const added = out.filter((row) => !expected.has(idOf(target, row)));
  const dropped = rows.filter((row) => !byId.has(idOf(target, row)));
  if (added.length || dropped.length) {
    const list = (rs: readonly Row[]) =>
      rs
        .slice(0, 3)
        .map((row) => describeRow(keyOf(target, row)))
        .join(', ') + (rs.length > 3 ? `, … (${rs.length})` : '');
    fail(
      `returned ${out.length} row(s) for a group of ${rows.length}` +
        (added.length ? `; not in the group: ${list(added)}` : '') +
        (dropped.length ? `; missing: ${list(dropped)}` : '') +
        `. A grouped transform changes the group's rows in place (same keys: ${target.key.join(', ')}); it cannot add, drop or re-key rows`,
    );
  }
  return byId;
}
