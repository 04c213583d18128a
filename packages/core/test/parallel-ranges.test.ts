/**
 * Parallel key ranges (`parallelism` > 1) on memoryEngine: the ranges cover every key (rows
 * inserted during the run included) and each row is transformed exactly once; the ranges are kept
 * in the checkpoint and a resume continues each from its own; the throttle ceiling holds for the
 * sum of the ranges; rollback (reverse, or from the backup, of a complete or a partial run);
 * server-side migrations; the refusals (definition, resume with another parallelism).
 */
import { describe, expect, it } from 'vitest';
import { defineDataMigration, type DataMigrationInput } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import { DefinitionError, ErrorCode, RunFailedError } from '../src/errors/errors.js';
import type { RunReport } from '../src/run/report.js';
import { evenSplits, rangesAt } from '../src/data/key-ranges.js';
import type { BatchEvent } from '../src/events/events.js';
import type { CheckpointRange, EngineAdapter, LedgerRecord, Row } from '../src/engine/index.js';
import { createMemoryStore, memoryEngine } from '../src/testing/index.js';
import { QUICK, delegate, rejection, wrapEngine } from './helpers.js';

const ID = '0001-par';
const N = 103;
const base: DataMigrationInput = {
  id: ID,
  engine: 'memory',
  table: 'items',
  batchSize: 5,
  parallelism: 4,
  transform: (row) => ({ ...row, v: (row.v as number) + 1000 }),
};
const config = { ...QUICK, retry: { retries: 0 }, throttle: { minBatchSize: 5, maxBatchSize: 5 } };

/** `N` rows `{ id, v: id }` (ids 0, 10, 20, …) on one shard; compare-and-set and batch writes as asked. */
function setup(options: { batchWrite?: boolean; latencyMs?: number } = {}) {
  const store = createMemoryStore();
  store.locks.pollMs = 1;
  const batchWrite = options.batchWrite ?? false;
  const engine = memoryEngine({
    name: 'memory',
    shards: ['s0'],
    store,
    compareAndSet: batchWrite,
    batchWrite,
    latencyMs: options.latencyMs ?? 0,
  });
  const items = store.shard('s0').collection('items', ['id']);
  items.upsert(Array.from({ length: N }, (_, i) => ({ id: i * 10, v: i * 10 })));
  const record = () => store.shard('s0').ledger.get(ID) as LedgerRecord | undefined;
  return { store, engine, items, record };
}

const migrator = (engine: EngineAdapter<any>, input: Partial<DataMigrationInput> = {}, extra = {}) =>
  createMigrator({
    engines: { memory: engine },
    migrations: [defineDataMigration({ ...base, ...input } as DataMigrationInput)],
    ...config,
    ...extra,
  });

/** The run's report, a failed one included. */
const runOf = (m: ReturnType<typeof migrator>): Promise<RunReport> =>
  m.run().catch((e: unknown) => {
    if (e instanceof RunFailedError) return e.report as RunReport;
    throw e;
  });

const ranges = (r: LedgerRecord | undefined): readonly CheckpointRange[] => r?.checkpoint?.ranges ?? [];

describe('parallel key ranges: splitting', () => {
  it('cuts positions evenly, never at the last row, and fewer when rows are fewer than parts', () => {
    expect(evenSplits(100, 4)).toEqual([24, 49, 74]);
    expect(evenSplits(3, 4)).toEqual([0, 1]);
    expect(evenSplits(1, 4)).toEqual([]);
    expect(evenSplits(0, 4)).toEqual([]);
    const r = rangesAt([[5], [9]]);
    expect(r.map((x) => [x.from, x.to])).toEqual([
      [null, [5]],
      [[5], [9]],
      [[9], null],
    ]);
  });
});

