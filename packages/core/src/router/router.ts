/**
 * Shard routing: which shard of an engine holds a tenant. Routers are pure and deterministic; the
 * placements of the tenant directory (the control store's, written by tenant moves) are passed in
 * as overrides, not kept here.
 */
import { createHash } from 'node:crypto';
import type { DirectoryOverrides, EngineName } from '../engine/spi.js';
import { DefinitionError, ErrorCode } from '../errors/errors.js';
// A shard-key field is a plain name, as a data migration's `key` (non-empty, no spaces or quotes).
import { NAME } from '../definition/names.js';
import { compareUtf8 } from '../engine/key-order.js';

export type { DirectoryOverrides };

export interface Router {
  /** The field that carries the shard key in rows and documents (e.g. `tenant_id`). */
  readonly key: string;
  readonly strategy: 'hash' | 'range';
  /**
   * The shard of `shardIds` (an engine's shards in configured order) that holds `tenant`. A directory
   * override wins when it names one of `shardIds`.
   */
  route(tenant: string, engine: EngineName, shardIds: readonly string[], overrides?: DirectoryOverrides): string;
}

/**
 * Jump consistent hash (Lamping & Veach): maps a 64-bit key to one of `buckets` buckets so that
 * going from n to n+1 buckets moves only about 1/(n+1) of the keys.
 */
export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError('buckets must be a positive integer');
  let b = -1n;
  let j = 0n;
  let k = key & 0xffff_ffff_ffff_ffffn;
  while (j < BigInt(buckets)) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & 0xffff_ffff_ffff_ffffn;
    j = BigInt(Math.floor(((Number(b) + 1) * 2 ** 31) / Number((k >> 33n) + 1n)));
  }
  return Number(b);
}

/** Stable 64-bit hash of a tenant id (first 8 bytes of its sha256). */
export function tenantHash(tenant: string): bigint {
  return createHash('sha256').update(tenant).digest().readBigUInt64BE(0);
}

function override(
  tenant: string,
  engine: EngineName,
  shardIds: readonly string[],
  overrides?: DirectoryOverrides,
): string | undefined {
  const shard = overrides?.[engine]?.[tenant];
  return shard !== undefined && shardIds.includes(shard) ? shard : undefined;
}

function noShards(engine: EngineName): never {
  throw new DefinitionError(`Router: engine "${engine}" has no shards to route to`, {
    code: ErrorCode.Config,
    field: 'shards',
  });
}

function checkOptions(router: string, options: unknown, allowed: readonly string[]): void {
  const fail = (field: string, why: string): never => {
    throw new DefinitionError(`${router}: field "${field}": ${why}`, { code: ErrorCode.Config, field });
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail('(root)', 'expected an options object');
  const unknown = Object.keys(options as object).filter((k) => !allowed.includes(k));
  if (unknown.length) fail(unknown.join(', '), `unknown option(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
  const key = (options as { key?: unknown }).key;
  if (key !== undefined && (typeof key !== 'string' || !NAME.test(key)))
    fail('key', `must be a plain field name such as "tenant_id", got ${JSON.stringify(key) ?? String(key)}`);
}

export interface HashRouterOptions {
  /** Shard-key field. Default `tenant_id`. */
  readonly key?: string;
}

/** Routes by jump consistent hash of the tenant id over an engine's shards, in configured order. */
export function hashRouter(options: HashRouterOptions = {}): Router {
  checkOptions('hashRouter', options, ['key']);
  const key = options.key ?? 'tenant_id';
  return Object.freeze({
    key,
    strategy: 'hash' as const,
    route(tenant: string, engine: EngineName, shardIds: readonly string[], overrides?: DirectoryOverrides): string {
      if (shardIds.length === 0) noShards(engine);
      return override(tenant, engine, shardIds, overrides) ?? shardIds[jumpHash(tenantHash(tenant), shardIds.length)]!;
    },
  });
}

export interface RangeBound {
  /** Tenants whose id sorts (by UTF-8 bytes) at or below `upTo` go to `shard`; omit on the last range. */
  readonly upTo?: string;
  readonly shard: string;
}

export interface RangeRouterOptions {
  readonly key?: string;
  /** Per engine, ranges in ascending order; the last one has no `upTo` and takes the rest. */
  readonly ranges: Readonly<Record<string, readonly RangeBound[]>>;
}

/** Routes by ranges of tenant ids. Validates that bounds ascend and the last range is open. */
export function rangeRouter(options: RangeRouterOptions): Router {
  checkOptions('rangeRouter', options, ['key', 'ranges']);
  if (typeof options.ranges !== 'object' || options.ranges === null) {
    throw new DefinitionError('rangeRouter: field "ranges": expected { <engine>: [{ upTo, shard }, …] }', {
      code: ErrorCode.Config,
      field: 'ranges',
    });
  }
  const key = options.key ?? 'tenant_id';
  for (const [engine, ranges] of Object.entries(options.ranges)) {
    const fail = (why: string): never => {
      throw new DefinitionError(`rangeRouter: field "ranges.${engine}": ${why}`, {
        code: ErrorCode.Config,
        field: `ranges.${engine}`,
      });
    };
    if (!Array.isArray(ranges) || ranges.length === 0) fail('needs at least one range');
    ranges.forEach((r, i) => {
      if (typeof r !== 'object' || r === null || typeof r.shard !== 'string' || r.shard === '')
        fail(`range ${i} needs a "shard" id`);
      if (r.upTo !== undefined && typeof r.upTo !== 'string') fail(`range ${i}: "upTo" must be a tenant id (string)`);
      const extra = Object.keys(r).filter((k) => k !== 'upTo' && k !== 'shard');
      if (extra.length) fail(`range ${i}: unknown field(s) ${extra.map((k) => `"${k}"`).join(', ')}`);
      const last = i === ranges.length - 1;
      if (last !== (r.upTo === undefined))
        fail(last ? 'the last range must have no "upTo"' : `range ${i} needs "upTo"`);
      const prev = ranges[i - 1]?.upTo;
      if (prev !== undefined && r.upTo !== undefined && compareUtf8(prev, r.upTo) >= 0)
        fail(`"upTo" values must ascend (range ${i})`);
    });
  }
  return Object.freeze({
    key,
    strategy: 'range' as const,
    route(tenant: string, engine: EngineName, shardIds: readonly string[], overrides?: DirectoryOverrides): string {
      if (shardIds.length === 0) noShards(engine);
      const o = override(tenant, engine, shardIds, overrides);
      if (o) return o;
      const ranges = options.ranges[engine];
      if (!ranges)
        throw new DefinitionError(`rangeRouter: no ranges for engine "${engine}"`, {
          code: ErrorCode.Config,
          field: `ranges.${engine}`,
        });
      const hit = ranges.find((r) => r.upTo === undefined || compareUtf8(tenant, r.upTo) <= 0)!;
      if (!shardIds.includes(hit.shard)) {
        throw new DefinitionError(`rangeRouter: range names unknown shard "${hit.shard}" of engine "${engine}"`, {
          code: ErrorCode.Config,
          field: `ranges.${engine}`,
        });
      }
      return hit.shard;
    },
  });
}
