/**
 * Preserved copies on a memory shard: the same contract as the PostgreSQL and MongoDB stores
 * (copies beside the target, a catalog collection, first-attempt copies kept on a retry), so that
 * host services can test a destructive migration's rollback without a server.
 */
import type { PreservedCopy, PreserveSaveOptions, PreserveStore, PreserveTarget, Row } from '../engine/spi.js';
import { PRESERVE_CATALOG, preserveCopyName } from '../definition/preserve.js';
import { ErrorCode, PreserveError } from '../errors/errors.js';
import { cloneValue } from '../util/clone.js';
import type { MemoryCollection } from './memory-collection.js';
import type { MemoryShard } from './memory-shard.js';

interface CatalogRow extends Row {
  copy: string;
  migrationId: string;
  target: string;
  columns: string[] | null;
  key: string[];
  rows: number;
  createdAt: string;
  complete: boolean;
}

export class MemoryPreserveStore implements PreserveStore {
  readonly #shard: () => MemoryShard;
  readonly #io: <T>(op: () => T) => Promise<T>;

  constructor(shard: () => MemoryShard, io: <T>(op: () => T) => Promise<T>) {
    this.#shard = shard;
    this.#io = io;
  }

  save(
    migrationId: string,
    targets: readonly PreserveTarget[],
    options: PreserveSaveOptions,
  ): Promise<PreservedCopy[]> {
    return this.#io(() => targets.map((t) => this.#saveOne(migrationId, t, options.reuse)));
  }

  restore(migrationId: string, targets: readonly PreserveTarget[]): Promise<number> {
    return this.#io(() => {
      // Check every copy first, so that a missing one changes nothing.
      const entries = targets.map((t) => this.#entry(migrationId, t));
      let n = 0;
      targets.forEach((t, i) => (n += this.#restoreOne(t, entries[i]!)));
      return n;
    });
  }

  drop(migrationId: string, targets?: readonly PreserveTarget[]): Promise<PreservedCopy[]> {
    return this.#io(() => {
      const names = targets ? new Set(targets.map((t) => preserveCopyName(migrationId, t))) : undefined;
      const rows = this.#catalog()
        .rows()
        .filter((r) => r.migrationId === migrationId && (!names || names.has(r.copy as string))) as CatalogRow[];
      for (const r of rows) {
        this.#shard().dropCollection(r.copy);
        this.#catalog().delete([[r.copy]]);
      }
      return rows.map(toCopy);
    });
  }

  list(): Promise<PreservedCopy[]> {
    return this.#io(() =>
      this.#shard().hasCollection(PRESERVE_CATALOG) ? (this.#catalog().rows() as CatalogRow[]).map(toCopy) : [],
    );
  }

  #catalog(): MemoryCollection {
    return this.#shard().collection(PRESERVE_CATALOG, ['copy']);
  }

  #saveOne(migrationId: string, target: PreserveTarget, reuse: boolean): PreservedCopy {
    const shard = this.#shard();
    const copy = preserveCopyName(migrationId, target);
    const existing = this.#catalog().get([copy]) as CatalogRow | undefined;
    // A retry keeps the first attempt's copy: that attempt's `up` may have destroyed part of the target.
    if (reuse && existing?.complete) return toCopy(existing);
    const present = this.#present(target);
    if (present !== true) {
      throw new PreserveError(
        ErrorCode.PreserveTarget,
        `Migration "${migrationId}": field "preserve": ${present} on shard "${shard.id}"; nothing was run`,
        {
          migrationId,
          shardId: shard.id,
          field: target.name,
        },
      );
    }
    const source = shard.collection(target.name);
    const keep = (row: Row): Row => (target.columns ? pick(row, [...source.key, ...target.columns]) : row);
    shard.dropCollection(copy);
    shard.collection(copy, source.key).upsert(source.rows().map(keep));
    const entry: CatalogRow = {
      copy,
      migrationId,
      target: target.name,
      columns: target.columns ? [...target.columns] : null,
      key: [...source.key],
      rows: source.size,
      createdAt: new Date().toISOString(),
      complete: true,
    };
    this.#catalog().upsert([entry]);
    return toCopy(entry);
  }

  /** `true`, or why the target cannot be copied. A column no row has counts as missing (a typo), unless the table is empty. */
  #present(target: PreserveTarget): true | string {
    const shard = this.#shard();
    if (!shard.hasCollection(target.name)) return `"${target.name}" does not exist`;
    const c = shard.collection(target.name);
    const rows = c.rows();
    for (const col of target.columns ?? []) {
      if (c.key.includes(col)) return `"${target.name}.${col}" is part of the key, which cannot be restored by key`;
      if (rows.length > 0 && !rows.some((r) => Object.hasOwn(r, col))) return `no row of "${target.name}" has "${col}"`;
    }
    return true;
  }

  #entry(migrationId: string, target: PreserveTarget): CatalogRow {
    const copy = preserveCopyName(migrationId, target);
    const entry = this.#catalog().get([copy]) as CatalogRow | undefined;
    if (!entry?.complete || !this.#shard().hasCollection(copy)) {
      throw new PreserveError(
        ErrorCode.PreserveMissing,
        `Rollback of "${migrationId}" on shard "${this.#shard().id}": the preserved copy of "${target.name}" is missing (purged?)`,
        {
          migrationId,
          shardId: this.#shard().id,
          field: target.name,
        },
      );
    }
    return entry;
  }

  #restoreOne(target: PreserveTarget, entry: CatalogRow): number {
    const shard = this.#shard();
    const saved = shard.collection(entry.copy, entry.key).rows();
    const into = shard.collection(target.name, entry.key);
    if (!target.columns) return into.upsert(saved);
    const columns = target.columns;
    return into.patch(
      saved.map((row) => ({
        key: entry.key.map((k) => row[k]),
        before: row,
        set: pick(row, columns),
        unset: columns.filter((c) => !Object.hasOwn(row, c)),
      })),
    );
  }
}

function pick(row: Row, fields: readonly string[]): Row {
  const out: Row = {};
  for (const f of fields) if (Object.hasOwn(row, f)) out[f] = cloneValue(row[f]);
  return out;
}

function toCopy(r: CatalogRow): PreservedCopy {
  return {
    migrationId: r.migrationId,
    target: r.target,
    columns: r.columns,
    copy: r.copy,
    rows: r.rows,
    createdAt: r.createdAt,
    complete: r.complete,
  };
}
