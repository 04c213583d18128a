/** Conformance cases of the lock: exclusive leases, tryAcquire, expiry, and a race of 20 callers. */
import { ErrorCode, isMigrateError, type ShardAdapter } from '../../index.js';
import { acquireLock, type Lease } from '../../engine/index.js';
import type { Case, CaseContext } from './context.js';

/** Name of the case that races tryAcquire calls (a harness may skip it by this name, with a reason). */
export const CONCURRENT_TRY_ACQUIRE = 'lock: of 20 concurrent tryAcquire calls on a free lock exactly one wins';

/** Two runners' views of one fresh shard, connected and with their ledgers initialised. */
async function twoRunners(c: CaseContext): Promise<[ShardAdapter, ShardAdapter]> {
  const fx = await c.setup(1);
  const s1 = c.engine().shard(fx.shardIds[0]!);
  const s2 = c.engine().shard(fx.shardIds[0]!);
  await Promise.all([s1.connect(), s2.connect()]);
  await Promise.all([s1.ledger.init(), s2.ledger.init()]);
  return [s1, s2];
}

async function exclusive(c: CaseContext): Promise<void> {
  const { expect } = c;
  const [s1, s2] = await twoRunners(c);
  const a = await acquireLock(s1.lock, 'conf:lock', { owner: 'runner-a', ttlMs: 5_000, waitMs: 0 });
  const status = await s2.lock.status('conf:lock');
  expect(status).toMatchObject({ owner: 'runner-a', token: a.token });
  const err = await acquireLock(s2.lock, 'conf:lock', { owner: 'runner-b', ttlMs: 5_000, waitMs: 150 }).catch(
    (e: unknown) => e,
  );
  expect(isMigrateError(err) && err.code).toBe(ErrorCode.LockTimeout);
  expect(String((err as Error).message)).toContain('runner-a');
  await a.release();
  const b = await acquireLock(s2.lock, 'conf:lock', { owner: 'runner-b', ttlMs: 5_000, waitMs: 2_000 });
  expect(b.token).toBeGreaterThan(a.token);
  await b.release();
  expect(await s1.lock.status('conf:lock')).toBeNull();
}

async function tryAcquireTokens(c: CaseContext): Promise<void> {
  const { expect } = c;
  const [s1, s2] = await twoRunners(c);
  const tokens: number[] = [];
  const take = async (s: ShardAdapter, owner: string) => {
    const lease = await s.lock.tryAcquire('conf:try', { owner, ttlMs: 5_000 });
    expect(lease, `${owner} takes the free lock`).not.toBeNull();
    expect(lease!.owner).toBe(owner);
    expect(lease!.token, `token of ${owner} after ${tokens.join(', ')}`).toBeGreaterThan(Math.max(0, ...tokens));
    tokens.push(lease!.token);
    return lease!;
  };
  const a = await take(s1, 'runner-a');
  expect(await s2.lock.tryAcquire('conf:try', { owner: 'runner-b', ttlMs: 5_000 })).toBeNull();
  expect(await s1.lock.tryAcquire('conf:try', { owner: 'runner-a', ttlMs: 5_000 }), 'not re-entrant').toBeNull();
  expect(await s2.lock.status('conf:try')).toMatchObject({ owner: 'runner-a', token: a.token });
  await a.release();
  const b = await take(s2, 'runner-b');
  expect(await s1.lock.tryAcquire('conf:try', { owner: 'runner-a', ttlMs: 5_000 })).toBeNull();
  expect(await s1.lock.forceRelease('conf:try')).toBe(true);
  await expect(b.renew()).rejects.toMatchObject({ code: ErrorCode.StaleLease });
  const c3 = await take(s1, 'runner-c');
  await b.release();
  expect(await s2.lock.status('conf:try'), 'a lost lease releasing changes nothing').toMatchObject({
    owner: 'runner-c',
    token: c3.token,
  });
  await c3.release();
  expect(await s2.lock.status('conf:try')).toBeNull();
}

async function tryAcquireAfterExpiry(c: CaseContext): Promise<void> {
  const { expect } = c;
  const [s1, s2] = await twoRunners(c);
  const a = (await s1.lock.tryAcquire('conf:ttl', { owner: 'runner-a', ttlMs: 300 }))!;
  expect(a).not.toBeNull();
  const held = await s2.lock.status('conf:ttl');
  expect(held).toMatchObject({ owner: 'runner-a', token: a.token });
  if (held!.expiresAt === null) {
    // A session lock (PostgreSQL advisory lock) does not expire while its session lives: it is
    // still refused after the ttl, and passes on with the session's end (see the SIGKILL tests).
    await new Promise((r) => setTimeout(r, 450));
    expect(await s2.lock.tryAcquire('conf:ttl', { owner: 'runner-b', ttlMs: 5_000 })).toBeNull();
    await a.release();
    return;
  }
  expect(await s2.lock.tryAcquire('conf:ttl', { owner: 'runner-b', ttlMs: 5_000 })).toBeNull();
  const deadline = Date.now() + 10_000;
  let b: Lease | null = null;
  while (!b && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    b = await s2.lock.tryAcquire('conf:ttl', { owner: 'runner-b', ttlMs: 5_000 });
  }
  expect(b, 'the expired lease is taken').not.toBeNull();
  expect(b!.token).toBeGreaterThan(a.token);
  await expect(a.renew()).rejects.toMatchObject({ code: ErrorCode.StaleLease });
  await a.release();
  expect(await s1.lock.status('conf:ttl')).toMatchObject({ owner: 'runner-b', token: b!.token });
  await b!.release();
}

async function tryAcquireRace(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(1);
  const shards = Array.from({ length: 4 }, () => c.engine().shard(fx.shardIds[0]!));
  await Promise.all(shards.map((s) => s.connect()));
  await Promise.all(shards.map((s) => s.ledger.init()));
  const before = await acquireLock(shards[0]!.lock, 'conf:race', { owner: 'warm-up', ttlMs: 5_000, waitMs: 0 });
  await before.release();
  const leases = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      shards[i % shards.length]!.lock.tryAcquire('conf:race', { owner: `racer-${i}`, ttlMs: 5_000 }),
    ),
  );
  const won = leases.filter((l) => l !== null);
  expect(won).toHaveLength(1);
  expect(won[0]!.token).toBeGreaterThan(before.token);
  expect(await shards[1]!.lock.status('conf:race')).toMatchObject({ owner: won[0]!.owner, token: won[0]!.token });
  await won[0]!.release();
}

export const lockCases: readonly Case[] = [
  {
    name: 'lock: exclusive, times out naming the holder, and passes on with a larger token after release',
    run: exclusive,
  },
  {
    name: 'lock: tryAcquire returns null while held, then a token greater than every earlier one after release and after forceRelease',
    run: tryAcquireTokens,
  },
  {
    name: 'lock: tryAcquire after a lease expired (not renewed past its ttl) gives a greater token; the old lease is lost',
    run: tryAcquireAfterExpiry,
  },
  { name: CONCURRENT_TRY_ACQUIRE, run: tryAcquireRace },
];
