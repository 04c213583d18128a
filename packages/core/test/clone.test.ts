import { describe, expect, it } from 'vitest';
import { cloneValue } from '../src/util/clone.js';
import { canonicalEncode } from '../src/util/canonical.js';

class Oid {
  readonly _bsontype = 'ObjectId';
  constructor(readonly hex: string) {}
  toHexString(): string {
    return this.hex;
  }
}

describe('cloneValue', () => {
  it('copies plain objects and arrays deeply, so mutating the copy leaves the original alone', () => {
    const original = { a: { b: [1, { c: 2 }] }, d: new Date(5), e: Buffer.from('xy') };
    const copy = cloneValue(original);
    (copy.a.b[1] as { c: number }).c = 99;
    copy.d.setTime(7);
    copy.e[0] = 0;
    expect(original).toEqual({ a: { b: [1, { c: 2 }] }, d: new Date(5), e: Buffer.from('xy') });
  });
  it('keeps driver value types (ObjectId-like class instances) with their prototype, unlike structuredClone', () => {
    const row = { _id: new Oid('6b060ad97f6033206526c425'), n: 1 };
    const copy = cloneValue(row);
    expect(copy._id).toBeInstanceOf(Oid);
    expect(canonicalEncode(copy)).toBe(canonicalEncode(row));
  });
});
