/**
 * Property (issue #5, issue #8): for random rows/documents, a data migration that changes some
 * columns/fields leaves every other value exactly as stored — checked in the server after the
 * FORWARD run, not only after the rollback — and rolling back (from the backup: no `reverse`)
 * restores every value exactly.
 *
 * The generators produce the values that get lost through JavaScript:
 * - PostgreSQL, inserted as SQL text (never JS Dates or JSON.stringify): timestamptz/timestamp with
 *   microseconds, jsonb with -0, 1.0, 0.0, 30-digit numbers and JSON null (apart from SQL NULL),
 *   numeric with scale, float8 -0/extremes, bigint beyond 2^53. Compared as `col::text`.
 * - MongoDB, with explicit BSON types: Int32, Long, Double (1.0 and other integral doubles), dates,
 *   ObjectIds, nested documents. Compared as canonical Extended JSON of the raw documents (read with
 *   promoteValues: false), which keeps every numeric type apart. Decimal128 and Double(-0) only where
 *   the server stores them: elsewhere that case is a counted skip with the reason.
 *
 * The same with `parallelism` 3 (key ranges at once), for JS transforms and `sql` / `update`.
 *
 * MCP_PROPERTY_RUNS sets the number of runs (default 25, at least 1).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BSON, Decimal128, Double, Int32, Long, ObjectId, type Db } from 'mongodb';
import type pg from 'pg';
import { createMigrator, defineDataMigration, type EngineAdapter, type Row } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import {
  ferretdbVersion,
  mongoAvailable,
  postgresAvailable,
  recordSkip,
  shouldRun,
  withMongoDatabase,
  withPgDatabase,
} from '@mcp/test-support';

const RUNS = Number(process.env.MCP_PROPERTY_RUNS ?? 25);
// A property with 0 runs passes without checking anything.
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new Error(`MCP_PROPERTY_RUNS must be an integer ≥ 1, got ${JSON.stringify(process.env.MCP_PROPERTY_RUNS)}`);

const { EJSON } = BSON;
const noNul = (s: string) => !s.includes('\u0000');
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter(noNul);
const fieldName = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);

// ---------------------------------------------------------------- PostgreSQL: values as SQL text

/** JSON number tokens JavaScript cannot carry exactly, and ordinary ones. */
const jsonNumber = fc.oneof(
  fc.constantFrom(
    '-0',
    '1.0',
    '0.0',
    '-0.0',
    '1e2',
    '123456789012345678901234567890',
    '3.141592653589793238462643383279',
    '-98765432109876543210.5',
  ),
  fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }).map(String),
  fc
    .double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 })
    .map((d) => (Object.is(d, -0) ? '-0' : String(d))),
);
/** JSON text (never through JSON.stringify of a JS value): numbers as written, nested, with null. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant('null'),
    fc.constantFrom('true', 'false'),
    jsonNumber,
    text.map((s) => JSON.stringify(s)),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
  object: fc
    .uniqueArray(fc.tuple(fieldName, tie('value')), { maxLength: 3, selector: ([k]) => k })
    .map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`),
})).value;
/** A timestamp with microseconds (and dates before 1970), as SQL text. */
const timestampText = fc
  .tuple(
    fc.integer({ min: 1900, max: 2199 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 28 }),
    fc.integer({ min: 0, max: 86_399 }),
    fc.integer({ min: 0, max: 999_999 }),
  )
  .map(
    ([y, mo, d, s, us]) =>
      `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')} ${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String(us).padStart(6, '0')}`,
  );
const decimalText = fc
  .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 8 }))
  .map(([units, scale]) => {
    const s = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
    return `${units < 0n ? '-' : ''}${scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s}`;
  });
const floatText = fc.oneof(
  fc.constantFrom('-0', '0', '1.7976931348623157e308', '5e-324', '-2.2250738585072014e-308', '0.1'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? '-0' : String(d))),
);

