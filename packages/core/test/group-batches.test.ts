/**
 * Grouped batches (`groupBy` + `transformGroup`/`reverseGroup`) on memoryEngine: groups never
 * split across batches at any batch size (a group larger than the batch included), checkpoints on
 * group boundaries, a crash re-does whole groups exactly once, compare-and-set conflicts re-read the
 * group, the same-keys rule, and exact rollback with `reverseGroup` and from the backup.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { defineDataMigration, type GroupedDataMigrationInput } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MigratorConfig } from '../src/run/config.js';
import { DefinitionError, ErrorCode, RunFailedError } from '../src/errors/errors.js';
import { fingerprint } from '../src/data/batch-runner.js';
import { backupName } from '../src/data/backup.js';
import type { DataStore, EngineAdapter, Row } from '../src/engine/index.js';
import type { RunReport } from '../src/run/report.js';
import { createMemoryStore, memoryEngine, type MemoryStore } from '../src/testing/index.js';
import { QUICK, delegate, memory, rejection, wrapEngine } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

function migratorOf(engine: EngineAdapter<any>, migrations: MigratorConfig['migrations'], size: number): Migrator {
  const m = createMigrator({
    engines: { [engine.name]: engine },
    migrations,
    ...QUICK,
    throttle: { minBatchSize: size, maxBatchSize: size },
  });
  open.push(m);
  return m;
}

const KEY = ['tenant', 'k'];
/** Group sizes by tenant: the 12-row group is larger than every batch size below but the last. */
const SIZES: Record<string, number> = { '': 2, t00: 1, t01: 3, t02: 12, t03: 2, t04: 5, t05: 1, t06: 7, t07: 4 };
const TENANTS = Object.keys(SIZES).sort();
type SettingRow = { tenant: string; k: string; v: number; note: string };
const seedRows = (): SettingRow[] =>
  TENANTS.flatMap((tenant, t) =>
    Array.from({ length: SIZES[tenant]! }, (_, i) => ({
      tenant,
      k: `key-${String(i).padStart(2, '0')}`,
      v: t * 10 + i,
      note: `n${i}`,
    })),
  );
/** Cumulative row counts at the end of each group: where every checkpoint must fall. */
const BOUNDARIES = new Set(TENANTS.map((_, i) => TENANTS.slice(0, i + 1).reduce((n, t) => n + SIZES[t]!, 0)));

function seed(store: MemoryStore, shardId: string, rows = seedRows()): void {
  store.shard(shardId).collection('settings', KEY).upsert(rows);
}
const rowsOf = (store: MemoryStore, shardId: string) => store.shard(shardId).collection('settings', KEY).rows();

/** v' = v + Σv of the group: right only if the transform saw the whole group. Exact inverse below. */
const addGroupSum = (rows: readonly Row[]): Row[] => {
  const sum = rows.reduce((s, r) => s + (r.v as number), 0);
  return rows.map((r) => ({ ...r, v: (r.v as number) + sum }));
};
const subtractGroupSum = (rows: readonly Row[]): Row[] => {
  const sum = rows.reduce((s, r) => s + (r.v as number), 0) / (rows.length + 1);
  return rows.map((r) => ({ ...r, v: (r.v as number) - sum }));
};
const expected = () => TENANTS.flatMap((tenant) => addGroupSum(seedRows().filter((r) => r.tenant === tenant)));

const grouped = (extra: Partial<GroupedDataMigrationInput> = {}) =>
  defineDataMigration({
    id: '0001-group-sum',
    engine: 'memory',
    table: 'settings',
    key: KEY,
    groupBy: 'tenant',
    transformGroup: addGroupSum,
    ...extra,
  });

