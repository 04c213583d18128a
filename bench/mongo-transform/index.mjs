#!/usr/bin/env node
/**
 * Benchmark: a batched transform of `messages.content` (plain string → `{ type: 'text', text }`)
 * through the SDK (createMigrator + defineDataMigration on mongoEngine), against the same change
 * done server-side on an identical copy: `updateMany` with an update pipeline, or, where the server
 * has no update pipelines (FerretDB v1.24), the nearest server-side equivalent it supports
 * (two `updateMany`: `$rename` the string aside, then `$set` + `$rename` it into the new object).
 * Prints both times, the ratio, and the SDK's peak RSS; checks both results have equal checksums.
 * Then a server-side `update` migration (`{ $set, $inc }` run with `updateMany` per key range,
 * backup of the changed documents and a checkpoint per range included) against the same update as
 * ONE `updateMany` on another identical copy, with its ratio (BENCH_UPDATE_BATCH, default 1000).
 *
 *   BENCH_DOCS=200000 MONGODB_URI=mongodb://127.0.0.1:27018/ node bench/mongo-transform/index.mjs
 *
 * Uses the BUILT packages (run `pnpm build` first). Env: BENCH_DOCS (default 200000),
 * BENCH_BATCH (SDK batch size, default 1000), BENCH_KEEP=1 keeps the databases.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const root = new URL('../../', import.meta.url);
const core = await import(new URL('packages/core/dist/index.js', root).href);
const mongo = await import(new URL('packages/mongodb/dist/index.js', root).href);
const { MongoClient } = createRequire(new URL('packages/mongodb/package.json', root))('mongodb');

const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27018/';
const batchSize = Number(process.env.BENCH_BATCH ?? 1_000);
const tag = randomBytes(3).toString('hex');
const sdkDbName = `mcp_bench_sdk_${tag}`;
const serverDbName = `mcp_bench_server_${tag}`;
const updateDbName = `mcp_bench_update_${tag}`;
const updateBatch = Number(process.env.BENCH_UPDATE_BATCH ?? 1_000);

const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3_000 });
await client.connect();
const build = await client.db('admin').command({ buildInfo: 1 });
const server = build.ferretdbVersion
  ? `FerretDB ${build.ferretdbVersion} (MongoDB ${build.version} wire)`
  : `MongoDB ${build.version}`;
// FerretDB v1.24 pushes no filter down to its backend, so every per-document write scans the whole
// collection and both paths grow quadratically: 200k documents would take days there. Without an
// explicit BENCH_DOCS it runs 2,000 on FerretDB and says so.
const docs = Number(process.env.BENCH_DOCS ?? (build.ferretdbVersion ? 2_000 : 200_000));
if (build.ferretdbVersion && !process.env.BENCH_DOCS)
  console.log(
    'FerretDB detected: 2,000 documents instead of 200,000 (no filter pushdown; see docs/guides/mongodb.md). Set BENCH_DOCS to override.',
  );
console.log(`server: ${server}; documents: ${docs}; SDK batch size: ${batchSize}`);

try {
  let t0 = Date.now();
  await seed(client.db(sdkDbName));
  await seed(client.db(serverDbName));
  await seed(client.db(updateDbName));
  console.log(`seeded 3 × ${docs} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // --- SDK
  const migration = core.defineDataMigration({
    id: 'bench-structured-content',
    engine: 'mongodb',
    collection: 'messages',
    batchSize,
    transform: (doc) =>
      typeof doc.content === 'string' ? { ...doc, content: { type: 'text', text: doc.content } } : null,
  });
  const engine = mongo.mongoEngine({ shards: [{ id: 'bench-0', uri, database: sdkDbName }] });
  const migrator = core.createMigrator({
    engines: { mongodb: engine },
    migrations: [migration],
    throttle: { minBatchSize: batchSize, maxBatchSize: batchSize * 4 },
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  let lastLog = 0;
  migrator.on('batch', (e) => {
    if (Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      console.log(`  sdk: ${e.processed}/${e.total ?? '?'} at ${e.rate}/s, batch ${e.batchSize}`);
    }
  });
  t0 = Date.now();
  const report = await migrator.run();
  const sdkMs = Date.now() - t0;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await migrator.close();
  const counts = report.shards[0].migrations[0].counts;

  // --- server side
  const messages = client.db(serverDbName).collection('messages');
  let baseline = 'updateMany with an update pipeline ($set content: { type: "text", text: "$content" })';
  t0 = Date.now();
  try {
    await messages.updateMany({ content: { $type: 'string' } }, [
      { $set: { content: { type: 'text', text: '$content' } } },
    ]);
  } catch (error) {
    baseline = `two updateMany without pipeline ($rename, then $set + $rename): the server refused the pipeline (${error.message})`;
    t0 = Date.now();
    await messages.updateMany({ content: { $type: 'string' } }, { $rename: { content: 'content_text_tmp' } });
    await messages.updateMany(
      { content_text_tmp: { $exists: true } },
      { $set: { 'content.type': 'text' }, $rename: { content_text_tmp: 'content.text' } },
    );
  }
  const serverMs = Date.now() - t0;

  // --- same result?
  const target = { name: 'messages', key: ['_id'] };
  const check = mongo.mongoEngine({
    shards: [
      { id: 'a', uri, database: sdkDbName },
      { id: 'b', uri, database: serverDbName },
    ],
  });
  const [a, b] = await Promise.all([check.shard('a').data.checksum(target), check.shard('b').data.checksum(target)]);
  await check.close();

  console.log(`baseline: ${baseline}`);
  console.log(
    `sdk:      ${(sdkMs / 1000).toFixed(2)} s (read ${counts?.read}, written ${counts?.written}; includes backup of originals and per-batch checkpoints)`,
  );
  console.log(`server:   ${(serverMs / 1000).toFixed(2)} s`);
  console.log(`ratio:    ${(sdkMs / serverMs).toFixed(2)}× (target ≤ 1.5× at 1M documents)`);
  console.log(`sdk peak RSS: ${(peakRss / 1024 / 1024).toFixed(0)} MB (target < 200 MB)`);
  console.log(
    `results equal: ${a.count === b.count && a.hash === b.hash ? 'yes' : `NO (${a.count}/${a.hash} vs ${b.count}/${b.hash})`}`,
  );

  // --- server-side `update` migration vs one updateMany, same update, identical copies
  const UPDATE = { $set: { channel_kind: 'text' }, $inc: { revision: 1 } };
  const updateMigration = core.defineDataMigration({
    id: 'bench-update',
    engine: 'mongodb',
    collection: 'messages',
    batchSize: updateBatch,
    update: UPDATE,
  });
  const updateEngine = mongo.mongoEngine({ shards: [{ id: 'bench-u', uri, database: updateDbName }] });
  const updateMigrator = core.createMigrator({
    engines: { mongodb: updateEngine },
    migrations: [updateMigration],
    throttle: { minBatchSize: updateBatch, maxBatchSize: updateBatch },
  });
  t0 = Date.now();
  const updateReport = await updateMigrator.run();
  const updateMs = Date.now() - t0;
  await updateMigrator.close();
  if (!updateReport.ok)
    throw new Error(`update migration failed: ${JSON.stringify(updateReport.shards[0].migrations[0].error)}`);
  t0 = Date.now();
  await messages.updateMany({}, UPDATE);
  const manyMs = Date.now() - t0;
  const same = await client
    .db(updateDbName)
    .collection('messages')
    .countDocuments({ channel_kind: 'text', revision: 1 });
  console.log(
    `update migration: ${(updateMs / 1000).toFixed(2)} s (${Math.round(docs / (updateMs / 1000))} docs/s; ranges of ${updateBatch}, backup of the changed documents included)`,
  );
  console.log(`one updateMany:   ${(manyMs / 1000).toFixed(2)} s (${Math.round(docs / (manyMs / 1000))} docs/s)`);
  console.log(`ratio:            ${(updateMs / manyMs).toFixed(2)}× (documents updated: ${same} of ${docs})`);
} finally {
  if (process.env.BENCH_KEEP !== '1') {
    await client
      .db(sdkDbName)
      .dropDatabase()
      .catch(() => undefined);
    await client
      .db(serverDbName)
      .dropDatabase()
      .catch(() => undefined);
    await client
      .db(updateDbName)
      .dropDatabase()
      .catch(() => undefined);
  }
  await client.close();
}

/** `docs` messages, 2 of 3 with plain-string content; identical in both databases (same _ids). */
async function seed(db) {
  const coll = db.collection('messages');
  const chunk = 10_000;
  for (let start = 0; start < docs; start += chunk) {
    const batch = [];
    for (let i = start; i < Math.min(docs, start + chunk); i++) {
      batch.push({
        _id: i,
        message_id: `m-${i}`,
        conversation_id: `c-${i % 5_000}`,
        tenant_id: `t-${i % 97}`,
        channel_id: i % 2 ? 'whatsapp' : 'sms',
        content: i % 3 === 0 ? { type: 'image', url: `https://cdn.example/${i}.png` } : `message number ${i}`,
        direction: i % 2 ? 'inbound' : 'outbound',
        status: 'delivered',
        created_at: new Date(Date.UTC(2026, 0, 1) + i * 1000),
      });
    }
    await coll.insertMany(batch, { ordered: false });
  }
}
