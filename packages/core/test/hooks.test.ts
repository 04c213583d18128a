/**
 * Awaited hooks (`createMigrator({ hooks })`): a veto in beforeRun, beforeStep or beforeBatch stops
 * what it guards with nothing (more) applied and stays resumable; an async hook delays; an afterStep
 * throw is reported without undoing the step; hooks and events come in a fixed order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineDataMigration, defineMigration, type Migration } from '../src/definition/migration.js';
import { ErrorCode, isMigrateError, RunFailedError } from '../src/errors/errors.js';
import { VetoError, type MigratorHooks } from '../src/hooks/hooks.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MemoryShard, MemoryStore } from '../src/testing/index.js';
import type { MigratorConfig } from '../src/run/config.js';
import { QUICK, latch, memory, rejection, statuses, within } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

function migratorOf(
  engine: MigratorConfig['engines'][string],
  migrations: readonly Migration[],
  hooks?: MigratorHooks,
  extra: Partial<MigratorConfig> = {},
): Migrator {
  const m = createMigrator({
    engines: { memory: engine },
    migrations,
    ...QUICK,
    ...(hooks ? { hooks } : {}),
    ...extra,
  });
  open.push(m);
  return m;
}

/** A schema step that leaves a mark in the shard's `marks` collection. */
const marking = (id: string) =>
  defineMigration({
    id,
    engine: 'memory',
    up: (h: MemoryShard) => void h.collection('marks', ['id']).upsert([{ id }]),
  });
const marks = (store: MemoryStore, shard: string) =>
  store
    .shard(shard)
    .collection('marks', ['id'])
    .rows()
    .map((r) => r.id);

const bump = defineDataMigration({
  id: '0002-bump',
  engine: 'memory',
  table: 'items',
  batchSize: 10,
  transform: (r) => ({ ...r, v: Number(r.v) + 1 }),
});
const fixedBatches = { throttle: { minBatchSize: 10, maxBatchSize: 10 } } as const;
const seed = (store: MemoryStore, shard: string, n = 100) =>
  store
    .shard(shard)
    .collection('items', ['id'])
    .upsert(Array.from({ length: n }, (_, id) => ({ id, v: 0 })));
const values = (store: MemoryStore, shard: string) =>
  store
    .shard(shard)
    .collection('items', ['id'])
    .rows()
    .map((r) => r.v);

describe('hooks option', () => {
  it('a hook that is not a function, or an unknown hook, is MIGRATE_CONFIG naming the field', () => {
    const { engine } = memory(1);
    for (const [hooks, field, text] of [
      [{ beforeStep: 'no' }, 'hooks.beforeStep', 'must be a function'],
      [{ afterRun: () => undefined }, 'hooks', '"afterRun"'],
    ] as const) {
      let error: unknown;
      try {
        createMigrator({ engines: { memory: engine }, migrations: [], hooks: hooks as never });
      } catch (e) {
        error = e;
      }
      expect(isMigrateError(error) && error.code).toBe(ErrorCode.Config);
      expect((error as { field?: string }).field).toBe(field);
      expect((error as Error).message).toContain(text);
    }
  });
});

describe('beforeRun', () => {
  it('a veto rejects run() with MIGRATE_VETOED and applies nothing on any shard; without it the next run applies everything', async () => {
    const { engine, store, ids } = memory(2);
    for (const id of ids) seed(store, id, 20);
    const steps: string[] = [];
    let seen: { pending: number; shards: number } | undefined;
    const hooks: MigratorHooks = {
      beforeRun: ({ plan }) => {
        seen = { pending: plan.pending, shards: plan.shards.length };
        throw new Error('peak hours: 09:00-18:00');
      },
      beforeStep: ({ migrationId }) => void steps.push(migrationId),
    };
    const error = await rejection(migratorOf(engine, [marking('0001-mark'), bump], hooks, fixedBatches).run());
    expect(error).toBeInstanceOf(VetoError);
    expect(error).toMatchObject({
      code: ErrorCode.Vetoed,
      hook: 'beforeRun',
      reason: 'peak hours: 09:00-18:00',
      field: 'hooks.beforeRun',
    });
    expect(error.message).toContain('nothing was applied');
    expect((error.cause as Error).message).toBe('peak hours: 09:00-18:00');
    expect(seen).toEqual({ pending: 4, shards: 2 });
    expect(steps).toEqual([]);
    for (const id of ids) {
      expect([...store.shard(id).ledger.keys()]).toEqual([]);
      expect(marks(store, id)).toEqual([]);
      expect(values(store, id)).toEqual(Array(20).fill(0));
    }
    // The run lock was released: the next run (no veto) applies everything.
    const report = await migratorOf(engine, [marking('0001-mark'), bump], {}, fixedBatches).run();
    expect(report.totals).toMatchObject({ applied: 4, failed: 0 });
    for (const id of ids) expect(values(store, id)).toEqual(Array(20).fill(1));
  });

  it('is not asked when there is nothing to apply', async () => {
    const { engine } = memory(1);
    await migratorOf(engine, [marking('0001-mark')]).run();
    let asked = 0;
    const report = await migratorOf(engine, [marking('0001-mark')], {
      beforeRun: () => {
        asked++;
        throw new Error('no');
      },
    }).run();
    expect(report.ok).toBe(true);
    expect(asked).toBe(0);
  });
});

