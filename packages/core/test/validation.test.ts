/**
 * Issue 8, defects 5–7: every bad input is refused with a typed error naming the migration and the
 * field, before anything is applied on any shard, and nothing is written. Each test here passed
 * silently (applied, or lost data) on the code before the refusals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  defineDataMigration,
  defineMigration,
  type DataMigration,
  type Migration,
} from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import { plan } from '../src/plan/planner.js';
import { backupName } from '../src/data/backup.js';
import { ErrorCode, isMigrateError } from '../src/errors/errors.js';
import { hashRouter, rangeRouter } from '../src/router/router.js';
import type { MemoryStore } from '../src/testing/index.js';
import { QUICK, memory, rejection } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

function migratorOf(
  engine: ReturnType<typeof memory>['engine'],
  migrations: readonly Migration[],
  extra: Record<string, unknown> = {},
): Migrator {
  const m = createMigrator({ engines: { memory: engine }, migrations, ...QUICK, ...extra });
  open.push(m);
  return m;
}

/** 12 rows keyed by `id`, 3 statuses: `status` is not unique. */
function seedItems(store: MemoryStore, shardId: string): void {
  store
    .shard(shardId)
    .collection('items', ['id'])
    .upsert(Array.from({ length: 12 }, (_, i) => ({ id: i + 1, status: ['new', 'open', 'done'][i % 3], n: i })));
}

const rowsOf = (store: MemoryStore, shardId: string, name = 'items') => store.shard(shardId).collection(name).rows();
const ledgerOf = (store: MemoryStore, shardId: string) => [...store.shard(shardId).ledger.values()];

function expectRefusal(
  error: unknown,
  code: string,
  fields: { migrationId?: string; shardId?: string; field?: string },
): void {
  expect(isMigrateError(error), String(error)).toBe(true);
  expect(error).toMatchObject({ code, ...fields });
}