/**
 * Columns the transform changes (`note`, `tags`, `doc`, `at`) and columns it leaves alone (`*_keep`,
 * `amount`, `big`, `f`): the latter must be byte-identical, as the server prints them, after the forward run.
 */
const PG_COLUMNS = ['doc', 'at', 'tags', 'note', 'doc_keep', 'at_keep', 'ts_keep', 'amount', 'big', 'f'] as const;
const PG_UNTOUCHED = ['doc_keep', 'at_keep', 'ts_keep', 'amount', 'big', 'f'] as const;
const pgRow = fc.record({
  doc: fc.option(jsonText, { nil: null }),
  at: fc.option(
    timestampText.map((t) => `${t}+00`),
    { nil: null },
  ),
  tags: fc.option(fc.array(text, { maxLength: 4 }), { nil: null }),
  note: fc.option(text, { nil: null }),
  doc_keep: fc.option(jsonText, { nil: null }),
  at_keep: fc.option(
    timestampText.map((t) => `${t}+00`),
    { nil: null },
  ),
  ts_keep: fc.option(timestampText, { nil: null }),
  amount: fc.option(decimalText, { nil: null }),
  big: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), { nil: null }),
  f: fc.option(floatText, { nil: null }),
});

/** Every row as the server prints each column (`col::text`), by id. */
async function pgText(
  pool: pg.Pool,
  table: string,
  columns: readonly string[],
): Promise<Record<string, string | null>[]> {
  const { rows } = await pool.query<Record<string, string | null>>(
    `SELECT id::text AS id, ${columns.map((c) => `"${c}"::text AS "${c}"`).join(', ')} FROM "${table}" ORDER BY id`,
  );
  return rows;
}

/** Changes strings, arrays, dates and wraps `doc`; leaves every other column as it was read. */
const pgTransform = (row: Row): Row => ({
  ...row,
  note: typeof row.note === 'string' ? `${row.note}!` : row.note,
  tags: Array.isArray(row.tags) ? [...row.tags].reverse().concat('x') : row.tags,
  at: row.at instanceof Date ? new Date(row.at.getTime() + 1) : row.at,
  doc: { wrapped: row.doc ?? null },
});

/** {@link pgTransform} as one UPDATE per key range, done by the server. */
const pgSql = (table: string) =>
  `UPDATE "${table}" SET note = note || '!', tags = array_append(tags, 'x'), at = at + interval '1 microsecond',
     doc = jsonb_build_object('wrapped', doc) WHERE id > $1 AND id <= $2`;

// ---------------------------------------------------------------- MongoDB: explicit BSON types

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => new Int32(v));
const long = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => Long.fromBigInt(v));
/** Doubles, with integral ones (1.0, 5.0, …) that a JS number would turn into an Int32. */
const double = fc.oneof(
  fc.constant(new Double(1)),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((v) => new Double(v)),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((d) => !Object.is(d, -0))
    .map((d) => new Double(d)),
);
const negativeZero = fc.constant(null).map(() => new Double(-0));
const decimal128 = decimalText
  .filter((d) => d.replace(/[-.]/g, '').replace(/^0+/, '').length <= 34)
  .map((d) => Decimal128.fromString(d));
const date = fc.date({
  min: new Date('1900-01-01T00:00:00Z'),
  max: new Date('2200-01-01T00:00:00Z'),
  noInvalidDate: true,
});
const objectId = fc.constant(null).map(() => new ObjectId());

/** A BSON value: scalars of every numeric type, and documents/arrays of them (no arrays directly in arrays on FerretDB). */
function bsonValue(extra: fc.Arbitrary<unknown>[], nestedArrays: boolean): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(fc.constant(null), fc.boolean(), text, int32, long, double, date, objectId, ...extra);
  return fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
    array: fc.array(nestedArrays ? tie('value') : fc.oneof(scalar, tie('object')), { maxLength: 3 }),
    object: fc.dictionary(fieldName, tie('value'), { maxKeys: 3 }),
  })).value;
}