describe('beforeStep', () => {
  it('a veto fails that step before anything is written on its shard (ledger and data as they were); a later run applies it', async () => {
    const { engine, store, ids } = memory(2);
    const [vetoed, other] = [ids[0]!, ids[1]!];
    const hooks: MigratorHooks = {
      beforeStep: ({ shardId, migrationId, direction, kind, engine: e }) => {
        expect({ direction, kind, engine: e }).toEqual({ direction: 'up', kind: 'schema', engine: 'memory' });
        if (shardId === vetoed && migrationId === '0001-a') throw new Error('tenant t-7 is frozen');
      },
    };
    const ms = [
      marking('0001-a'),
      defineMigration({
        id: '0002-b',
        engine: 'memory',
        dependsOn: ['0001-a'],
        up: (h: MemoryShard) => void h.collection('marks', ['id']).upsert([{ id: '0002-b' }]),
      }),
    ];
    const error = await rejection(migratorOf(engine, ms, hooks, { onFailure: 'continue' }).run());
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toContain('MIGRATE_VETOED');
    expect(error.message).toContain('tenant t-7 is frozen');
    expect(statuses(error.report)).toEqual({
      [`${vetoed}/0001-a`]: 'failed',
      [`${vetoed}/0002-b`]: 'not-run',
      [`${other}/0001-a`]: 'applied',
      [`${other}/0002-b`]: 'applied',
    });
    const step = error.report.shards.find((s: { shardId: string }) => s.shardId === vetoed).migrations[0];
    expect(step.error).toMatchObject({ code: ErrorCode.Vetoed });
    expect(step.attempts).toBe(0);
    expect(store.shard(vetoed).ledger.size).toBe(0);
    expect(marks(store, vetoed)).toEqual([]);
    expect(marks(store, other)).toEqual(['0001-a', '0002-b']);

    const report = await migratorOf(engine, ms).run();
    expect(statuses(report)).toMatchObject({
      [`${vetoed}/0001-a`]: 'applied',
      [`${vetoed}/0002-b`]: 'applied',
      [`${other}/0001-a`]: 'skipped',
    });
    expect(marks(store, vetoed)).toEqual(['0001-a', '0002-b']);
  });

  it('under halt, a veto halts the run like a failure', async () => {
    const { engine, store, ids } = memory(1);
    const error = await rejection(
      migratorOf(engine, [marking('0001-a'), marking('0002-b')], {
        beforeStep: ({ migrationId }) => {
          if (migrationId === '0001-a') throw new Error('not now');
        },
      }).run(),
    );
    expect(statuses(error.report)).toEqual({ [`${ids[0]}/0001-a`]: 'failed', [`${ids[0]}/0002-b`]: 'not-run' });
    expect(marks(store, ids[0]!)).toEqual([]);
  });

  it('an async hook delays its step: nothing of the step runs until the hook resolves', async () => {
    const { engine, store, ids } = memory(1);
    const shard = ids[0]!;
    const entered = latch();
    const drained = latch();
    const run = migratorOf(engine, [marking('0001-a')], {
      beforeStep: async () => {
        entered.open();
        await drained.promise;
      },
    }).run();
    await within(entered.promise, 5_000, 'beforeStep was not called');
    // Give the run every chance to go on without the hook: a few macrotasks.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(store.shard(shard).ledger.size).toBe(0);
    expect(marks(store, shard)).toEqual([]);
    drained.open();
    const report = await run;
    expect(report.totals.applied).toBe(1);
    expect(marks(store, shard)).toEqual(['0001-a']);
  });

  it('honours the run signal: an abort while the hook waits fails the step MIGRATE_ABORTED, ledger untouched', async () => {
    const { engine, store, ids } = memory(1);
    const stop = new AbortController();
    let hookSignal: AbortSignal | undefined;
    const error = await rejection(
      migratorOf(engine, [marking('0001-a')], {
        beforeStep: ({ signal }) => {
          hookSignal = signal;
          stop.abort(new Error('operator stop'));
          return new Promise(() => undefined); // a hook that never finishes on its own
        },
      }).run({ signal: stop.signal }),
    );
    expect(hookSignal?.aborted).toBe(true);
    const step = error.report.shards[0].migrations[0];
    expect(step).toMatchObject({ status: 'failed', error: { code: ErrorCode.Aborted } });
    expect(step.error.message).toContain('operator stop');
    expect(store.shard(ids[0]!).ledger.size).toBe(0);
    expect(marks(store, ids[0]!)).toEqual([]);
  });

  it('is asked for rollback steps too (direction down): a veto leaves the migration applied and its data as it was', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!, 20);
    await migratorOf(engine, [bump], {}, fixedBatches).run();
    const seen: string[] = [];
    const m = migratorOf(
      engine,
      [bump],
      {
        beforeStep: ({ direction, kind }) => {
          seen.push(`${direction}:${kind}`);
          throw new Error('no rollbacks today');
        },
      },
      fixedBatches,
    );
    const error = await rejection(m.rollback());
    expect(seen).toEqual(['down:data']);
    expect(error.report.shards[0].migrations[0]).toMatchObject({ status: 'failed', error: { code: ErrorCode.Vetoed } });
    expect(store.shard(ids[0]!).ledger.get('0002-bump')?.state).toBe('applied');
    expect(values(store, ids[0]!)).toEqual(Array(20).fill(1));
  });
});