describe('defect 5: two migrations sharing a backup name are refused when the set is built', () => {
  const data = (id: string) =>
    defineDataMigration({ id, engine: 'memory', table: 'items', transform: (r) => ({ ...r, n: 1 }) });

  it('refuses 0501-c.1 and 0501-c_1 in createMigrator and in plan(), naming both', () => {
    const { engine, ids } = memory(1);
    const set = [data('0501-c.1'), data('0501-c_1')];
    expect(backupName('0501-c.1')).toBe(backupName('0501-c_1'));
    const error = (() => {
      try {
        migratorOf(engine, set);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expectRefusal(error, ErrorCode.BackupNameCollision, { migrationId: '0501-c_1', field: 'id' });
    expect((error as Error).message).toContain('"0501-c.1"');
    expect((error as Error).message).toContain('mcp_backup_0501_c_1');
    expect(() => plan({ migrations: set, shards: [{ id: ids[0]!, engine: 'memory' }], ledgers: new Map() })).toThrow(
      /backup name/,
    );
  });

  it('refuses ids that differ only after the 63-character cut', () => {
    const { engine } = memory(1);
    const stem = `0600-${'x'.repeat(60)}`;
    expect(backupName(`${stem}-a`)).toBe(backupName(`${stem}-b`));
    expect(() => migratorOf(engine, [data(`${stem}-a`), data(`${stem}-b`)])).toThrow(
      expect.objectContaining({ code: ErrorCode.BackupNameCollision }),
    );
  });

  it('refuses a directory of migrations with a collision before anything is applied (load path)', async () => {
    const { engine, store, ids } = memory(1);
    seedItems(store, ids[0]!);
    // A schema migration has no backup: sharing the name with a data migration is fine.
    migratorOf(engine, [data('0501-c.1'), defineMigration({ id: '0501-c_1', engine: 'memory', up() {} })]);
    const before = rowsOf(store, ids[0]!);
    expect(() => migratorOf(engine, [data('0501-c.1'), data('0501-c_1')])).toThrow();
    expect(rowsOf(store, ids[0]!)).toEqual(before);
    expect(ledgerOf(store, ids[0]!)).toEqual([]);
  });

  it('keeps the backup names of existing ids unchanged, so backups made before stay found', () => {
    expect(backupName('0007-message-content-structured')).toBe('mcp_backup_0007_message_content_structured');
    expect(backupName('bump_attempt')).toBe('mcp_backup_bump_attempt');
  });
});

describe('defect 6: a key that does not identify one row is refused before the first batch', () => {
  it('refuses key "status" on every shard before anything is applied: no ledger record, rows and backups untouched', async () => {
    const { engine, store, ids } = memory(2);
    for (const id of ids) seedItems(store, id);
    const before = ids.map((id) => rowsOf(store, id));
    const m = defineDataMigration({
      id: '0601-by-status',
      engine: 'memory',
      table: 'items',
      key: 'status',
      batchSize: 2,
      transform: (r) => ({ ...r, n: (r.n as number) + 100 }),
    });
    const migrator = migratorOf(engine, [m]);
    const error = await rejection(migrator.run());
    expectRefusal(error, ErrorCode.KeyNotUnique, { migrationId: '0601-by-status', shardId: ids[0], field: 'key' });
    expect(error.message).toContain('items');
    expect(error.message).toContain('status');
    expect(ids.map((id) => rowsOf(store, id))).toEqual(before);
    for (const id of ids) {
      expect(ledgerOf(store, id)).toEqual([]);
      expect(store.shard(id).hasCollection(backupName(m.id))).toBe(false);
    }
    // plan() (the dry run) refuses it the same way.
    expectRefusal(await rejection(migrator.plan()), ErrorCode.KeyNotUnique, { migrationId: m.id, field: 'key' });
  });

  it('accepts the key a memory collection stores its rows by (unique by construction), given explicitly', async () => {
    const { engine, store, ids } = memory(1);
    seedItems(store, ids[0]!);
    const byId = defineDataMigration({
      id: '0602-by-id',
      engine: 'memory',
      table: 'items',
      key: ['id'],
      transform: (r) => ({ ...r, n: -1 }),
    });
    const report = await migratorOf(engine, [byId]).run();
    expect(report.ok).toBe(true);
    expect(rowsOf(store, ids[0]!).map((r) => r.n)).toEqual(Array(12).fill(-1));
  });

  it('a schema step planned before it on the shard defers the check to the step: it fails there, nothing of it written', async () => {
    const { engine, store, ids } = memory(1);
    seedItems(store, ids[0]!);
    const before = rowsOf(store, ids[0]!);
    const schema = defineMigration({ id: '0603-a', engine: 'memory', up() {} });
    const m = defineDataMigration({
      id: '0603-b',
      engine: 'memory',
      table: 'items',
      key: 'status',
      dependsOn: ['0603-a'],
      transform: (r) => ({ ...r, n: 0 }),
    });
    const error = await rejection(migratorOf(engine, [schema, m]).run());
    const step = error.report.shards[0].migrations.find((s: { migrationId: string }) => s.migrationId === '0603-b');
    expect(step).toMatchObject({ status: 'failed', error: { code: ErrorCode.KeyNotUnique } });
    expect(rowsOf(store, ids[0]!)).toEqual(before);
    expect(store.shard(ids[0]!).ledger.get('0603-b')).toMatchObject({
      state: 'failed',
      error: { code: ErrorCode.KeyNotUnique },
    });
  });
});

describe('defect 7: a data migration on a table/collection that does not exist', () => {
  it('is refused before anything is applied on any shard, and does not use up the id', async () => {
    const { engine, store, ids } = memory(2);
    seedItems(store, ids[0]!); // the table exists on one shard only
    const before = rowsOf(store, ids[0]!);
    const m = defineDataMigration({
      id: '0701-missing',
      engine: 'memory',
      table: 'items',
      transform: (r) => ({ ...r, n: 0 }),
    });
    const error = await rejection(migratorOf(engine, [m]).run());
    expectRefusal(error, ErrorCode.TargetMissing, { migrationId: '0701-missing', shardId: ids[1], field: 'table' });
    expect(rowsOf(store, ids[0]!)).toEqual(before);
    for (const id of ids) expect(ledgerOf(store, id)).toEqual([]);
  });

  it("with ifMissing: 'skip', is recorded applied with a note, reported skipped with the reason, and its rollback changes nothing", async () => {
    const { engine, store, ids } = memory(2);
    seedItems(store, ids[0]!);
    const m = defineDataMigration({
      id: '0702-skip',
      engine: 'memory',
      table: 'items',
      ifMissing: 'skip',
      transform: (r) => ({ ...r, n: (r.n as number) + 1 }),
      reverse: (r) => ({ ...r, n: (r.n as number) - 1 }),
    });
    const migrator = migratorOf(engine, [m]);
    const report = await migrator.run();
    const byShard = Object.fromEntries(report.shards.map((s) => [s.shardId, s.migrations[0]]));
    expect(byShard[ids[0]!]).toMatchObject({ status: 'applied' });
    expect(byShard[ids[1]!]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('does not exist') });
    expect(store.shard(ids[1]!).ledger.get(m.id)).toMatchObject({
      state: 'applied',
      error: { code: ErrorCode.TargetMissing },
    });
    expect((await migrator.verify()).ok).toBe(true);
    // The table appears later (created in its new shape): rolling back must not run `reverse` over it.
    store
      .shard(ids[1]!)
      .collection('items', ['id'])
      .upsert([{ id: 1, n: 10 }]);
    await migrator.rollback({ steps: 1 });
    expect(rowsOf(store, ids[1]!)).toEqual([{ id: 1, n: 10 }]);
    expect(store.shard(ids[1]!).ledger.get(m.id)).toMatchObject({ state: 'rolled_back' });
    expect(rowsOf(store, ids[0]!).map((r) => r.n)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});

describe('defect 7: options outside their schema are refused before anything runs', () => {
  const setup = () => {
    const { engine, store, ids } = memory(1);
    seedItems(store, ids[0]!);
    const m = defineDataMigration({
      id: '0710-bump',
      engine: 'memory',
      table: 'items',
      transform: (r) => ({ ...r, n: (r.n as number) + 1 }),
    });
    return { engine, store, ids, m };
  };

  it("run({ mode: 'bogus' }) applies nothing", async () => {
    const { engine, store, ids, m } = setup();
    const before = rowsOf(store, ids[0]!);
    const migrator = migratorOf(engine, [m]);
    expectRefusal(await rejection(migrator.run({ mode: 'bogus' } as never)), ErrorCode.Config, { field: 'mode' });
    expectRefusal(await rejection(migrator.run({ timeoutMs: -5 })), ErrorCode.Config, { field: 'timeoutMs' });
    expectRefusal(await rejection(migrator.run({ dryRun: true } as never)), ErrorCode.Config, { field: 'dryRun' });
    expectRefusal(await rejection(migrator.run('verify' as never)), ErrorCode.Config, { field: '(root)' });
    expect(rowsOf(store, ids[0]!)).toEqual(before);
    expect(ledgerOf(store, ids[0]!)).toEqual([]);
  });

  it('rollback({ steps, to }) with both is refused and rolls nothing back', async () => {
    const { engine, store, ids, m } = setup();
    const migrator = migratorOf(engine, [m]);
    await migrator.run();
    const after = rowsOf(store, ids[0]!);
    expectRefusal(await rejection(migrator.rollback({ steps: 1, to: '0710-bump' })), ErrorCode.Config, {
      field: 'steps',
    });
    expectRefusal(await rejection(migrator.rollback({ step: 1 } as never)), ErrorCode.Config, { field: 'step' });
    expectRefusal(await rejection(migrator.rollback({ steps: 0 })), ErrorCode.Config, { field: 'steps' });
    expect(rowsOf(store, ids[0]!)).toEqual(after);
    expect(store.shard(ids[0]!).ledger.get(m.id)).toMatchObject({ state: 'applied' });
  });

  it('verify, status and plan refuse unknown or mistyped options', async () => {
    const { engine, m } = setup();
    const migrator = migratorOf(engine, [m]);
    expectRefusal(await rejection(migrator.verify({ data: 'yes' } as never)), ErrorCode.Config, { field: 'data' });
    expectRefusal(await rejection(migrator.status({ verbose: true } as never)), ErrorCode.Config, { field: 'verbose' });
    expectRefusal(await rejection(migrator.plan({ signal: 'now' } as never)), ErrorCode.Config, { field: 'signal' });
    // The valid forms still work.
    expect((await migrator.verify({ data: true, signal: new AbortController().signal })).pending).toHaveLength(1);
  });

  it('repair, purgeBackups and purgePreserved refuse a misspelled option, changing nothing', async () => {
    const { engine, store, ids, m } = setup();
    const migrator = migratorOf(engine, [m]);
    await migrator.run();
    const ledger = ledgerOf(store, ids[0]!);
    const backups = (await migrator.status()).shards[0]!.backups;
    expect(backups).toHaveLength(1);
    // A typo must not turn into a plain repair, or purge every backup.
    expectRefusal(await rejection(migrator.repair({ forgetMising: true } as never)), ErrorCode.Config, {
      field: 'forgetMising',
    });
    expectRefusal(await rejection(migrator.purgeBackups({ migrationId: 'x' } as never)), ErrorCode.Config, {
      field: 'migrationId',
    });
    expectRefusal(await rejection(migrator.purgeBackups({ olderThanMs: -1 })), ErrorCode.Config, {
      field: 'olderThanMs',
    });
    expectRefusal(await rejection(migrator.purgePreserved({ migrationIds: 'x' } as never)), ErrorCode.Config, {
      field: 'migrationIds',
    });
    expect(ledgerOf(store, ids[0]!)).toEqual(ledger);
    expect((await migrator.status()).shards[0]!.backups).toEqual(backups);
    // The valid forms still work.
    expect(await migrator.repair({ forgetMissing: true, resetCheckpoints: false })).toEqual([]);
    expect(await migrator.purgeBackups({ migrationIds: [m.id] })).toHaveLength(1);
  });

  it("hashRouter({ key: '' }) and malformed router options are refused", () => {
    expect(() => hashRouter({ key: '' })).toThrow(expect.objectContaining({ code: ErrorCode.Config, field: 'key' }));
    expect(() => hashRouter({ key: 'tenant id' })).toThrow(expect.objectContaining({ field: 'key' }));
    expect(() => hashRouter({ kee: 'tenant_id' } as never)).toThrow(expect.objectContaining({ field: 'kee' }));
    expect(() => rangeRouter({ key: '', ranges: { memory: [{ shard: 'a' }] } })).toThrow(
      expect.objectContaining({ field: 'key' }),
    );
    expect(() => rangeRouter({ ranges: { memory: [{ shard: '' }] } })).toThrow(
      expect.objectContaining({ field: 'ranges.memory' }),
    );
    expect(hashRouter().key).toBe('tenant_id');
    expect(hashRouter({ key: 'org_id' }).key).toBe('org_id');
  });

  it('a hand-built { ...defined, batchSize: 0 } passed to createMigrator is refused, naming the migration and field', () => {
    const { engine, store, ids, m } = setup();
    const before = rowsOf(store, ids[0]!);
    const bad = (patch: Record<string, unknown>) => ({ ...m, ...patch }) as unknown as DataMigration;
    const refused = (migration: Migration, field: string) =>
      expect(() => migratorOf(engine, [migration])).toThrow(
        expect.objectContaining({ code: ErrorCode.Definition, migrationId: '0710-bump', field }),
      );
    refused(bad({ batchSize: 0 }), 'batchSize');
    refused(bad({ batchSize: 1.5 }), 'batchSize');
    refused(bad({ batchSize: undefined }), 'batchSize');
    refused(bad({ maxRowsPerSecond: -1 }), 'maxRowsPerSecond');
    refused(bad({ target: { name: 'items; DROP TABLE x', key: ['id'] } }), 'target.name');
    refused(bad({ target: { name: 'items', key: [] } }), 'target.key');
    refused(bad({ target: { name: 'items', key: ['id', 'id'] } }), 'target.key');
    refused(bad({ transform: 'x => x' }), 'transform');
    refused(bad({ scope: { kind: 'shards', shards: [] } }), 'scope.shards');
    refused(bad({ dependsOn: ['0710-bump'] }), 'dependsOn');
    refused(bad({ ifMissing: 'ignore' }), 'ifMissing');
    refused(bad({ batchsize: 10 }), 'batchsize');
    const schema = defineMigration({ id: '0710-bump', engine: 'memory', up() {} });
    refused({ ...schema, transaction: 'yes' } as never, 'transaction');
    refused({ ...schema, down: 42 } as never, 'down');
    expect(rowsOf(store, ids[0]!)).toEqual(before);
  });

  it('every valid definition passes the second check in createMigrator', () => {
    const { engine } = memory(1);
    const all = [
      defineMigration({
        id: 'a1',
        engine: 'memory',
        description: 'd',
        dependsOn: [],
        scope: { shards: [engine.shards[0]!.id] },
        transaction: false,
        up() {},
        down() {},
      }),
      defineMigration({ id: 'a2', engine: 'memory', scope: { tenants: ['t1'] }, up() {} }),
      defineDataMigration({
        id: 'a3',
        engine: 'memory',
        table: 'items',
        key: ['a', 'b'],
        filter: { kind: 'x' },
        batchSize: 7,
        maxRowsPerSecond: 10,
        ifMissing: 'skip',
        transform: (r) => r,
        reverse: (r) => r,
        verify: () => true,
        dependsOn: ['a1'],
      }),
      defineDataMigration({ id: 'a4', engine: 'memory', collection: 'docs', transform: (r) => r }),
    ];
    expect(() => migratorOf(engine, all, { router: hashRouter() })).not.toThrow();
  });
});
