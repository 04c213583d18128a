import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMigrateError } from '@mcp/migrate-core';
import { classifyError, isDuplicateKey, isRetryable, mongoEngine } from '../src/index.js';
import { uriLocation } from '../src/mongo-shard.js';

const driverError = (fields: Record<string, unknown>, labels: string[] = []) =>
  Object.assign(new Error('boom'), fields, { hasErrorLabel: (l: string) => labels.includes(l) });

describe('isRetryable (no server)', () => {
  it('retries network errors, retryable-write labels and primary changes', () => {
    expect(isRetryable(Object.assign(new Error('x'), { name: 'MongoNetworkError' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('x'), { name: 'MongoServerSelectionError' }))).toBe(true);
    expect(isRetryable(driverError({ name: 'MongoServerError', code: 10107 }))).toBe(true); // NotWritablePrimary
    expect(isRetryable(driverError({ name: 'MongoServerError', code: 189 }))).toBe(true); // PrimarySteppedDown
    expect(isRetryable(driverError({ name: 'MongoServerError', code: 2 }, ['RetryableWriteError']))).toBe(true);
    expect(isRetryable({ code: 1, errorLabels: ['TransientTransactionError'] })).toBe(true);
  });
  it('does not retry duplicate keys, bad values or plain errors', () => {
    expect(isRetryable(driverError({ name: 'MongoServerError', code: 11000 }))).toBe(false);
    expect(isRetryable(driverError({ name: 'MongoServerError', code: 2 }))).toBe(false);
    expect(isRetryable(new Error('syntax'))).toBe(false);
    expect(isRetryable(null)).toBe(false);
    expect(isDuplicateKey({ writeErrors: [{ code: 11000 }] })).toBe(true);
  });
});

describe('classifyError (no server): driver errors → engine-neutral reasons', () => {
  it.each<[string, unknown, string, boolean]>([
    ['network error', Object.assign(new Error('x'), { name: 'MongoNetworkError' }), 'connection-lost', true],
    ['NotWritablePrimary', driverError({ name: 'MongoServerError', code: 10107 }), 'connection-lost', true],
    [
      'RetryableWriteError label',
      driverError({ name: 'MongoServerError', code: 2 }, ['RetryableWriteError']),
      'connection-lost',
      true,
    ],
    ['TransientTransactionError label', { code: 1, errorLabels: ['TransientTransactionError'] }, 'serialization', true],
    ['WriteConflict', driverError({ name: 'MongoServerError', code: 112 }), 'serialization', true],
    ['ExceededTimeLimit', driverError({ name: 'MongoServerError', code: 262 }), 'lock-timeout', true],
    ['write concern error', Object.assign(new Error('x'), { name: 'MongoWriteConcernError' }), 'unknown', true],
    ['E11000', driverError({ name: 'MongoServerError', code: 11000 }), 'duplicate-key', false],
    ['E11000 in a bulk write', { writeErrors: [{ code: 11000 }] }, 'duplicate-key', false],
    ['NamespaceNotFound', driverError({ name: 'MongoServerError', code: 26 }), 'missing-object', false],
    ['Unauthorized', driverError({ name: 'MongoServerError', code: 13 }), 'permission', false],
    ['BadValue', driverError({ name: 'MongoServerError', code: 2 }), 'invalid-input', false],
    ['plain error', new Error('syntax'), 'unknown', false],
  ])('%s', (_name, error, reason, retryable) => {
    expect(classifyError(error)).toEqual({ reason, retryable });
    expect(isRetryable(error)).toBe(retryable);
  });
  it('the engine classifies with it, keys by _id in BSON order, names collections, and offers a control store', () => {
    const engine = mongoEngine({ shards: [{ id: 'mg-0', uri: 'mongodb://127.0.0.1:1', database: 'x' }] });
    expect(engine.classifyError(driverError({ code: 11000 }))).toEqual({ reason: 'duplicate-key', retryable: false });
    expect(engine.defaultKey).toEqual(['_id']);
    expect(engine.compareKeys([true], [new Date(0)])).toBeLessThan(0); // BSON: booleans before dates
    expect(engine.terms?.target).toBe('collection');
    expect(engine.control().lock).toBe(engine.shard('mg-0').lock);
    void engine.close();
  });
});

describe('mongoEngine options (no server)', () => {
  const configError = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    throw new Error('expected a DefinitionError');
  };
  it('names the field of a bad option', () => {
    const cases: [unknown, string][] = [
      [{ shards: [] }, 'shards'],
      [{ shards: [{ id: 'a', database: 'd' }] }, 'shards[0]'],
      [{ shards: [{ id: 'bad id', uri: 'mongodb://h/', database: 'd' }] }, 'shards[0].id'],
      [{ shards: [{ id: 'a', uri: 'http://user:pw@h/', database: 'd' }] }, 'shards[0].uri'],
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'a.b' }] }, 'shards[0].database'],
      [
        {
          shards: [
            { id: 'a', uri: 'mongodb://h/', database: 'd' },
            { id: 'a', uri: 'mongodb://h/', database: 'e' },
          ],
        },
        'shards[1].id',
      ],
      [
        {
          shards: [
            { id: 'a', uri: 'mongodb://h/', database: 'd' },
            { id: 'b', uri: 'mongodb://h/', database: 'd' },
          ],
        },
        'shards[1].database',
      ],
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }], ledgerCollection: 'x$' }, 'ledgerCollection'],
      [
        { shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }], lockCollection: 'mcp_migrations' },
        'lockCollection',
      ],
      [
        { shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }], serverSelectionTimeoutMS: 0 },
        'serverSelectionTimeoutMS',
      ],
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }], nope: 1 }, 'nope'],
    ];
    for (const [options, field] of cases) {
      const error = configError(() => mongoEngine(options as never));
      expect(isMigrateError(error) && error.code, field).toBe(ErrorCode.Config);
      expect((error as { field: string }).field).toBe(field);
      expect(String((error as Error).message)).not.toContain('pw@');
    }
  });
  it('reports locations without credentials or query options', () => {
    expect(
      uriLocation(
        'mongodb://admin:s3cret@db-0:27017,db-1:27017/admin?authSource=admin&tlsCertificateKeyFilePassword=x',
        'chat_0',
      ),
    ).toBe('mongodb://***@db-0:27017,db-1:27017/chat_0');
    const engine = mongoEngine({
      shards: [{ id: 'mg-0', uri: 'mongodb+srv://u:p4ss@cluster.example.net/?retryWrites=true', database: 'chat' }],
    });
    expect(engine.shards).toEqual([
      { id: 'mg-0', engine: 'mongodb', location: 'mongodb+srv://***@cluster.example.net/chat' },
    ]);
    expect(inspect(engine.shards)).not.toContain('p4ss');
    expect(engine.capabilities).toEqual({
      transactions: false,
      transactionalDdl: false,
      changeCapture: false,
      compareAndSet: false,
      serverCopy: false,
      inspect: true,
      serverUpdate: true,
      openScan: true,
    });
    expect(() => engine.shard('nope')).toThrow(/no shard "nope"/);
  });
});