describe('grouped batches: a batch never splits a group', () => {
  it.each([1, 2, 3, 5, 8, 1000])(
    'batch size %i: every group whole, once; checkpoints on group boundaries',
    async (size) => {
      const { engine, store, ids } = memory(1);
      seed(store, ids[0]!);
      const seen: { tenant: unknown; rows: number; ctx: unknown }[] = [];
      const m = grouped({
        batchSize: size,
        transformGroup: (rows, ctx) => {
          seen.push({ tenant: rows[0]!.tenant, rows: rows.length, ctx: ctx.group });
          return addGroupSum(rows);
        },
      });
      const migrator = migratorOf(engine, [m], size);
      const processed: number[] = [];
      const checkpoints: unknown[] = [];
      migrator.on('batch', (e) => {
        processed.push(e.processed);
        checkpoints.push(store.shard(ids[0]!).ledger.get(m.id)!.checkpoint!.after);
      });
      const report = await migrator.run();
      expect(seen.map((s) => s.tenant)).toEqual(TENANTS);
      expect(seen.map((s) => s.rows)).toEqual(TENANTS.map((t) => SIZES[t]));
      expect(seen.map((s) => s.ctx)).toEqual(TENANTS.map((tenant) => ({ tenant })));
      expect(rowsOf(store, ids[0]!)).toEqual(expected());
      expect(
        processed.every((n) => BOUNDARIES.has(n)),
        `processed ${processed.join(',')}`,
      ).toBe(true);
      // Each checkpoint is the last key of a group.
      const lastKeys = TENANTS.map((t) => [t, `key-${String(SIZES[t]! - 1).padStart(2, '0')}`]);
      for (const cp of checkpoints) expect(lastKeys).toContainEqual(cp);
      // A batch holds at most `size` rows, unless one group alone is longer.
      const perBatch = processed.map((n, i) => n - (processed[i - 1] ?? 0));
      expect(perBatch.every((n) => n <= Math.max(size, 12))).toBe(true);
      if (size >= 12) expect(perBatch.every((n) => n <= size)).toBe(true);
      expect(report.shards[0]!.migrations[0]!.counts).toEqual({ read: 37, written: 37, skipped: 0 });
    },
  );

  it('groupBy of two fields: groups are (region, tenant), a prefix of a three-field key', async () => {
    const { engine, store, ids } = memory(1);
    const rows = ['eu', 'us'].flatMap((region) =>
      seedRows().map((r): Row => ({ region, ...r, v: (r.v as number) + (region === 'us' ? 1000 : 0) })),
    );
    store
      .shard(ids[0]!)
      .collection('settings', ['region', ...KEY])
      .upsert(rows);
    const calls: unknown[] = [];
    const m = grouped({
      key: ['region', ...KEY],
      groupBy: ['region', 'tenant'],
      transformGroup: (group, ctx) => {
        calls.push(ctx.group);
        return addGroupSum(group);
      },
    });
    await migratorOf(engine, [m], 4).run();
    expect(calls).toHaveLength(2 * TENANTS.length);
    expect(calls[1]).toEqual({ region: 'eu', tenant: 't00' });
    const got = store
      .shard(ids[0]!)
      .collection('settings', ['region', ...KEY])
      .rows();
    expect(got).toEqual(
      ['eu', 'us'].flatMap((region) =>
        TENANTS.flatMap((tenant) => addGroupSum(rows.filter((r) => r.region === region && r.tenant === tenant))),
      ),
    );
  });
});

describe('grouped batches: rollback', () => {
  it.each([2, 5])('reverseGroup restores every row exactly (batch size %i)', async (size) => {
    const { engine, store, ids } = memory(2);
    for (const id of ids) seed(store, id);
    const m = grouped({ reverseGroup: subtractGroupSum });
    const migrator = migratorOf(engine, [m], size);
    await migrator.run();
    for (const id of ids) expect(rowsOf(store, id)).toEqual(expected());
    // Make the backup disagree: the rollback must come from reverseGroup, not from it.
    for (const id of ids)
      store
        .shard(id)
        .collection(backupName(m.id), KEY)
        .update((r) => ({ ...r, note: 'stale' }));
    const rb = await migrator.rollback();
    expect(rb.totals).toMatchObject({ applied: 2, failed: 0 });
    for (const id of ids) {
      expect(rowsOf(store, id)).toEqual(seedRows());
      expect(store.shard(id).hasCollection(backupName(m.id))).toBe(false);
    }
  });

  it('without reverseGroup, rollback restores the originals from the backup', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const migrator = migratorOf(engine, [grouped()], 3);
    await migrator.run();
    expect(rowsOf(store, ids[0]!)).toEqual(expected());
    await migrator.rollback();
    expect(rowsOf(store, ids[0]!)).toEqual(seedRows());
  });

  it('a migration that failed half way: reverseGroup reverses only the groups it changed', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const failing = grouped({
      reverseGroup: subtractGroupSum,
      transformGroup: (rows) => {
        if (rows[0]!.tenant === 't04') throw new Error('bad tenant');
        return addGroupSum(rows);
      },
    });
    const err = await rejection(migratorOf(engine, [failing], 3).run());
    expect(err).toBeInstanceOf(RunFailedError);
    const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
    expect(step.error!.message).toContain('transformGroup for group (tenant) ["t04"] threw: bad tenant');
    const mid = rowsOf(store, ids[0]!);
    expect(mid.filter((r) => r.tenant === 't01')).toEqual(expected().filter((r) => r.tenant === 't01'));
    expect(mid.filter((r) => String(r.tenant) >= 't04')).toEqual(seedRows().filter((r) => r.tenant >= 't04'));
    await migratorOf(engine, [failing], 3).rollback();
    expect(rowsOf(store, ids[0]!)).toEqual(seedRows());
  });
});

