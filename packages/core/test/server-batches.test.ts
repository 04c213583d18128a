/**
 * Server-side data migrations (`sql` / `update`) in core: definition checks, and the range runner
 * on the memory engine (`$set`/`$unset`/`$inc`): checkpoints per range, a crash between ranges and
 * between a range and its checkpoint (each row changed exactly once), throttle and events, rollback
 * with `reverseUpdate` or from the backup, refusals before anything is written.
 */
import { describe, expect, it } from 'vitest';
import { defineDataMigration } from '../src/definition/migration.js';
import { validateMigration } from '../src/definition/validate-migration.js';
import { sqlBody, sqlProblem } from '../src/definition/server-statement.js';
import { createMigrator } from '../src/run/migrator.js';
import type { BatchEvent } from '../src/events/events.js';
import type { DataStore, EngineAdapter, ShardAdapter } from '../src/engine/index.js';
import { QUICK, delegate, memory, rejection, wrapEngine } from './helpers.js';

const SQL = 'UPDATE messages SET status = lower(status) WHERE id > $1 AND id <= $2';
const base = { id: '0001-server', engine: 'memory', table: 'items', batchSize: 4 } as const;
const inc = defineDataMigration({ ...base, update: { $inc: { n: 1 } } });
const config = { ...QUICK, retry: { retries: 0 }, throttle: { minBatchSize: 4, maxBatchSize: 4 } };

function seeded(rows = 10) {
  const { engine, store, ids } = memory(1);
  const items = store.shard(ids[0]!).collection('items', ['id']);
  items.upsert(Array.from({ length: rows }, (_, id) => ({ id, n: id * 10, s: `v${id}` })));
  return { engine, items, backup: () => store.shard(ids[0]!).collection('mcp_backup_0001_server', ['id']) };
}

describe('server-side migrations: definitions', () => {
  it('accepts one UPDATE with $1 and $2 (literals, quoted identifiers, comments and dollar quotes are not parameters)', () => {
    expect(sqlProblem(SQL)).toBeUndefined();
    expect(
      sqlProblem(`-- note; $3\nUPDATE "t;x" SET a = '$3;' || $q$ ; $4 $q$ /* ; $5 */ WHERE id > $1 AND id <= $2;  `),
    ).toBeUndefined();
    expect(sqlProblem(`update t set a = E'\\'; $3' where id > $1::bigint and id <= $2::bigint`)).toBeUndefined();
  });

  it('hands adapters the statement without its terminating ";" (comments and literals holding ";" stay)', () => {
    expect(sqlBody(`UPDATE t SET a = ';' WHERE id > $1 AND id <= $2 -- x;\n ; -- end`)).toBe(
      `UPDATE t SET a = ';' WHERE id > $1 AND id <= $2 -- x;\n `,
    );
    expect(sqlBody(SQL)).toBe(SQL);
    expect(sqlProblem(`${SQL};;\n-- done`)).toBeUndefined();
  });

  it.each([
    ['UPDATE t SET a = 1 WHERE id > $1', /does not use \$2/],
    ['UPDATE t SET a = $3 WHERE id > $1 AND id <= $2', /uses \$3/],
    ['UPDATE t SET a = 1 WHERE id > $1 AND id <= $2; DELETE FROM t', /more than one statement/],
    ['UPDATE t SET a = 1 WHERE id > $1 AND id <= $2; $3', /more than one statement/],
    ['DELETE FROM t WHERE id > $1 AND id <= $2', /ONE UPDATE/],
    ['UPDATE t SET a = 1 WHERE id > $1 AND id <= $2 RETURNING id', /RETURNING/],
    ['WITH x AS (DELETE FROM t RETURNING 1) UPDATE t SET a = 1 WHERE id > $1 AND id <= $2', /ONE UPDATE/],
  ])('refuses %s', (sql, why) => {
    expect(sqlProblem(sql)).toMatch(why);
  });

  it('refuses bad mixes and shapes with a DefinitionError naming the field', () => {
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ sql: SQL, update: { $set: { a: 1 } } }, 'update', /not both/],
      [{ sql: SQL, transform: (r: unknown) => r }, 'transform', /takes no "transform"/],
      [{ reverseSql: SQL, transform: (r: unknown) => r }, 'reverseSql', /needs "sql"/],
      [{ sql: SQL, filter: { a: 1 } }, 'filter', /WHERE/],
      [{ sql: SQL, key: ['a', 'b'] }, 'key', /ONE key column/],
      [{ sql: 'UPDATE t SET a = 1' }, 'sql', /does not use \$1 and \$2/],
      [{ update: { a: 1 } }, 'update', /not an update operator/],
      [{ update: [] }, 'update', /at least one stage/],
      [{ update: [{ $set: {} }, { a: 1 }] }, 'update', /stage 1/],
      [
        { update: { $set: { a: 1 } }, reverseUpdate: { $set: 1, b: 2 } },
        'reverseUpdate',
        /"b" is not an update operator/,
      ],
    ];
    for (const [extra, field, why] of bad) {
      let error: any;
      try {
        defineDataMigration({ ...base, ...extra } as never);
      } catch (e) {
        error = e;
      }
      expect(error?.field, JSON.stringify(Object.keys(extra))).toBe(field);
      expect(error.message).toMatch(why);
    }
  });

  it('the checksum covers the statement text and the update document (with its types); validateMigration re-checks a built one', () => {
    const a = defineDataMigration({ ...base, sql: SQL });
    const b = defineDataMigration({ ...base, sql: SQL.replace('lower', 'upper') });
    const c = defineDataMigration({ ...base, update: { $set: { n: 1 } } });
    const d = defineDataMigration({ ...base, update: { $set: { n: 1n } } });
    const e = defineDataMigration({ ...base, update: { $set: { n: 1 } }, reverseUpdate: { $unset: { n: 1 } } });
    expect(new Set([a, b, c, d, e].map((m) => m.checksum)).size).toBe(5);
    expect(a.sql).toBe(SQL);
    expect(() => validateMigration(a)).not.toThrow();
    expect(() => validateMigration({ ...a, sql: 'UPDATE t SET x = 1 WHERE id > $1' })).toThrow(/field "sql"/);
    expect(() => validateMigration({ ...c, transform: (r: unknown) => r })).toThrow(/field "transform"/);
  });
});

