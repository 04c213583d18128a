/**
 * Data verification: compare a table/collection on two sides (before/after copies, source/target of
 * a move, two shards) by counts and order-independent checksums per key range, and bisect a mismatch
 * down to the keys that differ, as data-diff and VDiff do. Uses only `scan` and `checksum` of the
 * `DataStore` contract, so it works across adapters of the same engine.
 */
import type { DataStore, DataTarget, KeyRange, KeyValue, Row } from '../engine/spi.js';
import { ValidationError } from '../errors/errors.js';
import { canonicalEncode } from '../util/canonical.js';
import { compareKeys } from '../engine/key-order.js';
import { storedFormOf, typedEncode } from '../util/typed-encode.js';

export interface DataSide {
  readonly store: DataStore;
  readonly target: DataTarget;
}

export interface KeyDifference {
  readonly key: KeyValue;
  /** `missing-left`: only on the right; `missing-right`: only on the left; `changed`: on both, different. */
  readonly kind: 'missing-left' | 'missing-right' | 'changed';
}

export interface CompareOptions {
  /** Compare only this range. Default: everything. */
  readonly range?: KeyRange;
  /** Ranges with at most this many rows (on either side) are diffed row by row. Default 256. */
  readonly leafRows?: number;
  /** Segments per bisection step. Default 16. */
  readonly fanout?: number;
  /** Stop after this many differences. Default 1000. */
  readonly maxDifferences?: number;
  readonly signal?: AbortSignal;
  /**
   * The order the stores scan keys in: the engine adapter's `compareKeys` (pass
   * `engine.compareKeys`). Default: the SDK's key order, which every built-in adapter uses.
   */
  readonly compareKeys?: (a: KeyValue, b: KeyValue) => number;
}

export interface CompareResult {
  readonly equal: boolean;
  readonly left: { readonly count: number; readonly hash: string };
  readonly right: { readonly count: number; readonly hash: string };
  /** The ranges whose checksums differed at the finest level, before the row-by-row diff. */
  readonly ranges: readonly KeyRange[];
  readonly differences: readonly KeyDifference[];
  /** True when `maxDifferences` cut the search short. */
  readonly truncated: boolean;
}

/** What one comparison carries through its bisection. */
interface Search {
  readonly left: DataSide;
  readonly right: DataSide;
  readonly leafRows: number;
  readonly fanout: number;
  readonly max: number;
  readonly compare: (a: KeyValue, b: KeyValue) => number;
  readonly signal: AbortSignal | undefined;
  readonly differences: KeyDifference[];
  readonly ranges: KeyRange[];
}

/** Compares two sides; bisects mismatching ranges to the keys. Reads, never writes. */
export async function compareData(
  left: DataSide,
  right: DataSide,
  options: CompareOptions = {},
): Promise<CompareResult> {
  const range = options.range ?? {};
  const search: Search = {
    left,
    right,
    leafRows: options.leafRows ?? 256,
    fanout: Math.max(2, options.fanout ?? 16),
    max: options.maxDifferences ?? 1000,
    compare: options.compareKeys ?? compareKeys,
    signal: options.signal,
    differences: [],
    ranges: [],
  };
  const [l, r] = await Promise.all([
    left.store.checksum(left.target, range),
    right.store.checksum(right.target, range),
  ]);
  const equal = l.count === r.count && l.hash === r.hash;
  if (!equal) await bisect(search, range, Math.max(l.count, r.count));
  const { differences, ranges, max } = search;
  return {
    equal,
    left: l,
    right: r,
    ranges,
    differences: differences.slice(0, max),
    truncated: differences.length >= max,
  };
}

/** Narrows a mismatching `span` down to leaf ranges, and diffs those row by row. */
async function bisect(s: Search, span: KeyRange, rows: number): Promise<void> {
  if (s.differences.length >= s.max) return;
  s.signal?.throwIfAborted();
  if (rows <= s.leafRows) {
    s.ranges.push(span);
    s.differences.push(...(await diffRows(s, span)));
    return;
  }
  for (const segment of await split(s, span, rows)) {
    const [a, b] = await Promise.all([
      s.left.store.checksum(s.left.target, segment),
      s.right.store.checksum(s.right.target, segment),
    ]);
    if (a.count !== b.count || a.hash !== b.hash) await bisect(s, segment, Math.max(a.count, b.count));
    if (s.differences.length >= s.max) return;
  }
}

