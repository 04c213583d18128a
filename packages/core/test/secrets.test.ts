/**
 * Exact secret scrubbing (issue 8, defect 9), without a server: the secrets an engine exposes and
 * the host's `secrets` option are found nowhere in what leaves the migrator (thrown errors with
 * their stack, cause chain and JSON, events, log lines, ledger rows, reports, `status()`), in
 * any of their spellings. The real-server version is test/scenarios/secrets.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineDataMigration, defineMigration } from '../src/definition/migration.js';
import { createMigrator, type Migrator } from '../src/run/migrator.js';
import { redact } from '../src/errors/redact.js';
import { connectionSecrets, Scrubber, secretForms } from '../src/util/scrubber.js';
import type { EngineAdapter } from '../src/engine/index.js';
import type { MigratorEventName } from '../src/events/events.js';
import { errorText, expectClean, spellings } from '@mcp/test-support';
import { QUICK, memory, rejection } from './helpers.js';

/** `@`, `/`, `%`, `:`, `?`, a space-free unicode tail: every character a URL must encode. */
const PASSWORD = 'Pa@ss/wo%rd:?ñ€😀';
const HOST_SECRET = 'vault-token-7Hq9/Zx@';

const open: Migrator[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((m) => m.close()));
});

/** A memory engine that says it was configured with `postgres://app:<PASSWORD>@db/x`. */
function engineWithSecret(shards = 2) {
  const m = memory(shards);
  const url = `postgres://app:${encodeURIComponent(PASSWORD)}@db-0:5432/chat`;
  const engine: EngineAdapter = Object.assign(Object.create(m.engine) as EngineAdapter, {
    secrets: () => connectionSecrets(url),
  });
  return { ...m, engine };
}

describe('spellings of a secret', () => {
  it('connectionSecrets takes a password holding @, / and : whole, from URLs, key=value strings, PGPASSWORD and sslpassword', () => {
    expect(connectionSecrets('postgres://app:pa@ss/word!@db-0:5432/chat')).toContain('pa@ss/word!');
    expect(connectionSecrets('mongodb://u:p%40ss%2Fw@m1:27017,m2:27017/admin?authSource=admin')).toContain(
      'p%40ss%2Fw',
    );
    expect(connectionSecrets('postgres://u@h/db?sslpassword=k3y-pass&sslmode=require')).toContain('k3y-pass');
    expect(connectionSecrets('PGPASSWORD=hunter22 psql')).toContain('hunter22');
    expect(connectionSecrets("host=db password='my pass\\'word' user=x")).toContain("my pass'word");
    expect(connectionSecrets('postgres://h/db')).toEqual([]);
  });

  it('secretForms covers the decoded, percent-encoded (both hex cases) and JSON-escaped spellings', () => {
    const forms = secretForms(encodeURIComponent(PASSWORD));
    for (const s of spellings(PASSWORD)) expect(forms).toContain(s);
  });

  it('a Scrubber replaces every spelling and then still applies the patterns', () => {
    const scrub = new Scrubber([encodeURIComponent(PASSWORD)]);
    const text = `a ${PASSWORD} b ${encodeURIComponent(PASSWORD)} c ${encodeURIComponent(PASSWORD).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())} d ${JSON.stringify({ p: PASSWORD })} e token=abc123`;
    const out = scrub.text(text);
    expectClean('scrubbed text', out, spellings(PASSWORD));
    expect(out).toContain('token=***');
    expect(out.split('***').length).toBeGreaterThanOrEqual(6);
  });

  it('secrets shorter than 4 characters are not scrubbed exactly (they would eat ordinary words)', () => {
    expect(new Scrubber(['ab']).text('tab stab')).toBe('tab stab');
  });
});