/** A DataStore whose `update` writes and then throws on its `nth` call (a crash after the write). */
function crashAfterWrite(nth: number) {
  let calls = 0;
  return (d: DataStore): DataStore => ({
    ...delegate(d),
    update: async (t, patches) => {
      const n = await d.update(t, patches);
      if (t.name === 'settings' && ++calls === nth) throw new Error('connection lost after write');
      return n;
    },
  });
}

describe('grouped batches: crash and resume', () => {
  it('a crash after a write re-does whole groups from their saved originals: each group transformed into its result once', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const m = grouped();
    await rejection(migratorOf(wrapEngine(engine, crashAfterWrite(3)), [m], 5).run());
    const record = store.shard(ids[0]!).ledger.get(m.id)!;
    expect(record.state).toBe('failed');
    // Batches of 5: [''(2) t00(1)] [t01(3)] [t02(12)] — the third was written, then the crash.
    expect(record.checkpoint!.after).toEqual(['t01', 'key-02']);
    const mid = rowsOf(store, ids[0]!);
    expect(mid.filter((r) => r.tenant === 't02')).toEqual(expected().filter((r) => r.tenant === 't02'));
    const calls: unknown[] = [];
    const resumed = grouped({
      transformGroup: (rows) => {
        calls.push(rows[0]!.tenant);
        return addGroupSum(rows);
      },
    });
    const report = await migratorOf(engine, [resumed], 5).run();
    // Resumed at the checkpoint: the written group t02 is re-done from its originals and found done.
    expect(calls).toEqual(TENANTS.slice(3));
    expect(rowsOf(store, ids[0]!)).toEqual(expected());
    expect(report.shards[0]!.migrations[0]!.counts).toEqual({ read: 37, written: 37, skipped: 0 });
    // The backup kept the first copies: rollback is exact.
    await migratorOf(engine, [resumed], 5).rollback();
    expect(rowsOf(store, ids[0]!)).toEqual(seedRows());
  });

  it('an aborted run resumes at a group boundary with another batch size (same fingerprint)', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const m = grouped({ batchSize: 4 });
    const controller = new AbortController();
    const first = migratorOf(engine, [m], 4);
    let batches = 0;
    first.on('batch', () => {
      if (++batches === 3) controller.abort(new Error('simulated crash'));
    });
    await rejection(first.run({ signal: controller.signal }));
    const cp = store.shard(ids[0]!).ledger.get(m.id)!.checkpoint!;
    expect(cp.fingerprint).toBe(fingerprint(m));
    expect(TENANTS.map((t) => [t, `key-${String(SIZES[t]! - 1).padStart(2, '0')}`])).toContainEqual(cp.after);
    await migratorOf(engine, [m], 7).run();
    expect(rowsOf(store, ids[0]!)).toEqual(expected());
  });
});

describe('grouped batches: compare-and-set', () => {
  it('a row the application changes between the read and the write: its group is re-read whole and transformed with the new value', async () => {
    const store = createMemoryStore();
    store.locks.pollMs = 1;
    const shard = 'cas-0';
    const casEngine = memoryEngine({ name: 'memory', shards: [shard], store, compareAndSet: true });
    seed(store, shard);
    let scans = 0;
    const wrapped = wrapEngine(casEngine, (d) => ({
      ...delegate(d),
      scan: async (t, after, limit) => {
        const rows = await d.scan(t, after, limit);
        // Batch 3 reads t02 (12 rows) in two scans; after the second, the application changes one of its rows.
        if (t.name === 'settings' && ++scans === 4)
          store
            .shard(shard)
            .collection('settings', KEY)
            .upsert([{ tenant: 't02', k: 'key-07', v: 500, note: 'app' }]);
        return rows;
      },
    }));
    const calls: unknown[] = [];
    const m = grouped({
      transformGroup: (rows) => {
        calls.push(rows[0]!.tenant);
        return addGroupSum(rows);
      },
    });
    const report = await migratorOf(wrapped, [m], 5).run();
    const withApp = seedRows().map((r) => (r.tenant === 't02' && r.k === 'key-07' ? { ...r, v: 500, note: 'app' } : r));
    const want = TENANTS.flatMap((tenant) => addGroupSum(withApp.filter((r) => r.tenant === tenant)));
    expect(rowsOf(store, shard)).toEqual(want);
    expect(calls.filter((t) => t === 't02')).toHaveLength(2);
    expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 37, written: 37 });
    // The backup holds t02's rows as the migration rewrote them: rollback restores the app's value.
    await migratorOf(casEngine, [m], 5).rollback();
    expect(rowsOf(store, shard)).toEqual(withApp);
  });
});

