/**
 * An engine whose shards' `data.scan` calls `onScan` after each scan returns, and so does each
 * `next` of a cursor from `data.openScan` (a read either way): a case uses it to act as the
 * application between a batch's read and its write. Proxies, not patched objects, so
 * that it works whether or not the adapter hands out the same shard object twice (methods run on
 * the adapter's own objects, private fields included).
 */
import type { DataStore, DataTarget, EngineAdapter, ShardAdapter } from '../../index.js';
import type { ScanCursor } from '../../engine/spi.js';

/** `target` with its own methods bound to it, and `overrides` in place of some members. */
export function over<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, p) {
      if (Object.prototype.hasOwnProperty.call(overrides, p)) return overrides[p as keyof T];
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** An engine whose shards' data stores have `overrides(data, shardId)` in place of some members. */
export function overrideData(
  engine: EngineAdapter,
  overrides: (data: DataStore, shardId: string) => Partial<Record<keyof DataStore, unknown>>,
): EngineAdapter {
  const shardOf = (shard: ShardAdapter): ShardAdapter =>
    over(shard, { data: over(shard.data, overrides(shard.data, shard.id)) });
  return over(engine, { shard: (id: string) => shardOf(engine.shard(id)) });
}

export function interceptScan(
  engine: EngineAdapter,
  onScan: (target: DataTarget, shardId: string) => Promise<void>,
): EngineAdapter {
  return overrideData(engine, (data, shardId) => {
    const scan: DataStore['scan'] = async (target, after, limit, upTo) => {
      const rows = await data.scan(target, after, limit, upTo);
      await onScan(target, shardId);
      return rows;
    };
    const openScan = data.openScan?.bind(data);
    const overrides: Partial<Record<keyof DataStore, unknown>> = { scan };
    if (openScan)
      overrides.openScan = (target: DataTarget, after: Parameters<DataStore['scan']>[1]): ScanCursor => {
        const cursor = openScan(target, after);
        return {
          next: async (limit) => {
            const rows = await cursor.next(limit);
            await onScan(target, shardId);
            return rows;
          },
          close: () => cursor.close(),
        };
      };
    return overrides;
  });
}
