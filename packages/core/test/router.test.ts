import { describe, expect, it } from 'vitest';
import { hashRouter, jumpHash, rangeRouter, tenantHash } from '../src/router/router.js';
import { ErrorCode, isMigrateError } from '../src/errors/errors.js';

const tenants = Array.from({ length: 10_000 }, (_, i) => `tenant-${i}`);
const shardIds = (n: number) => Array.from({ length: n }, (_, i) => `pg-${i}`);

describe('jumpHash', () => {
  it('stays in range and refuses a non-positive bucket count', () => {
    for (const t of tenants.slice(0, 500)) {
      const b = jumpHash(tenantHash(t), 7);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(7);
    }
    expect(jumpHash(12345n, 1)).toBe(0);
    expect(() => jumpHash(1n, 0)).toThrow(RangeError);
    expect(() => jumpHash(1n, 2.5)).toThrow(RangeError);
  });

  it("agrees with the paper's C++ formulation (2^31 / x, then × (b+1))", () => {
    // Reference values of Lamping & Veach's jump consistent hash (as in the paper's C++ code).
    const ref = (key: bigint, buckets: number) => {
      let b = -1n;
      let j = 0n;
      let k = key;
      while (j < BigInt(buckets)) {
        b = j;
        k = (k * 2862933555777941757n + 1n) % 2n ** 64n;
        j = BigInt(Math.floor(Number(b + 1n) * (2 ** 31 / Number((k >> 33n) + 1n))));
      }
      return Number(b);
    };
    for (const key of [0n, 1n, 2n ** 63n, 2n ** 64n - 1n, 0xdeadbeefn]) {
      for (const n of [1, 2, 8, 100, 1000]) expect(jumpHash(key, n)).toBe(ref(key, n));
    }
  });
});

