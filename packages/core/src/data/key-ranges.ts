/**
 * The key ranges of a parallel run (`parallelism` > 1): the key space of a table/collection cut
 * at `parallelism - 1` split keys sampled in the server when the run starts. The ranges are
 * `(from, to]`: the first has no lower bound and the last no upper bound, so together they cover
 * every key, including rows inserted during the run (each lands in exactly one range). They are
 * kept in the checkpoint (`Checkpoint.ranges`), so a resume runs the very same ranges.
 */
import type { CheckpointRange, DataTarget, KeyValue, ShardAdapter } from '../engine/spi.js';
import { canonicalEncode } from '../util/canonical.js';

/**
 * The 0-based row positions whose keys cut `count` rows into `parts` ranges of about equal size:
 * the last row of each range but the last. Fewer when there are fewer rows than parts.
 */
export function evenSplits(count: number, parts: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < parts; i++) {
    const at = Math.floor((i * count) / parts) - 1;
    if (at >= 0 && at < count - 1 && at !== out.at(-1)) out.push(at);
  }
  return out;
}

/** Page size of the fallback walk over the keys (an adapter without `splitKeys`). */
const WALK_PAGE = 5_000;

/** The split keys of `target` for `parts` ranges: the adapter's `splitKeys`, else a walk with `scan`. */
export async function sampleSplitKeys(shard: ShardAdapter, target: DataTarget, parts: number): Promise<KeyValue[]> {
  if (parts <= 1) return [];
  const keys = shard.data.splitKeys ? await shard.data.splitKeys(target, parts) : await walk(shard, target, parts);
  // Distinct keys only: equal split keys would make an empty range.
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = canonicalEncode(k);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

async function walk(shard: ShardAdapter, target: DataTarget, parts: number): Promise<KeyValue[]> {
  const wanted = evenSplits(await shard.data.count(target), parts);
  const out: KeyValue[] = [];
  let after: KeyValue | undefined;
  let seen = 0;
  while (out.length < wanted.length) {
    const page = await shard.data.scan(target, after, WALK_PAGE);
    for (const at of wanted) {
      if (at >= seen && at < seen + page.length) out.push(target.key.map((k) => page[at - seen]![k]));
    }
    if (page.length < WALK_PAGE) break;
    seen += page.length;
    after = target.key.map((k) => page.at(-1)![k]);
  }
  return out;
}

/** The ranges cut at `splits` (ascending): `splits.length + 1` of them, none done yet. */
export function rangesAt(splits: readonly KeyValue[]): CheckpointRange[] {
  const bounds: (KeyValue | null)[] = [null, ...splits, null];
  return bounds.slice(1).map((to, i) => ({
    from: bounds[i] === null ? null : [...bounds[i]!],
    to: to === null ? null : [...to],
    after: null,
    read: 0,
    written: 0,
    skipped: 0,
  }));
}
