/**
 * Write sizing (no server needed): a logical bulk write is cut into commands by statements and
 * bytes, sent a few at a time, and a failed command stops the rest and is reported with its offset.
 */
import { describe, expect, it } from 'vitest';
import type { AnyBulkWriteOperation, Db, Document } from 'mongodb';
import { chunkedBulkWrite, chunksOf, FERRETDB_WRITES, MONGODB_WRITES, writePlan } from '../src/internal/bulk-write.js';

const update = (i: number, pad = 0): AnyBulkWriteOperation<Document> =>
  ({
    updateOne: { filter: { _id: i }, update: { $set: { n: i, pad: 'x'.repeat(pad) } } },
  }) as unknown as AnyBulkWriteOperation<Document>;

/** A `Db` whose `bulkWrite` records how many commands run at once, and fails where told. */
function fakeDb(server: 'ferretdb' | 'mongodb', fail?: (firstId: number) => boolean) {
  let running = 0;
  const seen = { maxRunning: 0, commands: [] as number[][] };
  const db = {
    client: {},
    command: async () =>
      server === 'ferretdb' ? { version: '7.0.42', ferretdbVersion: 'v1.24.2' } : { version: '7.0' },
    collection: () => ({
      bulkWrite: async (ops: AnyBulkWriteOperation<Document>[]) => {
        running++;
        seen.maxRunning = Math.max(seen.maxRunning, running);
        const ids = ops.map((op) =>
          Number((op as unknown as { updateOne: { filter: { _id: number } } }).updateOne.filter._id),
        );
        seen.commands.push(ids);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        if (fail?.(ids[0]!)) throw Object.assign(new Error(`failed at ${ids[0]}`), { writeErrors: [{ index: 0 }] });
        return { matchedCount: ops.length, upsertedCount: 0, deletedCount: 0, insertedCount: 0 };
      },
    }),
  };
  return { db: db as unknown as Db, seen };
}

describe('write sizing', () => {
  it('detects the server once per client: FerretDB gets small commands, MongoDB one command per batch', async () => {
    expect(await writePlan(fakeDb('ferretdb').db)).toBe(FERRETDB_WRITES);
    expect(await writePlan(fakeDb('mongodb').db)).toBe(MONGODB_WRITES);
    expect(FERRETDB_WRITES.statements).toBeLessThan(100);
  });

  it('cuts by statements and by bytes (at least one statement per command), keeping offsets', () => {
    const ops = Array.from({ length: 25 }, (_, i) => update(i));
    expect(chunksOf(ops, { statements: 10, bytes: 1 << 20 }).map((c) => [c.start, c.ops.length])).toEqual([
      [0, 10],
      [10, 10],
      [20, 5],
    ]);
    const big = Array.from({ length: 5 }, (_, i) => update(i, 3_000));
    expect(chunksOf(big, { statements: Infinity, bytes: 7_000 }).map((c) => c.ops.length)).toEqual([2, 2, 1]);
    expect(chunksOf([update(0, 10_000)], { statements: 10, bytes: 100 }).map((c) => c.ops.length)).toEqual([1]);
  });

  it('sends a batch of 1,000 patches to FerretDB as 100 commands of 10, three in flight', async () => {
    const { db, seen } = fakeDb('ferretdb');
    const counts = await chunkedBulkWrite(
      db,
      'items',
      Array.from({ length: 1_000 }, (_, i) => update(i)),
    );
    expect(counts.matchedCount).toBe(1_000);
    expect(seen.commands).toHaveLength(100);
    expect(seen.commands.every((c) => c.length === 10)).toBe(true);
    expect(seen.maxRunning).toBe(FERRETDB_WRITES.inFlight);
  });

  it('and to MongoDB as one command', async () => {
    const { db, seen } = fakeDb('mongodb');
    await chunkedBulkWrite(
      db,
      'items',
      Array.from({ length: 1_000 }, (_, i) => update(i)),
    );
    expect(seen.commands).toHaveLength(1);
  });

  it('after a failed command starts no other, and reports the first failure by position with its offset', async () => {
    const { db, seen } = fakeDb('ferretdb', (first) => first === 30 || first === 40);
    const error = await chunkedBulkWrite(
      db,
      'items',
      Array.from({ length: 200 }, (_, i) => update(i)),
    ).then(
      () => ({ message: 'resolved', firstIndex: -1 }),
      (e: unknown) => e as { message: string; firstIndex: number },
    );
    expect(error.message).toBe('failed at 30');
    expect(error.firstIndex).toBe(30);
    // The commands at 0, 10 and 20, then 30, 40 and 50 in flight together; nothing after them started.
    expect(seen.commands.length).toBeLessThanOrEqual(6);
  });
});
