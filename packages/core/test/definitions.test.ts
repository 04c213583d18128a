import { describe, expect, it } from 'vitest';
import { defineDataMigration, defineMigration, isMigration, DEFAULT_BATCH_SIZE } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import { DefinitionError, ErrorCode } from '../src/errors/errors.js';
import { memoryEngine } from '../src/testing/index.js';
import { memory } from './helpers.js';

describe('defineMigration / defineDataMigration: valid input', () => {
  it('fills defaults and freezes the definition', () => {
    const m = defineMigration({ id: '0001-a', engine: 'postgres', up: async () => {} });
    expect(m).toMatchObject({
      kind: 'schema',
      id: '0001-a',
      engine: 'postgres',
      description: '',
      dependsOn: [],
      scope: { kind: 'all' },
      transaction: true,
      down: undefined,
    });
    expect(Object.isFrozen(m)).toBe(true);
    expect(m.checksum).toMatch(/^v2:[0-9a-f]{64}$/);
    expect(isMigration(m)).toBe(true);
    expect(isMigration({ kind: 'schema' })).toBe(false);
    expect(isMigration(null)).toBe(false);
  });

  it('normalises scope and dedupes dependsOn', () => {
    expect(defineMigration({ id: 'a', engine: 'mongodb', scope: { shards: ['s1'] }, up() {} }).scope).toEqual({
      kind: 'shards',
      shards: ['s1'],
    });
    expect(defineMigration({ id: 'a', engine: 'mongodb', scope: { tenants: ['t1', 't2'] }, up() {} }).scope).toEqual({
      kind: 'tenants',
      tenants: ['t1', 't2'],
    });
    expect(defineMigration({ id: 'a', engine: 'mongodb', scope: 'all', up() {} }).scope).toEqual({ kind: 'all' });
    expect(defineMigration({ id: 'a', engine: 'mongodb', dependsOn: ['b', 'c', 'b'], up() {} }).dependsOn).toEqual([
      'b',
      'c',
    ]);
  });

  it('checksum changes with the declared version, id, down and settings; not with the description or the emitted function text', () => {
    const base = defineMigration({
      id: 'a',
      engine: 'postgres',
      up: async () => {
        /* v1 */
      },
    });
    const rebuilt = defineMigration({
      id: 'a',
      engine: 'postgres',
      up: async function up() {
        /* other emit */
      },
    });
    const edited = defineMigration({
      id: 'a',
      engine: 'postgres',
      version: 2,
      up: async () => {
        /* v2 */
      },
    });
    const renamed = defineMigration({
      id: 'b',
      engine: 'postgres',
      up: async () => {
        /* v1 */
      },
    });
    const described = defineMigration({
      id: 'a',
      engine: 'postgres',
      description: 'hello',
      up: async () => {
        /* v1 */
      },
    });
    const withDown = defineMigration({
      id: 'a',
      engine: 'postgres',
      up: async () => {
        /* v1 */
      },
      down: async () => {},
    });
    const noTx = defineMigration({
      id: 'a',
      engine: 'postgres',
      transaction: false,
      up: async () => {
        /* v1 */
      },
    });
    expect(edited.checksum).not.toBe(base.checksum);
    expect(renamed.checksum).not.toBe(base.checksum);
    expect(withDown.checksum).not.toBe(base.checksum);
    expect(noTx.checksum).not.toBe(base.checksum);
    expect(described.checksum).toBe(base.checksum);
    expect(rebuilt.checksum).toBe(base.checksum);
  });

  it('data migration: default key per engine, composite keys, default batch size', () => {
    const t = (row: Record<string, unknown>) => row;
    expect(defineDataMigration({ id: 'd', engine: 'mongodb', collection: 'messages', transform: t }).target).toEqual({
      name: 'messages',
      key: ['_id'],
    });
    expect(defineDataMigration({ id: 'd', engine: 'postgres', table: 'tenants', transform: t }).target).toEqual({
      name: 'tenants',
      key: ['id'],
    });
    const c = defineDataMigration({
      id: 'd',
      engine: 'postgres',
      table: 'tenant_settings',
      key: ['tenant_id', 'settings_key'],
      transform: t,
    });
    expect(c.target.key).toEqual(['tenant_id', 'settings_key']);
    expect(c.batchSize).toBe(DEFAULT_BATCH_SIZE);
    const f1 = defineDataMigration({ id: 'd', engine: 'postgres', table: 'x', filter: { a: 1 }, transform: t });
    const f2 = defineDataMigration({ id: 'd', engine: 'postgres', table: 'x', filter: { a: 2 }, transform: t });
    expect(f1.checksum).not.toBe(f2.checksum);
  });
});

const up = () => {};
const transform = (r: Record<string, unknown>) => r;

