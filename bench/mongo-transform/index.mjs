#!/usr/bin/env node
/**
 * Benchmark: a batched transform of `messages.content` (plain string → `{ type: 'text', text }`)
 * through the SDK (createMigrator + defineDataMigration on mongoEngine), against the same change
 * done server-side on an identical copy: `updateMany` with an update pipeline, or, where the server
 * has no update pipelines (FerretDB v1.24), the nearest server-side equivalent it supports (two
 * `updateMany`: `$rename` the string aside, then `$set` + `$rename` it into the new object).
 *
 * At each size it prints docs/s of both (the SDK's includes its backup of originals and a checkpoint
 * per batch), their ratio, the SDK's peak RSS and whether both results have equal checksums; then
 * the linearity ratio of each: docs/s at the largest size ÷ docs/s at the smallest (1.0 = linear).
 *
 * Three workloads:
 *   dense   2 of 3 documents change (the transform's usual case);
 *   sparse  one document in BENCH_SPARSE changes (1,000): every document is read, few are written,
 *           so the figure is the read path's (streaming cursor) and the per-write cost at that size;
 *   update  a server-side `update` migration (`{ $set, $inc }` run with `updateMany` per key range,
 *           backup of the changed documents and a checkpoint per range included) against the same
 *           update as ONE `updateMany` on an identical copy (BENCH_UPDATE_BATCH, default 1000; at
 *           the dense sizes).
 *
 * FerretDB v1.24 (SQLite) reads the collection up to a document for every per-document update, the
 * server's own `updateMany` included, so every write path is quadratic there (see
 * docs/guides/mongodb.md, "What FerretDB costs"): the dense workload at 10k documents takes ~10
 * minutes there and at 100k about a day, so on FerretDB it runs 1k/2k/4k unless BENCH_DENSE_SIZES
 * says otherwise.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ node bench/mongo-transform/index.mjs
 *
 * Uses the BUILT packages (run `pnpm build` first). Env: BENCH_SIZES (sparse, default
 * 10000,50000,100000), BENCH_DENSE_SIZES (default the same on MongoDB, 1000,2000,4000 on FerretDB),
 * BENCH_WORKLOADS (default dense,sparse,update), BENCH_SPARSE (1000), BENCH_BATCH (SDK batch size, 1000),
 * BENCH_KEEP=1 keeps the databases.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const root = new URL('../../', import.meta.url);
const core = await import(new URL('packages/core/dist/index.js', root).href);
const mongo = await import(new URL('packages/mongodb/dist/index.js', root).href);
const { MongoClient } = createRequire(new URL('packages/mongodb/package.json', root))('mongodb');

const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27018/';
const batchSize = Number(process.env.BENCH_BATCH ?? 1_000);
const sparseEvery = Number(process.env.BENCH_SPARSE ?? 1_000);
const sizesOf = (text) => text.split(',').map((s) => Number(s.trim()));

const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3_000 });
await client.connect();
const build = await client.db('admin').command({ buildInfo: 1 });
const ferret = typeof build.ferretdbVersion === 'string';
const server = ferret
  ? `FerretDB ${build.ferretdbVersion} (MongoDB ${build.version} wire)`
  : `MongoDB ${build.version}`;
const sparseSizes = sizesOf(process.env.BENCH_SIZES ?? '10000,50000,100000');
const denseSizes = sizesOf(process.env.BENCH_DENSE_SIZES ?? (ferret ? '1000,2000,4000' : '10000,50000,100000'));
const workloads = (process.env.BENCH_WORKLOADS ?? 'dense,sparse,update').split(',').map((w) => w.trim());
const updateBatch = Number(process.env.BENCH_UPDATE_BATCH ?? 1_000);
console.log(`server: ${server}; SDK batch size: ${batchSize}`);
if (ferret && !process.env.BENCH_DENSE_SIZES && workloads.includes('dense'))
  console.log(
    'FerretDB: dense workload at 1k/2k/4k (every update reads the collection up to its document there: 10k takes ~10 min, 100k about a day). BENCH_DENSE_SIZES overrides.',
  );

const created = [];
let lastBaseline = '';
try {
  for (const workload of workloads) {
    const every = workload === 'sparse' ? sparseEvery : 0;
    const sizes = workload === 'sparse' ? sparseSizes : denseSizes;
    const what =
      workload === 'update'
        ? `server-side update migration (ranges of ${updateBatch}) vs one updateMany`
        : every
          ? `one document in ${every} changes`
          : '2 of 3 documents change';
    console.log(`\n--- ${workload}: ${what}; sizes ${sizes.join(', ')}`);
    const rows = [];
    for (const docs of sizes) rows.push(await (workload === 'update' ? measureUpdate(docs) : measure(docs, every)));
    const first = rows[0];
    const last = rows.at(-1);
    if (rows.length > 1) {
      console.log(
        `linearity (${last.docs.toLocaleString()} vs ${first.docs.toLocaleString()}): sdk ${(last.sdkRate / first.sdkRate).toFixed(2)}, server ${(last.serverRate / first.serverRate).toFixed(2)} (docs/s at the largest size ÷ at the smallest; 1.0 = linear, target ≥ 0.7)`,
      );
    }
  }
} finally {
  if (process.env.BENCH_KEEP !== '1')
    for (const name of created)
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
  await client.close();
}

/** One size of the `update` workload: the server-side update migration and one updateMany, on identical copies. */
async function measureUpdate(docs) {
  const tag = randomBytes(3).toString('hex');
  const migrationDb = `mcp_bench_update_${tag}`;
  const manyDb = `mcp_bench_many_${tag}`;
  created.push(migrationDb, manyDb);
  await seed(client.db(migrationDb), docs, 0);
  await seed(client.db(manyDb), docs, 0);
  const UPDATE = { $set: { channel_kind: 'text' }, $inc: { revision: 1 } };
  const engine = mongo.mongoEngine({ shards: [{ id: 'bench-u', uri, database: migrationDb }] });
  const migrator = core.createMigrator({
    engines: { mongodb: engine },
    migrations: [
      core.defineDataMigration({
        id: 'bench-update',
        engine: 'mongodb',
        collection: 'messages',
        batchSize: updateBatch,
        update: UPDATE,
      }),
    ],
    throttle: { minBatchSize: updateBatch, maxBatchSize: updateBatch },
  });
  let t0 = Date.now();
  const report = await migrator.run();
  const sdkMs = Date.now() - t0;
  await migrator.close();
  if (!report.ok) throw new Error(`update migration failed: ${JSON.stringify(report.shards[0].migrations[0].error)}`);
  t0 = Date.now();
  await client.db(manyDb).collection('messages').updateMany({}, UPDATE);
  const serverMs = Date.now() - t0;
  const updated = await client
    .db(migrationDb)
    .collection('messages')
    .countDocuments({ channel_kind: 'text', revision: 1 });
  for (const name of [migrationDb, manyDb])
    if (process.env.BENCH_KEEP !== '1')
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
  const sdkRate = docs / (sdkMs / 1000);
  const serverRate = docs / (serverMs / 1000);
  console.log(
    `${docs.toLocaleString().padStart(8)} docs: update migration ${(sdkMs / 1000).toFixed(1)} s = ${sdkRate.toFixed(0)} docs/s | one updateMany ${(serverMs / 1000).toFixed(1)} s = ${serverRate.toFixed(0)} docs/s | ratio ${(sdkMs / serverMs).toFixed(2)}× | documents updated ${updated} of ${docs}`,
  );
  return { docs, sdkRate, serverRate };
}

