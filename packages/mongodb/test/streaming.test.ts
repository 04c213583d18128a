/**
 * The MongoDB cursor (`openScan`): on a real server, a scan over mixed key types read in pulls of any
 * size (and resumed after a key of each type) equals the keyset pages; a migration sends ONE `find`
 * over the collection per run (the driver's command monitoring counts them), and a resume re-opens
 * it with `$gt` its checkpoint; 1 MB documents come a few at a time and a migration over them stays
 * within its byte bound with every BSON type kept. Without a server: a read that fails for a reason
 * a retry may cure re-opens the cursor after the last key returned, once.
 */
import { describe, expect, it } from 'vitest';
import { Double, Int32, Long, MongoClient, ObjectId, type CommandStartedEvent, type Db } from 'mongodb';
import { createMigrator, defineDataMigration } from '@mcp/migrate-core';
import type { DataTarget, Row, ScanCursor } from '@mcp/migrate-core/engine';
import { mongoEngine } from '../src/index.js';
import { MongoScanCursor } from '../src/mongo-scan-cursor.js';
import { mongoEnabled, mongoServerFixture } from '@mcp/test-support';
import { BSON } from 'mongodb';

const enabled = await mongoEnabled();

async function drain(cursor: ScanCursor, sizes: readonly number[]): Promise<Row[]> {
  const out: Row[] = [];
  for (let i = 0; ; i++) {
    const limit = sizes[i % sizes.length]!;
    const rows = await cursor.next(limit);
    out.push(...rows);
    if (rows.length < limit) break;
  }
  await cursor.close();
  return out;
}

describe.runIf(enabled)('mongodb cursor on a real server', () => {
  const { client, fresh, engine, track, uri } = mongoServerFixture(mongoEngine, { lockPollMs: 20 });

  it('a migration reads the collection through one find per run; a resume re-opens it with $gt its checkpoint', async () => {
    const name = fresh('mcp_stream');
    await client
      .db(name)
      .collection('items')
      .insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: new Int32(i), n: new Int32(i) })) as never[]);
    // The host's own client, monitored: every `find` and `getMore` the adapter sends on it.
    const monitored = new MongoClient(uri, { monitorCommands: true });
    const commands: CommandStartedEvent[] = [];
    monitored.on('commandStarted', (e) => commands.push(e));
    await monitored.connect();
    const finds = () => commands.filter((e) => e.commandName === 'find' && e.command.find === 'items');
    let fail = true;
    const migrate = () => {
      const m = createMigrator({
        engines: { mongodb: track(mongoEngine({ shards: [{ id: 'mg-0', client: monitored, database: name }] })) },
        migrations: [
          defineDataMigration({
            id: '0001-bump',
            engine: 'mongodb',
            collection: 'items',
            batchSize: 20,
            transform: (row) => {
              if (fail && row._id === 130) throw new Error('boom');
              return { ...row, n: Number(row.n) + 1000 };
            },
          }),
        ],
        throttle: { minBatchSize: 20, maxBatchSize: 20 },
        retry: { retries: 0 },
      });
      return m.run().finally(() => m.close());
    };
    try {
      await expect(migrate()).rejects.toThrow('boom');
      // Six batches done (ids 0–119) and the seventh read, through one cursor and its getMores.
      expect(finds()).toHaveLength(1);
      expect(finds()[0]!.command.filter).toEqual({});
      expect(commands.filter((e) => e.commandName === 'getMore').length).toBeGreaterThan(0);
      fail = false;
      await migrate();
      expect(finds()).toHaveLength(2);
      // The key range (collation-safe: bracketed by BSON type) starts after the checkpoint.
      expect(JSON.stringify(finds()[1]!.command.filter)).toMatch(/"\$gt":119\b/);
    } finally {
      await monitored.close();
    }
    const stored = await client
      .db(name)
      .collection('items')
      .find({}, { promoteValues: false })
      .sort({ _id: 1 })
      .toArray();
    // Every document changed exactly once, and n still an Int32.
    expect(stored.map((d) => [(d._id as unknown as Int32).value, d.n instanceof Int32, (d.n as Int32).value])).toEqual(
      Array.from({ length: 200 }, (_, i) => [i, true, i + 1000]),
    );
  }, 120_000);

  it('mixed key types: pulls of any size, and resumes after a key of each type, equal the keyset pages', async () => {
    const name = fresh('mcp_stream');
    const ids: unknown[] = [
      -5,
      0,
      new Int32(3),
      Long.fromNumber(7),
      new Double(8.5),
      '',
      'a',
      'zz',
      'é',
      new ObjectId('0000000000000000000000aa'),
      new ObjectId('ffffffffffffffffffffffff'),
    ];
    await client
      .db(name)
      .collection('items')
      .insertMany(ids.map((_id, i) => ({ _id, i })) as never[]);
    const shard = engine([name]).shard('mg-0');
    const target: DataTarget = { name: 'items', key: ['_id'] };
    const all = await shard.data.scan(target, undefined, 100);
    expect(all).toHaveLength(ids.length);
    for (const sizes of [[1], [3, 1, 2], [100]]) {
      expect(await drain(shard.data.openScan(target, undefined), sizes)).toEqual(all);
    }
    for (let k = 0; k < all.length; k++) {
      const after = [all[k]!._id];
      expect(await drain(shard.data.openScan(target, after), [2])).toEqual(all.slice(k + 1));
    }
  });

  it('1 MB documents: a migration with a byte bound reads a few at a time, keeps every untouched BSON type', async () => {
    const name = fresh('mcp_stream');
    const big = 'x'.repeat(1_000_000);
    const docs = Array.from({ length: 8 }, (_, i) => ({
      _id: new Int32(i),
      l: Long.fromNumber(i),
      d: new Double(1),
      big,
      n: new Int32(i),
    }));
    for (let i = 0; i < docs.length; i += 4)
      await client
        .db(name)
        .collection('items')
        .insertMany(docs.slice(i, i + 4) as never[]);
    const sizes: number[] = [];
    const migrator = createMigrator({
      engines: { mongodb: engine([name]) },
      migrations: [
        defineDataMigration({
          id: '0001-big',
          engine: 'mongodb',
          collection: 'items',
          batchSize: 1_000,
          transform: (row) => ({ ...row, n: Number(row.n) + 1 }),
        }),
      ],
      throttle: { maxBatchBytes: 3 * 1024 * 1024 },
    });
    migrator.on('batch', (e) => sizes.push(e.processed - sizes.reduce((a, b) => a + b, 0)));
    await migrator.run();
    await migrator.close();
    // 1 MB documents, 3 MiB bound: four a batch (the fourth passes it), where the batch size allows 1,000.
    expect(sizes).toEqual([4, 4]);
    const stored = await client
      .db(name)
      .collection('items')
      .find({}, { promoteValues: false })
      .sort({ _id: 1 })
      .toArray();
    expect(stored.map((d) => [d.l instanceof Long, d.d instanceof Double, (d.n as Int32).value])).toEqual(
      docs.map((_, i) => [true, true, i + 1]),
    );
  }, 120_000);
});

