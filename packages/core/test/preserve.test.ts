/**
 * `preserve` on schema migrations, over the memory engine: what a migration destroys is copied
 * before `up` and written back, value for value, when it is rolled back; refusals are typed and
 * happen before anything runs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineMigration, type MigrationInput } from '../src/definition/migration.js';
import { preserveCopyName } from '../src/definition/preserve.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import type { MigratorConfig } from '../src/run/config.js';
import { ErrorCode, type RunFailedError } from '../src/errors/errors.js';
import { memoryEngine, type MemoryShard } from '../src/testing/index.js';
import type { RunReport } from '../src/run/report.js';
import { QUICK, memory, rejection } from './helpers.js';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

function migratorOf(engine: MigratorConfig['engines'][string], migrations: MigratorConfig['migrations']): Migrator {
  const m = createMigrator({ engines: { [engine.name]: engine }, migrations, ...QUICK });
  open.push(m);
  return m;
}

/** Rows with values a lossy copy would change: Dates, bigint, -0, nested objects, bytes, null, absent fields. */
function seed(shard: MemoryShard): void {
  shard.createCollection('channels', ['id']).upsert([
    {
      id: 1,
      name: 'general',
      legacy_cfg: { retries: 3, nested: { at: new Date('2026-01-01T00:00:00.123Z') } },
      legacy_n: -0,
    },
    { id: 2, name: 'random', legacy_cfg: null, legacy_n: 12345678901234567890n },
    { id: 3, name: 'no-legacy' },
    { id: 4, name: 'bytes', legacy_cfg: new Uint8Array([0, 255, 7]), legacy_n: Number.NaN },
  ]);
  shard.createCollection('tenant_feature_flags', ['tenant', 'flag']).upsert([
    { tenant: 't1', flag: 'beta', on: true, since: new Date(-1) },
    { tenant: 't2', flag: 'beta', on: false, since: null, extra: [1, [2, { three: 3 }]] },
  ]);
}

/** Drops `tenant_feature_flags` and the two legacy fields of `channels`; `down` recreates the shape only. */
function destructive(extra: Partial<MigrationInput<MemoryShard>> = {}) {
  return defineMigration<MemoryShard>({
    id: '0007-drop-legacy',
    engine: 'memory',
    preserve: ['tenant_feature_flags', { table: 'channels', columns: ['legacy_cfg', 'legacy_n'] }],
    up: (shard) => {
      shard.dropCollection('tenant_feature_flags');
      shard.collection('channels').update((row) => {
        const { legacy_cfg: _a, legacy_n: _b, ...rest } = row;
        return rest;
      });
    },
    down: (shard) => {
      shard.createCollection('tenant_feature_flags', ['tenant', 'flag']);
      // A down that adds the field back with a default, as `ADD COLUMN … DEFAULT` would.
      shard.collection('channels').update((row) => ({ ...row, legacy_cfg: 'default', legacy_n: 0 }));
    },
    ...extra,
  });
}

const contents = (shard: MemoryShard) => ({
  channels: shard.collection('channels').rows(),
  flags: shard.hasCollection('tenant_feature_flags')
    ? shard.collection('tenant_feature_flags', ['tenant', 'flag']).rows()
    : null,
});