/** One size: seeds two identical databases, runs the SDK on one and the server-side change on the other. */
async function measure(docs, every) {
  const tag = randomBytes(3).toString('hex');
  const sdkDbName = `mcp_bench_sdk_${tag}`;
  const serverDbName = `mcp_bench_server_${tag}`;
  created.push(sdkDbName, serverDbName);
  await seed(client.db(sdkDbName), docs, every);
  await seed(client.db(serverDbName), docs, every);
  const { sdkMs, peakRss, counts } = await runSdk(sdkDbName);
  const { serverMs, baseline } = await runServer(client.db(serverDbName).collection('messages'));
  const target = { name: 'messages', key: ['_id'] };
  const check = mongo.mongoEngine({
    shards: [
      { id: 'a', uri, database: sdkDbName },
      { id: 'b', uri, database: serverDbName },
    ],
  });
  const [a, b] = await Promise.all([check.shard('a').data.checksum(target), check.shard('b').data.checksum(target)]);
  await check.close();
  for (const name of [sdkDbName, serverDbName])
    if (process.env.BENCH_KEEP !== '1')
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
  const sdkRate = docs / (sdkMs / 1000);
  const serverRate = docs / (serverMs / 1000);
  const equal =
    a.count === b.count && a.hash === b.hash ? 'equal' : `DIFFERENT (${a.count}/${a.hash} vs ${b.count}/${b.hash})`;
  console.log(
    `${docs.toLocaleString().padStart(8)} docs: sdk ${(sdkMs / 1000).toFixed(1)} s = ${sdkRate.toFixed(0)} docs/s (read ${counts?.read}, written ${counts?.written}; peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB) | server ${(serverMs / 1000).toFixed(1)} s = ${serverRate.toFixed(0)} docs/s | ratio ${(sdkMs / serverMs).toFixed(2)}× | results ${equal}`,
  );
  if (baseline !== lastBaseline) console.log(`  baseline: ${baseline}`);
  lastBaseline = baseline;
  return { docs, sdkRate, serverRate };
}

