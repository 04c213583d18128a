/**
 * Fidelity on the MongoDB-wire server (issue 8): a collection holding every BSON type the server
 * stores, data migrations that touch one top-level field and one nested field, and then, compared
 * as RAW BSON (documents read with `promoteValues: false`, compared by type tag and exact value, and
 * the server's own `$type` of each field):
 * - after the forward run, every value the transforms did not touch is identical, type included;
 * - after rollback, everything is identical to before — with `reverse`, and from the backup;
 * - the same after a child process is killed (SIGKILL) mid-run and resumed, and when a killed run
 *   is rolled back instead of resumed.
 * MongoDB has no compare-and-set write (see docs/guides/mongodb.md), so there is no CAS variant.
 *
 * What the server itself changes is asserted as such, not hidden: FerretDB v1.24 stores Double -0
 * as 0 and refuses Decimal128 (it closes the connection), which is feature-detected here.
 * Sizes are small: FerretDB scans the whole collection for every per-document write.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Binary,
  BSONRegExp,
  Decimal128,
  Double,
  Int32,
  Long,
  MongoClient,
  ObjectId,
  Timestamp,
  UUID,
  type Db,
  type Document,
} from 'mongodb';
import { compareData, createMigrator, defineDataMigration, type Migration, type Row } from '@mcp/migrate-core';
import { typedEncode } from '@mcp/migrate-core/engine';
import { copyDocuments, mongoEngine } from '@mcp/migrate-mongodb';
import { ferretdbVersion, mongoAvailable, shouldRun, withMongoDatabase } from '@mcp/test-support';

const uri = () => process.env.MONGODB_URI!;

const DOCS = 24;
const BATCH = 4;
const COLLECTION = 'fid';
/** Reads documents exactly as stored: no promotion of Int32/Long/Double, regexes with all their options. */
const RAW = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/**
 * Whether the server stores `doc`. FerretDB v1.24 closes the connection on a Decimal128 insert and
 * refuses nested arrays, so each probe uses its own client and database.
 */
async function accepts(doc: Document): Promise<boolean> {
  const client = new MongoClient(uri(), { serverSelectionTimeoutMS: 3_000 });
  const name = `mcp_fid_probe_${process.pid}`;
  try {
    await client
      .db(name)
      .collection('p')
      .insertOne({ ...doc });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
    const cleanup = new MongoClient(uri(), { serverSelectionTimeoutMS: 3_000 });
    await cleanup
      .db(name)
      .dropDatabase()
      .catch(() => undefined);
    await cleanup.close().catch(() => undefined);
  }
}

const enabled = shouldRun({ name: 'MongoDB-wire server', available: await mongoAvailable() });
const ferret = enabled ? await ferretdbVersion() : null;
const decimals = enabled ? await accepts({ d: Decimal128.fromString('1.50') }) : false;
const nestedArrays = enabled ? await accepts({ a: [[1]] }) : false;

/** One document with every BSON type the server stores; `v` and `sub.deep.s` are what the migrations touch. */
function document(i: number): Document {
  return {
    _id: i,
    v: new Int32(i),
    l: Long.fromNumber(5 + i),
    big: Long.fromString('9007199254740993'), // beyond 2^53: the driver keeps it a Long
    i32: new Int32(-i),
    d1: new Double(1), // an integral Double: JS sees 1, the driver would write it back as Int32
    dm0: new Double(-0),
    dfrac: new Double(0.1 * i),
    dt: new Date(-86_400_000 * 365 * 20 + i), // before 1970
    oid: new ObjectId(),
    bin: new Binary(Buffer.from([0, 1, 2, 255, i]), 0),
    bin128: new Binary(Buffer.from('user-defined'), 128),
    uuid: new UUID(),
    ts: new Timestamp({ t: 1_700_000_000 + i, i: 7 }),
    sub: {
      l: Long.fromNumber(2),
      d: new Double(3),
      deep: { i: new Int32(3), s: 'x', d: new Double(4) },
      arr: [new Double(1)],
    },
    arr: [
      Long.fromNumber(1),
      new Double(1),
      new Int32(1),
      'a',
      { d: new Double(1) },
      ...(nestedArrays ? [[Long.fromNumber(2)]] : []),
      null,
    ],
    n: null,
    u: `héllo wörld 😀 — 日本語 ${i}`,
    empty: '',
    bool: i % 2 === 0,
    re: new BSONRegExp('^a.b$', 'im'),
    ...(decimals ? { dec: Decimal128.fromString('1.50'), decm0: Decimal128.fromString('-0') } : {}),
  };
}

