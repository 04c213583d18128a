/** Conformance cases of runs: apply, concurrent runners, plan refusals, failures and rollback. */
import { defineMigration, ErrorCode, RunFailedError } from '../../index.js';
import type { Case, CaseContext } from './context.js';

/** Concurrent `run()` calls of the lock case: enough to crowd the run lock and the shard leases. */
export const CONCURRENT_RUNNERS = 50;

async function appliesOnce(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(3);
  const migrations = [...c.base(), c.logged('0001-a'), c.logged('0002-b', { dependsOn: ['0001-a'] })];
  const first = await c.migrator(migrations).run();
  expect(first.totals).toMatchObject({ applied: 9, failed: 0, notRun: 0 });
  for (const id of fx.shardIds) expect(await c.logRows(id)).toEqual(['0001-a', '0002-b']);
  const second = await c.migrator(migrations).run();
  expect(second.totals).toMatchObject({ applied: 0, skipped: 9 });
  for (const id of fx.shardIds) expect(await c.logRows(id)).toEqual(['0001-a', '0002-b']);
}

async function concurrentRunners(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(2);
  const migrations = [
    ...c.base(),
    c.logged('0001-a'),
    c.logged('0002-b'),
    c.logged('0003-c', { dependsOn: ['0002-b'] }),
  ];
  const steps = migrations.length * fx.shardIds.length;
  // One engine per run() (a replica each); no waitMs: a waiter waits as long as the holder is alive.
  const reports = await Promise.all(
    Array.from({ length: CONCURRENT_RUNNERS }, () =>
      c.migrator(migrations, { concurrency: 2, lock: { ttlMs: 5_000 } }).run(),
    ),
  );
  for (const r of reports) {
    expect(r.ok, `run ${r.runnerId}: ${JSON.stringify(r.totals)}`).toBe(true);
    for (const shard of r.shards) {
      for (const m of shard.migrations)
        expect(['applied', 'skipped'], `${m.migrationId} on ${shard.shardId} in run ${r.runnerId}`).toContain(m.status);
    }
    expect(r.totals.applied + r.totals.skipped).toBe(steps);
  }
  expect(reports.reduce((n, r) => n + r.totals.applied, 0)).toBe(steps);
  expect(reports.filter((r) => r.totals.applied > 0)).toHaveLength(1);
  expect(reports.filter((r) => r.waitedForLock).length, 'runs that waited for the run lock').toBeGreaterThan(0);
  for (const id of fx.shardIds) expect(await c.logRows(id)).toEqual(['0001-a', '0002-b', '0003-c']);
}

async function planRefusals(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  const migrations = [...c.base(), c.logged('0001-a')];
  await c.migrator(migrations).run();
  const edited = [
    ...c.base(),
    defineMigration({
      id: '0001-a',
      engine: fx.engineName,
      up: async () => {
        /* edited */
      },
    }),
  ];
  const drift = await c
    .migrator(edited)
    .plan()
    .catch((e: unknown) => e);
  expect(drift).toMatchObject({ code: ErrorCode.Drift, migrationId: '0001-a', shardId: fx.shardIds[0] });
  const missing = await c
    .migrator(c.base())
    .run()
    .catch((e: unknown) => e);
  expect(missing).toMatchObject({ code: ErrorCode.MissingFromCode, migrationId: '0001-a', shardId: fx.shardIds[0] });
  expect(await c.logRows(fx.shardIds[0]!)).toEqual(['0001-a']);
  const warned = await c.migrator(edited, { drift: 'warn' }).plan();
  expect(warned.pending).toBe(0);
  expect(warned.warnings[0]).toContain('0001-a');
}

async function failureRecorded(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(2);
  const boom = defineMigration({
    id: '0001-boom',
    engine: fx.engineName,
    up: async () => {
      throw new Error('syntax error near "SELEC" password=hunter2');
    },
  });
  const err = await c
    .migrator([...c.base(), boom], { onFailure: 'continue' })
    .run()
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RunFailedError);
  const report = (err as RunFailedError<{ totals: { failed: number } }>).report;
  expect(report.totals.failed).toBe(2);
  const status = await c.migrator([...c.base(), boom]).status();
  for (const s of status.shards) {
    const rec = s.migrations.find((m) => m.id === '0001-boom')!;
    expect(rec.state).toBe('failed');
    expect(rec.error?.message).toContain('SELEC');
    expect(rec.error?.message).not.toContain('hunter2');
  }
  const fixed = [...c.base(), c.logged('0001-boom')];
  const again = await c.migrator(fixed).run();
  expect(again.totals).toMatchObject({ applied: 2, failed: 0 });
  for (const id of fx.shardIds) expect(await c.logRows(id)).toEqual(['0001-boom']);
}

async function rollback(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(2);
  const migrations = [...c.base(), c.logged('0001-a'), c.logged('0002-b')];
  await c.migrator(migrations).run();
  const rb = await c.migrator(migrations).rollback({ steps: 1 });
  expect(rb.totals.applied).toBe(2);
  const status = await c.migrator(migrations).status();
  for (const s of status.shards) {
    expect(s.migrations.find((m) => m.id === '0002-b')!.state).toBe('rolled_back');
    expect(s.migrations.find((m) => m.id === '0001-a')!.state).toBe('applied');
    expect(s.pending).toEqual(['0002-b']);
    expect(await c.logRows(s.shardId)).toEqual(['0001-a', '0002-b', '0002-b:down']);
  }
  await c.migrator(migrations).run();
  for (const id of fx.shardIds) expect((await c.logRows(id)).filter((n) => n === '0002-b')).toHaveLength(2);
}

export const runCases: readonly Case[] = [
  { name: 'run: applies pending migrations on every shard; a second run applies nothing', run: appliesOnce },
  {
    name: `concurrent runners: ${CONCURRENT_RUNNERS} run() calls at once apply each migration exactly once per shard; every other run saw it applied`,
    run: concurrentRunners,
    timeoutMs: 120_000,
  },
  {
    name: 'plan refusals: drift and applied-but-missing-from-code are refused, naming migration and shard',
    run: planRefusals,
  },
  {
    name: 'failure: recorded as failed in the shard ledger with the error; a fixed migration re-runs',
    run: failureRecorded,
  },
  {
    name: 'rollback: runs down on every shard latest first and marks rolled_back; run re-applies',
    run: rollback,
  },
];
