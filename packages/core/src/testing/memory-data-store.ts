/**
 * `MemoryDataStore`: the `DataStore` of a memory shard. A target is a collection of the shard
 * (created on first use, keyed by the target's key); a backup is one more collection, where the
 * first copy of a row wins. Compare-and-set is optional (`memoryEngine({ compareAndSet: true })`),
 * as on an engine that can or cannot guard against concurrent writers.
 */
import type {
  BatchWrite,
  BatchWriteRequest,
  BatchWriteResult,
  CompareAndSet,
  Fence,
  LedgerRecord,
  DataStore,
  DataTarget,
  KeyRange,
  KeyValue,
  RangeChecksum,
  Row,
  RowPatch,
  ScanCursor,
  TargetInfo,
} from '../engine/spi.js';
import { assertBackupTarget } from '../data/backup.js';
import { RowSetHash } from '../util/row-set-hash.js';
import { typedEncode } from '../util/typed-encode.js';
import { evenSplits } from '../data/key-ranges.js';
import { sameValue } from '../util/same-value.js';
import type { MemoryCollection } from './memory-collection.js';
import { MemoryServerUpdate } from './memory-server-update.js';

/** What the data store needs of a memory shard (`MemoryShard` has it). */
export interface MemoryCollections {
  readonly id: string;
  collection(name: string, key?: readonly string[]): MemoryCollection;
  hasCollection(name: string): boolean;
  dropCollection(name: string): boolean;
}

/** Runs an operation as the shard would: after its latency, failing when the shard is unreachable. */
export type MemoryIo = <T>(op: () => T) => Promise<T>;

/** What a memory data store offers, and how it writes a checkpoint with a batch (`batchWrite`). */
export interface MemoryDataStoreOptions {
  readonly compareAndSet: boolean;
  /** Offer `batchWrite`, writing checkpoints with `putRecord` (which checks the fence, synchronously). */
  readonly batchWrite?:
    | {
        readonly putRecord: (record: LedgerRecord, fence: Fence) => void;
        /** The record as stored (a parallel run's range writes its element into it). */
        readonly getRecord: (id: string) => LedgerRecord | undefined;
      }
    | undefined;
  /** Offer `openScan`: a cursor that reads a snapshot at its first `next`. */
  readonly openScan?: boolean | undefined;
}

export class MemoryDataStore implements DataStore {
  readonly #shard: () => MemoryCollections;
  readonly #io: MemoryIo;
  readonly compareAndSet: CompareAndSet | undefined;
  /** `update` migrations with `$set`/`$unset`/`$inc` on top-level fields (see ./memory-server-update.ts). */
  readonly serverUpdate: MemoryServerUpdate;
  readonly batchWrite: BatchWrite | undefined;

  readonly openScan: ((target: DataTarget, after: KeyValue | undefined) => ScanCursor) | undefined;

  constructor(shard: () => MemoryCollections, io: MemoryIo, options: MemoryDataStoreOptions) {
    this.#shard = shard;
    this.#io = io;
    this.serverUpdate = new MemoryServerUpdate(shard, io);
    this.compareAndSet = options.compareAndSet
      ? { writeIfUnchanged: (t, patches) => this.#writeIfUnchanged(t, patches) }
      : undefined;
    const bw = options.batchWrite;
    this.batchWrite = bw
      ? { checkpoints: true, rangeCheckpoints: true, apply: (request) => this.#apply(request, bw) }
      : undefined;
    this.openScan = options.openScan ? (t, after) => this.#snapshotCursor(t, after) : undefined;
  }

  /**
   * A memory collection stores its rows by its own key, which is unique by construction; the data
   * store addresses rows by that key, so only that key (in its order) is a usable key here.
   */
  inspect(target: DataTarget): Promise<TargetInfo> {
    return this.#io(() => {
      const shard = this.#shard();
      if (!shard.hasCollection(target.name)) return { exists: false, uniqueKey: false };
      const own = shard.collection(target.name).key;
      return { exists: true, uniqueKey: own.length === target.key.length && own.every((k, i) => target.key[i] === k) };
    });
  }

  scan(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue): Promise<Row[]> {
    return this.#io(() => this.#collection(target).rows({ after, upTo }, target.filter, limit));
  }

