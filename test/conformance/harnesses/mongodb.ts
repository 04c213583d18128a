/**
 * Conformance harness for `@mcp/migrate-mongodb` on a real MongoDB-wire server (MONGODB_URI; locally
 * FerretDB v1.24 started by `bash scripts/services.sh start`). Each setup uses fresh databases
 * with random names, dropped in teardown.
 */
import { randomBytes } from 'node:crypto';
import { Double, Int32, MongoClient, type Db, type Document } from 'mongodb';
import { mongoEngine } from '@mcp/migrate-mongodb';
import type { Fixture, Harness, SuiteRow } from '@mcp/migrate-core/testing/conformance';
import { mongoAvailable } from '@mcp/test-support';

const uri = () => process.env.MONGODB_URI;

export const mongoHarness: Harness = {
  name: 'mongodb',
  available: () => mongoAvailable(uri()),
  async setup(shardCount) {
    const url = uri()!;
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 3_000 });
    await client.connect();
    const prefix = `mcp_conf_${randomBytes(4).toString('hex')}`;
    const shardIds = Array.from({ length: shardCount }, (_, i) => `mg-${i}`);
    const database = (shardId: string) => `${prefix}_${shardId.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const db = (shardId: string) => client.db(database(shardId));
    const toDoc = (row: SuiteRow | Record<string, unknown>) => {
      const { id, ...rest } = row as Record<string, unknown>;
      return { _id: id, ...rest } as Record<string, unknown> & { _id: unknown };
    };
    const fixture: Fixture = {
      engineName: 'mongodb',
      shardIds,
      keyField: '_id',
      engine: () =>
        mongoEngine({ shards: shardIds.map((id) => ({ id, uri: url, database: database(id) })), lockPollMs: 20 }),
      ops: {
        async createTable(handle, name) {
          await (handle as Db).createCollection(name);
        },
        async dropTable(handle, name) {
          await (handle as Db).dropCollection(name);
        },
        async insert(handle, table, row) {
          await (handle as Db).collection(table).insertOne(toDoc(row) as never);
        },
      },
      async createRowsTable(name) {
        for (const id of shardIds) {
          await db(id)
            .createCollection(name)
            .catch((error: { code?: number }) => {
              if (error.code !== 48) throw error;
            });
        }
      },
      // Upserts: new ids with one insertMany, existing ones replaced in bulks of at most 50 (FerretDB
      // v1.24 hangs on an update command of 100+ statements, and each update scans the collection).
      async seed(shardId, table, rows) {
        if (rows.length === 0) return;
        const coll = db(shardId).collection(table);
        const docs = rows.map(toDoc);
        const existing = new Set<unknown>(
          (
            await coll.find({ _id: { $in: docs.map((d) => d._id) } as never }, { projection: { _id: 1 } }).toArray()
          ).map((d) => d._id),
        );
        const fresh = docs.filter((d) => !existing.has(d._id));
        if (fresh.length) await coll.insertMany(fresh as never[], { ordered: false });
        const old = docs.filter((d) => existing.has(d._id));
        for (let i = 0; i < old.length; i += 50) {
          await coll.bulkWrite(
            old
              .slice(i, i + 50)
              .map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })) as never,
            { ordered: false },
          );
        }
      },
      // Read as stored (no promotion): a field that went missing, or an integer stored as another
      // BSON type than the Int32 the seed wrote, fails here instead of reading back as the same JS value.
      async rows(shardId, table) {
        const docs = await db(shardId).collection(table).find({}, { promoteValues: false }).sort({ _id: 1 }).toArray();
        return docs.map((d) => suiteRow(table, d));
      },
      grouped: {
        async create(name) {
          for (const id of shardIds) await db(id).collection(name).createIndex({ g: 1, k: 1 }, { unique: true });
        },
        async seed(shardId, name, rows) {
          for (const r of rows)
            await db(shardId)
              .collection(name)
              .updateOne({ g: r.g, k: r.k }, { $set: { v: r.v } }, { upsert: true });
        },
        async rows(shardId, name) {
          const docs = await db(shardId)
            .collection(name)
            .find({}, { projection: { _id: 0 } })
            .toArray();
          return docs.map((d) => ({ g: d.g as number, k: d.k as string, v: d.v as number }));
        },
      },
      // Collections and their indexes, index names left out (two on the same keys show up twice).
      async catalog(handle) {
        const out: string[] = [];
        for (const { name } of await (handle as Db).listCollections().toArray()) {
          out.push(`collection:${name}`);
          for (const ix of await (handle as Db).collection(name).indexes())
            out.push(`index:${name}:${JSON.stringify(ix.key)}:${ix.unique === true}`);
        }
        return out.sort();
      },
      async teardown() {
        await Promise.allSettled(shardIds.map((id) => db(id).dropDatabase()));
        await client.close();
      },
    };
    return fixture;
  },
};

/** A stored document as a suite row, refusing a missing field or a type the seed did not write. */
function suiteRow(table: string, doc: Document): SuiteRow {
  const where = (field: string) => `"${table}": document ${JSON.stringify(String(doc._id))}: field "${field}"`;
  const present = (field: string): unknown => {
    if (!(field in doc)) throw new Error(`${where(field)} is missing (the seed wrote it, null included)`);
    return doc[field];
  };
  const int = (field: string): number | null => {
    const v = present(field);
    if (v === null && field !== '_id') return null;
    if (v instanceof Int32) return v.value;
    // The driver writes a JS integer outside the Int32 range as a Double.
    if (v instanceof Double && Number.isInteger(v.value) && (v.value > 2 ** 31 - 1 || v.value < -(2 ** 31)))
      return v.value;
    throw new Error(
      `${where(field)} is stored as ${(v as { _bsontype?: string } | null)?._bsontype ?? typeof v}, not the Int32 the seed wrote`,
    );
  };
  const text = (field: string): string | null => {
    const v = present(field);
    if (v === null || typeof v === 'string') return v;
    throw new Error(
      `${where(field)} is stored as ${(v as { _bsontype?: string })._bsontype ?? typeof v}, not a string or null`,
    );
  };
  return { id: int('_id')!, name: text('name'), n: int('n'), note: text('note') };
}