/** Every document as stored, in key order, as type-tagged text (type and exact value of every field). */
async function stored(db: Db): Promise<Map<number, Document>> {
  const docs = await db.collection(COLLECTION).find({}, RAW).sort({ _id: 1 }).toArray();
  return new Map(docs.map((d) => [Number(d._id), d]));
}

/** The server's own `$type` of each field (top level and nested), per document. */
async function serverTypes(db: Db): Promise<Document[]> {
  const fields = [
    'v',
    'l',
    'big',
    'i32',
    'd1',
    'dm0',
    'dt',
    'oid',
    'bin',
    'uuid',
    'ts',
    'sub',
    'arr',
    'n',
    'u',
    'bool',
    're',
    ...(decimals ? ['dec'] : []),
  ];
  const nested = {
    sub_l: '$sub.l',
    sub_d: '$sub.d',
    sub_deep_i: '$sub.deep.i',
    sub_deep_d: '$sub.deep.d',
    sub_deep_s: '$sub.deep.s',
  };
  const project = Object.fromEntries([
    ...fields.map((f) => [f, { $type: `$${f}` }]),
    ...Object.entries(nested).map(([k, path]) => [k, { $type: path }]),
  ]);
  return db
    .collection(COLLECTION)
    .aggregate([{ $sort: { _id: 1 } }, { $project: project }])
    .toArray();
}

const EXPECTED_TYPES = {
  v: 'int',
  l: 'long',
  big: 'long',
  i32: 'int',
  d1: 'double',
  dm0: 'double',
  dt: 'date',
  oid: 'objectId',
  bin: 'binData',
  uuid: 'binData',
  ts: 'timestamp',
  sub: 'object',
  arr: 'array',
  n: 'null',
  u: 'string',
  bool: 'bool',
  re: 'regex',
  sub_l: 'long',
  sub_d: 'double',
  sub_deep_i: 'int',
  sub_deep_d: 'double',
  sub_deep_s: 'string',
};

/** `doc` with `v` and `sub.deep.s` as the forward migrations leave them. */
function migrated(doc: Document, touched: { v: boolean; nested: boolean }): Document {
  const out = { ...doc };
  if (touched.v) out.v = new Int32(Number(doc.v) + 1);
  if (touched.nested) out.sub = { ...doc.sub, deep: { ...doc.sub.deep, s: 'y' } };
  return out;
}

/** Asserts that every document is as `expected` says, by type tag and exact value of every field. */
async function expectStored(db: Db, expected: Map<number, Document>, what: string): Promise<void> {
  const now = await stored(db);
  expect([...now.keys()], what).toEqual([...expected.keys()]);
  for (const [id, doc] of expected) expect(typedEncode(now.get(id)), `${what}: document ${id}`).toBe(typedEncode(doc));
}

const touchV = (reverse: boolean): Migration =>
  defineDataMigration({
    id: '0001-touch-v',
    engine: 'mongodb',
    collection: COLLECTION,
    batchSize: BATCH,
    transform: (row) => ({ ...row, v: Number(row.v) + 1 }),
    ...(reverse ? { reverse: (row: Row) => ({ ...row, v: Number(row.v) - 1 }) } : {}),
  });

const touchNested = (reverse: boolean): Migration => {
  const setS = (s: string) => (row: Row) => {
    const sub = row.sub as Row;
    return { ...row, sub: { ...sub, deep: { ...(sub.deep as Row), s } } };
  };
  return defineDataMigration({
    id: '0002-touch-nested',
    engine: 'mongodb',
    collection: COLLECTION,
    batchSize: BATCH,
    dependsOn: ['0001-touch-v'],
    transform: setS('y'),
    ...(reverse ? { reverse: setS('x') } : {}),
  });
};

/**
 * A runner process (CommonJS, requiring the built packages) that applies or rolls back
 * `0001-touch-v` (no `reverse`: rollback restores from the backup) and prints a line per batch.
 */