describe('server-side migrations: the range runner (memory engine)', () => {
  it('runs per range with a checkpoint and a batch event per range; rollback without reverse restores exactly', async () => {
    const { engine, items, backup } = seeded(10);
    const before = items.rows();
    const events: BatchEvent[] = [];
    const migrator = createMigrator({ engines: { memory: engine }, migrations: [inc], ...config });
    migrator.on('batch', (e) => events.push(e));
    const report = await migrator.run();
    expect(report.ok).toBe(true);
    expect(items.rows().map((r) => r.n)).toEqual(before.map((r) => (r.n as number) + 1));
    expect(events.map((e) => [e.processed, e.written, e.batchSize])).toEqual([
      [4, 4, 4],
      [8, 8, 4],
      [10, 10, 4],
    ]);
    expect(events[0]!.total).toBe(10);
    expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 10, written: 10, skipped: 0 });
    expect(backup().size, 'every changed row saved once').toBe(10);
    await migrator.rollback({ steps: 1 });
    expect(items.rows()).toEqual(before);
  });

  it('keeps in the backup only the rows the update changed; filter narrows the ranges', async () => {
    const { engine, items, backup } = seeded(10);
    items.upsert([{ id: 3, n: 30, s: 'x' }]);
    const m = defineDataMigration({ ...base, update: { $set: { s: 'x' } }, filter: { n: 30 } });
    const other = defineDataMigration({ ...base, id: '0002-all', update: { $set: { s: 'v5' } } });
    const migrator = createMigrator({ engines: { memory: engine }, migrations: [m, other], ...config });
    const report = await migrator.run();
    expect(report.shards[0]!.migrations[0]!.counts).toMatchObject({ read: 1, written: 0, skipped: 1 });
    expect(report.shards[0]!.migrations[1]!.counts).toMatchObject({ read: 10, written: 9, skipped: 1 });
    expect(backup().size).toBe(0);
  });

  it.each([
    ['between ranges (a beforeBatch hook throws)', 'hook'],
    ['between a range and its checkpoint (the ledger write fails)', 'checkpoint'],
  ])('a crash %s: the resumed run changes every row exactly once', async (_name, where) => {
    const { engine, items } = seeded(10);
    const before = items.rows();
    let batches = 0;
    let puts = 0;
    const crashing: EngineAdapter =
      where === 'hook'
        ? engine
        : withShards(engine, (s) => ({
            ledger: {
              ...s.ledger,
              init: () => s.ledger.init(),
              list: () => s.ledger.list(),
              delete: (mid, fence) => s.ledger.delete(mid, fence),
              put: async (record, fence) => {
                if (record.checkpoint && ++puts === 3) throw new Error('killed before the checkpoint');
                return s.ledger.put(record, fence);
              },
            },
          }));
    const first = createMigrator({
      engines: { memory: crashing },
      migrations: [inc],
      ...config,
      hooks:
        where === 'hook'
          ? {
              beforeBatch: () => {
                if (++batches === 2) throw new Error('killed');
              },
            }
          : {},
    });
    const failed = await rejection(first.run());
    expect(failed).toBeInstanceOf(Error);
    // The crash left one range (or the range after the checkpoint) done: resume finishes the rest once.
    const report = await createMigrator({ engines: { memory: engine }, migrations: [inc], ...config }).run();
    expect(report.ok).toBe(true);
    expect(items.rows().map((r) => r.n)).toEqual(before.map((r) => (r.n as number) + 1));
    await createMigrator({ engines: { memory: engine }, migrations: [inc], ...config }).rollback({ steps: 1 });
    expect(items.rows()).toEqual(before);
  });

  it('rollback of an applied migration uses reverseUpdate over the ranges; of a partial one, the backup', async () => {
    const m = defineDataMigration({ ...base, update: { $inc: { n: 1 } }, reverseUpdate: { $inc: { n: -1 } } });
    const { engine, items } = seeded(10);
    const before = items.rows();
    await createMigrator({ engines: { memory: engine }, migrations: [m], ...config }).run();
    items.upsert([{ id: 100, n: 5, s: 'late' }]); // inserted after: reverse runs on it too (the inverse law)
    await createMigrator({ engines: { memory: engine }, migrations: [m], ...config }).rollback({ steps: 1 });
    expect(items.rows()).toEqual([...before, { id: 100, n: 4, s: 'late' }]);

    const partial = seeded(10);
    const failed = await rejection(
      createMigrator({
        engines: { memory: partial.engine },
        migrations: [m],
        ...config,
        hooks: {
          beforeBatch: (c) => {
            if (c.after?.[0] === 7) throw new Error('stop');
          },
        },
      }).run(),
    );
    expect(failed).toBeInstanceOf(Error);
    await createMigrator({ engines: { memory: partial.engine }, migrations: [m], ...config }).rollback({ steps: 1 });
    expect(partial.items.rows()).toEqual(before);
  });

  it('refuses before anything is written: sql on memory, an operator memory does not run, an engine without serverUpdate', async () => {
    for (const [m, why] of [
      [defineDataMigration({ ...base, sql: 'UPDATE items SET n = n + 1 WHERE id > $1 AND id <= $2' }), /runs no SQL/],
      [defineDataMigration({ ...base, update: { $push: { tags: 'a' } } }), /not \$push/],
      [defineDataMigration({ ...base, update: [{ $set: { n: 1 } }] }), /no update pipelines/],
    ] as const) {
      const { engine, items } = seeded(3);
      const before = items.rows();
      const error = await rejection(createMigrator({ engines: { memory: engine }, migrations: [m], ...config }).run());
      expect(JSON.stringify(error.report ?? error.message)).toMatch(why);
      expect(items.rows()).toEqual(before);
    }
    const { engine, items } = seeded(3);
    const noCap = withShards(engine, (s) => ({ capabilities: { ...s.capabilities, serverUpdate: false } }));
    const error = await rejection(createMigrator({ engines: { memory: noCap }, migrations: [inc], ...config }).run());
    expect(JSON.stringify(error.report ?? error.message)).toMatch(/no serverUpdate capability/);
    expect(items.rows().map((r) => r.n)).toEqual([0, 10, 20]);
  });
});

/** `engine` with each shard adapter's members replaced by `change(shard)`'s (same shard otherwise). */
function withShards(engine: EngineAdapter, change: (s: ShardAdapter) => Partial<ShardAdapter>): EngineAdapter {
  const cache = new Map<string, ShardAdapter>();
  const wrapped = wrapEngine(engine, (d: DataStore) => delegate(d));
  return {
    ...wrapped,
    shard(id) {
      let s = cache.get(id);
      if (!s) {
        const inner = wrapped.shard(id);
        s = { ...inner, capabilities: inner.capabilities, ...change(inner) };
        cache.set(id, s);
      }
      return s;
    },
  };
}
