/**
 * Rollback batches of a data migration that transforms one row at a time: `reverse` on the rows
 * the forward run changed, or the saved originals written back from the backup.
 *
 * Which rows the forward run changed: all of them once it completed (`applied`). Of a run that did
 * not complete, the rows it saved a copy of and changed (the backup tells); or, when it kept no
 * backup (`backup: false`), the rows up to the last key it checkpointed (`batch.upTo`): its batches
 * were written with their checkpoints atomically, so none after it was touched.
 */
import type { KeyValue, Row, RowPatch } from '../engine/spi.js';
import { canonicalEncode } from '../util/canonical.js';
import { sameValue } from '../util/same-value.js';
import { apply } from './apply-transform.js';
import { restoreOriginals } from './backup.js';
import {
  checkWritten,
  keyOf,
  patchOf,
  type Batch,
  type BatchResult,
  type BatchRunInput,
  type BatchWriteInput,
  type Page,
} from './batch-step.js';
import { writeBatch } from './write-batch.js';

/** `reverse` (or the backup, without one) over the next batch. */
export async function downBatch(input: BatchRunInput, batch: Batch): Promise<BatchResult> {
  const { target, after, size } = batch;
  const { shard, migration: m } = input;
  if (m.reverse) {
    const { rows: current, done } = await boundedPage(input, batch, async () => {
      const reader = await batch.scan.at(after);
      const rows = await reader.read(size);
      return { rows, done: reader.done };
    });
    if (current.length === 0) return { rows: { read: 0, written: 0 }, last: undefined, done: true };
    // A migration that never completed and kept a backup transformed only the rows it saved a copy
    // of (and maybe not all of those): `reverse` must not run on rows the forward run never changed.
    const partial = input.record.state !== 'applied' && batch.upTo === undefined;
    const saved = partial ? await batch.originals.of(after, current) : undefined;
    const changed: RowPatch[] = [];
    for (const row of current) {
      if (saved) {
        const original = saved.get(canonicalEncode(keyOf(target, row)));
        if (!original || sameValue(original, row)) continue;
      }
      const prev = await apply(m.reverse, row, input, target);
      const patch = prev === null ? null : patchOf(target, row, prev);
      if (patch) changed.push(patch);
    }
    return writeReversed(input, batch, current, { changed, done, cut: (at) => at });
  }
  const restored = await restoreOriginals(shard, batch);
  if (restored.last === undefined) return { rows: { read: 0, written: 0 }, last: undefined, done: true };
  checkWritten(input, restored.written, restored.read);
  return { rows: { read: restored.read, written: restored.written }, last: restored.last, done: restored.done };
}

/**
 * Writes a rollback batch as a forward one is written (write-batch.ts): compare-and-set where the
 * shard has it, and with its checkpoint in one atomic step where it has `batchWrite`, so that a
 * crash never leaves a batch reversed without its checkpoint (it would be reversed twice). Nothing
 * is saved into the backup.
 */
export function writeReversed(
  input: BatchRunInput,
  batch: Batch,
  current: readonly Row[],
  changes: Pick<BatchWriteInput, 'changed' | 'done' | 'cut'>,
): Promise<BatchResult> {
  return writeBatch(input, { ...batch, keepsBackup: false }, current, {
    ...changes,
    earlier: new Set(),
    firstCopies: [],
  });
}

/**
 * The next page of a rollback, read with `read()`. With `batch.upTo` (see the module's comment),
 * only its rows up to that key, counted in the server (`count` over the key range) so that no key
 * is compared in JavaScript; `done` once the page reaches it.
 */
export async function boundedPage(input: BatchRunInput, batch: Batch, read: () => Promise<Page>): Promise<Page> {
  const { target, after, upTo } = batch;
  if (upTo === null) return { rows: [], done: true };
  const page = await read();
  if (upTo === undefined) return page;
  const within = await input.shard.data.count(target, { after, upTo: upTo as KeyValue });
  if (within <= page.rows.length) return { rows: page.rows.slice(0, within), done: true };
  return page;
}
