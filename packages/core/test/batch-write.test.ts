/**
 * Batch writes (`batchWrite`: a batch's backup, write and checkpoint in one atomic step) and
 * `backup: false` on memoryEngine: what a batch costs in calls, which migrations may skip the
 * backup, that a run without one never transforms a row twice and rolls back exactly (a partial
 * run up to its last checkpoint, a rollback interrupted and resumed included), and that shards
 * without batch writes keep the backup all the same.
 */
import { describe, expect, it } from 'vitest';
import { defineDataMigration, type DataMigrationInput } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import { DefinitionError, ErrorCode } from '../src/errors/errors.js';
import { backupName } from '../src/data/backup.js';
import { fingerprint } from '../src/data/batch-runner.js';
import type { DataStore, EngineAdapter, Row } from '../src/engine/index.js';
import { createMemoryStore, memoryEngine, type MemoryStore } from '../src/testing/index.js';
import { QUICK, rejection } from './helpers.js';

const ID = '0001-plus-hundred';
const base: DataMigrationInput = {
  id: ID,
  engine: 'memory',
  table: 'items',
  batchSize: 5,
  transform: (row) => ({ ...row, v: (row.v as number) + 100 }),
  reverse: (row) => ({ ...row, v: (row.v as number) - 100 }),
};
const config = { ...QUICK, retry: { retries: 0 }, throttle: { minBatchSize: 5, maxBatchSize: 5 } };

/** 20 rows `{ id, v: id }` on one shard of an engine with compare-and-set and batch writes (unless said otherwise). */
function setup(options: { batchWrite?: boolean } = {}) {
  const store = createMemoryStore();
  store.locks.pollMs = 1;
  const engine = memoryEngine({
    name: 'memory',
    shards: ['s0'],
    store,
    compareAndSet: true,
    batchWrite: options.batchWrite ?? true,
  });
  const items = store.shard('s0').collection('items', ['id']);
  items.upsert(Array.from({ length: 20 }, (_, id) => ({ id, v: id })));
  const values = () => items.rows().map((r) => r.v as number);
  return { store, engine, items, values };
}

const migrator = (engine: EngineAdapter<any>, input: Partial<DataMigrationInput> = {}) =>
  createMigrator({ engines: { memory: engine }, migrations: [defineDataMigration({ ...base, ...input })], ...config });

/** `engine` with the calls to each member of its shard's data store (and ledger puts) counted. */
function counted(engine: EngineAdapter<any>, calls: Map<string, number>): EngineAdapter<any> {
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  const wrap = <T extends object>(obj: T, prefix: string): T =>
    new Proxy(obj, {
      get(t, p) {
        const v: unknown = Reflect.get(t, p, t);
        if (typeof v === 'function')
          return (...args: unknown[]) => (
            count(`${prefix}${String(p)}`),
            (v as (...a: unknown[]) => unknown).apply(t, args)
          );
        if (p === 'batchWrite' && v) return wrap(v as object, 'batchWrite.');
        return v;
      },
    });
  return new Proxy(engine, {
    get(t, p) {
      if (p !== 'shard') return Reflect.get(t, p, t);
      return (id: string) => {
        const shard = t.shard(id);
        return new Proxy(shard, {
          get(s, q) {
            if (q === 'data') return wrap(s.data as DataStore, 'data.');
            if (q === 'ledger') return wrap(s.ledger, 'ledger.');
            const v: unknown = Reflect.get(s, q, s);
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
          },
        });
      };
    },
  });
}

/** Rows in the backup (a memory shard creates a collection that is only read, empty). */
const backupRows = (store: MemoryStore) =>
  store.shard('s0').hasCollection(backupName(ID)) ? store.shard('s0').collection(backupName(ID)).size : 0;

