/** Conformance cases of the ledger: concurrent init, and records written under a fence. */
import { ErrorCode, type ShardAdapter } from '../../index.js';
import { acquireLock } from '../../engine/index.js';
import type { Case, CaseContext } from './context.js';

/** The engine's objects on a shard (see `Fixture.catalog`), through a migration's handle. */
async function catalog(c: CaseContext, shard: ShardAdapter): Promise<string[]> {
  let names: string[] = [];
  await shard.executor.execute(
    { migrationId: 'conf-catalog', direction: 'up', transaction: false },
    async (h) => void (names = (await c.fx.catalog?.(h)) ?? []),
  );
  return names;
}

const record = {
  id: 'x1',
  state: 'applied' as const,
  checksum: 'c1',
  startedAt: null,
  finishedAt: null,
  runnerId: 'a',
  checkpoint: null,
  counts: null,
  error: null,
  seq: 1,
};

async function concurrentInit(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  const shards = Array.from({ length: 4 }, () => c.engine().shard(fx.shardIds[0]!));
  await Promise.all(shards.map(async (s) => s.connect()));
  await Promise.all(shards.map((s) => s.ledger.init()));
  const afterConcurrent = await catalog(c, shards[0]!);
  if (fx.catalog) expect(afterConcurrent.length, 'the catalog query found the ledger').toBeGreaterThan(0);
  expect(
    afterConcurrent.filter((o, i) => afterConcurrent.indexOf(o) !== i),
    'duplicate objects after concurrent init',
  ).toEqual([]);
  await shards[0]!.ledger.init();
  expect(await catalog(c, shards[0]!)).toEqual(afterConcurrent);
  expect(await shards[0]!.ledger.list()).toEqual([]);
  // One record per id however many runners initialised the ledger: the key is still unique.
  const lease = await acquireLock(shards[1]!.lock, 'conf:init', { owner: 'a', ttlMs: 5_000, waitMs: 0 });
  const fence = { lockName: lease.name, token: lease.token };
  for (const [i, s] of shards.entries()) await s.ledger.put({ ...record, checksum: `c${i}` }, fence);
  const listed = await shards[2]!.ledger.list();
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({ id: 'x1', checksum: `c${shards.length - 1}` });
  await lease.release();
}

async function fencedPut(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  const s = c.engine().shard(fx.shardIds[0]!);
  await s.connect();
  await s.ledger.init();
  const a = await acquireLock(s.lock, 'conf:fence', { owner: 'a', ttlMs: 5_000, waitMs: 0 });
  const full = {
    ...record,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    checkpoint: { after: [-3, 'ü'], fingerprint: 'f', direction: 'up' as const },
    counts: { read: 3, written: 2, skipped: 1 },
  };
  await s.ledger.put(full, { lockName: a.name, token: a.token });
  expect(await s.ledger.list()).toEqual([full]);
  expect(await s.lock.forceRelease('conf:fence')).toBe(true);
  const b = await acquireLock(s.lock, 'conf:fence', { owner: 'b', ttlMs: 5_000, waitMs: 0 });
  expect(b.token).toBeGreaterThan(a.token);
  const stale = s.ledger.put({ ...full, checksum: 'c2' }, { lockName: a.name, token: a.token });
  await expect(stale).rejects.toMatchObject({ code: ErrorCode.StaleLease });
  await expect(s.ledger.delete('x1', { lockName: a.name, token: a.token })).rejects.toMatchObject({
    code: ErrorCode.StaleLease,
  });
  expect((await s.ledger.list())[0]!.checksum).toBe('c1');
  await s.ledger.put({ ...full, checksum: 'c3' }, { lockName: b.name, token: b.token });
  expect((await s.ledger.list())[0]!.checksum).toBe('c3');
  await b.release();
}

export const ledgerCases: readonly Case[] = [
  {
    name: 'ledger: init is idempotent and safe when called concurrently: no duplicate table, index or record',
    run: concurrentInit,
  },
  { name: 'ledger: put/list round-trips a record; a stale fence is refused and writes nothing', run: fencedPut },
];
