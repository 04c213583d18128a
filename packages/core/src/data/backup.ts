/**
 * Backups of a data migration: the originals of the rows it changes, saved in a table/collection
 * beside the target (`mcp_backup_<id>`), first copy winning, and restored by a rollback without
 * `reverse`. A backup is just another {@link DataTarget} (`backupOf` set), so the adapter's
 * `DataStore` verbs do the work; with the `serverCopy` capability the copies are made inside the
 * server, exactly.
 */
import type { DataTarget, KeyRange, KeyValue, Row, ShardAdapter } from '../engine/spi.js';
import { DefinitionError, ErrorCode } from '../errors/errors.js';
import { canonicalEncode } from '../util/canonical.js';
import type { ScanSession } from './scan-session.js';

/** Name of the backup table/collection of a migration: `mcp_backup_<id>` with non-word characters as `_`. */
export function backupName(migrationId: string): string {
  return `mcp_backup_${migrationId.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 63);
}

/** The backup of `target` for migration `migrationId`: same key, no filter, `backupOf` the target. */
export function backupTarget(target: DataTarget, migrationId: string): DataTarget {
  return { name: backupName(migrationId), key: target.key, migrationId, backupOf: target };
}

/**
 * Throws unless `target` is a backup. Adapters call it in `DataStore.drop`: the SDK never drops a
 * table or collection of the application.
 */
export function assertBackupTarget(
  target: DataTarget,
  shardId: string,
): asserts target is DataTarget & { readonly backupOf: DataTarget } {
  if (target.backupOf) return;
  throw new DefinitionError(
    `Refusing to drop "${target.name}" on shard "${shardId}": only backups (targets with "backupOf") are ever dropped`,
    {
      code: ErrorCode.Definition,
      migrationId: target.migrationId,
      shardId,
      field: 'backupOf',
    },
  );
}

const keyOf = (target: DataTarget, row: Row): KeyValue => target.key.map((k) => row[k]);

/** Saves the first copies of `rows` of `target` into `backup`: in the server where the shard can. */
export async function saveOriginals(
  shard: ShardAdapter,
  target: DataTarget,
  backup: DataTarget,
  rows: readonly Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const copy = shard.capabilities.serverCopy ? shard.data.serverCopy : undefined;
  if (copy)
    await copy.copy(
      target,
      backup,
      rows.map((row) => keyOf(target, row)),
    );
  else await shard.data.write(backup, rows);
}

/**
 * Saved originals of the rows in this batch. Backup keys in (after, last] are at most as many as the
 * batch's rows and are the smallest backup keys after `after`, so one page of that size holds them all.
 * `more`: the backup may hold rows after this batch too (the page was full, or held a key that is
 * not one of the batch's rows). `range.upTo`: a parallel run's key range ends there; the backup
 * rows of the ranges after it are not this one's.
 */
export async function savedOriginals(
  shard: ShardAdapter,
  backup: DataTarget,
  range: KeyRange,
  batch: readonly Row[],
): Promise<{ saved: Map<string, Row>; more: boolean }> {
  const { after, upTo } = range;
  const inBatch = new Set(batch.map((row) => canonicalEncode(keyOf(backup, row))));
  const saved = new Map<string, Row>();
  const page = await shard.data.scan(backup, after, batch.length, upTo);
  for (const row of page) {
    const id = canonicalEncode(keyOf(backup, row));
    if (inBatch.has(id)) saved.set(id, row);
  }
  return { saved, more: page.length === batch.length || saved.size < page.length };
}

/** {@link savedOriginals} without `more`. */
export async function originals(
  shard: ShardAdapter,
  backup: DataTarget,
  after: KeyValue | undefined,
  batch: readonly Row[],
): Promise<Map<string, Row>> {
  return (await savedOriginals(shard, backup, { after }, batch)).saved;
}

/**
 * The saved originals of a forward run's batches, read only while the backup may hold some at or
 * after the batch: a batch re-done after a crash, or after a conflict that left copies ahead of
 * the checkpoint, or a run restarted over an older attempt's backup. A batch written and
 * checkpointed in order adds copies only behind the checkpoint, so once a read finds none ahead,
 * the following batches read none (no round trip), until a conflict says otherwise.
 */
export class OriginalsReader {
  readonly #shard: ShardAdapter;
  readonly #backup: DataTarget;
  /** A parallel run's range: only its backup rows count (the other ranges save theirs ahead of it). */
  readonly #to: KeyValue | undefined;
  /** The backup may hold rows after the next batch's `after` (unknown until the first read). */
  #maybe = true;
  /** Conflicts so far: a read that a conflict overtook does not clear {@link #maybe}. */
  #conflicts = 0;

  constructor(shard: ShardAdapter, backup: DataTarget, to?: KeyValue) {
    this.#shard = shard;
    this.#backup = backup;
    this.#to = to;
  }

  /** The saved originals of `batch` (the rows after `after`), by canonical key. */
  async of(after: KeyValue | undefined, batch: readonly Row[]): Promise<Map<string, Row>> {
    if (!this.#maybe || batch.length === 0) return new Map();
    const conflicts = this.#conflicts;
    const { saved, more } = await savedOriginals(this.#shard, this.#backup, { after, upTo: this.#to }, batch);
    if (conflicts === this.#conflicts) this.#maybe = more;
    return saved;
  }

  /** A conflict: the batch engine may have saved copies of rows it reads again. */
  conflicted(): void {
    this.#maybe = true;
    this.#conflicts++;
  }
}

/** One batch of a data migration: the next `size` rows of `target` after `after`, and its backup. */
export interface BatchWindow {
  readonly target: DataTarget;
  /** The migration's backup (its name also when the run keeps none: a rollback drops it). */
  readonly backup: DataTarget;
  /** Whether this run saves originals into `backup` (`backup: false` may turn it off). */
  readonly keepsBackup: boolean;
  readonly after: KeyValue | undefined;
  readonly size: number;
  /** Inclusive upper bound of the keys read (a parallel run's range); `undefined`: none. */
  readonly to?: KeyValue | undefined;
}

/**
 * Restores the next `size` saved originals after `after` into `target`: in the server where the
 * shard can (values the driver cannot carry come back exactly), else read and written back.
 * `written` is what the adapter reports, for the batch engine to check against `read`.
 */
export async function restoreOriginals(
  shard: ShardAdapter,
  window: Pick<BatchWindow, 'target' | 'backup' | 'after' | 'size'> & { readonly scan?: ScanSession | undefined },
): Promise<{ read: number; written: number; last: KeyValue | undefined; done: boolean }> {
  const { target, backup, after, size, scan } = window;
  const copy = shard.capabilities.serverCopy ? shard.data.serverCopy : undefined;
  if (copy) {
    const { restored, last } = await copy.restore(backup, target, after, size);
    return { read: restored, written: restored, last, done: restored < size };
  }
  // Through the loop's reader of the backup; without one, a keyset page.
  const reader = scan ? await scan.at(after) : undefined;
  const saved = reader ? await reader.read(size) : await shard.data.scan(backup, after, size);
  if (saved.length === 0) return { read: 0, written: 0, last: undefined, done: true };
  const written = await shard.data.write(target, saved);
  const done = reader ? reader.done : saved.length < size;
  return { read: saved.length, written, last: keyOf(target, saved.at(-1)!), done };
}
