/**
 * A table/collection held in memory: rows by key, with a lazily sorted key index so that keyset
 * scans are a binary search, not a sort per batch. Rows are copied in and out, so a caller that
 * mutates what it got cannot change stored data behind the SDK's back.
 */
import type { KeyRange, KeyValue, Row, RowPatch } from '../engine/spi.js';
import { canonicalEncode } from '../util/canonical.js';
import { compareKeys } from '../engine/key-order.js';
import { cloneValue } from '../util/clone.js';

export class MemoryCollection {
  readonly name: string;
  readonly key: readonly string[];
  readonly #rows = new Map<string, { key: KeyValue; row: Row }>();
  #sorted: { id: string; key: KeyValue }[] | null = null;
  /** Index definitions created through the handle (name → fields), for schema-step tests. */
  readonly indexes = new Map<string, { fields: readonly string[]; unique: boolean }>();

  constructor(name: string, key: readonly string[]) {
    this.name = name;
    this.key = key;
  }

  get size(): number {
    return this.#rows.size;
  }

  keyOf(row: Row): KeyValue {
    return this.key.map((k) => row[k]);
  }

  /** Inserts or replaces rows by key. */
  upsert(rows: Iterable<Row>): number {
    let n = 0;
    for (const row of rows) {
      const key = this.keyOf(row);
      const id = canonicalEncode(key);
      if (!this.#rows.has(id)) this.#sorted = null;
      this.#rows.set(id, { key, row: cloneValue(row) });
      n++;
    }
    return n;
  }

  /**
   * Applies patches by key: sets the changed fields and removes the dropped ones, leaving every
   * other field as stored. A key no longer present is skipped. Returns rows changed.
   */
  patch(patches: Iterable<RowPatch>): number {
    let n = 0;
    for (const p of patches) {
      const hit = this.#rows.get(canonicalEncode(p.key));
      if (!hit) continue;
      const row = { ...hit.row, ...cloneValue(p.set) };
      for (const f of p.unset) delete row[f];
      hit.row = row;
      n++;
    }
    return n;
  }

  /** Inserts rows whose key is absent; keeps existing ones. Returns rows inserted. */
  insertMissing(rows: Iterable<Row>): number {
    let n = 0;
    for (const row of rows) {
      const id = canonicalEncode(this.keyOf(row));
      if (this.#rows.has(id)) continue;
      this.upsert([row]);
      n++;
    }
    return n;
  }

  get(key: KeyValue): Row | undefined {
    const hit = this.#rows.get(canonicalEncode(key));
    return hit && cloneValue(hit.row);
  }

  delete(keys: Iterable<KeyValue>): number {
    let n = 0;
    for (const key of keys) if (this.#rows.delete(canonicalEncode(key))) n++;
    if (n) this.#sorted = null;
    return n;
  }

  /** Rows in key order, copied. */
  rows(range: KeyRange = {}, filter?: Readonly<Record<string, unknown>>, limit = Infinity): Row[] {
    const index = this.#index();
    let i = range.after ? upperBound(index, range.after) : 0;
    const out: Row[] = [];
    for (; i < index.length && out.length < limit; i++) {
      const entry = index[i]!;
      if (range.upTo && compareKeys(entry.key, range.upTo) > 0) break;
      const row = this.#rows.get(entry.id)!.row;
      if (filter && !matches(row, filter)) continue;
      out.push(cloneValue(row));
    }
    return out;
  }

  /** Applies `fn` to every row in place (schema-step helpers such as "add a column with a default"). */
  update(fn: (row: Row) => Row | void): number {
    let n = 0;
    for (const entry of this.#rows.values()) {
      const next = fn(entry.row);
      if (next) entry.row = next;
      n++;
    }
    return n;
  }

  clear(): void {
    this.#rows.clear();
    this.#sorted = null;
  }

  #index(): { id: string; key: KeyValue }[] {
    if (!this.#sorted) {
      this.#sorted = [...this.#rows].map(([id, v]) => ({ id, key: v.key })).sort((a, b) => compareKeys(a.key, b.key));
    }
    return this.#sorted;
  }
}

function matches(row: Row, filter: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(filter).every(([k, v]) => canonicalEncode(row[k]) === canonicalEncode(v));
}

/** First index whose key is strictly greater than `after`. */
function upperBound(index: readonly { key: KeyValue }[], after: KeyValue): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(index[mid]!.key, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