  /** Every `count / parts`-th key (see `DataStore.splitKeys`). */
  splitKeys(target: DataTarget, parts: number): Promise<KeyValue[]> {
    return this.#io(() => {
      const keys = this.#collection(target)
        .rows({}, target.filter)
        .map((row) => target.key.map((k) => row[k]));
      return evenSplits(keys.length, parts).map((i) => keys[i]!);
    });
  }

  count(target: DataTarget, range?: KeyRange): Promise<number> {
    return this.#io(() => this.#collection(target).rows(range, target.filter).length);
  }

  /** Type-tagged, like the MongoDB adapter's: -0 and 0, 5 and 5n hash differently. */
  checksum(target: DataTarget, range?: KeyRange): Promise<RangeChecksum> {
    return this.#io(() => {
      const h = new RowSetHash(typedEncode);
      for (const row of this.#collection(target).rows(range, target.filter)) h.add(row);
      return { count: h.count, hash: h.digest() };
    });
  }

  /** Upserts by key; into a backup, inserts only rows not saved yet (returns those). */
  write(target: DataTarget, rows: readonly Row[]): Promise<number> {
    return this.#io(() =>
      target.backupOf ? this.#collection(target).insertMissing(rows) : this.#collection(target).upsert(rows),
    );
  }

  update(target: DataTarget, patches: readonly RowPatch[]): Promise<number> {
    return this.#io(() => this.#collection(target).patch(patches));
  }

  remove(target: DataTarget, keys: readonly KeyValue[]): Promise<number> {
    return this.#io(() => this.#collection(target).delete(keys));
  }

  drop(target: DataTarget): Promise<void> {
    return this.#io(() => {
      assertBackupTarget(target, this.#shard().id);
      this.#shard().dropCollection(target.name);
    });
  }

  #writeIfUnchanged(
    target: DataTarget,
    patches: readonly RowPatch[],
  ): Promise<{ written: number; conflicts: KeyValue[] }> {
    return this.#io(() => {
      const c = this.#collection(target);
      const conflicts: KeyValue[] = [];
      const ok: RowPatch[] = [];
      for (const p of patches) {
        const now = c.get(p.key);
        if (now && sameValue(now, p.before)) ok.push(p);
        else conflicts.push(p.key);
      }
      return { written: c.patch(ok), conflicts };
    });
  }

  /**
   * The whole batch in one operation (nothing else runs in between): every patch checked first,
   * and nothing written on a conflict; else the fence checked, the first copies saved, the
   * patches written and the checkpoint put.
   */
  #apply(
    request: BatchWriteRequest,
    { putRecord, getRecord }: NonNullable<MemoryDataStoreOptions['batchWrite']>,
  ): Promise<BatchWriteResult> {
    return this.#io(() => {
      const c = this.#collection(request.target);
      const conflicts: KeyValue[] = [];
      for (const p of request.patches) {
        const now = c.get(p.key);
        if (!now || (request.compareAndSet && !sameValue(now, p.before))) conflicts.push(p.key);
      }
      if (conflicts.length) return { written: 0, conflicts };
      const { checkpoint, backup } = request;
      // Refused before anything is written, as one statement would be.
      if (checkpoint) {
        const record =
          checkpoint.range === undefined
            ? checkpoint.record
            : withRange(getRecord(checkpoint.record.id), checkpoint.record, checkpoint.range);
        if (record) putRecord(record, checkpoint.fence);
      }
      if (backup) this.#collection(backup.target).insertMissing(backup.keys.map((k) => c.get(k)!));
      return { written: c.patch(request.patches), conflicts };
    });
  }

  /**
   * A cursor that reads a snapshot taken by its first `next` (as FerretDB's cursors and PostgreSQL's
   * server-side ones do): rows changed after that are seen only by a cursor opened later.
   */
  #snapshotCursor(target: DataTarget, after: KeyValue | undefined): ScanCursor {
    let snapshot: Row[] | undefined;
    let at = 0;
    let closed = false;
    return {
      next: (limit) =>
        this.#io(() => {
          if (closed) return [];
          snapshot ??= this.#collection(target).rows({ after }, target.filter);
          const rows = snapshot.slice(at, at + limit);
          at += rows.length;
          return rows;
        }),
      close: async () => {
        closed = true;
        snapshot = undefined;
      },
    };
  }

  #collection(target: DataTarget): MemoryCollection {
    return this.#shard().collection(target.name, target.key);
  }
}

/** `stored` with range `i` of `record`'s checkpoint in place of its own (see `BatchWrite.rangeCheckpoints`). */
function withRange(stored: LedgerRecord | undefined, record: LedgerRecord, i: number): LedgerRecord | undefined {
  const ranges = stored?.checkpoint?.ranges;
  const mine = record.checkpoint?.ranges?.[i];
  if (!stored?.checkpoint || !ranges || !mine) return undefined;
  const next = ranges.map((r, j) => (j === i ? mine : r));
  const sum = (f: 'read' | 'written' | 'skipped') => next.reduce((n, r) => n + r[f], 0);
  return {
    ...stored,
    checkpoint: { ...stored.checkpoint, ranges: next },
    counts: { ...stored.counts, read: sum('read'), written: sum('written'), skipped: sum('skipped') },
  };
}
