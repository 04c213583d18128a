/**
 * The engine adapter contract (issue 9): `verifyEngineAdapter` refuses a malformed adapter at
 * `createMigrator`, naming the member; `engineAdapterDefaults` / `EngineAdapterBase` give the
 * defaults; `classifyError` alone decides retries of a driver error; `defaultKey` is resolved when
 * migrations are bound to their engine (checksums unchanged); `compareKeys` is the order core uses.
 */
import { describe, expect, it } from 'vitest';
import { defineDataMigration, defineMigration } from '../src/definition/migration.js';
import {
  EngineAdapterBase,
  engineAdapterDefaults,
  errorClass,
  verifyEngineAdapter,
  type EngineAdapter,
  type ErrorClass,
  type ShardAdapter,
  type ShardDescriptor,
} from '../src/engine/index.js';
import { isMigrateError } from '../src/errors/errors.js';
import { createMigrator } from '../src/run/migrator.js';
import { compareKeys } from '../src/engine/key-order.js';
import { compareData } from '../src/verify/compare.js';
import { createMemoryStore, memoryEngine, type MemoryShard } from '../src/testing/index.js';
import { memory, QUICK } from './helpers.js';

/** A memory engine re-dressed as a third-party adapter, with `patch` applied on top. */
function thirdParty(
  patch: Record<string, unknown> = {},
  name = 'memory',
  store = createMemoryStore(),
): EngineAdapter<MemoryShard> {
  const inner = memoryEngine({ name, shards: [`${name}-x0`, `${name}-x1`], store });
  return {
    ...engineAdapterDefaults,
    name: inner.name,
    shards: inner.shards,
    shard: (id: string) => inner.shard(id),
    close: () => inner.close(),
    ...patch,
  } as EngineAdapter<MemoryShard>;
}

/** `shard` with its data store replaced by `data` (members bound to the original). */
function withData(shard: ShardAdapter<MemoryShard>, data: object): ShardAdapter<MemoryShard> {
  return {
    id: shard.id,
    engine: shard.engine,
    capabilities: shard.capabilities,
    ledger: shard.ledger,
    lock: shard.lock,
    connect: (signal) => shard.connect(signal),
    executor: shard.executor,
    close: () => shard.close(),
    data: data as ShardAdapter['data'],
  };
}

/** The members of a data store, bound to it, with `change` applied (a member set to `undefined` is left out). */
function boundData(data: object, change: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of [
    'scan',
    'count',
    'checksum',
    'write',
    'update',
    'remove',
    'drop',
    'inspect',
    'compareAndSet',
    'serverCopy',
    'serverUpdate',
  ]) {
    const v = (data as Record<string, unknown>)[name];
    if (v !== undefined) out[name] = typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(data) : v;
  }
  for (const [k, v] of Object.entries(change))
    if (v === undefined) delete out[k];
    else out[k] = v;
  return out;
}

function refusal(make: () => unknown): { code: string; field: string; message: string } {
  try {
    make();
  } catch (error) {
    expect(isMigrateError(error), String(error)).toBe(true);
    return error as never;
  }
  throw new Error('expected a refusal');
}

