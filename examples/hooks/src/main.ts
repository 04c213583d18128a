/**
 * Awaited hooks, on in-memory shards:
 *   1. a host that refuses to migrate during its peak hours (beforeRun/beforeStep veto, injected
 *      clock): a run at 10:00 is refused with nothing applied; a run started at 08:57 stops at the
 *      first step that would start after 09:00; the run at 22:00 applies the rest;
 *   2. a host that drains a queue before a step (async beforeStep).
 *
 *   pnpm --filter @mcp/example-hooks start
 */
import { createMigrator, defineMigration, isMigrateError, RunFailedError, type Migration } from '@mcp/migrate-core';
import { createMemoryStore, memoryEngine, type MemoryShard } from '@mcp/migrate-core/testing';
import { drainBefore, Outbox } from './outbox.js';
import { offPeakOnly } from './peak-hours.js';

const shards = ['pg-0', 'pg-1'];
const store = createMemoryStore();
const engine = () => memoryEngine({ name: 'postgres', shards, store });
const applied = () =>
  shards
    .map(
      (s) =>
        `${s}: ${
          [...store.shard(s).ledger.values()]
            .filter((r) => r.state === 'applied')
            .map((r) => r.id)
            .join(', ') || '-'
        }`,
    )
    .join('; ');

// ---- 1. Peak hours ------------------------------------------------------------------------------
let now = new Date('2026-03-02T10:00:00Z');
const clock = () => now;
/** A schema step that takes `minutes` of the (fake) clock. */
const step = (id: string, minutes: number): Migration =>
  defineMigration({
    id,
    engine: 'postgres',
    up: (db: MemoryShard) => {
      db.collection('schema', ['id']).upsert([{ id }]);
      now = new Date(now.getTime() + minutes * 60_000);
    },
  });
const migrations = [step('0001-webhooks', 1), step('0002-webhook-events', 2), step('0003-deliveries-index', 1)];
const peakGuarded = () =>
  createMigrator({ engines: { postgres: engine() }, migrations, concurrency: 1, hooks: offPeakOnly(clock) });

await peakGuarded()
  .run()
  .catch((error: unknown) => {
    console.log(
      `10:00 run refused (${isMigrateError(error) ? error.code : 'unexpected'}): ${(error as Error).message}`,
    );
  });
console.log(`after the refused run: ${applied()}`);

now = new Date('2026-03-02T08:57:00Z');
await peakGuarded()
  .run()
  .catch((error: unknown) => {
    if (!(error instanceof RunFailedError)) throw error;
    const r = error.report as { totals: Record<string, number> };
    console.log(
      `08:57 run stopped at the peak: ${r.totals.applied} applied, ${r.totals.failed} vetoed, ${r.totals.notRun} not run`,
    );
  });
console.log(`after the stopped run: ${applied()}`);

now = new Date('2026-03-02T22:00:00Z');
const night = await peakGuarded().run();
console.log(`22:00 run: ${night.totals.applied} applied, ${night.totals.skipped} already applied`);

// ---- 2. Drain a queue before a step -------------------------------------------------------------
const outbox = new Outbox(2);
for (const s of shards) outbox.enqueue(s, ...Array.from({ length: 5 }, (_, i) => `${s}-delivery-${i}`));
const emptyWhenRan: string[] = [];
const payloadV2 = defineMigration({
  id: '0004-delivery-payload-v2',
  engine: 'postgres',
  dependsOn: ['0003-deliveries-index'],
  up: (db: MemoryShard, ctx) => {
    emptyWhenRan.push(`${ctx.shard.id}=${outbox.pending(ctx.shard.id).length === 0}`);
    db.collection('schema', ['id']).upsert([{ id: '0004-delivery-payload-v2' }]);
  },
});
const drained = createMigrator({
  engines: { postgres: engine() },
  migrations: [...migrations, payloadV2],
  hooks: drainBefore(outbox, [payloadV2.id], console.log),
});
const report = await drained.run();
outbox.close();
console.log(`queue empty when 0004 ran: ${emptyWhenRan.sort().join(', ')}`);
console.log(`drain run: ${report.totals.applied} applied`);