describe('redact() patterns', () => {
  it('a URL whose password holds unencoded @ and / is redacted to the last @ before the host', () => {
    const out = redact('connect failed: postgres://app:pa@ss/word!@db-0:5432/chat?sslmode=require (timeout)');
    expect(out).toContain('postgres://***@db-0:5432/chat?sslmode=require (timeout)');
    expectClean('redacted URL', out, ['ss/word', 'word!', 'pa@ss']);
  });

  it('a URL without a password whose path holds an @ is left alone', () => {
    expect(redact('see https://github.com/org/repo@v1 and postgres://db-0/chat')).toBe(
      'see https://github.com/org/repo@v1 and postgres://db-0/chat',
    );
  });

  it('PGPASSWORD=, sslpassword= and db_password: are redacted', () => {
    const out = redact('PGPASSWORD=hunter22 psql; postgres://u@h/db?sslpassword=k3y-pass&x=1; db_password: s3cr3t');
    expectClean('redacted text', out, ['hunter22', 'k3y-pass', 's3cr3t']);
  });
});

describe('the migrator scrubs configured secrets from everything that leaves it', () => {
  it('a transform and a migration that put the password in an error, a log line and a nested cause: found nowhere', async () => {
    const { engine, store, ids } = engineWithSecret(2);
    for (const id of ids)
      store
        .shard(id)
        .collection('items', ['id'])
        .upsert([
          { id: 1, n: 1 },
          { id: 2, n: 2 },
        ]);
    const logs: string[] = [];
    const capture = (level: string) => (message: string, fields?: Record<string, unknown>) =>
      void logs.push(`${level} ${message} ${JSON.stringify(fields)}`);
    const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
    const leaky = defineMigration({
      id: '0001-leaky-schema',
      engine: 'memory',
      up: (_h, ctx) => {
        ctx.log.info(`connecting with ${PASSWORD}`, {
          password2: PASSWORD,
          nested: { note: `pw is ${encodeURIComponent(PASSWORD)}`, token: HOST_SECRET },
        });
        if (ctx.shard.id === ids[0]) {
          const driver = Object.assign(new Error(`22P02 invalid input syntax for type integer: "${PASSWORD}"`), {
            code: '22P02',
            detail: `value ${PASSWORD}`,
          });
          throw new Error(`wrapped ${HOST_SECRET}`, { cause: driver });
        }
      },
      down: () => undefined,
    });
    const leakyData = defineDataMigration({
      id: '0002-leaky-data',
      engine: 'memory',
      table: 'items',
      dependsOn: [],
      transform: () => {
        throw new Error(`cannot use ${PASSWORD} here`);
      },
    });
    const migrator = createMigrator({
      engines: { memory: engine },
      migrations: [leaky, leakyData],
      ...QUICK,
      onFailure: 'continue',
      logger,
      secrets: [HOST_SECRET],
    });
    open.push(migrator);
    const events: string[] = [];
    for (const name of [
      'run:start',
      'run:done',
      'plan',
      'shard:start',
      'shard:retry',
      'shard:done',
      'shard:failed',
      'migration:done',
      'batch',
    ] as MigratorEventName[]) {
      migrator.on(name, (e: unknown) => void events.push(JSON.stringify(e)));
    }
    const err = await rejection(migrator.run());
    const secrets = spellings(PASSWORD, HOST_SECRET);
    // The failures were recorded (the test is not vacuous) …
    expect(err.report.totals.failed).toBeGreaterThan(0);
    expect(errorText(err)).toContain('***');
    expect(logs.some((l) => l.includes('connecting with ***'))).toBe(true);
    // … and the secrets are nowhere.
    expectClean('thrown error', errorText(err), secrets);
    expectClean('report', JSON.stringify(err.report), secrets);
    expectClean('events', events.join('\n'), secrets);
    expectClean('logs', logs.join('\n'), secrets);
    const ledgers = ids.map((id) => JSON.stringify([...store.shard(id).ledger.values()])).join('\n');
    expect(ledgers).toContain('failed');
    expectClean('ledger rows', ledgers, secrets);
    expectClean('status()', JSON.stringify(await migrator.status()), secrets);
    expectClean('verify()', JSON.stringify(await migrator.verify()), secrets);
  });

  it('an unreachable shard whose driver error echoes the secret, in run(), rollback() and status(): scrubbed', async () => {
    const { engine, ids } = engineWithSecret(2);
    let down = false;
    const flaky: EngineAdapter = Object.assign(Object.create(engine) as EngineAdapter, {
      shard(id: string) {
        const real = engine.shard(id);
        return new Proxy(real, {
          get(target, prop) {
            if (prop === 'connect' && id === ids[1]) {
              return async (signal?: AbortSignal) => {
                if (down)
                  throw Object.assign(new Error(`connect ECONNREFUSED postgres://app:${PASSWORD}@db-1:5432/chat`), {
                    code: 'ECONNREFUSED',
                  });
                return target.connect(signal);
              };
            }
            const v = Reflect.get(target, prop, target) as unknown;
            return typeof v === 'function' ? (v as () => unknown).bind(target) : v;
          },
        });
      },
    });
    const m = defineMigration({ id: '0001-a', engine: 'memory', up: () => undefined, down: () => undefined });
    const migrator = createMigrator({ engines: { memory: flaky }, migrations: [m], ...QUICK, secrets: [HOST_SECRET] });
    open.push(migrator);
    await migrator.run();
    down = true;
    const secrets = spellings(PASSWORD, HOST_SECRET);
    const m2 = createMigrator({
      engines: { memory: flaky },
      migrations: [m, defineMigration({ id: '0002-b', engine: 'memory', up: () => undefined })],
      ...QUICK,
    });
    open.push(m2);
    const runErr = await rejection(m2.run());
    expect(runErr.message).toContain(ids[1]);
    expectClean('run error', errorText(runErr), secrets);
    const rollbackErr = await rejection(migrator.rollback({ steps: 1 }));
    expect(rollbackErr.report.shards[1].error.code).toBe('MIGRATE_SHARD_UNAVAILABLE');
    expectClean('rollback error', errorText(rollbackErr), secrets);
    expectClean('rollback report', JSON.stringify(rollbackErr.report), secrets);
    expectClean('status()', JSON.stringify(await migrator.status()), secrets);
  });

  it('a host runnerId holding a secret is scrubbed where it is stored (ledger rows, lock owners) and shown (events, report, status); checkpoint keys stay exact', async () => {
    const { engine, store, ids } = engineWithSecret(1);
    // Key values that contain the password: data, which resume needs exact (never scrubbed when stored).
    const keys = [`k1-${PASSWORD}`, `k2-${PASSWORD}`];
    store
      .shard(ids[0]!)
      .collection('items', ['id'])
      .upsert(keys.map((id, n) => ({ id, n })));
    const owners: string[] = [];
    const tryTake = store.locks.tryTake.bind(store.locks);
    store.locks.tryTake = (name, owner, ...rest) => (owners.push(owner), tryTake(name, owner, ...rest));
    const schema = defineMigration({ id: '0001-schema', engine: 'memory', up: () => undefined, down: () => undefined });
    const data = defineDataMigration({
      id: '0002-data',
      engine: 'memory',
      table: 'items',
      batchSize: 1,
      transform: (row) => ({ ...row, n: (row.n as number) + 1 }),
    });
    const runnerId = `runner-${HOST_SECRET}-${encodeURIComponent(PASSWORD)}`;
    const migrator = createMigrator({
      engines: { memory: engine },
      migrations: [schema, data],
      ...QUICK,
      runnerId,
      secrets: [HOST_SECRET],
    });
    open.push(migrator);
    const events: string[] = [];
    for (const name of ['run:start', 'run:done', 'shard:start', 'shard:done', 'batch'] as MigratorEventName[])
      migrator.on(name, (e: unknown) => void events.push(JSON.stringify(e)));
    const report = await migrator.run();
    const secrets = spellings(PASSWORD, HOST_SECRET);
    expect(migrator.runnerId).toBe('runner-***-***');
    expect(report.runnerId).toBe('runner-***-***');
    const rows = [...store.shard(ids[0]!).ledger.values()];
    expect(rows.map((r) => r.runnerId)).toEqual(['runner-***-***', 'runner-***-***']);
    expect(owners.length).toBeGreaterThan(0);
    for (const owner of owners) expect(owner).toBe('runner-***-***');
    expectClean('events', events.join('\n'), secrets);
    expectClean('report', JSON.stringify(report), secrets);
    expectClean('status()', JSON.stringify(await migrator.status()), secrets);
    // The stored checkpoint keeps the last key as it is in the table, so a resume continues after it.
    const checkpoint = rows.find((r) => r.id === '0002-data')!.checkpoint;
    expect(checkpoint?.after).toEqual([keys[1]]);
  });
});