describe('verifyEngineAdapter: a malformed adapter is refused at createMigrator, naming the member', () => {
  const migrations = [defineMigration({ id: '0001', engine: 'memory', up: () => undefined })];
  const construct = (engine: unknown) => () =>
    createMigrator({ engines: { memory: engine as EngineAdapter }, migrations });

  it.each<[string, Record<string, unknown>, string]>([
    ['classifyError missing', { classifyError: undefined }, 'member "classifyError" must be a function'],
    ['compareKeys not a function', { compareKeys: 'bytewise' }, 'member "compareKeys" must be a function, got string'],
    ['defaultKey empty', { defaultKey: [] }, 'member "defaultKey" must be a non-empty array'],
    [
      'capabilities flag not a boolean',
      { capabilities: { transactions: 'yes', transactionalDdl: false, changeCapture: false } },
      'member "capabilities.transactions" must be a boolean',
    ],
    ['control not a function', { control: {} }, 'member "control" must be a function when present'],
    ['shards not an array', { shards: 'memory-x0' }, 'member "shards" must be an array'],
  ])('%s', (_name, patch, message) => {
    const error = refusal(construct(thirdParty(patch)));
    expect(error.code).toBe('MIGRATE_CONFIG');
    expect(error.field).toBe('engines.memory');
    expect(error.message).toContain('createMigrator: field "engines.memory"');
    expect(error.message).toContain(message);
  });

  it('a shard adapter without ledger.put, or one that names another shard, is refused naming the shard and member', () => {
    const inner = thirdParty();
    const withoutPut = thirdParty({
      shard: (id: string) => {
        const s = inner.shard(id);
        return { ...withData(s, s.data), ledger: { ...s.ledger, put: undefined } };
      },
    });
    expect(refusal(construct(withoutPut)).message).toContain(
      'member "shard("memory-x0").ledger.put" must be a function, got undefined',
    );
    const wrongId = thirdParty({
      shard: (id: string) => ({ ...withData(inner.shard(id), inner.shard(id).data), id: 'elsewhere' }),
    });
    expect(refusal(construct(wrongId)).message).toContain(
      'member "shard("memory-x0").id" must be "memory-x0", got "elsewhere"',
    );
  });

  it("a capability flag that says true needs its member on every shard's data store", () => {
    for (const flag of ['compareAndSet', 'serverCopy', 'inspect']) {
      const inner = thirdParty();
      const lying = thirdParty({
        capabilities: { transactions: false, transactionalDdl: false, changeCapture: false, [flag]: true },
        shard: (id: string) => withData(inner.shard(id), boundData(inner.shard(id).data, { [flag]: undefined })),
      });
      const error = refusal(construct(lying));
      expect(error.message).toContain(
        `member "shard("memory-x0").data.${flag}" must be present: capabilities.${flag} is true`,
      );
    }
  });

  it('refuses nothing of the built-in memory engine, a spread of engineAdapterDefaults, or an EngineAdapterBase subclass', async () => {
    expect(() => verifyEngineAdapter(memory(2).engine)).not.toThrow();
    const spread = thirdParty();
    expect(() => verifyEngineAdapter(spread)).not.toThrow();
    class Custom extends EngineAdapterBase<MemoryShard> {
      readonly name = 'memory';
      readonly #inner = memoryEngine({ name: 'memory', shards: ['c-0'] });
      get shards(): readonly ShardDescriptor[] {
        return this.#inner.shards;
      }
      shard(id: string): ShardAdapter<MemoryShard> {
        return this.#inner.shard(id);
      }
      async close(): Promise<void> {}
    }
    const custom = new Custom();
    expect(() => verifyEngineAdapter(custom)).not.toThrow();
    expect(custom.defaultKey).toEqual(['id']);
    expect(custom.classifyError(new Error('x'))).toEqual({ reason: 'unknown', retryable: false });
    expect(custom.classifyError(Object.assign(new Error('x'), { retryable: true }))).toEqual({
      reason: 'unknown',
      retryable: true,
    });
    const report = await createMigrator({ engines: { memory: custom }, migrations, ...QUICK }).run();
    expect(report.totals.applied).toBe(1);
  });
});

describe('classifyError decides retries of driver errors', () => {
  /** Attempts per shard of a step whose first two attempts throw a driver error. */
  async function attemptsWith(classify: (error: unknown) => ErrorClass): Promise<number[]> {
    const attempts = new Map<string, number>();
    const engine = thirdParty({ classifyError: classify });
    const m = defineMigration({
      id: '0001',
      engine: 'memory',
      up: (_h, ctx) => {
        const n = (attempts.get(ctx.shard.id) ?? 0) + 1;
        attempts.set(ctx.shard.id, n);
        if (n < 3) throw Object.assign(new Error('driver says no'), { code: 'XX001' });
      },
    });
    await createMigrator({ engines: { memory: engine }, migrations: [m], ...QUICK, onFailure: 'continue' })
      .run()
      .catch(() => undefined);
    return [...attempts.values()];
  }

  it('a retryable reason is retried until it succeeds; a permanent one fails at once', async () => {
    expect(
      await attemptsWith((e) =>
        (e as { code?: string }).code === 'XX001' ? errorClass('connection-lost') : errorClass('unknown'),
      ),
    ).toEqual([3, 3]);
    expect(await attemptsWith(() => errorClass('invalid-input'))).toEqual([1, 1]);
  });
});