describe('malformed definitions are rejected with a DefinitionError naming the migration and the field', () => {
  it.each<[string, () => unknown, string | undefined, string]>([
    ['bad id characters', () => defineMigration({ id: 'bad id!', engine: 'postgres', up }), 'bad id!', 'id'],
    ['id starting with a dash', () => defineMigration({ id: '-x', engine: 'postgres', up }), '-x', 'id'],
    ['missing engine', () => defineMigration({ id: 'm-engine', up } as never), 'm-engine', 'engine'],
    [
      'engine not a name',
      () => defineMigration({ id: 'm-engine2', engine: 'Postgres SQL', up }),
      'm-engine2',
      'engine',
    ],
    [
      'up not a function',
      () => defineMigration({ id: 'm-up', engine: 'postgres', up: 'CREATE TABLE x' as never }),
      'm-up',
      'up',
    ],
    [
      'down not a function',
      () => defineMigration({ id: 'm-down', engine: 'postgres', up, down: 5 as never }),
      'm-down',
      'down',
    ],
    [
      'unknown key (typo dependOn)',
      () => defineMigration({ id: 'm-typo', engine: 'postgres', up, dependOn: ['x'] } as never),
      'm-typo',
      'dependOn',
    ],
    [
      'dependsOn itself',
      () => defineMigration({ id: 'm-self', engine: 'postgres', up, dependsOn: ['m-self'] }),
      'm-self',
      'dependsOn',
    ],
    [
      'dependsOn with a bad id',
      () => defineMigration({ id: 'm-dep', engine: 'postgres', up, dependsOn: ['ok', 'no way'] }),
      'm-dep',
      'dependsOn.1',
    ],
    [
      'scope with no shards',
      () => defineMigration({ id: 'm-scope', engine: 'postgres', up, scope: { shards: [] } }),
      'm-scope',
      'scope.shards',
    ],
    [
      'scope with no tenants',
      () => defineMigration({ id: 'm-scope2', engine: 'postgres', up, scope: { tenants: [] } }),
      'm-scope2',
      'scope.tenants',
    ],
    [
      'transaction not a boolean',
      () => defineMigration({ id: 'm-tx', engine: 'postgres', up, transaction: 'yes' as never }),
      'm-tx',
      'transaction',
    ],
    [
      'both collection and table',
      () => defineDataMigration({ id: 'd-both', engine: 'mongodb', collection: 'a', table: 'b', transform }),
      'd-both',
      'table',
    ],
    [
      'neither collection nor table',
      () => defineDataMigration({ id: 'd-neither', engine: 'mongodb', transform }),
      'd-neither',
      'collection',
    ],
    [
      'batchSize 0',
      () => defineDataMigration({ id: 'd-b0', engine: 'postgres', table: 't', batchSize: 0, transform }),
      'd-b0',
      'batchSize',
    ],
    [
      'batchSize 1.5',
      () => defineDataMigration({ id: 'd-b15', engine: 'postgres', table: 't', batchSize: 1.5, transform }),
      'd-b15',
      'batchSize',
    ],
    [
      'batchSize 1e9',
      () => defineDataMigration({ id: 'd-b1e9', engine: 'postgres', table: 't', batchSize: 1e9, transform }),
      'd-b1e9',
      'batchSize',
    ],
    [
      'key repeated',
      () => defineDataMigration({ id: 'd-key', engine: 'postgres', table: 't', key: ['a', 'b', 'a'], transform }),
      'd-key',
      'key',
    ],
    [
      'key empty array',
      () => defineDataMigration({ id: 'd-key0', engine: 'postgres', table: 't', key: [], transform }),
      'd-key0',
      'key',
    ],
    [
      'table name with SQL in it',
      () => defineDataMigration({ id: 'd-tbl', engine: 'postgres', table: 'x; DROP TABLE y', transform }),
      'd-tbl',
      'table',
    ],
    [
      'maxRowsPerSecond -1',
      () => defineDataMigration({ id: 'd-rate', engine: 'postgres', table: 't', maxRowsPerSecond: -1, transform }),
      'd-rate',
      'maxRowsPerSecond',
    ],
    [
      'transform missing',
      () => defineDataMigration({ id: 'd-tf', engine: 'postgres', table: 't' } as never),
      'd-tf',
      'transform',
    ],
    [
      'reverse not a function',
      () => defineDataMigration({ id: 'd-rev', engine: 'postgres', table: 't', transform, reverse: {} as never }),
      'd-rev',
      'reverse',
    ],
    [
      'schema field on a data migration',
      () => defineDataMigration({ id: 'd-up', engine: 'postgres', table: 't', transform, up } as never),
      'd-up',
      'up',
    ],
    ['missing id', () => defineMigration({ engine: 'postgres', up } as never), undefined, 'id'],
    ['not an object', () => defineMigration(null as never), undefined, '(root)'],
  ])('%s', (_name, make, id, field) => {
    let err: unknown;
    try {
      make();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionError);
    const e = err as DefinitionError;
    expect(e.code).toBe(ErrorCode.Definition);
    expect(e.field).toBe(field);
    expect(e.migrationId).toBe(id);
    if (id) expect(e.message).toContain(`"${id}"`);
    expect(e.message).toContain(field === '(root)' ? 'expected an object' : `"${field}"`);
  });
});

