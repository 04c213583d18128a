/**
 * Offline: how the adapter keeps BSON types (internal/stored-form.ts) — decoding raw BSON into the promoted
 * row a transform sees plus the stored form, the update a patch becomes, and the type-tagged
 * checksum encoding with the real bson classes. The same on a server: adapter.test.ts and
 * test/conformance/fidelity-mongodb.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BSON, Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'mongodb';
import { type Row } from '@mcp/migrate-core';
import {
  canonicalEncode,
  cloneValue,
  diffRow,
  storedFormOf,
  typedEncode,
  type RowPatch,
} from '@mcp/migrate-core/engine';
import { decodeRow, keepStored, patchWrite } from '../src/internal/stored-form.js';

const stored = {
  _id: new Int32(1),
  l: Long.fromNumber(5),
  big: Long.fromString('9007199254740993'),
  d1: new Double(1),
  dm0: new Double(-0),
  i: new Int32(7),
  sub: { a: Long.fromNumber(2), b: new Double(3), c: { x: new Int32(1) } },
  arr: [Long.fromNumber(1), new Double(2)],
  odd: { 'a.b': Long.fromNumber(1), n: new Int32(1) },
};

/** A row as `scan` returns it: promoted, with the stored form attached. */
const read = (doc: object) => decodeRow(BSON.serialize(doc));

/** The patch the batch engine makes from the row read and the transform's output. */
function patchOf(before: Row, transform: (row: Row) => Row): RowPatch {
  const { set, unset } = diffRow(before, transform(cloneValue(before)));
  return { key: [before._id], before, set, unset };
}

describe('decodeRow: the promoted row with the stored form beside it', () => {
  it('promotes like the driver (Int32/Double/safe Long → number, unsafe Long kept) and keeps every type in the stored form', () => {
    const row = read(stored);
    expect(row).toMatchObject({ _id: 1, l: 5, d1: 1, i: 7, sub: { a: 2, b: 3, c: { x: 1 } }, arr: [1, 2] });
    expect(Object.is(row.dm0, -0)).toBe(true);
    expect(row.big).toBeInstanceOf(Long);
    expect(row).toEqual(BSON.deserialize(BSON.serialize(stored))); // the driver's default decoding
    const form = storedFormOf(row) as Record<string, unknown>;
    expect(typedEncode(form)).toBe(typedEncode(stored));
    expect(form.l).toBeInstanceOf(Long);
    expect(form.d1).toBeInstanceOf(Double);
    expect(Object.keys(row)).toEqual(Object.keys(stored)); // nothing extra for transforms to see
  });
});

describe('patchWrite: only what changed, dotted into sub-documents, untouched parts as stored', () => {
  it('a changed top-level field is $set alone', () => {
    const row = read(stored);
    expect(
      patchWrite(
        ['_id'],
        patchOf(row, (r) => ({ ...r, x: 'new' })),
      ),
    ).toEqual({ updateOne: { filter: { _id: 1 }, update: { $set: { x: 'new' } } } });
  });

  it('one changed nested field becomes a dotted path; its siblings are not sent', () => {
    const row = read(stored);
    const op = patchWrite(
      ['_id'],
      patchOf(row, (r) => ({ ...r, sub: { ...(r.sub as Row), c: { x: 1, y: 2 }, b: 4 } })),
    );
    expect(op).toEqual({ updateOne: { filter: { _id: 1 }, update: { $set: { 'sub.c.y': 2, 'sub.b': 4 } } } });
  });

  it('a removed nested field is $unset by its path', () => {
    const row = read(stored);
    const op = patchWrite(
      ['_id'],
      patchOf(row, (r) => {
        const { a, ...sub } = r.sub as Row;
        void a;
        return { ...r, sub };
      }),
    );
    expect(op).toEqual({ updateOne: { filter: { _id: 1 }, update: { $unset: { 'sub.a': '' } } } });
  });

  it('a changed array is set whole, its untouched elements as stored', () => {
    const row = read(stored);
    const op = patchWrite(
      ['_id'],
      patchOf(row, (r) => ({ ...r, arr: [...(r.arr as unknown[]), 3] })),
    );
    const set = (op as unknown as { updateOne: { update: { $set: { arr: unknown[] } } } }).updateOne.update.$set;
    expect(typedEncode(set.arr)).toBe(typedEncode([Long.fromNumber(1), new Double(2), 3]));
  });

  it('a sub-document with a key that a path cannot name is set whole, untouched keys as stored', () => {
    const row = read(stored);
    const op = patchWrite(
      ['_id'],
      patchOf(row, (r) => ({ ...r, odd: { ...(r.odd as Row), n: 2 } })),
    );
    const set = (op as unknown as { updateOne: { update: { $set: Row } } }).updateOne.update.$set;
    expect(Object.keys(set)).toEqual(['odd']);
    expect(typedEncode(set.odd)).toBe(typedEncode({ 'a.b': Long.fromNumber(1), n: 2 }));
  });

  it('a top-level field named with a dot makes a replacement of the stored document with the change', () => {
    const row = read({ ...stored, 'x.y': 1 });
    const op = patchWrite(
      ['_id'],
      patchOf(row, (r) => ({ ...r, 'x.y': 2 })),
    );
    const replacement = (op as unknown as { replaceOne: { replacement: Row } }).replaceOne.replacement;
    expect(typedEncode(replacement)).toBe(typedEncode({ ...stored, 'x.y': 2 }));
    expect((op as unknown as { replaceOne: { upsert?: boolean } }).replaceOne.upsert).toBeUndefined();
  });

  it('a row the adapter did not read (no stored form) is written from its JS values', () => {
    const before = { _id: 1, sub: { a: 1 } };
    expect(patchWrite(['_id'], { key: [1], before, set: { sub: { a: 2 } }, unset: [] })).toEqual({
      updateOne: { filter: { _id: 1 }, update: { $set: { 'sub.a': 2 } } },
    });
  });

  it('keepStored: an explicit type change by the transform wins over the stored type', () => {
    expect(keepStored(5, Long.fromNumber(5), new Int32(5))).toEqual(new Int32(5));
    expect(keepStored(5, Long.fromNumber(5), 5)).toEqual(Long.fromNumber(5));
  });
});

describe('typedEncode with the real bson classes', () => {
  it('tells Int32, Long, Double and Decimal128 of one number apart, -0 from 0, and Decimal128 scale; canonicalEncode (key identity) does not', () => {
    const fives = [
      new Int32(5),
      Long.fromNumber(5),
      new Double(5),
      Decimal128.fromString('5'),
      Decimal128.fromString('5.0'),
      5,
    ];
    expect(new Set(fives.map(typedEncode)).size).toBe(fives.length);
    expect(new Set(fives.slice(0, 4).map(canonicalEncode)).size).toBe(1);
    expect(typedEncode(new Double(-0))).not.toBe(typedEncode(new Double(0)));
    expect(typedEncode(Decimal128.fromString('1.50'))).not.toBe(typedEncode(Decimal128.fromString('1.5')));
    expect(typedEncode(Decimal128.fromString('-0'))).not.toBe(typedEncode(Decimal128.fromString('0')));
    expect(typedEncode(new Binary(Buffer.from([1]), 0))).not.toBe(typedEncode(new Binary(Buffer.from([1]), 5)));
    expect(typedEncode(new Timestamp({ t: 1, i: 2 }))).not.toBe(typedEncode(new Timestamp({ t: 2, i: 1 })));
    const oid = new ObjectId();
    expect(typedEncode({ a: oid })).toBe(typedEncode({ a: new ObjectId(oid.toHexString()) }));
  });
});
