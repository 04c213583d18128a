/**
 * The MongoDB upsert race in the ledger (issue 8 follow-up), on the real MongoDB-wire server:
 * concurrent `ledger.put` calls of a record that does not exist yet, all with the SAME valid fence,
 * can all try the upsert's insert; the losers get E11000 (duplicate key) although nothing newer
 * wrote the record. That must not be reported as `StaleLeaseError`: the put retries once and
 * succeeds. A genuinely newer fence still refuses the write (the retry meets it again).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type LedgerRecord } from '@mcp/migrate-core';
import { acquireLock } from '@mcp/migrate-core/engine';
import { mongoEnabled, mongoServerFixture } from '@mcp/test-support';
import { mongoEngine } from '../src/index.js';

const enabled = await mongoEnabled();
/** Records raced per case, and writers per record; small, as FerretDB writes take ~10 ms each. */
const RECORDS = 25;
const WRITERS = 4;

const record = (id: string, runnerId: string): LedgerRecord => ({
  id,
  state: 'running',
  checksum: 'c',
  startedAt: null,
  finishedAt: null,
  runnerId,
  checkpoint: null,
  counts: null,
  error: null,
  seq: 1,
});

describe.runIf(enabled)('ledger.put under the upsert race (MongoDB-wire server)', () => {
  const { client, fresh, engine } = mongoServerFixture(mongoEngine);

  it(`${WRITERS} concurrent puts of a new record with the same valid fence all succeed (${RECORDS} records), none is reported stale`, async () => {
    const db = fresh('mcp_ledger_race');
    // One engine (one connection pool) per writer, so the upserts really reach the server together.
    const shards = Array.from({ length: WRITERS }, () => engine([db]).shard('mg-0'));
    await shards[0]!.ledger.init();
    const lease = await acquireLock(shards[0]!.lock, 'race', { owner: 'w', ttlMs: 60_000, waitMs: 0 });
    const fence = { lockName: 'race', token: lease.token };
    const failures: unknown[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const results = await Promise.allSettled(
        shards.map((s, w) => s.ledger.put(record(`m${i}`, `writer-${w}`), fence)),
      );
      for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
    }
    expect(failures.map((f) => `${(f as { code?: string }).code}: ${(f as Error).message}`)).toEqual([]);
    // Every record exists once, written by one of the writers, stamped with the fence.
    const docs = await client.db(db).collection('mcp_migrations').find({}).toArray();
    expect(docs).toHaveLength(RECORDS);
    for (const d of docs) {
      expect(String(d.runnerId)).toMatch(/^writer-[0-9]$/);
      expect(d.fence).toEqual(fence);
    }
    await lease.release();
  }, 120_000);

  it('a record stamped with a newer fence still refuses the write after the retry (StaleLeaseError)', async () => {
    const db = fresh('mcp_ledger_race');
    const s = engine([db]).shard('mg-0');
    await s.ledger.init();
    const lease = await acquireLock(s.lock, 'race', { owner: 'w', ttlMs: 60_000, waitMs: 0 });
    const fence = { lockName: 'race', token: lease.token };
    await s.ledger.put(record('m1', 'first'), fence);
    await client
      .db(db)
      .collection('mcp_migrations')
      .updateOne({ _id: 'm1' as never }, { $set: { 'fence.token': lease.token + 1 } });
    await expect(s.ledger.put(record('m1', 'late'), fence)).rejects.toMatchObject({ code: ErrorCode.StaleLease });
    expect(
      await client
        .db(db)
        .collection('mcp_migrations')
        .findOne({ _id: 'm1' as never }),
    ).toMatchObject({ runnerId: 'first' });
    await lease.release();
  });
});
