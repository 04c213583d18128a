/** Tests that need no server: options, identifiers, error classification. */
import { describe, expect, it } from 'vitest';
import { createMigrator, defineDataMigration, ErrorCode, isMigrateError } from '@mcp/migrate-core';
import pg from 'pg';
import { newDb } from 'pg-mem';
import {
  assertIdentifier,
  classifyError,
  isRetryable,
  lockKey,
  postgresEngine,
  quoteIdentifier,
  tableName,
} from '../src/index.js';
import { decodeKeyValue, encodeKeyValue } from '../src/internal/key-codec.js';
import { columnJson, jsonText, jsonValue } from '../src/internal/values.js';

const configError = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('postgresEngine options', () => {
  it('rejects empty shards, bad ids, duplicate ids and both/neither connection options, naming the field', () => {
    const cases: [unknown, string][] = [
      [{ shards: [] }, 'shards'],
      [{ shards: [{ id: 'bad id', connectionString: 'postgres://x/y' }] }, 'shards[0].id'],
      [
        {
          shards: [
            { id: 'a', connectionString: 'postgres://x/y' },
            { id: 'a', connectionString: 'postgres://x/z' },
          ],
        },
        'shards[1].id',
      ],
      [{ shards: [{ id: 'a' }] }, 'shards[0]'],
      [{ shards: [{ id: 'a', connectionString: 'postgres://x/y', pool: new pg.Pool() }] }, 'shards[0]'],
      [{ shards: [{ id: 'a', connectionString: 'postgres://x/y' }], schema: 'x;y' }, 'schema'],
      [{ shards: [{ id: 'a', connectionString: 'postgres://x/y' }], lockTimeoutMs: -1 }, 'lockTimeoutMs'],
    ];
    for (const [options, field] of cases) {
      const error = configError(() => postgresEngine(options as never));
      expect(isMigrateError(error) && error.code).toBe(ErrorCode.Config);
      expect(error).toMatchObject({ field });
      expect((error as Error).message).toContain(field);
    }
  });

  it('describes shards with a redacted location and supports pg-style capabilities', () => {
    const engine = postgresEngine({
      shards: [{ id: 'pg-0', connectionString: 'postgres://app:s3cret@db-0:5432/chat' }],
    });
    expect(engine.name).toBe('postgres');
    expect(engine.capabilities).toEqual({
      transactions: true,
      transactionalDdl: true,
      changeCapture: true,
      compareAndSet: true,
      serverCopy: true,
      inspect: true,
      serverUpdate: true,
      batchWrite: true,
    });
    expect(engine.shards).toEqual([{ id: 'pg-0', engine: 'postgres', location: 'postgres://***@db-0:5432/chat' }]);
    expect(() => engine.shard('nope')).toThrow(/no shard "nope"/);
    return engine.close();
  });

  it('a pg-mem shard turns compareAndSet and serverCopy off once connected; its backups go through write and scan', async () => {
    const db = newDb();
    const Pool = db.adapters.createPg().Pool as new () => pg.Pool;
    const shard = postgresEngine({ shards: [{ id: 'mem-0', pool: new Pool() }] }).shard('mem-0');
    expect(shard.capabilities.compareAndSet).toBe(true); // not known before connecting
    await shard.connect();
    expect(shard.capabilities).toMatchObject({
      compareAndSet: false,
      serverCopy: false,
      inspect: true,
      batchWrite: false,
    });
    db.public.none('CREATE TABLE items (id integer PRIMARY KEY, v text)');
    db.public.none(`INSERT INTO items VALUES (1, 'a'), (2, 'b')`);
    const target = { name: 'items', key: ['id'] };
    const backup = { name: 'mcp_backup_x', key: ['id'], backupOf: target };
    const rows = await shard.data.scan(target, undefined, 10);
    const refused = await shard.data.compareAndSet!.writeIfUnchanged(target, []).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: ErrorCode.Definition, field: 'compareAndSet' });
    expect(await shard.data.scan(backup, undefined, 10)).toEqual([]);
    await shard.data.write(backup, rows);
    await shard.data.write(backup, [{ id: 1, v: 'changed' }]); // the first copy wins
    expect(await shard.data.scan(backup, undefined, 10)).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ]);
    await shard.data.drop(backup);
    expect(await shard.data.scan(backup, undefined, 10)).toEqual([]);
    await expect(shard.data.drop(target)).rejects.toMatchObject({ field: 'backupOf' });
  });

  it('pg-mem: split keys by OFFSET, scans bounded above, and a parallelism 3 run and its rollback', async () => {
    const db = newDb();
    const Pool = db.adapters.createPg().Pool as new () => pg.Pool;
    const engine = postgresEngine({ shards: [{ id: 'mem-0', pool: new Pool() }] });
    const shard = engine.shard('mem-0');
    await shard.connect();
    db.public.none('CREATE TABLE items (id integer PRIMARY KEY, v integer)');
    db.public.none(
      `INSERT INTO items VALUES ${Array.from({ length: 30 }, (_, i) => `(${i + 1}, ${i + 1})`).join(', ')}`,
    );
    const target = { name: 'items', key: ['id'] };
    expect(await shard.data.splitKeys!(target, 3)).toEqual([[10], [20]]);
    expect((await shard.data.scan(target, [10], 100, [20])).map((r) => r.id)).toEqual([
      11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    ]);
    const m = defineDataMigration({
      id: '0001-par',
      engine: 'postgres',
      table: 'items',
      batchSize: 4,
      parallelism: 3,
      transform: (r) => ({ ...r, v: (r.v as number) + 100 }),
    });
    const migrator = createMigrator({ engines: { postgres: engine }, migrations: [m] });
    await migrator.run();
    const values = () => db.public.many('SELECT id, v FROM items ORDER BY id');
    expect(values().every((r) => r.v === r.id + 100)).toBe(true);
    const record = (await shard.ledger.list()).find((r) => r.id === m.id)!;
    expect(record.checkpoint!.ranges!.map((r) => [r.from, r.to])).toEqual([
      [null, [10]],
      [[10], [20]],
      [[20], null],
    ]);
    await migrator.rollback({ steps: 1 });
    expect(values().every((r) => r.v === r.id)).toBe(true);
    await migrator.close();
  });
});