describe.each([
  ['write, then checkpoint', false],
  ['batchWrite (atomic checkpoint)', true],
])('parallel key ranges on memoryEngine (%s)', (_, batchWrite) => {
  it('transforms every row exactly once, rows inserted during the run included, with ranges in the checkpoint', async () => {
    const { engine, items, record } = setup({ batchWrite, latencyMs: 1 });
    const m = migrator(engine);
    const events: BatchEvent[] = [];
    let inserted = false;
    m.on('batch', (e) => {
      events.push(e);
      if (inserted) return;
      inserted = true;
      // After every key (the last range has no upper bound), and between two keys of the last range.
      items.upsert([
        { id: 100_000, v: 100_000 },
        { id: (N - 2) * 10 + 5, v: (N - 2) * 10 + 5 },
      ]);
    });
    const report = await m.run();
    await m.close();
    expect(report.ok).toBe(true);
    const rows = items.rows();
    expect(rows.length).toBe(N + 2);
    for (const row of rows) expect(row.v).toBe((row.id as number) + 1000);
    const rs = ranges(record());
    expect(rs.length).toBe(4);
    expect(rs[0]!.from).toBeNull();
    expect(rs.at(-1)!.to).toBeNull();
    for (let i = 1; i < rs.length; i++) expect(rs[i]!.from).toEqual(rs[i - 1]!.to);
    expect(rs.map((r) => r.to?.[0] ?? null)).toEqual([240, 500, 760, null]);
    // Counts and events are the sums of the ranges'.
    expect(record()!.counts).toMatchObject({ read: N + 2, written: N + 2, skipped: 0 });
    expect(rs.reduce((n, r) => n + r.read, 0)).toBe(N + 2);
    expect(events.at(-1)!.processed).toBeLessThanOrEqual(N + 2);
    expect(Math.max(...events.map((e) => e.processed))).toBe(N + 2);
    expect(events.every((e) => e.total === N)).toBe(true);
  });

  it('a crash mid-run is resumed range by range, each from its own checkpoint, every row changed once', async () => {
    const { engine, items, record } = setup({ batchWrite });
    let calls = 0;
    // The 7th write lands, then the process "dies" before its checkpoint (or the atomic write fails whole).
    const faulty = wrapEngine(engine, (d) => ({
      ...delegate(d),
      update: async (t, p) => {
        const n = await d.update(t, p);
        if (++calls === 7) throw new Error('crash after write');
        return n;
      },
      ...(d.compareAndSet
        ? {
            compareAndSet: {
              writeIfUnchanged: async (t, p) => {
                if (++calls === 7) throw new Error('crash before write');
                return d.compareAndSet!.writeIfUnchanged(t, p);
              },
            },
          }
        : {}),
      batchWrite: d.batchWrite && {
        checkpoints: d.batchWrite.checkpoints,
        apply: async (request) => {
          if (++calls === 7) throw new Error('crash: nothing of the batch written');
          return d.batchWrite!.apply(request);
        },
      },
    }));
    const first = migrator(faulty);
    const failed = await runOf(first);
    await first.close();
    expect(failed.ok).toBe(false);
    const at = ranges(record());
    expect(at.length).toBe(4);
    // Several ranges got somewhere, each with its own position.
    expect(at.filter((r) => r.after !== null).length).toBeGreaterThan(1);
    let transformed = 0;
    const second = migrator(engine, {
      transform: (row) => (transformed++, { ...row, v: (row.v as number) + 1000 }),
    });
    const done = await second.run();
    await second.close();
    expect(done.ok).toBe(true);
    // Each range went on from its own checkpoint: only the rows after them were read (and transformed) again.
    expect(transformed).toBe(N - at.reduce((n, r) => n + r.read, 0));
    for (const row of items.rows()) expect(row.v).toBe((row.id as number) + 1000);
    // The resume kept the ranges it started with.
    expect(ranges(record()).map((r) => r.to)).toEqual(at.map((r) => r.to));
    expect(record()!.counts).toMatchObject({ read: N, written: N });
  });

  it('rolls back a complete run from the backup, and with reverse', async () => {
    for (const reverse of [undefined, (row: Row) => ({ ...row, v: (row.v as number) - 1000 })]) {
      const { engine, items, store } = setup({ batchWrite });
      const m = migrator(engine, { reverse });
      expect((await m.run()).ok).toBe(true);
      const rb = await m.rollback({ steps: 1 });
      await m.close();
      expect(rb.ok).toBe(true);
      for (const row of items.rows()) expect(row.v).toBe(row.id);
      expect(store.shard('s0').hasCollection('mcp_backup_0001_par')).toBe(false);
    }
  });
});