describe('mongodb cursor without a server', () => {
  /** A Db whose find returns `docs` after `after`, failing once with `failure` at the `failAt`-th document read. */
  function fakeDb(docs: readonly { _id: number }[], failure: unknown, failAt: number) {
    const finds: unknown[] = [];
    let reads = 0;
    const db = {
      collection: () => ({
        find: (query: { _id?: { $gt?: number } } | Record<string, unknown>) => {
          finds.push(query);
          const after = JSON.stringify(query).match(/"\$gt":(-?\d+)/)?.[1];
          const rest = docs.filter((d) => after === undefined || d._id > Number(after));
          let at = 0;
          const cursor = {
            cursorOptions: { batchSize: 0 },
            sort: () => cursor,
            batchSize: () => cursor,
            readBufferedDocuments: () => [],
            next: async () => {
              if (++reads === failAt) throw failure;
              const d = rest[at++];
              return d ? BSON.serialize(d) : null;
            },
            close: async () => undefined,
          };
          return cursor;
        },
      }),
    };
    return { db: db as unknown as Db, finds };
  }

  const docs = Array.from({ length: 10 }, (_, i) => ({ _id: i }));
  const target: DataTarget = { name: 'items', key: ['_id'] };

  it('re-opens after the last key returned when the server forgot the cursor, and goes on', async () => {
    const notFound = Object.assign(new Error('cursor id 42 not found'), { code: 43 });
    const { db, finds } = fakeDb(docs, notFound, 5);
    const cursor = new MongoScanCursor(async () => db, target, undefined);
    const got = await drain(cursor, [3]);
    expect(got.map((r) => r._id)).toEqual(docs.map((d) => d._id));
    expect(finds).toHaveLength(2);
    expect(JSON.stringify(finds[1])).toContain('"$gt":3');
  });

  it('does not re-open after an error a retry cannot cure', async () => {
    const bad = Object.assign(new Error('bad query'), { code: 2 });
    const { db, finds } = fakeDb(docs, bad, 2);
    const cursor = new MongoScanCursor(async () => db, target, undefined);
    await expect(cursor.next(5)).rejects.toThrow('bad query');
    expect(finds).toHaveLength(1);
  });
});
