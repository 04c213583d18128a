/**
 * Errors that say what happened (issue 8, defect 10), on the memory engine: one test per item.
 * The PostgreSQL / MongoDB-wire versions are in test/scenarios/errors-real.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { defineDataMigration, defineMigration } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MigratorConfig } from '../src/run/config.js';
import { ErrorCode, MigrationFailedError, RunFailedError, serializeError } from '../src/errors/errors.js';
import { describeRow, isConnectionLoss, stepFailure } from '../src/errors/classify.js';
import type { RunReport } from '../src/run/report.js';
import { errorClass, type EngineAdapter } from '../src/engine/index.js';
import { QUICK, memory, rejection, statuses } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

function migratorOf(
  engine: MigratorConfig['engines'][string],
  migrations: MigratorConfig['migrations'],
  extra: Partial<MigratorConfig> = {},
): Migrator {
  const m = createMigrator({ engines: { [engine.name]: engine }, migrations, ...QUICK, ...extra });
  open.push(m);
  return m;
}

/** A member of `target`, methods bound to it (for proxies over adapters with private fields). */
const bound = (target: object, prop: string | symbol): unknown => {
  const v = Reflect.get(target, prop, target) as unknown;
  return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
};
const noop = (id: string) => defineMigration({ id, engine: 'memory', up: () => undefined, down: () => undefined });
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55432'), { code: 'ECONNREFUSED', errno: -111 });