/**
 * Documents read raw (no promotion of Int32/Long/Double), per _id, as `[field, canonical Extended
 * JSON]` pairs in stored order (so a changed field order shows too).
 */
async function mongoRaw(db: Db, name: string): Promise<Map<string, [string, string][]>> {
  const out = new Map<string, [string, string][]>();
  for (const d of await db.collection(name).find({}, { promoteValues: false, promoteLongs: false }).toArray()) {
    out.set(
      EJSON.stringify(d._id, { relaxed: false }),
      Object.entries(d).map(([k, v]) => [k, EJSON.stringify(v, { relaxed: false })]),
    );
  }
  return out;
}

/**
 * Changes the field `t` and every field whose name starts with `c` (strings, arrays, dates); the
 * `k*` fields must keep their values and BSON types through the forward run.
 */
const mongoTransform = (doc: Row): Row => {
  const next: Row = { ...doc, t: `${String(doc.t)}!` };
  for (const [k, v] of Object.entries(doc)) {
    if (!k.startsWith('c')) continue;
    next[k] =
      typeof v === 'string'
        ? `${v}!`
        : Array.isArray(v)
          ? [...v].reverse().concat('x')
          : v instanceof Date
            ? new Date(v.getTime() + 1)
            : v;
  }
  return next;
};

// ---------------------------------------------------------------- the round trip

interface Observed {
  /** What the server holds, in a form that sees every byte and type. */
  snapshot(): Promise<unknown>;
  /** The same, restricted to what the transform must not have changed. */
  untouched(): Promise<unknown>;
}

/** What the migration does: a JS `transform`, or a server-side `sql` / `update` (run per key range by the server). */
type Change = ({ transform: (row: Row) => Row } | { sql: string } | { update: Record<string, unknown> }) & {
  /** Key ranges at once (`parallelism`); with 40 rows and batches of 7, 3 ranges of about 2 batches each. */
  parallelism?: number;
};
/** Runs of the parallel variants: fewer (each is a full migration), the serial ones cover the values. */
const PARALLEL_RUNS = Math.min(RUNS, 8);

async function roundTrip(
  engine: () => EngineAdapter,
  engineName: string,
  name: string,
  key: string,
  change: Change,
  observed: Observed,
): Promise<void> {
  const target = { name, key: [key] };
  const checksum = () => engine().shard(engine().shards[0]!.id).data.checksum(target);
  const before = { checksum: await checksum(), all: await observed.snapshot(), untouched: await observed.untouched() };
  const m = defineDataMigration({
    id: `p-${name}`,
    engine: engineName,
    table: name,
    key,
    batchSize: 7,
    ...change,
  } as Parameters<typeof defineDataMigration>[0]);
  const migrator = () => createMigrator({ engines: { [engineName]: engine() }, migrations: [m] });
  await migrator()
    .run()
    .catch((error: { report?: { shards: { migrations: { error?: { message: string } }[] }[] } }) => {
      throw new Error(
        `run failed: ${JSON.stringify(error.report?.shards.flatMap((s) => s.migrations.map((x) => x.error?.message)) ?? String(error))}`,
      );
    });
  if (change.parallelism) {
    // The run went as key ranges (as many as asked, fewer only with fewer rows), kept in its checkpoint.
    const shard = engine().shard(engine().shards[0]!.id);
    const record = (await shard.ledger.list()).find((r) => r.id === m.id);
    expect(record?.checkpoint?.ranges?.length).toBe(Math.min(change.parallelism, before.checksum.count));
  }
  // Forward: the transform changed something, and nothing it did not change.
  expect(await observed.untouched(), 'untouched values after the forward run').toEqual(before.untouched);
  const during = await checksum();
  expect(during.count).toBe(before.checksum.count);
  expect(await observed.snapshot(), 'the forward run changed something').not.toEqual(before.all);
  await migrator().rollback({ steps: 1 });
  expect(await observed.snapshot(), 'every value after the rollback').toEqual(before.all);
  expect(await checksum()).toEqual(before.checksum);
}

