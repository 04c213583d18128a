import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalEncode, canonicalNumber, compareKeys, compareUtf8, RowSetHash, sha256 } from '../src/util/canonical.js';

const enc = canonicalEncode;
const hashOf = (rows: readonly unknown[]) => rows.reduce<RowSetHash>((h, r) => h.add(r), new RowSetHash()).digest();

describe('canonicalEncode', () => {
  it.each<[string, unknown, unknown]>([
    ["['ab','c'] vs ['a','bc']", ['ab', 'c'], ['a', 'bc']],
    ["'abc' vs ['abc']", 'abc', ['abc']],
    ['null vs "null"', null, 'null'],
    ['{a: null} vs {a: "null"}', { a: null }, { a: 'null' }],
    ['{a: null} vs {} (a NULL column is not a missing one)', { a: null }, {}],
    ['1 vs "1"', 1, '1'],
    ['true vs "true"', true, 'true'],
    ['true vs 1', true, 1],
    ['nested vs flat', { a: { b: 1 } }, { 'a.b': 1 }],
    ['key/value boundary', { ab: 'c' }, { a: 'bc' }],
    ['[] vs {}', [], {}],
    ['[null] vs []', [null], []],
    ['Date vs its ISO string', new Date('2026-01-02T03:04:05.678Z'), '2026-01-02T03:04:05.678Z'],
    ['Dates 1 ms apart', new Date(1_700_000_000_000), new Date(1_700_000_000_001)],
    ['bytes vs base64 text', new Uint8Array([1, 2, 3]), 'AQID'],
    ['1.5 vs 15', 1.5, 15],
    ['string with separators', 's1:a', ['a']],
  ])('no collision: %s', (_name, a, b) => {
    expect(enc(a)).not.toBe(enc(b));
  });

  it('normalises: field order, -0 and 0, undefined fields, integral floats, bigint, Date of the same instant', () => {
    expect(enc({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(enc({ b: [2, { d: 4, c: 3 }], a: 1 }));
    expect(enc(-0)).toBe(enc(0));
    expect(enc({ n: -0 })).toBe(enc({ n: 0 }));
    expect(enc({ a: 1, b: undefined })).toBe(enc({ a: 1 }));
    expect(enc(undefined)).toBe(enc(null));
    expect(enc(2.0)).toBe(enc(2));
    expect(enc(10n)).toBe(enc(10));
    expect(enc(new Date('2026-01-01T00:00:00Z'))).toBe(enc(new Date(Date.UTC(2026, 0, 1))));
  });

  it('canonical numbers: no exponent for large integers, -0 as 0', () => {
    expect(canonicalNumber(1e20)).toBe('100000000000000000000');
    expect(canonicalNumber(-0)).toBe('0');
    expect(canonicalNumber(0.1)).toBe('0.1');
    expect(canonicalNumber(-42)).toBe('-42');
  });

  it('encodes BSON-like values by type: ObjectId by hex, Decimal128 as canonical number text', () => {
    const oid = (hex: string) => ({ _bsontype: 'ObjectId', toHexString: () => hex });
    const dec = (text: string) => ({ _bsontype: 'Decimal128', toString: () => text });
    expect(enc(oid('65a1b2c3d4e5f60718293a4b'))).toBe(enc(oid('65a1b2c3d4e5f60718293a4b')));
    expect(enc(oid('65a1b2c3d4e5f60718293a4b'))).not.toBe(enc('65a1b2c3d4e5f60718293a4b'));
    expect(enc(dec('1.50'))).toBe(enc(1.5));
    expect(enc(dec('-0.0'))).toBe(enc(0));
    expect(enc(dec('007'))).toBe(enc(7));
  });

  it('property: equal values encode equally, different JSON values differently', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b));
        expect(enc(a) === enc(b)).toBe(same);
      }),
      { numRuns: 300 },
    );
  });
});

/** JSON value with object keys sorted and -0 as 0: the equivalence canonicalEncode should implement for JSON. */
function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]));
  if (Object.is(v, -0)) return 0;
  return v;
}

