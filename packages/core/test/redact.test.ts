import { afterEach, describe, expect, it } from 'vitest';
import { redact, redactValue } from '../src/errors/redact.js';
import { redactingLogger, type Logger } from '../src/util/logger.js';
import { MigrateError, ErrorCode, serializeError, errorMessage, MigrationFailedError } from '../src/errors/errors.js';
import { defineMigration } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import { QUICK, memory, rejection } from './helpers.js';

const SECRETS = ['s3cr3t-pw', 'hunter2', 'p4ss'];
const clean = (text: string) => {
  for (const s of SECRETS) expect(text).not.toContain(s);
};

describe('redact', () => {
  it.each([
    [
      'postgres URL',
      'connect ECONNREFUSED postgres://app:s3cr3t-pw@db-0.internal:5432/chat',
      'postgres://***@db-0.internal:5432/chat',
    ],
    [
      'postgresql URL with params',
      'postgresql://app:s3cr3t-pw@db-0/chat?sslmode=require',
      'postgresql://***@db-0/chat?sslmode=require',
    ],
    [
      'mongodb+srv URL',
      'MongoServerSelectionError: mongodb+srv://u:p4ss@cluster0.example.net/app?retryWrites=true',
      'mongodb+srv://***@cluster0.example.net/app',
    ],
    [
      'mongodb URL with host list',
      'mongodb://root:hunter2@m1:27017,m2:27017/admin',
      'mongodb://***@m1:27017,m2:27017/admin',
    ],
    ['URL with an unencoded @ in the password', 'postgres://app:p4ss@word@db-0/chat', 'postgres://***@db-0/chat'],
    ['password=...', 'host=db-0 user=app password=hunter2 dbname=chat', 'password=*** dbname=chat'],
    ['Password: ... (any case)', 'Password: hunter2', 'Password: ***'],
    ['quoted secret with spaces', 'secret="hunter2 and more"', 'secret=***'],
    ['ADO-style connection string', 'Server=db;User Id=sa;Password=hunter2;Database=x', 'Password=***;Database=x'],
    ['query-string token', 'GET https://api.example.com/hook?token=hunter2&x=1', '?token=***&x=1'],
    ['api key', 'api_key=hunter2 apiKey: p4ss', 'api_key=*** apiKey: ***'],
    [
      'JSON text with a password field',
      'insert failed: {"user":"app","password":"hunter2"}',
      '"user":"app","password":***',
    ],
    [
      'JSON text with a connectionString field',
      '{"connectionString":"postgres://app:s3cr3t-pw@db/x"}',
      '"connectionString":"postgres://***@db/x"',
    ],
  ])('%s', (_name, input, kept) => {
    const out = redact(input);
    clean(out);
    expect(out).toContain(kept);
  });

  it('leaves text without secrets alone', () => {
    const text =
      'Migration "0003-webhooks" failed on shard "pg-1": column "secret_id" does not exist (postgres://db-0:5432/chat)';
    expect(redact(text)).toBe(text);
  });

  it('redactValue: secret-named keys lose their value, strings are redacted deeply, other values kept', () => {
    const value = {
      password: 'hunter2',
      connectionString: 'postgres://app:s3cr3t-pw@db/x',
      nested: [{ uri: 'mongodb://u:p4ss@h/db', note: 'password=hunter2', n: 3, when: new Date(0) }],
      absent: null,
      ok: 'fine',
    };
    const out = redactValue(value);
    clean(JSON.stringify(out));
    expect(out).toMatchObject({ password: '***', connectionString: '***', absent: null, ok: 'fine' });
    expect(out.nested[0]).toMatchObject({ uri: '***', note: 'password=***', n: 3 });
    expect(out.nested[0]!.when).toBeInstanceOf(Date);
    // the input is not changed
    expect(value.password).toBe('hunter2');
  });

  it('redactValue survives cycles', () => {
    const a: Record<string, unknown> = { password: 'hunter2' };
    a.self = a;
    const out = redactValue(a) as Record<string, unknown>;
    expect(out.password).toBe('***');
  });
});

describe('redaction in errors, logs, ledgers and events', () => {
  const open: Migrator[] = [];
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((m) => m.close()));
  });

  it('MigrateError messages and serialized errors are redacted', () => {
    const e = new MigrateError(ErrorCode.ShardUnavailable, 'cannot reach postgres://app:s3cr3t-pw@db-0/chat');
    clean(e.message);
    expect(e.message).toContain('postgres://***@db-0/chat');
    clean(JSON.stringify(e.toJSON()));
    const plain = new Error('auth failed for mongodb+srv://u:p4ss@c.example.net password=hunter2');
    const s = serializeError(plain);
    clean(JSON.stringify(s));
    expect(s.code).toBe('MIGRATE_UNEXPECTED');
    clean(errorMessage(plain));
    clean(JSON.stringify(serializeError('password=hunter2')));
    clean(new MigrationFailedError('x', { cause: plain }).toJSON().message);
  });

  it('the redacting logger redacts messages and fields', () => {
    const lines: string[] = [];
    const base: Logger = {
      debug: (m, f) => lines.push(m + JSON.stringify(f)),
      info: (m, f) => lines.push(m + JSON.stringify(f)),
      warn: (m, f) => lines.push(m + JSON.stringify(f)),
      error: (m, f) => lines.push(m + JSON.stringify(f)),
    };
    const log = redactingLogger(base, { set: 'default' });
    log.error('connecting to postgres://app:s3cr3t-pw@db/x', { password: 'hunter2', detail: { note: 'token=p4ss' } });
    expect(lines).toHaveLength(1);
    clean(lines[0]!);
    expect(lines[0]).toContain('"set":"default"');
  });

  it('a migration failing with a secret in its message: ledger error, shard:failed event, report, thrown error and logs are clean', async () => {
    const { engine, store, ids } = memory(1);
    const logged: string[] = [];
    const capture = (m: string, f?: Record<string, unknown>) => void logged.push(m + JSON.stringify(f ?? {}));
    const m = defineMigration({
      id: '0001-leaky',
      engine: 'memory',
      up: async () => {
        throw new Error(
          'could not connect to postgres://admin:s3cr3t-pw@db-0:5432/chat (password=hunter2, {"password":"p4ss"})',
        );
      },
    });
    const migrator = createMigrator({
      engines: { memory: engine },
      migrations: [m],
      ...QUICK,
      logger: { debug: capture, info: capture, warn: capture, error: capture },
    });
    open.push(migrator);
    const events: string[] = [];
    migrator.on('shard:failed', (e) => events.push(JSON.stringify(e)));
    migrator.on('run:done', (e) => events.push(JSON.stringify(e)));
    const err = await rejection(migrator.run());
    expect(events).toHaveLength(2);
    for (const e of events) clean(e);
    expect(events[0]).toContain('postgres://***@db-0:5432/chat');
    const record = store.shard(ids[0]!).ledger.get('0001-leaky')!;
    expect(record.error!.message).toContain('could not connect');
    clean(JSON.stringify(record));
    clean(err.message);
    clean(JSON.stringify(err.report));
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) clean(l);
    const status = await migrator.status();
    clean(JSON.stringify(status));
  });
});

describe('redact: authorization headers', () => {
  it('hides a bearer or basic token whether or not it follows "Authorization:"', () => {
    const out = redact('request failed: Authorization: Bearer eyJhbGciOi.abc-def_ghi and Basic dXNlcjpwYXNz');
    expect(out).not.toContain('eyJhbGciOi');
    expect(out).not.toContain('dXNlcjpwYXNz');
    expect(out).toContain('Basic ***');
  });
});