describe('grouped batches: the same-keys rule', () => {
  it.each([
    ['drops a row', (rows: readonly Row[]) => addGroupSum(rows).slice(1), 'missing: row ["t01","key-00"]'],
    [
      'adds a row',
      (rows: readonly Row[]) => [...addGroupSum(rows), { ...rows[0]!, k: 'new' }],
      'not in the group: row ["t01","new"]',
    ],
    [
      're-keys a row',
      (rows: readonly Row[]) => addGroupSum(rows).map((r, i) => (i === 0 ? { ...r, tenant: 't99' } : r)),
      'not in the group: row ["t99","key-00"]; missing: row ["t01","key-00"]',
    ],
  ])(
    'a transformGroup that %s fails the step naming the group, and writes nothing of that batch',
    async (_n, fn, text) => {
      const { engine, store, ids } = memory(1);
      seed(store, ids[0]!);
      const m = grouped({ transformGroup: (rows) => (rows[0]!.tenant === 't01' ? fn(rows) : addGroupSum(rows)) });
      const err = await rejection(migratorOf(engine, [m], 3).run());
      const step = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!;
      expect(step.error!.code).toBe(ErrorCode.MigrationFailed);
      expect(step.error!.message).toContain('transformGroup for group (tenant) ["t01"] returned');
      expect(step.error!.message).toContain(text);
      expect(step.error!.message).toContain('cannot add, drop or re-key rows');
      const got = rowsOf(store, ids[0]!);
      expect(got.filter((r) => String(r.tenant) >= 't01')).toEqual(seedRows().filter((r) => r.tenant >= 't01'));
    },
  );

  it('null leaves the group; a non-array result is refused', async () => {
    const { engine, store, ids } = memory(1);
    seed(store, ids[0]!);
    const skip = grouped({ transformGroup: (rows) => (rows[0]!.tenant === 't02' ? null : addGroupSum(rows)) });
    const report = await migratorOf(engine, [skip], 4).run();
    expect(report.shards[0]!.migrations[0]!.counts).toEqual({ read: 37, written: 25, skipped: 12 });
    expect(rowsOf(store, ids[0]!).filter((r) => r.tenant === 't02')).toEqual(
      seedRows().filter((r) => r.tenant === 't02'),
    );
    const bad = grouped({ transformGroup: (rows) => rows[0] as unknown as Row[] });
    const fresh = memory(1);
    seed(fresh.store, fresh.ids[0]!);
    const err = await rejection(migratorOf(fresh.engine, [bad], 4).run());
    expect((err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!.error!.message).toContain(
      "must return the group's rows (an array) or null, got object",
    );
  });
});

describe('grouped batches: definition', () => {
  const base = { id: '0001-g', engine: 'memory', table: 'settings', key: ['tenant', 'k'] } as const;
  const identity = (rows: readonly Row[]) => rows;

  it.each([
    [
      { groupBy: 'k' },
      'field "groupBy": must be a prefix of the key',
      '"k" is field 2 of the key (tenant, k), but field 1 of groupBy',
    ],
    [{ groupBy: ['tenant', 'x'] }, 'field "groupBy"', '"x" is not a field of the key (tenant, k)'],
    [{ groupBy: ['tenant', 'k', 'z'] }, 'field "groupBy"', 'has 3 fields but the key (tenant, k) has 2'],
    [{ groupBy: ['tenant', 'tenant'] }, 'field "groupBy"', 'repeats a field'],
    [{ groupBy: 'tenant', key: undefined }, 'field "groupBy"', '"tenant" is not a field of the key (id)'],
  ])('groupBy %j is refused with a DefinitionError naming the field', (extra, where, why) => {
    const err = (() => {
      try {
        defineDataMigration({ ...base, transformGroup: identity, ...extra } as GroupedDataMigrationInput);
      } catch (error) {
        return error;
      }
      throw new Error('accepted');
    })();
    expect(err).toBeInstanceOf(DefinitionError);
    expect(err).toMatchObject({ field: 'groupBy', migrationId: '0001-g' });
    expect((err as Error).message).toContain(where);
    expect((err as Error).message).toContain(why);
  });

  it('mixing row and group functions does not compile, and is refused at run time naming the field', () => {
    const cases: [() => unknown, string, string][] = [];
    const refused = (define: () => unknown, field: string, text: string) => cases.push([define, field, text]);
    refused(
      // @ts-expect-error transform with groupBy: a grouped migration takes transformGroup
      () => defineDataMigration({ ...base, groupBy: 'tenant', transform: (r: Row) => r }),
      'transform',
      'takes "transformGroup"',
    );
    refused(
      // @ts-expect-error transformGroup without groupBy
      () => defineDataMigration({ ...base, transformGroup: identity }),
      'transformGroup',
      'needs "groupBy"',
    );
    refused(
      // @ts-expect-error reverse on a grouped migration
      () => defineDataMigration({ ...base, groupBy: 'tenant', transformGroup: identity, reverse: (r: Row) => r }),
      'reverse',
      'takes "reverseGroup"',
    );
    refused(
      // @ts-expect-error groupBy without transformGroup
      () => defineDataMigration({ ...base, groupBy: 'tenant' }),
      'transformGroup',
      'is required with "groupBy"',
    );
    refused(
      // @ts-expect-error reverseGroup on a row migration
      () => defineDataMigration({ ...base, transform: (r: Row) => r, reverseGroup: identity }),
      'reverseGroup',
      'needs "groupBy"',
    );
    for (const [define, field, text] of cases) {
      let error: unknown;
      try {
        define();
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(DefinitionError);
      expect(error).toMatchObject({ field });
      expect((error as Error).message).toContain(text);
    }
  });

  it('the returned type follows the input: transformGroup on a grouped one, transform on a row one', () => {
    const g = defineDataMigration({ ...base, groupBy: 'tenant', transformGroup: identity });
    const r = defineDataMigration({ ...base, transform: (row) => row });
    const groupFn: (rows: readonly Row[], ctx: Parameters<typeof g.transformGroup>[1]) => unknown = g.transformGroup;
    const rowFn: (row: Row, ctx: Parameters<typeof r.transform>[1]) => unknown = r.transform;
    expect([typeof groupFn, typeof rowFn, g.groupBy, r.groupBy]).toEqual([
      'function',
      'function',
      ['tenant'],
      undefined,
    ]);
  });

  it('a built migration changed by hand is refused by createMigrator (groupBy not a prefix, transform mixed in)', () => {
    const g = defineDataMigration({ ...base, groupBy: 'tenant', transformGroup: identity });
    const { engine } = memory(1);
    for (const [tampered, field] of [
      [{ ...g, groupBy: ['k'] }, 'groupBy'],
      [{ ...g, transform: (r: Row) => r }, 'transform'],
      [{ ...g, transformGroup: undefined }, 'transformGroup'],
    ] as const) {
      expect(() => createMigrator({ engines: { memory: engine }, migrations: [tampered as never] })).toThrow(
        expect.objectContaining({ field }),
      );
    }
  });

  it('groupBy is part of the checksum and the fingerprint; row migrations keep their checksums', () => {
    const one = defineDataMigration({ ...base, groupBy: 'tenant', transformGroup: identity });
    const two = defineDataMigration({ ...base, groupBy: ['tenant', 'k'], transformGroup: identity });
    const withReverse = defineDataMigration({
      ...base,
      groupBy: 'tenant',
      transformGroup: identity,
      reverseGroup: identity,
    });
    expect(new Set([one.checksum, two.checksum, withReverse.checksum]).size).toBe(3);
    expect(fingerprint(one)).not.toBe(fingerprint(two));
    // The same definition as a row migration: its checksum is what this SDK always wrote for it.
    const row = defineDataMigration({ ...base, transform: (r) => r });
    expect(row.checksum).toBe(
      'v2:' +
        sha256Hex(
          JSON.stringify([
            'data',
            '0001-g',
            'memory',
            { kind: 'all' },
            { name: 'settings', key: ['tenant', 'k'] },
            null,
            null,
            true,
            false,
          ]),
        ),
    );
  });
});

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