describe('property: a data migration changes only what its transform changed, and rollback restores every row exactly — PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
  const property =
    (change: (table: string) => Change, runs = RUNS) =>
    async () => {
      await withPgDatabase('mcp_prop', async ({ pool }) => {
        const engine = () => postgresEngine({ shards: [{ id: 'pg-prop', pool }] });
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 40 }),
            fc.array(pgRow, { minLength: 40, maxLength: 40 }),
            async (ids, rows) => {
              const name = `props_${++run}`;
              await pool.query('DELETE FROM mcp_migrations').catch(() => undefined); // one migration per run: forget earlier runs
              await pool.query(`CREATE TABLE "${name}" (id integer PRIMARY KEY, doc jsonb, at timestamptz, tags text[], note text,
            doc_keep jsonb, at_keep timestamptz, ts_keep timestamp, amount numeric, big bigint, f float8)`);
              for (const [i, id] of ids.entries()) {
                const r = rows[i]!;
                await pool.query(
                  `INSERT INTO "${name}" (id, ${PG_COLUMNS.join(', ')}) VALUES ($1, $2::jsonb, $3::timestamptz, $4::text[], $5, $6::jsonb, $7::timestamptz, $8::timestamp, $9::numeric, $10::bigint, $11::float8)`,
                  [id, ...PG_COLUMNS.map((c) => r[c])],
                );
              }
              await roundTrip(engine, 'postgres', name, 'id', change(name), {
                snapshot: () => pgText(pool, name, PG_COLUMNS),
                untouched: () => pgText(pool, name, PG_UNTOUCHED),
              });
            },
          ),
          { numRuns: runs, endOnFailure: true }, // no shrinking: each run is a full migration on a real server
        );
      });
    };
  it.skipIf(!enabled)(
    'random rows with jsonb/timestamptz/timestamp/numeric/float8/bigint/text[] given as SQL text (µs, -0, 1.0, 30 digits, JSON null)',
    property(() => ({ transform: pgTransform })),
    600_000,
  );
  it.skipIf(!enabled)(
    'the same rows through a server-side "sql" migration (per key range, backup and rollback in the server)',
    property((table) => ({ sql: pgSql(table) })),
    600_000,
  );
  it.skipIf(!enabled)(
    'the same rows with parallelism 3 (key ranges at once), through a JS transform and through "sql"',
    async () => {
      await property(() => ({ transform: pgTransform, parallelism: 3 }), PARALLEL_RUNS)();
      await property((table) => ({ sql: pgSql(table), parallelism: 3 }), PARALLEL_RUNS)();
    },
    600_000,
  );
});