async function runSdk(database) {
  const migration = core.defineDataMigration({
    id: 'bench-structured-content',
    engine: 'mongodb',
    collection: 'messages',
    batchSize,
    transform: (doc) =>
      typeof doc.content === 'string' ? { ...doc, content: { type: 'text', text: doc.content } } : null,
  });
  const engine = mongo.mongoEngine({ shards: [{ id: 'bench-0', uri, database }] });
  const migrator = core.createMigrator({
    engines: { mongodb: engine },
    migrations: [migration],
    throttle: { minBatchSize: batchSize, maxBatchSize: batchSize * 4 },
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  let lastLog = Date.now();
  migrator.on('batch', (e) => {
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      console.log(`  sdk: ${e.processed}/${e.total ?? '?'} at ${e.rate}/s, batch ${e.batchSize}`);
    }
  });
  const t0 = Date.now();
  const report = await migrator.run();
  const sdkMs = Date.now() - t0;
  clearInterval(sampler);
  await migrator.close();
  return {
    sdkMs,
    peakRss: Math.max(peakRss, process.memoryUsage().rss),
    counts: report.shards[0].migrations[0].counts,
  };
}

async function runServer(messages) {
  let baseline = 'updateMany with an update pipeline ($set content: { type: "text", text: "$content" })';
  let t0 = Date.now();
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
  return { serverMs: Date.now() - t0, baseline };
}

/**
 * `docs` messages, identical in both databases (same _ids): 2 of 3 with plain-string content
 * (dense), or one in `every` (sparse; the others already structured).
 */
async function seed(db, docs, every) {
  const coll = db.collection('messages');
  const chunk = 10_000;
  for (let start = 0; start < docs; start += chunk) {
    const batch = [];
    for (let i = start; i < Math.min(docs, start + chunk); i++) {
      const plain = every ? i % every === 0 : i % 3 !== 0;
      batch.push({
        _id: i,
        message_id: `m-${i}`,
        conversation_id: `c-${i % 5_000}`,
        tenant_id: `t-${i % 97}`,
        channel_id: i % 2 ? 'whatsapp' : 'sms',
        content: plain ? `message number ${i}` : { type: 'image', url: `https://cdn.example/${i}.png` },
        direction: i % 2 ? 'inbound' : 'outbound',
        status: 'delivered',
        created_at: new Date(Date.UTC(2026, 0, 1) + i * 1000),
      });
    }
    await coll.insertMany(batch, { ordered: false });
  }
}
