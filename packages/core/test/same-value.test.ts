import { describe, expect, it } from 'vitest';
import { diffRow, sameValue } from '../src/util/same-value.js';

describe('sameValue: what a data migration treats as unchanged', () => {
  it('tells apart values JavaScript equality would merge', () => {
    expect(sameValue(0, -0)).toBe(false);
    expect(sameValue(NaN, NaN)).toBe(true);
    expect(sameValue(1, 1n)).toBe(false);
    expect(sameValue('1.50', 1.5)).toBe(false);
    expect(sameValue(null, undefined)).toBe(false);
    expect(sameValue(/a/g, /a/i)).toBe(false);
    expect(sameValue(/a/g, /b/g)).toBe(false);
    expect(sameValue([1, 2], [2, 1])).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });

  it('calls a value equal to its own copy', () => {
    expect(sameValue(/a/g, /a/g)).toBe(true);
    expect(sameValue(new Date(5), new Date(5))).toBe(true);
    expect(sameValue(Buffer.from('ab'), Buffer.from('ab'))).toBe(true);
    expect(sameValue({ a: { b: [1, { c: 2 }] }, d: 3 }, { d: 3, a: { b: [1, { c: 2 }] } })).toBe(true);
  });

  it('diffRow names changed and dropped fields only', () => {
    const before = { id: 1, a: 1, b: -0, c: 'x', d: null };
    expect(diffRow(before, { id: 1, a: 2, b: -0, d: null })).toEqual({ set: { a: 2 }, unset: ['c'] });
    expect(diffRow(before, { ...before, b: 0 })).toEqual({ set: { b: 0 }, unset: [] });
    expect(diffRow(before, { ...before, e: 1, c: undefined })).toEqual({ set: { e: 1 }, unset: ['c'] });
  });
});