describe('property: a data migration changes only what its transform changed, and rollback restores every document exactly — MongoDB', async () => {
  const enabled = shouldRun({ name: 'MongoDB-wire server', available: await mongoAvailable() });
  const ferret = enabled ? await ferretdbVersion() : null;
  // What this server stores, probed once: Decimal128 (FerretDB v1.24 closes the connection) and Double -0 (FerretDB stores 0).
  const probe = enabled ? await probeServer() : { decimal128: false, negativeZero: false };
  const unsupported = [...(probe.decimal128 ? [] : ['Decimal128']), ...(probe.negativeZero ? [] : ['Double(-0)'])];

  const property =
    (extra: fc.Arbitrary<unknown>[], change: Change = { transform: mongoTransform }, runs = RUNS) =>
    async () => {
      await withMongoDatabase('mcp_prop', async ({ client, db, name: dbName }) => {
        const engine = () => mongoEngine({ shards: [{ id: 'mg-prop', client, database: dbName }] });
        let run = 0;
        const value = bsonValue(extra, !ferret);
        const doc = fc
          .tuple(
            text,
            fc.dictionary(
              fieldName.map((k) => `k${k}`),
              value,
              { maxKeys: 4 },
            ),
            fc.dictionary(
              fieldName.map((k) => `c${k}`),
              value,
              { maxKeys: 3 },
            ),
          )
          .map(([t, keep, change]) => ({ t, ...keep, ...change }));
        const key = fc.oneof(int32, fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/), objectId);
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(key, {
              minLength: 1,
              maxLength: 40,
              selector: (k) => EJSON.stringify(k, { relaxed: false }),
            }),
            fc.array(doc, { minLength: 40, maxLength: 40 }),
            async (ids, docs) => {
              const name = `props_${++run}`;
              await db.collection('mcp_migrations').deleteMany({}); // one migration per run: forget earlier runs
              await db.collection(name).insertMany(ids.map((id, i) => ({ ...docs[i]!, _id: id })) as never[]);
              await roundTrip(engine, 'mongodb', name, '_id', change, {
                snapshot: async () => Object.fromEntries(await mongoRaw(db, name)),
                untouched: async () =>
                  Object.fromEntries(
                    [...(await mongoRaw(db, name))].map(([id, d]) => [
                      id,
                      d.filter(([k]) => k.startsWith('k') || k === '_id'),
                    ]),
                  ),
              });
            },
          ),
          { numRuns: runs, endOnFailure: true }, // no shrinking: each run is a full migration on a real server
        );
      });
    };

  it.skipIf(!enabled)(
    `random documents with Int32, Long, Double (1.0), dates, ObjectIds, nesting, nulls, unicode${ferret ? ` (FerretDB ${ferret}: no arrays directly in arrays)` : ''}`,
    property([]),
    600_000,
  );

  it.skipIf(!enabled)(
    'the same documents through a server-side "update" migration ($set, $inc per key range)',
    property([], { update: { $set: { t: 'updated', cAdded: new Int32(7) }, $inc: { cN: new Long(1) } } }),
    600_000,
  );

  // FerretDB is slow: a few runs only.
  const parallelRuns = ferret ? Math.min(RUNS, 2) : PARALLEL_RUNS;
  it.skipIf(!enabled)(
    'the same documents with parallelism 3 (key ranges at once), through a JS transform and through "update"',
    async () => {
      await property([], { transform: mongoTransform, parallelism: 3 }, parallelRuns)();
      const update = { $set: { t: 'updated', cAdded: new Int32(7) }, $inc: { cN: new Long(1) } };
      await property([], { update, parallelism: 3 }, parallelRuns)();
    },
    600_000,
  );

  // Counted, not dropped: on a server that cannot store these, this case is skipped with the reason.
  const extraName = 'random documents that also hold Decimal128 (with scale) and Double(-0)';
  if (enabled && unsupported.length) {
    const reason = `${ferret ? `FerretDB ${ferret}` : 'this server'} does not store ${unsupported.join(' or ')}`;
    recordSkip('MongoDB-wire server', reason);
    it.skip(`${extraName} (skipped: ${reason})`, () => undefined);
  } else {
    it.skipIf(!enabled)(extraName, property([decimal128, negativeZero]), 600_000);
  }
});

/** Whether the server stores Decimal128 and keeps Double -0 apart from 0. */
async function probeServer(): Promise<{ decimal128: boolean; negativeZero: boolean }> {
  return withMongoDatabase('mcp_probe', async ({ db }) => {
    const c = db.collection('probe');
    const decimal128 = await c.insertOne({ _id: 'd' as never, v: Decimal128.fromString('1.50') }).then(
      () => true,
      () => false,
    );
    await c.insertOne({ _id: 'z' as never, v: new Double(-0) });
    const z = await c.findOne({ _id: 'z' as never }, { promoteValues: false });
    const negativeZero = z !== null && EJSON.stringify(z.v, { relaxed: false }).includes('-0');
    return { decimal128, negativeZero };
  });
}