describe("defaultKey: a data migration without a key gets its engine adapter's default when bound", () => {
  it('a third-party engine with defaultKey ["pk"] scans by pk; the checksum is the one defined', async () => {
    const store = createMemoryStore();
    for (const id of ['vendor-x0', 'vendor-x1'])
      store
        .shard(id)
        .collection('items', ['pk'])
        .upsert([
          { pk: 1, n: 1 },
          { pk: 2, n: 2 },
        ]);
    const engine = thirdParty({ defaultKey: ['pk'] }, 'vendor', store);
    const m = defineDataMigration({
      id: '0001-d',
      engine: 'vendor',
      table: 'items',
      transform: (r) => ({ ...r, n: (r.n as number) + 1 }),
    });
    expect(m.target.key).toEqual(['id']); // as defined (checksum input unchanged)
    const checksum = m.checksum;
    const seen: string[][] = [];
    const spy = {
      ...engine,
      shard: (id: string) => {
        const s = engine.shard(id);
        const scan = (target: { key: string[] }, ...rest: unknown[]) => (
          seen.push([...target.key]),
          (s.data.scan as (...a: unknown[]) => unknown).call(s.data, target, ...rest)
        );
        return withData(s, boundData(s.data, { scan }));
      },
    } as EngineAdapter<MemoryShard>;
    const report = await createMigrator({ engines: { vendor: spy }, migrations: [m], ...QUICK }).run();
    expect(report.totals.failed).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((k) => k.length === 1 && k[0] === 'pk')).toBe(true);
    expect(m.checksum).toBe(checksum);
    expect(
      store
        .shard('vendor-x0')
        .collection('items')
        .rows()
        .map((r) => r.n),
    ).toEqual([2, 3]);
    const status = await createMigrator({ engines: { vendor: spy }, migrations: [m], ...QUICK }).status();
    expect(status.shards.flatMap((s) => s.migrations.map((r) => r.checksum))).toEqual([checksum, checksum]);
  });

  it("a declared key is kept whatever the adapter's default", async () => {
    const store = createMemoryStore();
    for (const id of ['vendor-x0', 'vendor-x1'])
      store
        .shard(id)
        .collection('items', ['id'])
        .upsert([{ id: 1 }]);
    const engine = thirdParty({ defaultKey: ['pk'] }, 'vendor', store);
    const m = defineDataMigration({ id: '0001-d', engine: 'vendor', table: 'items', key: 'id', transform: (r) => r });
    const plan = await createMigrator({ engines: { vendor: engine }, migrations: [m], ...QUICK }).plan();
    expect(plan.shards.every((s) => s.steps.length === 1)).toBe(true);
    expect(m.target.key).toEqual(['id']);
  });
});

describe('compareKeys: one key order', () => {
  it('the SDK order is BSON type order: null < numbers < strings < objects < arrays < binary < ObjectId < booleans < dates', () => {
    const oid = (hex: string) => ({ _bsontype: 'ObjectId', toHexString: () => hex });
    const keys: unknown[] = [
      new Date(5),
      true,
      oid('02'),
      new Uint8Array([9]),
      [1],
      { a: 1 },
      'b',
      3n,
      2.5,
      null,
      false,
      oid('01'),
      new Uint8Array([1, 1]),
      new Date(1),
    ];
    const order = keys
      .map((k) => [k])
      .sort(compareKeys)
      .map(([k]) => keys.indexOf(k));
    // null, 2.5, 3n, 'b', { a: 1 }, [1], bytes [9] (shorter first), bytes [1, 1], ObjectId 01, 02, false, true, Date 1, Date 5
    expect(order).toEqual([9, 8, 7, 6, 5, 4, 3, 12, 11, 2, 10, 1, 13, 0]);
  });

  it('compareData orders ranges with the compareKeys it is given', async () => {
    const { engine, store, ids } = memory(1);
    const rows = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, v: i }));
    store.shard(ids[0]!).collection('a').upsert(rows);
    store
      .shard(ids[0]!)
      .collection('b')
      .upsert(rows.map((r) => (r.id === 7 ? { ...r, v: -1 } : r)));
    const data = engine.shard(ids[0]!).data;
    let calls = 0;
    const counting = (x: readonly unknown[], y: readonly unknown[]) => (calls++, engine.compareKeys(x, y));
    const result = await compareData(
      { store: data, target: { name: 'a', key: ['id'] } },
      { store: data, target: { name: 'b', key: ['id'] } },
      { leafRows: 4, fanout: 2, compareKeys: counting },
    );
    expect(result.differences).toEqual([{ key: [7], kind: 'changed' }]);
    expect(calls).toBeGreaterThan(0);
  });
});