describe('preserve: definition', () => {
  it('normalizes names, tables with columns and collections with fields', () => {
    const m = defineMigration({
      id: 'p1',
      engine: 'memory',
      up: () => undefined,
      preserve: ['a', 'other.b', { table: 'c', columns: ['x'] }, { collection: 'd', fields: ['y', 'z'] }],
    });
    expect(m.preserve).toEqual([
      { name: 'a' },
      { name: 'other.b' },
      { name: 'c', columns: ['x'] },
      { name: 'd', columns: ['y', 'z'] },
    ]);
    expect(defineMigration({ id: 'p2', engine: 'memory', up: () => undefined }).preserve).toEqual([]);
  });

  it.each([
    [['bad name'], 'preserve.0'],
    [[{ table: 'c', colums: ['x'] }], 'preserve.0'],
    [[{ table: 'c', columns: [] }], 'preserve.0.columns'],
    [[{ table: 'c', columns: ['x', 'x'] }], 'preserve.0.columns'],
    [[{ collection: 'c', fields: ['a.b'] }], 'preserve.0.fields.0'],
    [['c', { table: 'c', columns: ['x'] }], 'preserve.1'],
    [[], 'preserve'],
  ])('refuses %j naming field %s', (preserve, field) => {
    const error = (() => {
      try {
        defineMigration({ id: 'p3', engine: 'memory', up: () => undefined, preserve: preserve as never });
      } catch (e) {
        return e as { code: string; field: string; migrationId: string };
      }
      throw new Error('accepted');
    })();
    expect(error).toMatchObject({ code: ErrorCode.Definition, field, migrationId: 'p3' });
  });

  it('counts in the checksum only when given: changing what is preserved is drift', () => {
    const base = { id: 'p4', engine: 'memory', up: () => undefined } as const;
    const without = defineMigration(base).checksum;
    const one = defineMigration({ ...base, preserve: ['a'] }).checksum;
    expect(one).not.toBe(without);
    expect(defineMigration({ ...base, preserve: [{ table: 'a', columns: ['x'] }] }).checksum).not.toBe(one);
    expect(defineMigration({ ...base, preserve: ['a'] }).checksum).toBe(one);
  });

  it('names copies deterministically, per migration and target, even for ids that read alike', () => {
    const a = preserveCopyName('0501-c.1', { name: 'channels', columns: ['legacy'] });
    expect(a).toBe(preserveCopyName('0501-c.1', { name: 'channels', columns: ['legacy'] }));
    expect(a).not.toBe(preserveCopyName('0501-c_1', { name: 'channels', columns: ['legacy'] }));
    expect(a).not.toBe(preserveCopyName('0501-c.1', { name: 'channels' }));
    expect(a).toMatch(/^mcp_preserved_[A-Za-z0-9_]+$/);
    expect(preserveCopyName('x'.repeat(128), { name: 's.' + 'y'.repeat(60) }).length).toBeLessThanOrEqual(63);
  });
});

describe('preserve: rollback restores every value (memory engine)', () => {
  it('rolling back a migration that dropped a table and fields it preserved restores every value, absent fields staying absent', async () => {
    const { engine, store, ids } = memory(2);
    for (const id of ids) seed(store.shard(id));
    const before = ids.map((id) => contents(store.shard(id)));
    const migrator = migratorOf(engine, [destructive()]);
    await migrator.run();
    for (const id of ids) {
      expect(store.shard(id).hasCollection('tenant_feature_flags')).toBe(false);
      expect(
        store
          .shard(id)
          .collection('channels')
          .rows()
          .some((r) => 'legacy_cfg' in r),
      ).toBe(false);
    }
    const status = await migrator.status();
    for (const s of status.shards) {
      expect(s.preserved.map((c) => [c.migrationId, c.target, c.columns, c.rows, c.complete])).toEqual(
        expect.arrayContaining([
          ['0007-drop-legacy', 'tenant_feature_flags', null, 2, true],
          ['0007-drop-legacy', 'channels', ['legacy_cfg', 'legacy_n'], 4, true],
        ]),
      );
    }
    await migrator.rollback({ steps: 1 });
    expect(ids.map((id) => contents(store.shard(id)))).toEqual(before);
    // Object.is on the values toEqual treats loosely.
    const row1 = store.shard(ids[0]!).collection('channels').get([1])!;
    expect(Object.is(row1.legacy_n, -0)).toBe(true);
    expect(store.shard(ids[0]!).collection('channels').get([2])!.legacy_n).toBe(12345678901234567890n);
    expect('legacy_cfg' in store.shard(ids[0]!).collection('channels').get([3])!).toBe(false);
    // Copies stay until purged.
    expect((await migrator.status()).shards.every((s) => s.preserved.length === 2)).toBe(true);
  });

  it('a re-applied migration takes a fresh copy, so a second rollback restores the values of the second run', async () => {
    const { engine, store, ids } = memory(1);
    seed(store.shard(ids[0]!));
    const migrator = migratorOf(engine, [destructive()]);
    await migrator.run();
    await migrator.rollback({ steps: 1 });
    store
      .shard(ids[0]!)
      .collection('channels')
      .update((row) => (row.id === 1 ? { ...row, legacy_cfg: 'edited after rollback' } : undefined));
    const before = contents(store.shard(ids[0]!));
    await migrator.run();
    await migrator.rollback({ steps: 1 });
    expect(contents(store.shard(ids[0]!))).toEqual(before);
  });

  it("a retried up keeps the first attempt's copy: values its partial run destroyed still come back", async () => {
    const { engine, store, ids } = memory(1);
    seed(store.shard(ids[0]!));
    const before = contents(store.shard(ids[0]!));
    let attempts = 0;
    const m = destructive({
      up: (shard) => {
        attempts++;
        shard.collection('channels').update((row) => {
          const { legacy_cfg: _a, legacy_n: _b, ...rest } = row;
          return rest;
        });
        if (attempts === 1)
          throw Object.assign(new Error('connection reset after the fields were removed'), { retryable: true });
        shard.dropCollection('tenant_feature_flags');
      },
    });
    const migrator = migratorOf(engine, [m]);
    await migrator.run();
    expect(attempts).toBe(2);
    await migrator.rollback({ steps: 1 });
    expect(contents(store.shard(ids[0]!))).toEqual(before);
  });
});