describe('beforeBatch', () => {
  it('a veto stops the step at its last checkpoint (recorded failed, resumable); the next run finishes exactly, each row once', async () => {
    const { engine, store, ids } = memory(1);
    const shard = ids[0]!;
    seed(store, shard);
    const calls: unknown[] = [];
    const hooks: MigratorHooks = {
      beforeBatch: ({ after, batchSize, direction, migrationId }) => {
        calls.push(after);
        expect({ batchSize, direction, migrationId }).toEqual({
          batchSize: 10,
          direction: 'up',
          migrationId: '0002-bump',
        });
        if (after?.[0] === 29) throw new Error('queue backlog over 10k');
      },
    };
    const error = await rejection(migratorOf(engine, [bump], hooks, fixedBatches).run());
    expect(calls).toEqual([undefined, [9], [19], [29]]);
    expect(error.report.shards[0].migrations[0]).toMatchObject({ status: 'failed', error: { code: ErrorCode.Vetoed } });
    expect(error.message).toContain('queue backlog over 10k');
    const record = store.shard(shard).ledger.get('0002-bump')!;
    expect(record).toMatchObject({
      state: 'failed',
      checkpoint: { after: [29], direction: 'up' },
      counts: { read: 30, written: 30 },
      error: { code: ErrorCode.Vetoed },
    });
    expect(values(store, shard)).toEqual(Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0)));

    const resumedFrom: unknown[] = [];
    const report = await migratorOf(
      engine,
      [bump],
      { beforeBatch: ({ after }) => void resumedFrom.push(after) },
      fixedBatches,
    ).run();
    expect(resumedFrom[0]).toEqual([29]);
    expect(report.shards[0]!.migrations[0]).toMatchObject({ status: 'applied', counts: { read: 100, written: 100 } });
    expect(values(store, shard)).toEqual(Array(100).fill(1));
  });

  it('an async hook delays the next batch: no row of it is read or written until the hook resolves', async () => {
    const { engine, store, ids } = memory(1);
    const shard = ids[0]!;
    seed(store, shard, 30);
    const atSecond = latch();
    const go = latch();
    const run = migratorOf(
      engine,
      [bump],
      {
        beforeBatch: async ({ after }) => {
          if (after?.[0] !== 9) return;
          atSecond.open();
          await go.promise;
        },
      },
      fixedBatches,
    ).run();
    await within(atSecond.promise, 5_000, 'beforeBatch was not called before the second batch');
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(values(store, shard)).toEqual(Array.from({ length: 30 }, (_, i) => (i < 10 ? 1 : 0)));
    go.open();
    await run;
    expect(values(store, shard)).toEqual(Array(30).fill(1));
  });
});