describe('identifiers', () => {
  it('rejects anything that is not a plain identifier, and quotes the rest', () => {
    for (const bad of ['users; drop table x', 'a"b', '1abc', '', 'x'.repeat(64), 'a b', 'é']) {
      expect(() => assertIdentifier(bad, 'table')).toThrow(/not a plain SQL identifier/);
    }
    expect(quoteIdentifier('Users_2')).toBe('"Users_2"');
    expect(tableName('app.users', 'public').sql).toBe('"app"."users"');
    expect(tableName('users', 'public').sql).toBe('"public"."users"');
    expect(() => tableName('a.b.c', 'public')).toThrow(/not a plain SQL identifier/);
  });
});

describe('isRetryable', () => {
  const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
  it.each([
    ['08006', true],
    ['08001', true],
    ['40001', true],
    ['40P01', true],
    ['55P03', true],
    ['57P01', true],
    ['53300', true],
    ['42601', false],
    ['23505', false],
    ['42P01', false],
    ['22P02', false],
  ])('SQLSTATE %s → %s', (code, expected) => {
    expect(isRetryable(pgError(code))).toBe(expected);
  });
  it('classifies socket errors and looks through causes', () => {
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isRetryable(new Error('wrapped', { cause: pgError('55P03') }))).toBe(true);
    expect(isRetryable(new Error('boom'))).toBe(false);
    expect(isRetryable('nope')).toBe(false);
  });
});