describe('backup: false is declared with an exact inverse', () => {
  it('is refused without reverse (or reverseGroup), naming the field', () => {
    const refused = (input: object) => {
      try {
        defineDataMigration(input as DataMigrationInput);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const row = refused({ ...base, reverse: undefined, backup: false }) as DefinitionError;
    expect(row).toBeInstanceOf(DefinitionError);
    expect(row.field).toBe('backup');
    expect(row.message).toContain('"backup: false" needs an exact "reverse"');
    const grouped = refused({
      id: 'g',
      engine: 'memory',
      table: 't',
      key: ['g', 'k'],
      groupBy: 'g',
      transformGroup: (rows: Row[]) => rows,
      backup: false,
    }) as DefinitionError;
    expect(grouped.field).toBe('backup');
    expect(grouped.message).toContain('"reverseGroup"');
  });

  it('is part of the checkpoint fingerprint, not of the checksum; a built migration is checked again', () => {
    const kept = defineDataMigration(base);
    const skipped = defineDataMigration({ ...base, backup: false });
    expect(kept.backup).toBe(true);
    expect(skipped.backup).toBe(false);
    expect(skipped.checksum).toBe(kept.checksum);
    expect(fingerprint(skipped)).not.toBe(fingerprint(kept));
    const { engine } = setup();
    expect(() =>
      createMigrator({ engines: { memory: engine }, migrations: [{ ...skipped, reverse: undefined }], ...config }),
    ).toThrow(/"backup: false" needs an exact "reverse"/);
  });
});

describe('batch writes', () => {
  it('cost one write call per batch (backup, patches and checkpoint together) and one read; originals are looked for once', async () => {
    const { engine, values } = setup();
    const calls = new Map<string, number>();
    const report = await migrator(counted(engine, calls)).run();
    expect(report.ok).toBe(true);
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => i + 100));
    expect(calls.get('batchWrite.apply')).toBe(4);
    // 4 pages of 5 rows and the empty page after them; the backup once (the first batch finds none ahead).
    expect(calls.get('data.scan')).toBe(5 + 1);
    for (const name of ['data.write', 'data.update', 'data.remove']) expect(calls.get(name) ?? 0).toBe(0);
    // The run's own records (running, applied): no checkpoint put of its own.
    expect(calls.get('ledger.put')).toBe(2);
    await migrator(engine).rollback({ steps: 1 });
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('with backup: false keep no backup, and roll a completed run back with reverse', async () => {
    const { engine, store, values } = setup();
    await migrator(engine, { backup: false }).run();
    expect(backupRows(store)).toBe(0);
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => i + 100));
    await migrator(engine, { backup: false }).rollback({ steps: 1 });
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('without the capability, backup: false keeps the backup all the same, and the run is exact', async () => {
    const { engine, store, values } = setup({ batchWrite: false });
    const failing = { backup: false, transform: (row: Row) => plusHundredFailingAt(row, 12) };
    expect(await rejection(migrator(engine, failing).run())).toMatchObject({ code: ErrorCode.RunFailed });
    expect(backupRows(store)).toBeGreaterThanOrEqual(10);
    await migrator(engine, { backup: false }).rollback({ steps: 1 });
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

function plusHundredFailingAt(row: Row, id: number): Row {
  if (row.id === id) throw new Error(`fails at ${id}`);
  return { ...row, v: (row.v as number) + 100 };
}

describe('a partly applied run without backup', () => {
  it('is rolled back up to its last checkpoint, also when the rollback itself is interrupted and resumed', async () => {
    const { engine, store, values } = setup();
    const failing = { backup: false, transform: (row: Row) => plusHundredFailingAt(row, 12) };
    expect(await rejection(migrator(engine, failing).run())).toMatchObject({ code: ErrorCode.RunFailed });
    // Batches [0..4] and [5..9] written with their checkpoints; none of [10..14] (atomic), nothing after.
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => (i < 10 ? i + 100 : i)));
    expect(store.shard('s0').ledger.get(ID)!.checkpoint).toMatchObject({ after: [9], backup: false });
    // The rollback fails in its second batch: its checkpoint keeps the bound.
    const breaking = { backup: false, reverse: (row: Row) => reverseFailingAt(row, 7) };
    expect(await rejection(migrator(engine, breaking).rollback({ steps: 1 }))).toBeInstanceOf(Error);
    expect(store.shard('s0').ledger.get(ID)!.checkpoint).toMatchObject({ direction: 'down', after: [4], upTo: [9] });
    const rb = await migrator(engine, { backup: false }).rollback({ steps: 1 });
    expect(rb.totals.failed).toBe(0);
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('is not restarted from the first key by repair({ resetCheckpoints }): finished with its own code, or rolled back', async () => {
    const { engine, values } = setup();
    const failing = { backup: false, transform: (row: Row) => plusHundredFailingAt(row, 12) };
    await rejection(migrator(engine, failing).run());
    // Another batch size is another fingerprint: the checkpoint no longer matches.
    const other = { backup: false, batchSize: 7 };
    const err = await rejection(migrator(engine, other).run());
    const step = err.report.shards[0].migrations[0];
    expect(step.error.code).toBe(ErrorCode.CheckpointMismatch);
    expect(step.error.message).toContain('it kept no backup, so it cannot restart from the first key');
    const repaired = await migrator(engine, other).repair({ resetCheckpoints: true });
    expect(repaired).toEqual([]);
    await migrator(engine, other).rollback({ steps: 1 });
    expect(values()).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

function reverseFailingAt(row: Row, id: number): Row {
  if (row.id === id) throw new Error(`reverse fails at ${id}`);
  return { ...row, v: (row.v as number) - 100 };
}