describe('malformed migrator configs are rejected before anything runs', () => {
  const calls = { n: 0 };
  const good = () => defineMigration({ id: '0001-side-effect', engine: 'memory', up: () => void calls.n++ });

  it.each<[string, (m: ReturnType<typeof memory>) => Record<string, unknown>, string, string | undefined]>([
    [
      'concurrency 0',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], concurrency: 0 }),
      'concurrency',
      undefined,
    ],
    [
      'concurrency 2.5',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], concurrency: 2.5 }),
      'concurrency',
      undefined,
    ],
    [
      'unknown option',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], concurency: 2 }),
      'concurency',
      undefined,
    ],
    ['engines {}', () => ({ engines: {}, migrations: [good()] }), 'engines', undefined],
    [
      'engine not an adapter',
      () => ({ engines: { memory: { name: 'memory' } }, migrations: [good()] }),
      'engines.memory',
      undefined,
    ],
    [
      'engine key mismatch',
      ({ engine }) => ({ engines: { postgres: engine }, migrations: [] }),
      'engines.postgres',
      undefined,
    ],
    [
      'duplicate shard ids across engines',
      ({ engine, ids, store }) => ({
        engines: { memory: engine, other: memoryEngine({ name: 'other', shards: [ids[0]!], store }) },
        migrations: [good()],
      }),
      'engines.other',
      undefined,
    ],
    [
      'migration whose engine is not configured',
      ({ engine }) => ({
        engines: { memory: engine },
        migrations: [good(), defineMigration({ id: '0002-pg', engine: 'postgres', up })],
      }),
      'engine',
      '0002-pg',
    ],
    [
      "strategy 'blue-green'",
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], strategy: 'blue-green' }),
      'strategy',
      undefined,
    ],
    [
      'onFailure typo',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], onFailure: 'contine' }),
      'onFailure',
      undefined,
    ],
    [
      'drift policy typo',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], drift: 'ignore' }),
      'drift',
      undefined,
    ],
    [
      'migrations containing a non-migration object',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good(), { id: 'x', up }] }),
      'migrations[1]',
      undefined,
    ],
    [
      'migrations neither array nor path',
      ({ engine }) => ({ engines: { memory: engine }, migrations: 42 }),
      'migrations',
      undefined,
    ],
    [
      'lock.ttlMs 5',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], lock: { ttlMs: 5 } }),
      'lock.ttlMs',
      undefined,
    ],
    [
      'lock.waitMs negative',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], lock: { waitMs: -1 } }),
      'lock.waitMs',
      undefined,
    ],
    [
      'throttle min > max',
      ({ engine }) => ({
        engines: { memory: engine },
        migrations: [good()],
        throttle: { minBatchSize: 100, maxBatchSize: 10 },
      }),
      'throttle.minBatchSize',
      undefined,
    ],
    [
      'retry.retries 100',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], retry: { retries: 100 } }),
      'retry.retries',
      undefined,
    ],
    [
      'name with a space',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], name: 'my set' }),
      'name',
      undefined,
    ],
    [
      'router without route()',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], router: { key: 'tenant_id' } }),
      'router',
      undefined,
    ],
    [
      'logger without methods',
      ({ engine }) => ({ engines: { memory: engine }, migrations: [good()], logger: console.log }),
      'logger',
      undefined,
    ],
  ])('%s', async (_name, config, field, migrationId) => {
    const m = memory(1);
    calls.n = 0;
    let err: unknown;
    try {
      const migrator = createMigrator(config(m) as never);
      await migrator.run(); // must not be reached
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionError);
    const e = err as DefinitionError;
    expect(e.field).toBe(field);
    expect(e.message).toContain(`"${field}"`);
    expect(e.migrationId).toBe(migrationId);
    if (migrationId) expect(e.message).toContain(`"${migrationId}"`);
    else expect(e.code).toBe(ErrorCode.Config);
    expect(calls.n).toBe(0);
    for (const id of m.ids) expect(m.store.shard(id).ledger.size).toBe(0);
  });

  it('a non-object config is refused', () => {
    expect(() => createMigrator(undefined as never)).toThrow(DefinitionError);
  });
});
