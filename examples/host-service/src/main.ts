/**
 * The embedded demo: four PostgreSQL-like and four MongoDB-like shards in memory, tenants and
 * 100,000 messages routed to them by tenant, then the host service's startup migration run, twice.
 *
 *   pnpm demo            (or: bash scripts/demo.sh on a fresh clone)
 *   DEMO_MESSAGES=20000 pnpm demo
 */
import { hashRouter, type RunReport, type Migrator } from '@mcp/migrate-core';
import { createMemoryStore, memoryEngine } from '@mcp/migrate-core/testing';
import { startService } from './service.js';
import { printStatus } from './status-table.js';

const MESSAGES = Number(process.env.DEMO_MESSAGES ?? 100_000);
const TENANTS = 200;

const pgStore = createMemoryStore();
const mongoStore = createMemoryStore();
const pgShards = ['pg-0', 'pg-1', 'pg-2', 'pg-3'];
const mongoShards = ['mg-0', 'mg-1', 'mg-2', 'mg-3'];
const engines = () => ({
  postgres: memoryEngine({ name: 'postgres', shards: pgShards, store: pgStore }),
  mongodb: memoryEngine({ name: 'mongodb', shards: mongoShards, store: mongoStore }),
});

function seed(): void {
  const router = hashRouter({ key: 'tenant_id' });
  const tenants = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i).padStart(3, '0')}`);
  for (const id of tenants) {
    pgStore
      .shard(router.route(id, 'postgres', pgShards))
      .collection('tenants')
      .upsert([{ id, name: `Tenant ${id}`, status: 'active' }]);
  }
  const byShard = new Map<string, Record<string, unknown>[]>();
  for (let i = 0; i < MESSAGES; i++) {
    const tenant = tenants[i % TENANTS]!;
    const shard = router.route(tenant, 'mongodb', mongoShards);
    const structured = i % 10 === 0;
    const doc = {
      _id: `msg-${String(i).padStart(7, '0')}`,
      tenant_id: tenant,
      conversation_id: `conv-${i % 5000}`,
      channel_id: `ch-${i % 40}`,
      direction: i % 2 ? 'inbound' : 'outbound',
      status: 'delivered',
      content: structured
        ? { type: 'media', media: { file_id: `f-${i}`, url: `https://cdn.example/f-${i}` } }
        : `Hello #${i} 👋`,
      created_at: new Date(Date.UTC(2026, 0, 1) + i * 1000),
    };
    let list = byShard.get(shard);
    if (!list) byShard.set(shard, (list = []));
    list.push(doc);
  }
  for (const [shard, docs] of byShard) mongoStore.shard(shard).collection('messages', ['_id']).upsert(docs);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  seed();
  console.log(
    `Seeded ${TENANTS} tenants over ${pgShards.length} PostgreSQL shards and ${MESSAGES.toLocaleString('en-US')} messages over ${mongoShards.length} MongoDB shards (in memory, ${Date.now() - t0} ms).\n`,
  );

  console.log('== First start of the service: migrations run before it takes traffic');
  const first = await startService({ engines: engines() });
  summary(first);

  console.log('\n== Second start (a restart, or another replica): nothing left to apply');
  const second = await startService({ engines: engines() });
  summary(second);
  if (second.totals.applied !== 0) throw new Error('the second run applied something: the demo is broken');

  await printStatus(engines());
  const sample = mongoStore.shard('mg-0').collection('messages', ['_id']).rows({}, undefined, 2);
  console.log(`\nmessages on mg-0 now look like: ${JSON.stringify(sample.map((d) => d.content))}`);
}

function summary(report: RunReport): void {
  const { applied, skipped, failed, notRun } = report.totals;
  console.log(
    `report: ${applied} applied, ${skipped} already applied, ${failed} failed, ${notRun} not run, in ${report.durationMs} ms${report.totals.applied === 0 ? ' (nothing to do)' : ''}`,
  );
}

export type { Migrator };

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