function childScript(): string {
  const require = createRequire(import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'mcp-fid-'));
  const file = join(dir, 'runner.cjs');
  writeFileSync(
    file,
    `
    const { createMigrator, defineDataMigration } = require(${JSON.stringify(require.resolve('@mcp/migrate-core'))});
    const { mongoEngine } = require(${JSON.stringify(require.resolve('@mcp/migrate-mongodb'))});
    const [mode, uri, database] = process.argv.slice(2);
    const migration = defineDataMigration({
      id: '0001-touch-v', engine: 'mongodb', collection: ${JSON.stringify(COLLECTION)}, batchSize: ${BATCH},
      transform: (row) => ({ ...row, v: Number(row.v) + 1 }),
    });
    const migrator = createMigrator({
      engines: { mongodb: mongoEngine({ shards: [{ id: 'mg-fid', uri, database }] }) },
      migrations: [migration],
      lock: { ttlMs: 1500, waitMs: 60000 },
      throttle: { minBatchSize: ${BATCH}, maxBatchSize: ${BATCH} },
    });
    migrator.on('batch', (e) => process.stdout.write('batch ' + e.processed + '\\n'));
    (mode === 'up' ? migrator.run() : migrator.rollback({ steps: 1 }))
      .then(async (report) => { process.stdout.write('done ' + JSON.stringify(report.totals) + '\\n'); await migrator.close(); })
      .catch((error) => { process.stderr.write(String(error && error.stack || error) + '\\n'); process.exit(1); });
  `,
  );
  return file;
}

/**
 * Runs the child; with `killAfter`, sends SIGKILL `delayMs` after its `killAfter`-th batch line, so
 * the kill lands inside a later batch (between its read, backup, write and checkpoint).
 */
function runChild(
  script: string,
  mode: 'up' | 'rollback',
  database: string,
  kill?: { after: number; delayMs: number },
): Promise<{ killed: boolean; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, mode, uri(), database], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (kill && !killed && (out.match(/^batch /gm) ?? []).length >= kill.after) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ killed, code, out }));
  });
}

async function ledgerState(db: Db): Promise<string | undefined> {
  return (await db.collection<{ _id: string; state: string }>('mcp_migrations').findOne({ _id: '0001-touch-v' }))
    ?.state;
}

/** Documents whose `v` the migration has changed (the transform is not idempotent: twice would show +2). */
async function changedCount(db: Db, before: Map<number, Document>): Promise<number> {
  const now = await stored(db);
  return [...before].filter(([id, d]) => Number(now.get(id)!.v) !== Number(d.v)).length;
}

async function seed(db: Db): Promise<Map<number, Document>> {
  await db.collection(COLLECTION).insertMany(Array.from({ length: DOCS }, (_, i) => document(i)));
  return stored(db);
}

