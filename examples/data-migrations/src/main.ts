/**
 * A data migration from start to end, on in-memory shards:
 *   1. throttled run with live progress, paused and resumed;
 *   2. interrupted (as if the process died) and resumed from its checkpoint;
 *   3. verified: the predicate holds, and one corrupted row is found by key;
 *   4. rolled back exactly: checksums equal to those before.
 *
 *   pnpm --filter @mcp/example-data-migrations start
 */
import { compareData, createMigrator, defineDataMigration, type Row } from '@mcp/migrate-core';
import { createMemoryStore, memoryEngine } from '@mcp/migrate-core/testing';

const store = createMemoryStore();
const shards = ['mg-0', 'mg-1'];
for (const [s, shard] of shards.entries()) {
  store
    .shard(shard)
    .collection('deliveries', ['_id'])
    .upsert(
      Array.from({ length: 20_000 }, (_, i) => ({
        _id: `d-${s}-${String(i).padStart(6, '0')}`,
        tenant_id: `t-${i % 50}`,
        status: i % 7 ? 'SENT' : 'FAILED',
        attempts: i % 4,
      })),
    );
}

// Legacy upper-case statuses become the new lower-case enum; `reverse` maps back exactly.
const statusEnum = defineDataMigration({
  id: '0201-delivery-status-enum',
  engine: 'mongodb',
  collection: 'deliveries',
  batchSize: 1000,
  maxRowsPerSecond: 20_000,
  transform: (d: Row) =>
    typeof d.status === 'string' && d.status === d.status.toUpperCase()
      ? { ...d, status: d.status.toLowerCase() }
      : null,
  reverse: (d: Row) =>
    typeof d.status === 'string' && d.status === d.status.toLowerCase()
      ? { ...d, status: d.status.toUpperCase() }
      : null,
  verify: (d: Row) => d.status === 'sent' || d.status === 'failed' || `unexpected status ${JSON.stringify(d.status)}`,
});

const engine = () => memoryEngine({ name: 'mongodb', shards, store, latencyMs: 1 });
const migrator = (extra = {}) => createMigrator({ engines: { mongodb: engine() }, migrations: [statusEnum], ...extra });
const snapshot = () =>
  Promise.all(
    shards.map((s) =>
      engine()
        .shard(s)
        .data.checksum({ name: 'deliveries', key: ['_id'] }),
    ),
  );

const before = await snapshot();

// 1 + 2: a run that is interrupted after a few batches, as if its process died.
const first = migrator();
const crash = new AbortController();
let batches = 0;
first.on('batch', (e) => {
  batches++;
  if (batches === 3) {
    first.pause();
    console.log(`paused at ${e.processed} rows on ${e.shardId}`);
    setTimeout(() => {
      console.log('resumed');
      first.resume();
    }, 200);
  }
  if (batches === 8) crash.abort(new Error('simulated crash'));
});
await first.run({ signal: crash.signal }).catch((error: Error) => console.log(`first run stopped: ${error.message}`));
const status = await migrator().status();
for (const s of status.shards) {
  const r = s.migrations[0];
  console.log(
    `${s.shardId}: ${r?.state}, checkpoint after ${JSON.stringify(r?.checkpoint?.after)} (${r?.counts?.read ?? 0} rows done)`,
  );
}

const second = migrator();
second.on('batch', (e) => {
  if (e.processed % 5000 < e.batchSize)
    console.log(`  ${e.shardId}: ${e.processed}/${e.total} rows, ${e.rate} rows/s${e.throttled ? ' (throttled)' : ''}`);
});
const report = await second.run();
console.log(
  `resumed run: ${report.totals.applied} applied; counts ${JSON.stringify(report.shards.map((s) => s.migrations[0]?.counts))}`,
);

// 3: verification.
console.log(`verify: ${(await migrator().verify({ data: true })).ok ? 'ok' : 'FAILED'}`);
const deliveries = store.shard('mg-1').collection('deliveries', ['_id']);
const good = deliveries.get(['d-1-000042'])!;
deliveries.upsert([{ ...good, status: 'Sent' }]);
const broken = await migrator().verify({ data: true });
console.log(`after corrupting one row: ${broken.problems.join('; ')}`);
const diff = await compareData(
  { store: engine().shard('mg-0').data, target: { name: 'deliveries', key: ['_id'] } },
  { store: engine().shard('mg-0').data, target: { name: 'mcp_backup_0201_delivery_status_enum', key: ['_id'] } },
  { maxDifferences: 3 },
);
console.log(
  `mg-0 vs its backup: ${diff.left.count} vs ${diff.right.count} rows, first differences ${JSON.stringify(diff.differences.map((d) => d.key))}`,
);
deliveries.upsert([good]);

// 4: exact rollback.
await migrator().rollback({ steps: 1 });
const after = await snapshot();
const exact = after.every((c, i) => c.hash === before[i]!.hash && c.count === before[i]!.count);
console.log(`rollback exact: ${exact}`);
if (!exact) process.exitCode = 1;