describe('classifyError: SQLSTATE → engine-neutral reason', () => {
  const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
  it.each([
    ['08006', 'connection-lost', true],
    ['57P01', 'connection-lost', true],
    ['53300', 'connection-lost', true],
    ['40001', 'serialization', true],
    ['40P01', 'serialization', true],
    ['55P03', 'lock-timeout', true],
    ['42P01', 'missing-object', false],
    ['42703', 'missing-object', false],
    ['3F000', 'missing-object', false],
    ['23505', 'duplicate-key', false],
    ['42501', 'permission', false],
    ['28P01', 'permission', false],
    ['42601', 'invalid-input', false],
    ['22P02', 'invalid-input', false],
    ['23502', 'invalid-input', false],
    ['57014', 'unknown', false],
    ['XX000', 'unknown', false],
  ])('SQLSTATE %s → %s (retryable %s)', (code, reason, retryable) => {
    expect(classifyError(pgError(code))).toEqual({ reason, retryable });
    expect(classifyError(new Error('wrapped', { cause: pgError(code) }))).toEqual({ reason, retryable });
  });
  it('socket codes and lost-connection messages are connection-lost; anything else unknown, even if it says retryable', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toEqual({
      reason: 'connection-lost',
      retryable: true,
    });
    expect(classifyError(new Error('Connection terminated unexpectedly'))).toEqual({
      reason: 'connection-lost',
      retryable: true,
    });
    expect(classifyError(Object.assign(new Error('x'), { retryable: true }))).toEqual({
      reason: 'unknown',
      retryable: false,
    });
    expect(classifyError(null)).toEqual({ reason: 'unknown', retryable: false });
  });
  it('the engine classifies with it, keys by id in the SDK order (bytea bytewise), names tables, and offers a control store', () => {
    const engine = postgresEngine({ shards: [{ id: 'pg-0', connectionString: 'postgres://u:p@127.0.0.1:1/x' }] });
    expect(engine.classifyError(pgError('40001'))).toEqual({ reason: 'serialization', retryable: true });
    expect(engine.defaultKey).toEqual(['id']);
    expect(engine.compareKeys([Buffer.from([2])], [Buffer.from([1, 1])])).toBeGreaterThan(0);
    expect(engine.compareKeys([2], ['1'])).toBeLessThan(0);
    expect(engine.terms?.target).toBe('table');
    expect(engine.control().lock).toBe(engine.shard('pg-0').lock);
    void engine.close();
  });
});

describe('codecs', () => {
  it('checkpoint keys round-trip through JSON exactly', () => {
    const key = [-3, 'ü', 12n, new Date('2026-01-02T03:04:05.678Z'), Buffer.from([0, 255]), null, '9007199254740993'];
    const back = decodeKeyValue(JSON.parse(JSON.stringify(encodeKeyValue(key)))) as unknown[];
    expect(back).toEqual(key);
    expect(typeof back[2]).toBe('bigint');
  });
  it('column values become the JSON text the column input functions read (the server side is in fidelity-postgres.test.ts)', () => {
    expect(jsonValue(Buffer.from('hi'))).toBe('\\x6869');
    expect(jsonValue(12n)).toBe('12');
    expect(jsonValue(Number.NaN)).toBe('NaN');
    expect(jsonValue([new Date(0), null])).toEqual([expect.stringMatching(/^19(70|69)-/), null]);
    expect(new Date(jsonValue(new Date('2026-05-06T07:08:09.123Z')) as string).toISOString()).toBe(
      '2026-05-06T07:08:09.123Z',
    );
    // JSON has no negative zero: float -0 travels as text, which float8in reads as -0.
    expect(columnJson(-0, false)).toBe('"-0"');
    expect(columnJson(0, false)).toBe('0');
    // json/jsonb columns get the document itself: key order as given, bigints with every digit.
    expect(columnJson({ z: 1, a: [1.5, null], n: 123456789012345678901234567890n, skip: undefined }, true)).toBe(
      '{"z":1,"a":[1.5,null],"n":123456789012345678901234567890}',
    );
    expect(columnJson('text', true)).toBe('"text"');
    expect(columnJson(null, true)).toBe('null');
    expect(jsonText({ d: new Date('2026-01-01T00:00:00.000Z'), neg: -0 })).toBe(
      '{"d":"2026-01-01T00:00:00.000Z","neg":-0}',
    );
  });
  it('lock keys are stable, signed 64-bit, with unsigned halves', () => {
    const k = lockKey('public', 'mcp-migrate:default:run');
    expect(k).toEqual(lockKey('public', 'mcp-migrate:default:run'));
    expect(k).not.toEqual(lockKey('other', 'mcp-migrate:default:run'));
    const unsigned = BigInt.asUintN(64, BigInt(k.key));
    expect(String(unsigned >> 32n)).toBe(k.classid);
    expect(String(unsigned & 0xffffffffn)).toBe(k.objid);
  });
});