describe('error taxonomy', () => {
  it('a shard that dies mid-step is MIGRATE_SHARD_UNAVAILABLE (retryable, naming the shard), not MIGRATE_MIGRATION_FAILED', async () => {
    const { engine, ids } = memory(2);
    const dies = defineMigration({
      id: '0001-dies',
      engine: 'memory',
      down: () => undefined,
      up: (_h, ctx) => {
        if (ctx.shard.id === ids[1]) throw refused();
      },
    });
    const err = await rejection(migratorOf(engine, [dies], { onFailure: 'continue' }).run());
    const step = (err as RunFailedError<RunReport>).report.shards[1]!.migrations[0]!;
    expect(step.status).toBe('failed');
    expect(step.error).toMatchObject({ code: ErrorCode.ShardUnavailable, causeCode: 'ECONNREFUSED' });
    expect(step.error!.message).toContain(`Shard "${ids[1]}" became unreachable while applying "0001-dies"`);
    expect(statuses((err as RunFailedError<RunReport>).report)[`${ids[0]}/0001-dies`]).toBe('applied');
  });

  it('a driver error wrapped by an executor (MigrationFailedError with an ECONNRESET cause) is shard-unavailable too', () => {
    const wrapped = new MigrationFailedError('Migration "m" (up) failed on shard "s": read ECONNRESET', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    expect(stepFailure(wrapped, { migrationId: 'm', shardId: 's', direction: 'up' }).code).toBe(
      ErrorCode.ShardUnavailable,
    );
    // An engine's own codes are its adapter's to classify (postgres-errors.ts, mongo-errors.ts; their
    // tests check the real tables): here, stand-ins that answer as those adapters do.
    const pg = (e: unknown) => errorClass((e as { code?: string }).code === '57P01' ? 'connection-lost' : 'unknown');
    const mongo = (e: unknown) =>
      errorClass((e as { name?: string }).name === 'MongoServerSelectionError' ? 'connection-lost' : 'unknown');
    expect(isConnectionLoss(Object.assign(new Error('x'), { code: '57P01' }), pg)).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('x'), { name: 'MongoServerSelectionError' }), mongo)).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('duplicate key'), { code: '23505' }), pg)).toBe(false);
    // Core itself knows no engine's codes: without the adapter's classifier they are not a lost connection.
    expect(isConnectionLoss(Object.assign(new Error('x'), { code: '57P01' }))).toBe(false);
    expect(
      stepFailure(Object.assign(new Error('x'), { code: '57P01' }), {
        migrationId: 'm',
        shardId: 's',
        direction: 'up',
        classifyError: pg,
      }).code,
    ).toBe(ErrorCode.ShardUnavailable);
  });

  it('an unreachable shard fails the run with a message that leads with the shard and its cause', async () => {
    const { engine, store, ids } = memory(3);
    store.shard(ids[2]!).available = false;
    const err = await rejection(migratorOf(engine, [noop('0001-a')]).run());
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.message).toMatch(
      new RegExp(
        `^Migration run failed: shard "${ids[2]}" is unavailable \\(MIGRATE_SHARD_UNAVAILABLE\\): .*unreachable`,
      ),
    );
    expect(err.message).toMatch(/\(0 applied, 0 skipped, 0 failed, 3 not run\)$/);
  });

  it('an unreachable control shard (the run lock) also names the shard and the cause', async () => {
    const { engine, store, ids } = memory(2);
    store.shard(ids[0]!).available = false;
    const err = await rejection(migratorOf(engine, [noop('0001-a')]).run());
    expect(err.message).toContain(`shard "${ids[0]}" is unavailable`);
    expect(err.message).not.toMatch(/\(0 failed, 0 not run\)/);
  });

  it('MIGRATE_UNEXPECTED (what a non-MigrateError serializes to) is in ErrorCode and in docs/reference/errors.md, with every other code', () => {
    expect(serializeError(new TypeError('boom')).code).toBe(ErrorCode.Unexpected);
    expect(Object.values(ErrorCode)).toContain('MIGRATE_UNEXPECTED');
    const doc = readFileSync(new URL('../../../docs/reference/errors.md', import.meta.url), 'utf8');
    for (const code of Object.values(ErrorCode)) expect(doc, code).toContain(`\`${code}\``);
  });

  it('a failing down is MIGRATE_ROLLBACK whether the engine wrapped it as MIGRATE_MIGRATION_FAILED or not', async () => {
    const wrapped = new MigrationFailedError(
      'Migration "m" (down) failed on shard "s": 42P01 relation "x" does not exist',
      { cause: Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }) },
    );
    expect(stepFailure(wrapped, { migrationId: 'm', shardId: 's', direction: 'down' }).code).toBe(ErrorCode.Rollback);
    expect(stepFailure(new Error('plain'), { migrationId: 'm', shardId: 's', direction: 'down' }).code).toBe(
      ErrorCode.Rollback,
    );
    const { engine } = memory(1);
    const bad = defineMigration({
      id: '0001-bad-down',
      engine: 'memory',
      up: () => undefined,
      down: () => {
        throw wrapped;
      },
    });
    const migrator = migratorOf(engine, [bad]);
    await migrator.run();
    const err = await rejection(migrator.rollback({ steps: 1 }));
    expect((err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!.error).toMatchObject({
      code: ErrorCode.Rollback,
      causeCode: '42P01',
    });
  });

  it('rollback() with an unreachable shard throws a RunFailedError carrying the report; under halt nothing is rolled back', async () => {
    const { engine, store, ids } = memory(3);
    const m = migratorOf(engine, [noop('0001-a')]);
    await m.run();
    store.shard(ids[1]!).available = false;
    const err = await rejection(m.rollback({ steps: 1 }));
    expect(err).toBeInstanceOf(RunFailedError);
    const report = (err as RunFailedError<RunReport>).report;
    expect(report.kind).toBe('rollback');
    expect(report.shards[1]!.error).toMatchObject({ code: ErrorCode.ShardUnavailable });
    expect(err.message).toContain(`shard "${ids[1]}" is unavailable`);
    for (const id of [ids[0]!, ids[2]!]) expect(store.shard(id).ledger.get('0001-a')!.state).toBe('applied');
  });

  it("rollback() with an unreachable shard under onFailure: 'continue' rolls back the reachable shards and reports the other", async () => {
    const { engine, store, ids } = memory(3);
    const m = migratorOf(engine, [noop('0001-a')], { onFailure: 'continue' });
    await m.run();
    store.shard(ids[1]!).available = false;
    const err = await rejection(m.rollback({ steps: 1 }));
    const report = (err as RunFailedError<RunReport>).report;
    expect(statuses(report)).toEqual({ [`${ids[0]}/0001-a`]: 'applied', [`${ids[2]}/0001-a`]: 'applied' });
    expect(report.shards[1]!.error).toMatchObject({ code: ErrorCode.ShardUnavailable });
    for (const id of [ids[0]!, ids[2]!]) expect(store.shard(id).ledger.get('0001-a')!.state).toBe('rolled_back');
    store.shard(ids[1]!).available = true;
    expect(store.shard(ids[1]!).ledger.get('0001-a')!.state).toBe('applied');
  });

  it('rows are named one way: row [<key values as JSON>] (a transform error, a key change)', async () => {
    const { engine, store, ids } = memory(1);
    store
      .shard(ids[0]!)
      .collection('items', ['id'])
      .upsert([
        { id: 1, n: 1 },
        { id: 3, n: 3 },
      ]);
    const throws = defineDataMigration({
      id: '0001-throws',
      engine: 'memory',
      table: 'items',
      transform: (row) => {
        if (row.id === 3) throw new Error('no');
        return row;
      },
    });
    const err = await rejection(migratorOf(engine, [throws]).run());
    const message = (err as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!.error!.message;
    expect(message).toContain('transform threw for row [3]: no');
    const other = memory(1);
    other.store
      .shard(other.ids[0]!)
      .collection('items', ['id'])
      .upsert([{ id: 1, n: 1 }]);
    const rekey = defineDataMigration({
      id: '0002-rekey',
      engine: 'memory',
      table: 'items',
      transform: (row) => ({ ...row, id: (row.id as number) + 100 }),
    });
    const err2 = await rejection(migratorOf(other.engine, [rekey]).run());
    expect((err2 as RunFailedError<RunReport>).report.shards[0]!.migrations[0]!.error!.message).toContain(
      'of row [1];',
    );
    expect(describeRow(['3', 7n])).toBe('row ["3","7"]');
  });

  it("a passing run({ mode: 'verify' }) reports what is applied (not all totals 0)", async () => {
    const { engine } = memory(2);
    await migratorOf(engine, [noop('0001-a'), noop('0002-b')]).run();
    const report = await migratorOf(engine, [noop('0001-a'), noop('0002-b')]).run({ mode: 'verify' });
    expect(report.ok).toBe(true);
    expect(report.totals).toEqual({ applied: 0, skipped: 4, failed: 0, notRun: 0 });
  });

  it("run({ mode: 'wait' }) that waited reports waitedForLock: true and counts what another runner applied meanwhile", async () => {
    const { engine } = memory(2);
    const migrations = [noop('0001-a'), noop('0002-b')];
    // The waiter's engine says when the waiter has read a ledger (and so seen the migrations pending).
    let read!: () => void;
    const hasRead = new Promise<void>((r) => (read = r));
    const watched: EngineAdapter = Object.assign(Object.create(engine) as EngineAdapter, {
      shard(id: string) {
        const real = engine.shard(id);
        const ledger = new Proxy(real.ledger, {
          get: (t, p) =>
            p === 'list'
              ? async () => {
                  const records = await t.list();
                  read();
                  return records;
                }
              : bound(t, p),
        });
        return new Proxy(real, { get: (t, p) => (p === 'ledger' ? ledger : bound(t, p)) });
      },
    });
    const waiting = migratorOf(watched, migrations).run({ mode: 'wait', timeoutMs: 30_000 });
    await hasRead;
    await migratorOf(engine, migrations).run();
    const report = await waiting;
    expect(report.waitedForLock).toBe(true);
    expect(report.totals).toEqual({ applied: 0, skipped: 4, failed: 0, notRun: 0 });
    expect(report.shards[0]!.migrations.map((m) => m.reason)).toEqual([
      'applied by another runner while this one waited',
      'applied by another runner while this one waited',
    ]);
  });
});
