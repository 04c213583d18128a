/** Conformance cases of verification: data checks, bisection to the changed row, and checksums. */
import { assertEqualData, compareData, defineDataMigration, ErrorCode, type Row } from '../../index.js';
import type { Case, CaseContext, ConformanceOptions } from './context.js';
import type { SuiteRow } from './harness.js';

/** Rows per shard of the verification case: enough for several leaves of the bisection. */
export const VERIFICATION_ROWS = 3_000;

async function corruptedRowFound(c: CaseContext, rowsPerShard: number): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(2);
  await fx.createRowsTable('items');
  const rows: SuiteRow[] = Array.from({ length: rowsPerShard }, (_, i) => ({
    id: i - 500,
    name: `r${i}`,
    n: i,
    note: null,
  }));
  const [a, b] = fx.shardIds as [string, string];
  await fx.seed(a, 'items', rows);
  await fx.seed(b, 'items', rows);
  const tag = defineDataMigration({
    id: '0001-tag',
    engine: fx.engineName,
    table: 'items',
    key: fx.keyField,
    batchSize: 500,
    transform: (row: Row) => (row.note === null ? { ...row, note: 'tagged' } : null),
    verify: (row: Row) => row.note === 'tagged' || `note is ${JSON.stringify(row.note)}`,
  });
  await c.migrator([tag]).run();
  expect((await c.migrator([tag]).verify({ data: true })).ok).toBe(true);
  await fx.seed(b, 'items', [{ id: 534, name: 'r1034', n: 1034, note: 'corrupted' }]);
  const report = await c.migrator([tag]).verify({ data: true });
  expect(report.ok).toBe(false);
  const check = report.data.find((d) => d.shardId === b)!;
  expect(check.rows).toBe(rowsPerShard);
  expect(check.failures).toEqual([{ key: [534], reason: 'note is "corrupted"' }]);
  expect(report.data.find((d) => d.shardId === a)!.failures).toEqual([]);
  const target = { name: 'items', key: [fx.keyField] };
  const left = { store: c.engine().shard(a).data, target };
  const right = { store: c.engine().shard(b).data, target };
  const diff = await compareData(left, right, { leafRows: 64 });
  expect(diff.equal).toBe(false);
  expect(diff.differences).toEqual([{ key: [534], kind: 'changed' }]);
  const err = await assertEqualData(left, right).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: ErrorCode.ValidationFailed });
  expect((err as { ranges: unknown[] }).ranges.length).toBeGreaterThan(0);
  await fx.seed(b, 'items', [{ id: 534, name: 'r1034', n: 1034, note: 'tagged' }]);
  expect((await compareData(left, right)).equal).toBe(true);
}

async function checksums(c: CaseContext): Promise<void> {
  const { expect } = c;
  const fx = await c.setup(2);
  await fx.createRowsTable('items');
  const rows: SuiteRow[] = Array.from({ length: 30 }, (_, i) => ({
    id: i,
    name: i % 2 ? 'a' : 'ab',
    n: i === 4 ? null : -i,
    note: i % 3 ? 'c' : null,
  }));
  const [a, b] = fx.shardIds as [string, string];
  await fx.seed(a, 'items', rows);
  await fx.seed(b, 'items', [...rows].reverse());
  const target = { name: 'items', key: [fx.keyField] };
  const ca = await c.engine().shard(a).data.checksum(target);
  const cb = await c.engine().shard(b).data.checksum(target);
  expect(ca).toEqual(cb);
  expect(ca.count).toBe(30);
  await fx.seed(b, 'items', [{ ...rows[7]!, note: 'changed' }]);
  expect((await c.engine().shard(b).data.checksum(target)).hash).not.toBe(ca.hash);
  const ranged = await c
    .engine()
    .shard(a)
    .data.checksum({ ...target }, { after: [9], upTo: [19] });
  expect(ranged.count).toBe(10);
  expect(
    await c
      .engine()
      .shard(a)
      .data.count(target, { after: [-1], upTo: [4] }),
  ).toBe(5);
}

/** The verification cases; the first one's table size (and name) follows `options.verificationRows`. */
export function verifyCases(options: ConformanceOptions): readonly Case[] {
  const verification = options.verificationRows ?? { rows: VERIFICATION_ROWS, reason: '' };
  // The corrupted row is id 534, the 1035th row.
  if (verification.rows < 1_100) throw new Error(`verificationRows must be at least 1100, got ${verification.rows}`);
  const reduced = verification.reason ? `, reduced from ${VERIFICATION_ROWS}: ${verification.reason}` : '';
  return [
    {
      name: `verification: one row corrupted after a migration is found by key, by predicate and by bisection (${verification.rows} rows per shard${reduced})`,
      run: (c) => corruptedRowFound(c, verification.rows),
      timeoutMs: 180_000,
    },
    { name: 'checksum: independent of insertion order, sensitive to one changed value', run: checksums },
  ];
}
