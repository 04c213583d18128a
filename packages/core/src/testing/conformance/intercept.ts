/**
 * An engine whose shards' `data.scan` calls `onScan` after each scan returns: a case uses it to
 * act as the application between a batch's read and its write. Proxies, not patched objects, so
 * that it works whether or not the adapter hands out the same shard object twice (methods run on
 * the adapter's own objects, private fields included).
 */
import type { DataStore, DataTarget, EngineAdapter, ShardAdapter } from '../../index.js';

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

export function interceptScan(
  engine: EngineAdapter,
  onScan: (target: DataTarget, shardId: string) => Promise<void>,
): EngineAdapter {
  const shardOf = (shard: ShardAdapter): ShardAdapter => {
    const data = shard.data;
    const scan: DataStore['scan'] = async (target, after, limit, upTo) => {
      const rows = await data.scan(target, after, limit, upTo);
      await onScan(target, shard.id);
      return rows;
    };
    return over(shard, { data: over(data, { scan }) });
  };
  return over(engine, { shard: (id: string) => shardOf(engine.shard(id)) });
}