describe('hashRouter', () => {
  const router = hashRouter();

  it('has tenant_id as default key and hash strategy', () => {
    expect(router.key).toBe('tenant_id');
    expect(router.strategy).toBe('hash');
    expect(hashRouter({ key: 'org' }).key).toBe('org');
  });

  it('spreads 10k tenants over 8 shards evenly (each within ±20% of the mean)', () => {
    const ids = shardIds(8);
    const counts = new Map(ids.map((id) => [id, 0]));
    for (const t of tenants) {
      const s = router.route(t, 'postgres', ids);
      counts.set(s, counts.get(s)! + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    const mean = tenants.length / ids.length;
    for (const [, c] of counts) {
      expect(c).toBeGreaterThanOrEqual(mean * 0.8);
      expect(c).toBeLessThanOrEqual(mean * 1.2);
    }
  });

  it.each([1, 2, 4, 7, 8, 15])('adding a shard to %i moves about 1/(n+1) of tenants, all to the new shard', (n) => {
    const before = shardIds(n);
    const after = shardIds(n + 1);
    const added = after[n]!;
    let moved = 0;
    for (const t of tenants) {
      const a = router.route(t, 'postgres', before);
      const b = router.route(t, 'postgres', after);
      if (a !== b) {
        moved++;
        expect(b).toBe(added);
      }
    }
    const share = moved / tenants.length;
    expect(share).toBeGreaterThanOrEqual(0.5 / (n + 1));
    expect(share).toBeLessThanOrEqual(1.5 / (n + 1));
  });

  it('is deterministic: same input same shard, across router instances', () => {
    const other = hashRouter();
    const ids = shardIds(5);
    const first = tenants.slice(0, 1000).map((t) => router.route(t, 'mongodb', ids));
    expect(tenants.slice(0, 1000).map((t) => router.route(t, 'mongodb', ids))).toEqual(first);
    expect(tenants.slice(0, 1000).map((t) => other.route(t, 'mongodb', ids))).toEqual(first);
    // and it depends on the tenant: not every tenant lands on one shard
    expect(new Set(first).size).toBe(5);
  });

  it('routes by shard position, so the names of the shards do not change the bucket', () => {
    const a = tenants.slice(0, 200).map((t) => shardIds(4).indexOf(router.route(t, 'postgres', shardIds(4))));
    const names = ['w', 'x', 'y', 'z'];
    const b = tenants.slice(0, 200).map((t) => names.indexOf(router.route(t, 'postgres', names)));
    expect(b).toEqual(a);
  });

  it('directory overrides win only when they name a known shard of that engine', () => {
    const ids = shardIds(4);
    const t = 'tenant-42';
    const natural = router.route(t, 'postgres', ids);
    const other = ids.find((id) => id !== natural)!;
    expect(router.route(t, 'postgres', ids, { postgres: { [t]: other } })).toBe(other);
    // unknown shard: ignored
    expect(router.route(t, 'postgres', ids, { postgres: { [t]: 'pg-99' } })).toBe(natural);
    // override for another engine: ignored
    expect(router.route(t, 'postgres', ids, { mongodb: { [t]: other } })).toBe(natural);
    // override for another tenant: ignored
    expect(router.route(t, 'postgres', ids, { postgres: { 'tenant-43': other } })).toBe(natural);
  });

  it('refuses to route over no shards', () => {
    const err = (() => {
      try {
        router.route('t', 'postgres', []);
      } catch (e) {
        return e;
      }
    })();
    expect(isMigrateError(err) && err.code).toBe(ErrorCode.Config);
  });
});

describe('rangeRouter', () => {
  const routerOf = () =>
    rangeRouter({
      ranges: {
        postgres: [{ upTo: 'g', shard: 'pg-0' }, { upTo: 'p', shard: 'pg-1' }, { shard: 'pg-2' }],
        mongodb: [{ shard: 'mg-0' }],
      },
    });

  it('routes by bytewise ranges, bounds inclusive, the last range open', () => {
    const r = routerOf();
    const ids = ['pg-0', 'pg-1', 'pg-2'];
    expect(r.strategy).toBe('range');
    expect(r.route('a', 'postgres', ids)).toBe('pg-0');
    expect(r.route('g', 'postgres', ids)).toBe('pg-0');
    expect(r.route('ga', 'postgres', ids)).toBe('pg-1');
    expect(r.route('p', 'postgres', ids)).toBe('pg-1');
    expect(r.route('pz', 'postgres', ids)).toBe('pg-2');
    expect(r.route('zzz', 'postgres', ids)).toBe('pg-2');
    expect(r.route('A', 'postgres', ids)).toBe('pg-0');
    expect(r.route('anything', 'mongodb', ['mg-0'])).toBe('mg-0');
  });

  it('honours directory overrides naming a known shard', () => {
    const r = routerOf();
    const ids = ['pg-0', 'pg-1', 'pg-2'];
    expect(r.route('a', 'postgres', ids, { postgres: { a: 'pg-2' } })).toBe('pg-2');
    expect(r.route('a', 'postgres', ids, { postgres: { a: 'nope' } })).toBe('pg-0');
  });

  it.each([
    [
      'non-ascending bounds',
      { postgres: [{ upTo: 'm', shard: 'a' }, { upTo: 'c', shard: 'b' }, { shard: 'c' }] },
      /ascend/,
    ],
    ['equal bounds', { postgres: [{ upTo: 'm', shard: 'a' }, { upTo: 'm', shard: 'b' }, { shard: 'c' }] }, /ascend/],
    [
      'missing open last range',
      {
        postgres: [
          { upTo: 'm', shard: 'a' },
          { upTo: 'z', shard: 'b' },
        ],
      },
      /last range must have no "upTo"/,
    ],
    ['a middle range without upTo', { postgres: [{ shard: 'a' }, { shard: 'b' }] }, /range 0 needs "upTo"/],
    ['no ranges', { postgres: [] }, /at least one range/],
  ])('rejects %s with a config error naming the engine', (_name, ranges, message) => {
    let err: unknown;
    try {
      rangeRouter({ ranges: ranges as never });
    } catch (e) {
      err = e;
    }
    expect(isMigrateError(err)).toBe(true);
    expect(err).toMatchObject({ code: ErrorCode.Config, field: 'ranges.postgres' });
    expect((err as Error).message).toMatch(message);
  });

  it('refuses an engine without ranges and a range naming an unknown shard', () => {
    const r = routerOf();
    expect(() => r.route('a', 'other', ['x'])).toThrow(/no ranges for engine "other"/);
    expect(() => r.route('a', 'postgres', ['pg-1', 'pg-2'])).toThrow(/unknown shard "pg-0"/);
  });
});
