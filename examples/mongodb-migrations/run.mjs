#!/usr/bin/env node
/**
 * Runs the platform's MongoDB migrations on 4 databases (shards) of one server and prints the
 * report. Seeds a few messages first (plain-string and structured content) when a shard is empty.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ node run.mjs            # apply
 *   node run.mjs rollback                                          # roll back the last migration
 *   MCP_EXAMPLE_DB_PREFIX=acme node run.mjs                        # other database names
 */
import { MongoClient } from 'mongodb';
import { createMigrator, RunFailedError } from '@mcp/migrate-core';
import { mongoEngine } from '@mcp/migrate-mongodb';
import collections from './migrations/0001-platform-collections.js';
import indexes from './migrations/0002-platform-indexes.js';
import content from './migrations/0003-messages-structured-content.js';

const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27018/';
const prefix = process.env.MCP_EXAMPLE_DB_PREFIX ?? 'mcp_example';
const shards = Array.from({ length: 4 }, (_, i) => ({ id: `mg-${i}`, uri, database: `${prefix}_shard_${i}` }));

const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3_000 });
await client.connect();
try {
  await seed();
  const migrator = createMigrator({
    engines: { mongodb: mongoEngine({ shards }) },
    migrations: [collections, indexes, content],
    lock: { ttlMs: 15_000, waitMs: 60_000 },
  });
  migrator.on('batch', (e) =>
    console.log(`  batch ${e.shardId} ${e.migrationId}: ${e.processed}/${e.total ?? '?'} (${e.rate}/s)`),
  );
  try {
    const report = process.argv[2] === 'rollback' ? await migrator.rollback({ steps: 1 }) : await migrator.run();
    print(report);
    const sample = await client
      .db(shards[0].database)
      .collection('messages')
      .find({}, { projection: { _id: 0, message_id: 1, content: 1 } })
      .sort({ message_id: 1 })
      .limit(3)
      .toArray();
    console.log('sample messages on mg-0:', JSON.stringify(sample));
  } catch (error) {
    if (error instanceof RunFailedError) print(error.report);
    console.error(`failed: ${error.message}`);
    process.exitCode = 1;
  } finally {
    await migrator.close();
  }
} finally {
  await client.close();
}

/** A few messages per shard, for the data migration to convert (skipped when the shard has some). */
async function seed() {
  for (const [i, shard] of shards.entries()) {
    const messages = client.db(shard.database).collection('messages');
    if ((await messages.estimatedDocumentCount()) > 0) continue;
    await messages.insertMany(
      Array.from({ length: 20 }, (_, n) => ({
        message_id: `m-${i}-${String(n).padStart(3, '0')}`,
        conversation_id: `c-${i}-${n % 4}`,
        tenant_id: `tenant-${(i * 7 + n) % 5}`,
        channel_id: 'whatsapp',
        content: n % 3 === 0 ? { type: 'image', url: `https://cdn.example/${n}.png` } : `hello ${n}`,
        direction: n % 2 ? 'inbound' : 'outbound',
        status: 'delivered',
        created_at: new Date(Date.UTC(2026, 0, 1, 0, n)),
      })),
    );
  }
}

function print(report) {
  console.log(
    `${report.kind} ${report.ok ? 'ok' : 'FAILED'} in ${report.durationMs} ms: applied ${report.totals.applied}, skipped ${report.totals.skipped}, failed ${report.totals.failed}, not run ${report.totals.notRun}`,
  );
  for (const s of report.shards) {
    const steps = s.migrations.map(
      (m) =>
        `${m.migrationId}=${m.status}${m.counts ? ` (${m.counts.written}/${m.counts.read} written)` : ''}${m.error ? ` [${m.error.message}]` : ''}`,
    );
    console.log(`  ${s.shardId}: ${steps.join(', ') || '(nothing)'}`);
  }
}