describe.runIf(enabled)(`fidelity: MongoDB-wire server${ferret ? ` (FerretDB ${ferret})` : ''}`, () => {
  it('what the server itself changes or refuses is known: Double -0 (FerretDB stores 0), Decimal128 and nested arrays (FerretDB refuses them)', async () => {
    await withMongoDatabase('mcp_fid', async ({ db }) => {
      const before = await seed(db);
      const zero = before.get(1)!.dm0 as Double;
      expect(zero).toBeInstanceOf(Double);
      expect(Object.is(zero.value, ferret ? 0 : -0)).toBe(true);
      if (ferret) expect({ decimals, nestedArrays }).toEqual({ decimals: false, nestedArrays: false });
      if (decimals) expect(String(before.get(1)!.dec)).toBe('1.50');
      const types = await serverTypes(db);
      for (const t of types) expect(t).toMatchObject({ ...EXPECTED_TYPES, ...(decimals ? { dec: 'decimal' } : {}) });
    });
  }, 120_000);

  for (const reverse of [true, false]) {
    it(`forward: only the touched fields change, every other value keeps its BSON type; rollback ${reverse ? 'with reverse' : 'from the backup'} restores everything`, async () => {
      await withMongoDatabase('mcp_fid', async ({ client, db, name }) => {
        const before = await seed(db);
        const forward = new Map([...before].map(([id, d]) => [id, migrated(d, { v: true, nested: true })]));
        // Two reference databases for compareData: the original (copied with copyDocuments) and
        // the expected forward state (inserted as stored).
        const [origName, expName] = [`${name}_orig`, `${name}_exp`];
        const refs = mongoEngine({
          shards: [
            { id: 'live', uri: uri(), database: name },
            { id: 'orig', uri: uri(), database: origName },
            { id: 'exp', uri: uri(), database: expName },
          ],
        });
        const migrator = createMigrator({
          engines: { mongodb: mongoEngine({ shards: [{ id: 'mg-fid', uri: uri(), database: name }] }) },
          migrations: [touchV(reverse), touchNested(reverse)],
          throttle: { minBatchSize: BATCH, maxBatchSize: BATCH },
          retry: { retries: 0 },
        });
        const target = { name: COLLECTION, key: ['_id'] };
        const side = (id: string) => ({ store: refs.shard(id).data, target });
        try {
          await copyDocuments(db, client.db(origName), COLLECTION, {}, { batchSize: 10 });
          await expectStored(client.db(origName), before, 'copy of the original');
          await client
            .db(expName)
            .collection(COLLECTION)
            .insertMany([...forward.values()]);

          await migrator.run();
          await expectStored(db, forward, 'after the forward run');
          for (const t of await serverTypes(db)) expect(t).toMatchObject(EXPECTED_TYPES);
          // The type-tagged checksums agree with the raw comparison.
          expect(await compareData(side('live'), side('exp'))).toMatchObject({ equal: true });

          await migrator.rollback({ steps: 2 });
          await expectStored(db, before, `after rollback ${reverse ? 'with reverse' : 'from the backup'}`);
          for (const t of await serverTypes(db)) expect(t).toMatchObject(EXPECTED_TYPES);
          expect(await compareData(side('live'), side('orig'))).toMatchObject({ equal: true });
        } finally {
          await migrator.close();
          await refs.close();
          await Promise.allSettled([client.db(origName).dropDatabase(), client.db(expName).dropDatabase()]);
        }
      });
    }, 300_000);
  }

  // A kill lands at a random moment inside a batch: the delay is printed so a failure can be replayed.
  const delayMs = Math.floor(Math.random() * 40);

  it(`SIGKILL mid-run (${delayMs} ms into a batch), twice, then resume: each document transformed once, every other value keeps its BSON type; rollback from the backup restores everything`, async () => {
    await withMongoDatabase('mcp_fid', async ({ db, name }) => {
      const before = await seed(db);
      const script = childScript();
      for (const after of [2, 1]) {
        const r = await runChild(script, 'up', name, { after, delayMs });
        expect(r.killed && r.code === null, r.out).toBe(true);
        expect(await ledgerState(db)).toBe('running');
      }
      const partial = await changedCount(db, before);
      expect(partial, 'killed mid-run: some documents done, some not').toBeGreaterThan(0);
      expect(partial).toBeLessThan(DOCS);
      const resumed = await runChild(script, 'up', name);
      expect(resumed.code, resumed.out).toBe(0);
      expect(await ledgerState(db)).toBe('applied');
      await expectStored(
        db,
        new Map([...before].map(([id, d]) => [id, migrated(d, { v: true, nested: false })])),
        'after kills and resume',
      );
      for (const t of await serverTypes(db)) expect(t).toMatchObject(EXPECTED_TYPES);
      const rolledBack = await runChild(script, 'rollback', name);
      expect(rolledBack.code, rolledBack.out).toBe(0);
      await expectStored(db, before, 'after rollback');
      expect(await ledgerState(db)).toBe('rolled_back');
    });
  }, 300_000);

  it(`SIGKILL mid-run (${delayMs} ms into a batch), then rollback instead of resume: everything as before, types included`, async () => {
    await withMongoDatabase('mcp_fid', async ({ db, name }) => {
      const before = await seed(db);
      const script = childScript();
      const r = await runChild(script, 'up', name, { after: 2, delayMs });
      expect(r.killed && r.code === null, r.out).toBe(true);
      expect(await ledgerState(db)).toBe('running');
      expect(await changedCount(db, before)).toBeGreaterThan(0);
      const rolledBack = await runChild(script, 'rollback', name);
      expect(rolledBack.code, rolledBack.out).toBe(0);
      await expectStored(db, before, 'after kill and rollback');
      for (const t of await serverTypes(db)) expect(t).toMatchObject(EXPECTED_TYPES);
      expect(await ledgerState(db)).toBe('rolled_back');
    });
  }, 300_000);
});