/** Cuts `span` into about `fanout` segments at keys read from the side with more rows in it. */
async function split(s: Search, span: KeyRange, rows: number): Promise<KeyRange[]> {
  const step = Math.max(1, Math.ceil(rows / s.fanout));
  let cuts: KeyValue[] = [];
  for (const side of [s.left, s.right]) {
    cuts = await cutsOf(side, span, { pageSize: Math.min(5000, rows + 1), step, compare: s.compare });
    if (cuts.length) break;
  }
  const segments: KeyRange[] = [];
  let from = span.after;
  for (const cut of dedupe(cuts, s.compare)) {
    segments.push({ after: from, upTo: cut });
    from = cut;
  }
  segments.push({ after: from, upTo: span.upTo });
  return segments;
}

/** Every `step`-th key of one side within `span`. */
async function cutsOf(
  side: DataSide,
  span: KeyRange,
  how: { readonly pageSize: number; readonly step: number; readonly compare: (a: KeyValue, b: KeyValue) => number },
): Promise<KeyValue[]> {
  const { pageSize, step, compare } = how;
  const cuts: KeyValue[] = [];
  let after = span.after;
  let seen = 0;
  for (;;) {
    const page = await side.store.scan(side.target, after, pageSize);
    if (page.length === 0) return cuts;
    for (const row of page) {
      const key = keyOf(side.target, row);
      if (span.upTo && compare(key, span.upTo) > 0) return cuts;
      if (++seen % step === 0) cuts.push(key);
    }
    after = keyOf(side.target, page.at(-1)!);
    if (page.length < pageSize) return cuts;
  }
}

async function diffRows(s: Search, span: KeyRange): Promise<KeyDifference[]> {
  const [a, b] = await Promise.all([readRange(s.left, span, s.compare), readRange(s.right, span, s.compare)]);
  const out: KeyDifference[] = [];
  for (const [id, row] of a) {
    const other = b.get(id);
    if (!other) out.push({ key: row.key, kind: 'missing-right' });
    else if (other.encoded !== row.encoded) out.push({ key: row.key, kind: 'changed' });
  }
  for (const [id, row] of b) if (!a.has(id)) out.push({ key: row.key, kind: 'missing-left' });
  return out;
}

/** Rows of a side in a range, by canonical key. */
async function readRange(
  side: DataSide,
  span: KeyRange,
  compare: (a: KeyValue, b: KeyValue) => number,
): Promise<Map<string, { key: KeyValue; encoded: string }>> {
  const out = new Map<string, { key: KeyValue; encoded: string }>();
  let after = span.after;
  for (;;) {
    const page = await side.store.scan(side.target, after, 1000);
    for (const row of page) {
      const key = keyOf(side.target, row);
      if (span.upTo && compare(key, span.upTo) > 0) return out;
      // Rows compared as stored (types included), as the checksums that led here are.
      out.set(canonicalEncode(key), { key, encoded: typedEncode(storedFormOf(row)) });
    }
    if (page.length < 1000) return out;
    after = keyOf(side.target, page.at(-1)!);
  }
}

const keyOf = (target: DataTarget, row: Row): KeyValue => target.key.map((k) => row[k]);

function dedupe(keys: KeyValue[], compare: (a: KeyValue, b: KeyValue) => number): KeyValue[] {
  const sorted = [...keys].sort(compare);
  return sorted.filter((k, i) => i === 0 || compare(k, sorted[i - 1]!) !== 0);
}

/**
 * Like {@link compareData}, but throws a `ValidationError` (code `MIGRATE_VALIDATION_FAILED`) that
 * carries the mismatching ranges and names the first differing keys.
 */
export async function assertEqualData(
  left: DataSide,
  right: DataSide,
  options: CompareOptions & { readonly what?: string } = {},
): Promise<CompareResult> {
  const result = await compareData(left, right, options);
  if (!result.equal) {
    const keys = result.differences
      .slice(0, 5)
      .map((d) => `${JSON.stringify(d.key)} (${d.kind})`)
      .join(', ');
    throw new ValidationError(
      `${options.what ?? `"${left.target.name}"`}: verification failed: ${result.left.count} vs ${result.right.count} rows, ${result.differences.length}${result.truncated ? '+' : ''} differing key(s): ${keys}`,
      { ranges: result.ranges },
    );
  }
  return result;
}