describe('RowSetHash', () => {
  const rows = [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: null }];

  it('is order independent and counts rows', () => {
    const h = new RowSetHash();
    for (const r of rows) h.add(r);
    expect(h.count).toBe(3);
    expect(hashOf([rows[2], rows[0], rows[1]])).toBe(h.digest());
    expect(h.digest()).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is sensitive to duplicates (a doubled row does not cancel out) and to any change', () => {
    const base = hashOf(rows);
    expect(hashOf([...rows, rows[0]])).not.toBe(base);
    expect(hashOf([...rows, rows[0], rows[0]])).not.toBe(base);
    expect(hashOf([rows[0], rows[0]])).not.toBe(hashOf([]));
    expect(hashOf([rows[0], rows[0]])).not.toBe(hashOf([rows[1], rows[1]]));
    expect(hashOf([rows[0], rows[1], { id: 3, name: 'null' }])).not.toBe(base);
    expect(hashOf([])).toBe('0'.repeat(32));
  });

  it('property: every permutation of a multiset gives the same digest', () => {
    const row = fc.record({ id: fc.integer(), name: fc.option(fc.string(), { nil: null }), tags: fc.array(fc.string(), { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }).chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }))), ([rs, shuffled]) => {
        expect(hashOf(shuffled)).toBe(hashOf(rs));
      }),
      { numRuns: 200 },
    );
  });

  it('property: dropping a row changes the digest', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ id: fc.integer(), v: fc.string() }), { minLength: 1, maxLength: 20 }), fc.nat(), (rs, i) => {
        const without = rs.filter((_, j) => j !== i % rs.length);
        expect(hashOf(without)).not.toBe(hashOf(rs));
      }),
      { numRuns: 200 },
    );
  });
});

describe('compareKeys and sha256', () => {
  it('orders null < numbers < strings, numbers numerically, strings by code point', () => {
    const keys: unknown[][] = [['b'], [10], [null], ['B'], [-3], ['é'], [2], ['a']];
    const sorted = [...keys].sort(compareKeys);
    expect(sorted).toEqual([[null], [-3], [2], [10], ['B'], ['a'], ['b'], ['é']]);
    expect(compareKeys([1, 'a'], [1, 'b'])).toBeLessThan(0);
    expect(compareKeys([1, 'b'], [1, 'b'])).toBe(0);
    expect(compareKeys([new Date(2)], [new Date(1)])).toBeGreaterThan(0);
  });

  it('sha256 hex', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('canonicalEncode: Maps, Sets and very large integers', () => {
  it('tells Maps and Sets apart by content and ignores their insertion order', () => {
    expect(canonicalEncode(new Map([['a', 1]]))).not.toBe(canonicalEncode(new Map([['a', 2]])));
    expect(canonicalEncode(new Map([['a', 1], ['b', 2]]))).toBe(canonicalEncode(new Map([['b', 2], ['a', 1]])));
    expect(canonicalEncode(new Set([1, 2]))).toBe(canonicalEncode(new Set([2, 1])));
    expect(canonicalEncode(new Set([1]))).not.toBe(canonicalEncode(new Set(['1'])));
    expect(canonicalEncode(new Set([1]))).not.toBe(canonicalEncode([1]));
  });
  it('encodes an integral number and a bigint of the same value alike, beyond 1e21 too', () => {
    expect(canonicalEncode(1e21)).toBe(canonicalEncode(10n ** 21n));
    expect(canonicalEncode(2 ** 70)).toBe(canonicalEncode(2n ** 70n));
  });
});

describe('compareUtf8 / compareKeys: string order is UTF-8 byte order, as in the databases', () => {
  it('puts a private-use BMP character (U+E000) before an emoji (U+1F600), unlike UTF-16 `<`', () => {
    const bmp = '\uE000';
    const emoji = '😀';
    expect(bmp < emoji).toBe(false); // what plain JS comparison says
    expect(compareUtf8(bmp, emoji)).toBeLessThan(0);
    expect(compareKeys([bmp], [emoji])).toBeLessThan(0);
  });
  it('agrees with Buffer.compare of the UTF-8 bytes on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
  });
});
