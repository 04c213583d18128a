/**
 * The MongoDB adapter against a real MongoDB-wire server (MONGODB_URI): connection errors, failure
 * recording, a killed lease holder, keyset scans over mixed key types, composite keys, checksums,
 * bulk-write failures, helpers and copyDocuments. Skipped without a server unless
 * MCP_MIGRATE_REQUIRE_SERVICES=1.
 */
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Double, Int32, Long, MongoClient, ObjectId, type Db } from 'mongodb';
import {
  compareData,
  createMigrator,
  defineDataMigration,
  defineMigration,
  ErrorCode,
  RunFailedError,
  type Migration,
} from '@mcp/migrate-core';
import { acquireLock, typedEncode } from '@mcp/migrate-core/engine';
import {
  copyDocuments,
  dropCollectionIfExists,
  dropIndexIfExists,
  ensureCollection,
  ensureIndex,
  mongoEngine,
  renameField,
} from '../src/index.js';
import { mongoEnabled, mongoServerFixture } from '@mcp/test-support';

const enabled = await mongoEnabled();

describe.runIf(enabled)('mongodb adapter on a real server', () => {
  const { uri, client, fresh, engine, track } = mongoServerFixture(mongoEngine, { lockPollMs: 20 });

  it('an unreachable shard fails with ShardUnavailableError naming it, credentials redacted', async () => {
    const e = track(
      mongoEngine({
        shards: [{ id: 'dead-0', uri: 'mongodb://admin:hunter2@127.0.0.1:1/?authSource=admin', database: 'x' }],
        serverSelectionTimeoutMS: 300,
      }),
    );
    const error = await e
      .shard('dead-0')
      .connect()
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: ErrorCode.ShardUnavailable, shardId: 'dead-0', retryable: true });
    expect((error as Error).message).toContain('dead-0');
    expect((error as Error).message).toContain('mongodb://***@127.0.0.1:1/x');
    expect(inspect(error, { depth: 10 })).not.toContain('hunter2');
    expect(e.shards[0]!.location).not.toContain('hunter2');
    // Through the migrator (the dead shard is also the control store): a failed run whose report
    // names the shard with the same redacted error.
    const run = (await createMigrator({ engines: { mongodb: e }, migrations: [] })
      .run()
      .catch((err: unknown) => err)) as {
      code: string;
      message: string;
      report: { shards: { shardId: string; error?: { code: string } }[] };
    };
    expect(run.code).toBe(ErrorCode.RunFailed);
    expect(run.report.shards[0]).toMatchObject({ shardId: 'dead-0', error: { code: ErrorCode.ShardUnavailable } });
    expect(run.message).toContain('dead-0');
    expect(inspect(run, { depth: 10 })).not.toContain('hunter2');
  });

  it('detects FerretDB or the replica set at connect, as the server reports itself; the host client is never closed', async () => {
    const host = new MongoClient(uri);
    const e = mongoEngine({ shards: [{ id: 'h-0', client: host, database: fresh() }] });
    expect(e.shard('h-0').server).toBeUndefined();
    await e.shard('h-0').connect();
    const server = e.shard('h-0').server!;
    // What the server says about itself, asked directly.
    const build = await client.db('admin').command({ buildInfo: 1 });
    const hello = await client.db('admin').command({ hello: 1 });
    expect(server).toEqual({
      version: build.version,
      ferretdb: typeof build.ferretdbVersion === 'string' ? build.ferretdbVersion : null,
      setName: typeof hello.setName === 'string' ? hello.setName : null,
      mongos: hello.msg === 'isdbgrid',
    });
    const replicated = server.ferretdb === null && (server.setName !== null || server.mongos);
    expect(e.shard('h-0').capabilities).toEqual({
      transactions: replicated && hello.logicalSessionTimeoutMinutes != null,
      transactionalDdl: false,
      changeCapture: replicated,
      compareAndSet: false,
      serverCopy: false,
      inspect: true,
      serverUpdate: true,
      openScan: true,
    });
    await e.close();
    expect(await host.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    await host.close();
  });

  it('a failing migration is recorded as failed; onFailure "halt" stops the other shard; a fixed re-run applies', async () => {
    const dbs = [fresh(), fresh()];
    const boom = defineMigration({
      id: '0001-boom',
      engine: 'mongodb',
      up: async () => {
        throw new Error('cannot parse "SELEC" password=hunter2');
      },
    });
    const err = await createMigrator({
      engines: { mongodb: engine(dbs) },
      migrations: [boom],
      concurrency: 1,
      onFailure: 'halt',
      retry: { retries: 0 },
    })
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    const report = (err as RunFailedError<{ totals: { failed: number; notRun: number } }>).report;
    expect(report.totals).toMatchObject({ failed: 1, notRun: 1 });
    const ledger = await client
      .db(dbs[0]!)
      .collection('mcp_migrations')
      .findOne({ _id: '0001-boom' as never });
    expect(ledger).toMatchObject({ state: 'failed', error: { message: expect.stringContaining('SELEC') } });
    expect(JSON.stringify(ledger)).not.toContain('hunter2');
    expect(
      await client
        .db(dbs[1]!)
        .collection('mcp_migrations')
        .countDocuments({ _id: '0001-boom' as never }),
    ).toBe(0);
    const fixed = defineMigration({
      id: '0001-boom',
      engine: 'mongodb',
      up: async (db: Db) => {
        await ensureCollection(db, 'fixed');
      },
    });
    const again = await createMigrator({ engines: { mongodb: engine(dbs) }, migrations: [fixed] }).run();
    expect(again.totals).toMatchObject({ applied: 2, failed: 0 });
    for (const d of dbs) expect((await client.db(d).listCollections({ name: 'fixed' }).toArray()).length).toBe(1);
  });

  it('a holder that stops heartbeating loses the lease to another runner; its late writes are fenced off', async () => {
    const db = fresh();
    const a = engine([db]).shard('mg-0');
    const b = engine([db]).shard('mg-0');
    await a.ledger.init();
    const paused = await acquireLock(a.lock, 'set:shard', { owner: 'paused', ttlMs: 300, waitMs: 0 });
    const waited: (string | null)[] = [];
    const taker = await acquireLock(b.lock, 'set:shard', {
      owner: 'taker',
      ttlMs: 5_000,
      waitMs: 5_000,
      onWait: (h) => waited.push(h?.owner ?? null),
    });
    // It waited while the paused holder still held the lease (no timing assumed).
    expect(waited).toContain('paused');
    expect(taker.token).toBeGreaterThan(paused.token);
    expect(await b.lock.status('set:shard')).toMatchObject({ owner: 'taker', token: taker.token });
    const record = {
      id: 'm1',
      state: 'running' as const,
      checksum: 'c',
      startedAt: null,
      finishedAt: null,
      runnerId: 'x',
      checkpoint: null,
      counts: null,
      error: null,
      seq: 1,
    };
    await b.ledger.put({ ...record, runnerId: 'taker' }, { lockName: 'set:shard', token: taker.token });
    await expect(
      a.ledger.put({ ...record, state: 'applied', runnerId: 'paused' }, { lockName: 'set:shard', token: paused.token }),
    ).rejects.toMatchObject({ code: ErrorCode.StaleLease });
    await expect(a.ledger.delete('m1', { lockName: 'set:shard', token: paused.token })).rejects.toMatchObject({
      code: ErrorCode.StaleLease,
    });
    await expect(paused.renew()).rejects.toMatchObject({ code: ErrorCode.StaleLease });
    await paused.release(); // idempotent, must not free the taker's lease
    expect(await b.lock.status('set:shard')).toMatchObject({ owner: 'taker' });
    expect((await a.ledger.list())[0]).toMatchObject({ runnerId: 'taker', state: 'running' });
    await taker.renew();
    await taker.release();
    expect(await b.lock.status('set:shard')).toBeNull();
  });

  it('a record written with a newer fence is never overwritten with an older one (the second fencing check)', async () => {
    const db = fresh();
    const s = engine([db]).shard('mg-0');
    await s.ledger.init();
    const lease = await acquireLock(s.lock, 'l', { owner: 'a', ttlMs: 5_000, waitMs: 0 });
    const record = {
      id: 'm1',
      state: 'applied' as const,
      checksum: 'new',
      startedAt: null,
      finishedAt: null,
      runnerId: 'a',
      checkpoint: null,
      counts: null,
      error: null,
      seq: 1,
    };
    await s.ledger.put(record, { lockName: 'l', token: lease.token });
    // Simulate a stale writer that passed the lease check just before the lease moved on: its
    // conditional upsert meets a record stamped with a newer token and is refused.
    await client
      .db(db)
      .collection('mcp_migrations')
      .updateOne({ _id: 'm1' as never }, { $set: { 'fence.token': lease.token + 5 } });
    await expect(
      s.ledger.put({ ...record, checksum: 'old' }, { lockName: 'l', token: lease.token }),
    ).rejects.toMatchObject({ code: ErrorCode.StaleLease });
    expect((await s.ledger.list())[0]!.checksum).toBe('new');
    await lease.release();
  });

  it('a killed process (SIGKILL) holding the lock: another runner acquires it after the TTL', async () => {
    const db = fresh();
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'mcp-mongo-kill-'));
    const script = join(dir, 'holder.mjs');
    writeFileSync(
      script,
      `
      import { mongoEngine } from ${JSON.stringify(dist)};
      const e = mongoEngine({ shards: [{ id: 'mg-0', uri: ${JSON.stringify(uri)}, database: ${JSON.stringify(db)} }] });
      const lease = await e.shard('mg-0').lock.tryAcquire('set:run', { owner: 'child:' + process.pid, ttlMs: 1500 });
      console.log('locked ' + lease.token);
      setInterval(() => lease.renew().catch(() => {}), 400);
    `,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const token = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /locked (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
      setTimeout(() => reject(new Error(`child did not lock: ${out}`)), 15_000);
    });
    const s = engine([db]).shard('mg-0');
    expect(await s.lock.status('set:run')).toMatchObject({ owner: `child:${child.pid}` });
    await expect(acquireLock(s.lock, 'set:run', { owner: 'me', ttlMs: 5_000, waitMs: 0 })).rejects.toMatchObject({
      code: ErrorCode.LockTimeout,
    });
    child.kill('SIGKILL');
    // The child's lease is never released: acquiring within waitMs proves it expired (no timing assumed).
    const lease = await acquireLock(s.lock, 'set:run', { owner: 'me', ttlMs: 5_000, waitMs: 20_000 });
    expect(await s.lock.status('set:run')).toMatchObject({ owner: 'me', token: lease.token });
    expect(lease.token).toBeGreaterThan(token);
    await lease.release();
  }, 30_000);

  it('keyset scans over mixed key types return every document exactly once, in server order', async () => {
    const db = fresh();
    const ids: unknown[] = [
      -7.5,
      -1,
      0,
      1,
      2.5,
      1e12,
      '',
      'A',
      'a',
      'é',
      'zz',
      new ObjectId(),
      new ObjectId(),
      true,
      new Date(5),
    ];
    await client
      .db(db)
      .collection('mixed')
      .insertMany(ids.map((_id, i) => ({ _id, i })) as never[]);
    const s = engine([db]).shard('mg-0');
    const target = { name: 'mixed', key: ['_id'] };
    // The server's own order of the whole collection: every scan must see exactly this sequence.
    const serverOrder = (await client.db(db).collection('mixed').find({}).sort({ _id: 1 }).toArray()).map((d) => d.i);
    expect([...serverOrder].sort((x, y) => Number(x) - Number(y))).toEqual(ids.map((_, i) => i));
    for (const size of [1, 2, 4, 100]) {
      const seen: unknown[] = [];
      let after: unknown[] | undefined;
      for (;;) {
        const page = await s.data.scan(target, after, size);
        seen.push(...page.map((r) => r.i));
        if (page.length < size) break;
        after = [page.at(-1)!._id];
      }
      expect(seen, `batch ${size}`).toEqual(serverOrder);
    }
    expect(await s.data.count(target, { after: [0], upTo: ['a'] })).toBe(6); // 1, 2.5, 1e12, '', 'A', 'a'
    // Strings sort bytewise (UTF-8): 'é' after 'zz'; then 2 ObjectIds, true, a date.
    expect((await s.data.checksum(target, { after: ['zz'] })).count).toBe(5);
    expect((await s.data.scan(target, ['a'], 2)).map((r) => r._id)).toEqual(['zz', 'é']);
  });

  it('composite keys: keyset on (tenant, seq) over a compound sort', async () => {
    const db = fresh();
    const docs = ['t1', 't2', 't3'].flatMap((tenant) =>
      [-2, 0, 1, 10].map((seq) => ({ tenant, seq, v: `${tenant}:${seq}` })),
    );
    await client
      .db(db)
      .collection('comp')
      .insertMany([...docs].reverse());
    const s = engine([db]).shard('mg-0');
    const target = { name: 'comp', key: ['tenant', 'seq'] };
    const seen: string[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      const page = await s.data.scan(target, after, 5);
      seen.push(...page.map((r) => String(r.v)));
      if (page.length < 5) break;
      after = [page.at(-1)!.tenant, page.at(-1)!.seq];
    }
    expect(seen).toEqual(docs.map((d) => d.v));
    expect(await s.data.count(target, { after: ['t1', 1], upTo: ['t2', 0] })).toBe(3); // t1:10, t2:-2, t2:0
    const written = await s.data.write(target, [{ tenant: 't2', seq: 1, v: 'changed' }]);
    expect(written).toBe(1);
    expect(await client.db(db).collection('comp').countDocuments({ v: 'changed' })).toBe(1);
    expect(await client.db(db).collection('comp').countDocuments()).toBe(12);
  });

  it('checksums do not depend on field order or insertion order, and see one changed value and a type-only change', async () => {
    const [d1, d2] = [fresh(), fresh()];
    const oid = new ObjectId();
    await client
      .db(d1)
      .collection<{ _id: unknown } & Record<string, unknown>>('c')
      .insertMany([
        { _id: 1, a: 'x', b: { y: 1, z: [1, null] }, o: oid, at: new Date(0), n: null },
        { _id: 2, a: 'y' },
      ]);
    await client
      .db(d2)
      .collection<{ _id: unknown } & Record<string, unknown>>('c')
      .insertMany([
        { a: 'y', _id: 2 },
        { n: null, at: new Date(0), o: oid, b: { z: [1, null], y: 1 }, a: 'x', _id: 1 },
      ]);
    const [s1, s2] = [engine([d1]).shard('mg-0'), engine([d2]).shard('mg-0')];
    const target = { name: 'c', key: ['_id'] };
    expect(await s1.data.checksum(target)).toEqual(await s2.data.checksum(target));
    await client
      .db(d2)
      .collection('c')
      .updateOne({ _id: 1 } as never, { $unset: { n: '' } });
    expect((await s2.data.checksum(target)).hash).not.toBe((await s1.data.checksum(target)).hash);
    // Same number, another BSON type: Long 7 vs Int32 7 in one field of one document.
    await client
      .db(d1)
      .collection('c')
      .updateOne({ _id: 2 } as never, { $set: { k: Long.fromNumber(7) } });
    await client
      .db(d2)
      .collection('c')
      .updateOne({ _id: 2 } as never, { $set: { k: new Int32(7) } });
    await client
      .db(d2)
      .collection('c')
      .updateOne({ _id: 1 } as never, { $set: { n: null } });
    const [h1, h2] = [await s1.data.checksum(target), await s2.data.checksum(target)];
    expect(h2.count).toBe(h1.count);
    expect(h2.hash).not.toBe(h1.hash);
    expect((await compareData({ store: s1.data, target }, { store: s2.data, target })).differences).toEqual([
      { key: [2], kind: 'changed' },
    ]);
    await client
      .db(d2)
      .collection('c')
      .updateOne({ _id: 2 } as never, { $set: { k: Long.fromNumber(7) } });
    expect(await s2.data.checksum(target)).toEqual(await s1.data.checksum(target));
  });

  it('a bulk write that hits a unique index violation fails the batch with the server error (naming the key on MongoDB), and fails the run through the batch engine', async () => {
    const db = fresh();
    const coll = client.db(db).collection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertMany([
      { _id: 1, email: 'a@x' },
      { _id: 2, email: 'b@x' },
    ] as never[]);
    const s = engine([db]).shard('mg-0');
    const target = { name: 'users', key: ['_id'] };
    const err = await s.data
      .write(target, [
        { _id: 3, email: 'c@x' },
        { _id: 4, email: 'a@x' },
      ])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.MigrationFailed });
    expect((err as Error).message).toContain('E11000');
    // FerretDB v1.24 reports the wrong writeErrors[].index for an unordered bulk (0 here), so the
    // key named is only exact on MongoDB: on FerretDB this one assertion is not made.
    if (!s.server?.ferretdb) expect((err as Error).message).toContain('failed key(s): 4');
    // Through the batch engine: a transform that makes a duplicate fails the run; nothing is lost.
    const dup = defineDataMigration({
      id: '0001-dup',
      engine: 'mongodb',
      collection: 'users',
      key: '_id',
      transform: (row) => (row._id === 2 ? { ...row, email: 'a@x' } : row),
    });
    const run = await createMigrator({ engines: { mongodb: engine([db]) }, migrations: [dup], retry: { retries: 0 } })
      .run()
      .catch((e: unknown) => e);
    expect(run).toBeInstanceOf(RunFailedError);
    const failed = (run as RunFailedError<{ shards: { migrations?: { error?: { message: string } }[] }[] }>).report;
    // MongoDB says E11000; FerretDB v1.24 reports a unique violation by an update as an internal
    // error (code 1) quoting SQLite's "UNIQUE constraint failed".
    expect(JSON.stringify(failed)).toMatch(/E11000|UNIQUE constraint failed/);
    expect(
      await client
        .db(db)
        .collection('mcp_migrations')
        .findOne({ _id: '0001-dup' as never }),
    ).toMatchObject({ state: 'failed' });
    expect(
      await coll
        .find({ _id: { $in: [1, 2] } } as never)
        .sort({ _id: 1 })
        .toArray(),
    ).toEqual([
      { _id: 1, email: 'a@x' },
      { _id: 2, email: 'b@x' },
    ]);
  });

  it('backups keep the first copy, with null fields and raw BSON types, and a backup page written back restores exactly', async () => {
    const db = fresh();
    const s = engine([db]).shard('mg-0');
    const target = { name: 'items', key: ['_id'] };
    const bk = { name: 'bk', key: ['_id'], backupOf: target };
    // What the batch engine does without serverCopy: read a page of the backup, write it back.
    const restorePage = async (after: unknown[] | undefined) => {
      const page = await s.data.scan(bk, after, 1);
      return {
        restored: page.length ? await s.data.write(target, page) : 0,
        last: page.length ? [page.at(-1)!._id] : undefined,
      };
    };
    const items = client.db(db).collection<Record<string, unknown>>('items');
    const originals = [
      { _id: 1, a: null, b: 'orig', l: Long.fromNumber(5), d: new Double(1), sub: { x: Long.fromNumber(2) } },
      { _id: 2, a: new Int32(1), big: Long.fromString('9007199254740993') },
    ];
    await items.insertMany(originals.map((o) => ({ ...o })) as never[]);
    const asStored = async () =>
      (await items.find({}, { promoteValues: false }).sort({ _id: 1 }).toArray()).map((d) => typedEncode(d));
    const before = await asStored();
    expect(await s.data.write(bk, await s.data.scan(target, undefined, 10))).toBe(2);
    // The first copy wins: a second backup of changed rows keeps the originals, adds the new one.
    expect(
      await s.data.write(bk, [
        { _id: 1, a: 'changed', b: 'changed' },
        { _id: 3, a: 3 },
      ]),
    ).toBe(2);
    expect(await s.data.scan(bk, undefined, 10)).toEqual([
      { _id: 1, a: null, b: 'orig', l: 5, d: 1, sub: { x: 2 } },
      { _id: 2, a: 1, big: Long.fromString('9007199254740993') },
      { _id: 3, a: 3 },
    ]);
    const saved = await client
      .db(db)
      .collection('bk')
      .find({ _id: { $in: [1, 2] } } as never, { promoteValues: false })
      .sort({ _id: 1 })
      .toArray();
    expect(saved.map((d) => typedEncode(d))).toEqual(before);
    // Change the live documents' types and values, delete one, then restore page by page.
    await items.updateOne({ _id: 1 } as never, { $set: { l: 5, d: 1, 'sub.x': 2, b: 'changed' } });
    await items.deleteOne({ _id: 2 } as never);
    expect(await asStored()).not.toEqual(before);
    expect(await restorePage(undefined)).toEqual({ restored: 1, last: [1] });
    expect(await restorePage([1])).toEqual({ restored: 1, last: [2] });
    expect(await restorePage([3])).toEqual({ restored: 0, last: undefined });
    expect((await asStored()).slice(0, 2)).toEqual(before);
    await s.data.drop(bk);
    await s.data.drop(bk);
    expect(await s.data.scan(bk, undefined, 10)).toEqual([]);
    // drop never drops a collection of the application.
    await expect(s.data.drop(target)).rejects.toMatchObject({ code: 'MIGRATE_DEFINITION', field: 'backupOf' });
    expect(await items.countDocuments()).toBe(2);
  });

  it('helpers are idempotent: ensureCollection, ensureIndex (refusing a conflicting one), drops, renameField', async () => {
    const db = client.db(fresh());
    expect(await ensureCollection(db, 'messages')).toBe(true);
    expect(await ensureCollection(db, 'messages')).toBe(false);
    const name = await ensureIndex(db, 'messages', { tenant_id: 1, created_at: -1 });
    expect(await ensureIndex(db, 'messages', { tenant_id: 1, created_at: -1 })).toBe(name);
    await expect(ensureIndex(db, 'messages', { tenant_id: 1, created_at: -1 }, { unique: true })).rejects.toThrow(
      /different "unique"/,
    );
    await Promise.all([1, 2, 3].map(() => ensureIndex(db, 'messages', { message_id: 1 }, { unique: true })));
    expect((await db.collection('messages').indexes()).filter((i) => i.key.message_id === 1)).toHaveLength(1);
    expect(await dropIndexIfExists(db, 'messages', { tenant_id: 1, created_at: -1 })).toBe(true);
    expect(await dropIndexIfExists(db, 'messages', name)).toBe(false);
    await db.collection('messages').insertMany(
      Array.from({ length: 25 }, (_, i) => ({
        _id: i,
        message_id: `m${i}`,
        ...(i % 5 ? { body: `b${i}` } : {}),
      })) as never[],
    );
    expect(await renameField(db, 'messages', 'body', 'text', { batchSize: 7 })).toBe(20);
    expect(await renameField(db, 'messages', 'body', 'text', { batchSize: 7 })).toBe(0);
    expect(await db.collection('messages').countDocuments({ text: { $exists: true } })).toBe(20);
    expect(await dropCollectionIfExists(db, 'messages')).toBe(true);
    expect(await dropCollectionIfExists(db, 'messages')).toBe(false);
  });

  it('copyDocuments copies a filtered collection between databases in keyset batches, BSON types included; checksums equal', async () => {
    const [src, dst] = [fresh(), fresh()];
    const docs = Array.from({ length: 230 }, (_, i) => ({
      _id: i % 3 ? new ObjectId() : i - 100,
      tenant_id: i % 2 ? 't1' : 't2',
      n: i,
      note: i % 7 ? null : 'x',
      l: Long.fromNumber(i),
      d: new Double(1),
      sub: { i: new Int32(i), l: Long.fromNumber(-i) },
    }));
    await client
      .db(src)
      .collection('messages')
      .insertMany(docs as never[]);
    const progress: number[] = [];
    const result = await copyDocuments(
      client.db(src),
      client.db(dst),
      'messages',
      { tenant_id: 't1' },
      { batchSize: 40, onBatch: (p) => void progress.push(p.read) },
    );
    expect(result).toMatchObject({ read: 115, written: 115, batches: 3 });
    expect(progress).toEqual([40, 80, 115]);
    const target = { name: 'messages', key: ['_id'], filter: { tenant_id: 't1' } };
    const [a, b] = [
      await engine([src]).shard('mg-0').data.checksum(target),
      await engine([dst]).shard('mg-0').data.checksum(target),
    ];
    expect(b).toEqual(a);
    expect(b.count).toBe(115);
    const stored = async (name: string) =>
      (
        await client
          .db(name)
          .collection('messages')
          .find({ tenant_id: 't1' }, { promoteValues: false })
          .sort({ _id: 1 })
          .toArray()
      ).map((d) => typedEncode(d));
    expect(await stored(dst)).toEqual(await stored(src));
    expect(
      (await client.db(dst).collection('messages').findOne({ tenant_id: 't1' }, { promoteValues: false }))!.l,
    ).toBeInstanceOf(Long);
    // Re-running is idempotent.
    expect(
      await copyDocuments(client.db(src), client.db(dst), 'messages', { tenant_id: 't1' }, { batchSize: 40 }),
    ).toMatchObject({ written: 115 });
    expect(await client.db(dst).collection('messages').countDocuments()).toBe(115);
  }, 30_000);

  it('runs migrations end to end with the ledger in the shard', async () => {
    const dbs = [fresh(), fresh()];
    const migrations: Migration[] = [
      defineMigration({
        id: '0001-coll',
        engine: 'mongodb',
        up: async (db: Db) => {
          await ensureCollection(db, 'messages');
        },
        down: async (db: Db) => {
          await dropCollectionIfExists(db, 'messages');
        },
      }),
    ];
    const report = await createMigrator({ engines: { mongodb: engine(dbs) }, migrations }).run();
    expect(report.totals.applied).toBe(2);
    const status = await createMigrator({ engines: { mongodb: engine(dbs) }, migrations }).status();
    expect(status.shards.map((s) => s.migrations.map((m) => m.state))).toEqual([['applied'], ['applied']]);
    const doc = await client.db(dbs[0]!).collection('mcp_migrations').findOne({});
    expect(doc).toMatchObject({
      _id: '0001-coll',
      fence: { lockName: expect.stringContaining('mg-0'), token: expect.any(Number) },
    });
  });
});