describe('preserve: refusals', () => {
  it('an engine without preserved copies is refused when the migrator is created, before anything runs', async () => {
    const engine = memoryEngine({ name: 'memory', shards: ['m-0'], preserve: false });
    let ran = false;
    const m = destructive({ up: () => void (ran = true) });
    const error = await rejection(() => createMigrator({ engines: { memory: engine }, migrations: [m] }));
    expect(error).toMatchObject({
      code: ErrorCode.PreserveUnsupported,
      migrationId: '0007-drop-legacy',
      shardId: 'm-0',
      field: 'preserve',
    });
    expect(ran).toBe(false);
    expect(engine.store.shard('m-0').ledger.size).toBe(0);
  });

  it('a preserve target that does not exist at up time fails the step, naming migration, shard and target; up never runs', async () => {
    const { engine, store, ids } = memory(1);
    seed(store.shard(ids[0]!));
    let ran = false;
    const typo = destructive({ preserve: ['tenant_feature_flag'], up: () => void (ran = true) });
    const error = (await rejection(migratorOf(engine, [typo]).run())) as RunFailedError<RunReport>;
    expect(error.code).toBe(ErrorCode.RunFailed);
    const step = error.report.shards[0]!.migrations[0]!;
    expect(step.error).toMatchObject({ code: ErrorCode.PreserveTarget });
    expect(step.error!.message).toContain('"0007-drop-legacy"');
    expect(step.error!.message).toContain(`"${ids[0]}"`);
    expect(step.error!.message).toContain('"tenant_feature_flag"');
    expect(ran).toBe(false);
  });

  it('a column no row has is a typo, refused the same way', async () => {
    const { engine, store, ids } = memory(1);
    seed(store.shard(ids[0]!));
    const typo = destructive({ preserve: [{ table: 'channels', columns: ['legacy_cgf'] }] });
    const error = (await rejection(migratorOf(engine, [typo]).run())) as RunFailedError<RunReport>;
    expect(error.report.shards[0]!.migrations[0]!.error).toMatchObject({ code: ErrorCode.PreserveTarget });
    expect(error.report.shards[0]!.migrations[0]!.error!.message).toContain('legacy_cgf');
  });

  it('purgePreserved drops the copies (only of the migrations asked); a rollback is then refused before any down runs', async () => {
    const { engine, store, ids } = memory(2);
    for (const id of ids) seed(store.shard(id));
    let downs = 0;
    const keep = defineMigration<MemoryShard>({
      id: '0001-keep',
      engine: 'memory',
      preserve: [{ collection: 'channels', fields: ['name'] }],
      up: () => undefined,
      down: () => undefined,
    });
    const m = destructive({ dependsOn: ['0001-keep'], down: () => void downs++ });
    const migrator = migratorOf(engine, [keep, m]);
    await migrator.run();
    const purged = await migrator.purgePreserved({ migrationIds: ['0007-drop-legacy'] });
    expect(purged.map((p) => `${p.shardId}:${p.target}`).sort()).toEqual(
      ids.flatMap((id) => [`${id}:channels`, `${id}:tenant_feature_flags`]).sort(),
    );
    for (const s of (await migrator.status()).shards)
      expect(s.preserved.map((c) => c.migrationId)).toEqual(['0001-keep']);
    for (const id of ids)
      expect(
        store
          .shard(id)
          .collectionNames()
          .filter((n) => n.startsWith('mcp_preserved_')),
      ).toHaveLength(1);
    const error = await rejection(migrator.rollback({ steps: 1 }));
    expect(error).toMatchObject({
      code: ErrorCode.PreserveMissing,
      migrationId: '0007-drop-legacy',
      field: 'tenant_feature_flags',
    });
    expect(error.message).toContain(ids[0]);
    expect(downs).toBe(0);
    for (const id of ids) expect(store.shard(id).ledger.get('0007-drop-legacy')!.state).toBe('applied');
    expect(await migrator.purgePreserved()).toHaveLength(2);
  });
});