describe('parallel key ranges: rollback of a partial run, throttle, server-side, refusals', () => {
  it('rolls back a partly applied parallel run from its backup exactly', async () => {
    const { engine, items } = setup();
    let calls = 0;
    const faulty = wrapEngine(engine, (d) => ({
      ...delegate(d),
      update: async (t, p) => {
        if (++calls === 9) throw new Error('crash');
        return d.update(t, p);
      },
    }));
    const first = migrator(faulty);
    expect((await runOf(first)).ok).toBe(false);
    await first.close();
    expect(items.rows().some((r) => r.v !== r.id)).toBe(true);
    const m = migrator(engine);
    expect((await m.rollback({ steps: 1 })).ok).toBe(true);
    await m.close();
    for (const row of items.rows()) expect(row.v).toBe(row.id);
  });

  it('keeps maxRowsPerSecond for the sum of the ranges, not per range', async () => {
    const { engine, items } = setup();
    const m = migrator(engine, { maxRowsPerSecond: 400 });
    const t0 = Date.now();
    expect((await m.run()).ok).toBe(true);
    const seconds = (Date.now() - t0) / 1000;
    await m.close();
    for (const row of items.rows()) expect(row.v).toBe((row.id as number) + 1000);
    // Four ranges each kept to 400 rows/s would run at up to 1,600 rows/s; slowness only lowers the rate.
    expect(N / seconds).toBeLessThanOrEqual(400 * 1.1);
  });

  it('runs a server-side update over parallel ranges and rolls it back from the backup', async () => {
    const { engine, items, record } = setup();
    const m = migrator(engine, { transform: undefined, update: { $inc: { v: 1000 } } } as never);
    expect((await m.run()).ok).toBe(true);
    for (const row of items.rows()) expect(row.v).toBe((row.id as number) + 1000);
    expect(ranges(record()).length).toBe(4);
    expect(record()!.counts).toMatchObject({ read: N, written: N });
    expect((await m.rollback({ steps: 1 })).ok).toBe(true);
    await m.close();
    for (const row of items.rows()) expect(row.v).toBe(row.id);
  });

  it('refuses to resume with another parallelism, saying which one it started with', async () => {
    const { engine, record } = setup();
    let calls = 0;
    const faulty = wrapEngine(engine, (d) => ({
      ...delegate(d),
      update: async (t, p) => {
        if (++calls === 3) throw new Error('crash');
        return d.update(t, p);
      },
    }));
    const first = migrator(faulty);
    await runOf(first);
    await first.close();
    expect(ranges(record()).length).toBe(4);
    const other = migrator(engine, { parallelism: 2 });
    const report = await runOf(other);
    await other.close();
    expect(report.ok).toBe(false);
    const error = report.shards[0]!.migrations[0]!.error!;
    expect(error.code).toBe(ErrorCode.CheckpointMismatch);
    expect(error.message).toMatch(/started with parallelism 4, not 2/);
    const serial = migrator(engine, { parallelism: undefined });
    const report1 = await runOf(serial);
    await serial.close();
    expect(report1.shards[0]!.migrations[0]!.error!.message).toMatch(/started with parallelism 4, not 1/);
  });

  it('refuses a bad parallelism, and parallelism with groupBy or backup: false, naming the field', async () => {
    const bad: Partial<DataMigrationInput>[] = [
      { parallelism: 0 },
      { parallelism: 65 },
      { parallelism: 1.5 },
      { parallelism: 2, backup: false, reverse: (r) => r },
    ];
    for (const input of bad) {
      const e = await rejection(() => defineDataMigration({ ...base, ...input } as DataMigrationInput));
      expect(e).toBeInstanceOf(DefinitionError);
      expect(e.field).toBe('parallelism');
    }
    const grouped = await rejection(() =>
      defineDataMigration({
        id: 'g',
        engine: 'memory',
        table: 'items',
        groupBy: ['id'],
        transformGroup: (rows) => rows,
        parallelism: 2,
      }),
    );
    expect(grouped.field).toBe('parallelism');
    expect(grouped.message).toMatch(/group must never straddle/);
    expect(defineDataMigration({ ...base, parallelism: 64 }).parallelism).toBe(64);
    expect(defineDataMigration({ ...base, parallelism: undefined }).parallelism).toBe(1);
  });
});