describe('afterStep', () => {
  it('a throw is reported on the step (MIGRATE_HOOK_FAILED) and fails the run, but the applied step is not undone', async () => {
    const { engine, store, ids } = memory(1);
    const shard = ids[0]!;
    const outcomes: string[] = [];
    const error = await rejection(
      migratorOf(engine, [marking('0001-a'), marking('0002-b')], {
        afterStep: ({ migrationId, outcome }) => {
          outcomes.push(`${migrationId}:${outcome.status}`);
          if (migrationId === '0001-a') throw new Error('cache warm-up failed');
        },
      }).run(),
    );
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toContain('MIGRATE_HOOK_FAILED');
    expect(error.message).toContain('cache warm-up failed');
    expect(error.report.ok).toBe(false);
    expect(error.report.totals).toMatchObject({ applied: 2, failed: 0, notRun: 0 });
    expect(error.report.shards[0].migrations[0]).toMatchObject({
      migrationId: '0001-a',
      status: 'applied',
      hookError: { code: ErrorCode.HookFailed },
    });
    expect(error.report.shards[0].migrations[0].hookError.message).toContain('nothing was undone');
    expect(outcomes).toEqual(['0001-a:applied', '0002-b:applied']);
    expect(store.shard(shard).ledger.get('0001-a')?.state).toBe('applied');
    expect(marks(store, shard)).toEqual(['0001-a', '0002-b']);
    // Nothing is pending any more: the next run is ok and asks no hook.
    expect(
      (
        await migratorOf(engine, [marking('0001-a'), marking('0002-b')], {
          afterStep: () => {
            throw new Error('x');
          },
        }).run()
      ).ok,
    ).toBe(true);
  });

  it('follows a failed step too, with the failure as its outcome (a freeze taken in beforeStep can be released)', async () => {
    const { engine } = memory(1);
    const outcomes: unknown[] = [];
    await rejection(
      migratorOf(
        engine,
        [
          defineMigration({
            id: '0001-bad',
            engine: 'memory',
            up: () => {
              throw new Error('boom');
            },
          }),
        ],
        {
          afterStep: ({ outcome }) => void outcomes.push({ status: outcome.status, code: outcome.error?.code }),
        },
      ).run(),
    );
    expect(outcomes).toEqual([{ status: 'failed', code: ErrorCode.MigrationFailed }]);
  });
});

describe('hooks and events', () => {
  it('come in one fixed order: plan, beforeRun, migration:start, beforeStep, shard:start, (beforeBatch, batch)…, shard:done, afterStep, migration:done', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!, 15);
    const seen: string[] = [];
    const hooks: MigratorHooks = {
      beforeRun: async () => void seen.push('hook:beforeRun'),
      beforeStep: async ({ migrationId }) => void seen.push(`hook:beforeStep ${migrationId}`),
      afterStep: async ({ migrationId }) => void seen.push(`hook:afterStep ${migrationId}`),
      beforeBatch: async ({ after }) => void seen.push(`hook:beforeBatch ${JSON.stringify(after ?? null)}`),
    };
    const m = migratorOf(engine, [marking('0001-a'), bump], hooks, fixedBatches);
    for (const name of [
      'plan',
      'migration:start',
      'shard:start',
      'batch',
      'shard:done',
      'migration:done',
      'run:done',
    ] as const) {
      m.on(
        name,
        (e: object) => void seen.push(`event:${name}${'migrationId' in e ? ` ${String(e.migrationId)}` : ''}`),
      );
    }
    await m.run();
    expect(seen).toEqual([
      'event:plan',
      'hook:beforeRun',
      'event:migration:start 0001-a',
      'hook:beforeStep 0001-a',
      'event:shard:start 0001-a',
      'event:shard:done 0001-a',
      'hook:afterStep 0001-a',
      'event:migration:done 0001-a',
      'event:migration:start 0002-bump',
      'hook:beforeStep 0002-bump',
      'event:shard:start 0002-bump',
      'hook:beforeBatch null',
      'event:batch 0002-bump',
      'hook:beforeBatch [9]',
      'event:batch 0002-bump',
      'event:shard:done 0002-bump',
      'hook:afterStep 0002-bump',
      'event:migration:done 0002-bump',
      'event:run:done',
    ]);
  });

  it('a vetoed step emits shard:failed and no shard:start', async () => {
    const { engine } = memory(1);
    const seen: string[] = [];
    const m = migratorOf(engine, [marking('0001-a')], {
      beforeStep: () => {
        throw new Error('no');
      },
    });
    for (const name of ['shard:start', 'shard:failed'] as const)
      m.on(name, (e) => void seen.push(`${name} ${'error' in e ? e.error.code : ''}`.trim()));
    await rejection(m.run());
    expect(seen).toEqual([`shard:failed ${ErrorCode.Vetoed}`]);
  });
});
