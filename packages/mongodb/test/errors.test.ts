import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isMigrateError } from '@mcp/migrate-core';
import { isDuplicateKey, isRetryable, mongoEngine, uriLocation } from '../src/index.js';

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
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }, { id: 'a', uri: 'mongodb://h/', database: 'e' }] }, 'shards[1].id'],
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }, { id: 'b', uri: 'mongodb://h/', database: 'd' }] }, 'shards[1].database'],
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }], ledgerCollection: 'x$' }, 'ledgerCollection'],
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }], lockCollection: 'mcp_migrations' }, 'lockCollection'],
      [{ shards: [{ id: 'a', uri: 'mongodb://h/', database: 'd' }], serverSelectionTimeoutMS: 0 }, 'serverSelectionTimeoutMS'],
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
    expect(uriLocation('mongodb://admin:s3cret@db-0:27017,db-1:27017/admin?authSource=admin&tlsCertificateKeyFilePassword=x', 'chat_0'))
      .toBe('mongodb://***@db-0:27017,db-1:27017/chat_0');
    const engine = mongoEngine({ shards: [{ id: 'mg-0', uri: 'mongodb+srv://u:p4ss@cluster.example.net/?retryWrites=true', database: 'chat' }] });
    expect(engine.shards).toEqual([{ id: 'mg-0', engine: 'mongodb', location: 'mongodb+srv://***@cluster.example.net/chat' }]);
    expect(inspect(engine.shards)).not.toContain('p4ss');
    expect(engine.capabilities).toEqual({ transactions: false, transactionalDdl: false, changeCapture: false, compareAndSet: false, serverCopy: false, inspect: true });
    expect(() => engine.shard('nope')).toThrow(/no shard "nope"/);
  });
});
