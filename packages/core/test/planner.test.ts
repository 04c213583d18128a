import { describe, expect, it } from 'vitest';
import { defineDataMigration, defineMigration, type Migration } from '../src/definition/migration.js';
import { orderMigrations, plan, planRollback, waves, type PlanInput } from '../src/plan/planner.js';
import { ErrorCode, PlanError } from '../src/errors/errors.js';
import { hashRouter } from '../src/router/router.js';
import type { LedgerRecord, LedgerState, ShardDescriptor } from '../src/engine/index.js';

const pg: ShardDescriptor[] = [
  { id: 'pg-0', engine: 'postgres' },
  { id: 'pg-1', engine: 'postgres' },
];
const mg: ShardDescriptor[] = [{ id: 'mg-0', engine: 'mongodb' }];
const shards = [...pg, ...mg];

const schema = (id: string, engine = 'postgres', extra: Partial<Parameters<typeof defineMigration>[0]> = {}) =>
  defineMigration({ id, engine, up: async () => {}, down: async () => {}, ...extra });

let seq = 0;
const rec = (m: Migration | string, state: LedgerState, checksum?: string): LedgerRecord => ({
  id: typeof m === 'string' ? m : m.id,
  state,
  checksum: checksum ?? (typeof m === 'string' ? 'x' : m.checksum),
  startedAt: null,
  finishedAt: null,
  runnerId: null,
  checkpoint: null,
  counts: null,
  error: null,
  seq: ++seq,
});

const refusal = (fn: () => unknown): PlanError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PlanError);
    return e as PlanError;
  }
  throw new Error('expected a PlanError');
};

describe('orderMigrations', () => {
  it('orders topologically, ties broken by id, regardless of input order', () => {
    const ms = [
      schema('c'),
      schema('b', 'postgres', { dependsOn: ['d'] }),
      schema('a', 'postgres', { dependsOn: ['c'] }),
      schema('d'),
      schema('e'),
    ];
    const expected = ['c', 'a', 'd', 'b', 'e'];
    expect(orderMigrations(ms).map((m) => m.id)).toEqual(expected);
    expect(orderMigrations([...ms].reverse()).map((m) => m.id)).toEqual(expected);
  });

  it('refuses a duplicate id', () => {
    const e = refusal(() => orderMigrations([schema('a'), schema('b'), schema('a', 'mongodb')]));
    expect(e).toMatchObject({ code: ErrorCode.Duplicate, migrationId: 'a', field: 'id' });
  });

  it('refuses an unknown dependency, naming the migration and the missing id', () => {
    const e = refusal(() => orderMigrations([schema('a'), schema('b', 'postgres', { dependsOn: ['a', 'zz'] })]));
    expect(e).toMatchObject({ code: ErrorCode.UnknownDependency, migrationId: 'b', field: 'dependsOn' });
    expect(e.message).toContain('"zz"');
  });

  it('refuses a cycle and shows its path', () => {
    const ms = [
      schema('a'),
      schema('b', 'postgres', { dependsOn: ['a', 'd'] }),
      schema('c', 'postgres', { dependsOn: ['b'] }),
      schema('d', 'postgres', { dependsOn: ['c'] }),
    ];
    const e = refusal(() => orderMigrations(ms));
    expect(e).toMatchObject({ code: ErrorCode.Cycle, field: 'dependsOn' });
    const path = e.message.split(': ').at(-1)!.split(' → ');
    // A closed path over exactly b, c, d.
    expect(path[0]).toBe(path.at(-1));
    expect(new Set(path)).toEqual(new Set(['b', 'c', 'd']));
    expect(path).toHaveLength(4);
    expect(['b', 'c', 'd']).toContain(e.migrationId);
    // each step follows a dependsOn edge one way or the other, consistently
    const deps = new Map(ms.map((m) => [m.id, m.dependsOn]));
    const forward = path.slice(1).every((id, i) => deps.get(path[i]!)!.includes(id));
    const backward = path.slice(1).every((id, i) => deps.get(id)!.includes(path[i]!));
    expect(forward || backward).toBe(true);
  });
});

describe('plan', () => {
  const input = (
    migrations: Migration[],
    ledgers: Record<string, LedgerRecord[]> = {},
    extra: Partial<PlanInput> = {},
  ): PlanInput => ({
    migrations,
    shards,
    ledgers: new Map(Object.entries(ledgers)),
    ...extra,
  });

  it('plans each migration on every shard of its engine, in order, and counts pending', () => {
    const a = schema('0001-a');
    const b = schema('0002-b', 'postgres', { dependsOn: ['0001-a'] });
    const m = schema('0001-m', 'mongodb');
    const p = plan(input([b, m, a]));
    expect(p.order).toEqual(['0001-a', '0001-m', '0002-b']);
    expect(p.shards.map((s) => [s.shardId, s.steps.map((x) => x.migrationId)])).toEqual([
      ['pg-0', ['0001-a', '0002-b']],
      ['pg-1', ['0001-a', '0002-b']],
      ['mg-0', ['0001-m']],
    ]);
    expect(p.pending).toBe(5);
    expect(p.shards[0]!.steps[0]).toMatchObject({ action: 'apply', kind: 'schema', checksum: a.checksum, wave: 0 });
  });

  it('skips applied migrations and lists them in apply order', () => {
    const a = schema('0001-a');
    const b = schema('0002-b');
    const p = plan(input([a, b], { 'pg-0': [rec(b, 'applied'), rec(a, 'applied')] }));
    expect(p.shards[0]).toMatchObject({ steps: [], applied: ['0002-b', '0001-a'] });
    expect(p.shards[1]!.steps.map((s) => s.migrationId)).toEqual(['0001-a', '0002-b']);
    expect(p.pending).toBe(2);
  });

  it("'running' → resume, 'failed' and 'rolled_back' → apply again", () => {
    const a = schema('0001-a');
    const b = schema('0002-b');
    const c = schema('0003-c');
    const p = plan(input([a, b, c], { 'pg-0': [rec(a, 'running'), rec(b, 'failed'), rec(c, 'rolled_back')] }));
    expect(p.shards[0]!.steps.map((s) => [s.migrationId, s.action])).toEqual([
      ['0001-a', 'resume'],
      ['0002-b', 'apply'],
      ['0003-c', 'apply'],
    ]);
    expect(p.shards[0]!.applied).toEqual([]);
  });

  it('refuses drift with policy fail (default), warns with warn', () => {
    const a = schema('0001-a', 'postgres', {
      up: async () => {
        /* new */
      },
    });
    const ledgers = { 'pg-1': [rec(a, 'applied', 'old-checksum-0123456789')] };
    const e = refusal(() => plan(input([a], ledgers)));
    expect(e).toMatchObject({ code: ErrorCode.Drift, migrationId: '0001-a', shardId: 'pg-1', field: 'checksum' });
    expect(e.message).toContain('old-checksum');
    const p = plan(input([a], ledgers, { drift: 'warn' }));
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0]).toContain('0001-a');
    expect(p.warnings[0]).toContain('pg-1');
    // drifted but applied: not re-run
    expect(p.shards.find((s) => s.shardId === 'pg-1')!.steps).toEqual([]);
  });

  it('refuses an applied migration missing from code; ignores rolled_back and pending leftovers', () => {
    const a = schema('0001-a');
    for (const state of ['applied', 'failed', 'running'] as const) {
      const e = refusal(() => plan(input([a], { 'mg-0': [rec('0000-gone', state)] })));
      expect(e).toMatchObject({ code: ErrorCode.MissingFromCode, migrationId: '0000-gone', shardId: 'mg-0' });
      expect(e.message).toContain(state);
    }
    expect(plan(input([a], { 'mg-0': [rec('0000-gone', 'rolled_back'), rec('0000-gone2', 'pending')] })).pending).toBe(
      2,
    );
  });

  it('scope naming an unknown shard (or a shard of another engine) is refused', () => {
    const e = refusal(() => plan(input([schema('0001-a', 'postgres', { scope: { shards: ['pg-0', 'pg-9'] } })])));
    expect(e).toMatchObject({ code: ErrorCode.Config, migrationId: '0001-a', shardId: 'pg-9', field: 'scope.shards' });
    const e2 = refusal(() => plan(input([schema('0001-a', 'postgres', { scope: { shards: ['mg-0'] } })])));
    expect(e2).toMatchObject({ shardId: 'mg-0', field: 'scope.shards' });
  });

  it('scope naming shards runs only there', () => {
    const p = plan(input([schema('0001-a', 'postgres', { scope: { shards: ['pg-1'] } })]));
    expect(p.shards.map((s) => s.steps.length)).toEqual([0, 1, 0]);
  });

  it('tenant scope without a router is refused; with one, steps carry the tenants of their shard', () => {
    const m = schema('0001-t', 'postgres', { scope: { tenants: ['t1', 't2', 't3', 't4', 't5', 't6'] } });
    const e = refusal(() => plan(input([m])));
    expect(e).toMatchObject({ code: ErrorCode.Config, migrationId: '0001-t', field: 'scope.tenants' });
    const router = hashRouter();
    const p = plan(input([m], {}, { router }));
    const seen: string[] = [];
    for (const s of p.shards) {
      for (const step of s.steps) {
        for (const t of step.tenants!) {
          expect(router.route(t, 'postgres', ['pg-0', 'pg-1'])).toBe(s.shardId);
          seen.push(t);
        }
      }
    }
    expect(seen.sort()).toEqual(['t1', 't2', 't3', 't4', 't5', 't6']);
    expect(p.shards.find((s) => s.shardId === 'mg-0')!.steps).toEqual([]);
    // directory overrides move a tenant
    const natural = router.route('t1', 'postgres', ['pg-0', 'pg-1']);
    const other = natural === 'pg-0' ? 'pg-1' : 'pg-0';
    const moved = plan(input([m], {}, { router, overrides: { postgres: { t1: other } } }));
    expect(moved.shards.find((s) => s.shardId === other)!.steps[0]!.tenants).toContain('t1');
  });

  it('cross-engine dependsOn pushes a migration to a later wave; same-engine does not', () => {
    const a = schema('0001-pg');
    const b = schema('0002-mg', 'mongodb', { dependsOn: ['0001-pg'] });
    const c = schema('0003-mg', 'mongodb', { dependsOn: ['0002-mg'] });
    const d = schema('0004-pg', 'postgres', { dependsOn: ['0003-mg'] });
    const e = schema('0005-pg', 'postgres');
    const w = waves(orderMigrations([a, b, c, d, e]));
    expect(Object.fromEntries(w)).toEqual({ '0001-pg': 0, '0002-mg': 1, '0003-mg': 1, '0004-pg': 2, '0005-pg': 0 });
    const p = plan(input([a, b, c, d, e]));
    expect(p.shards[0]!.steps.map((s) => [s.migrationId, s.wave])).toEqual([
      ['0001-pg', 0],
      ['0004-pg', 2],
      ['0005-pg', 0],
    ]);
  });

  it('is plain JSON: a round trip through JSON gives the same plan', () => {
    const router = hashRouter();
    const ms = [
      schema('0001-a'),
      schema('0002-t', 'postgres', { scope: { tenants: ['acme', 'globex'] } }),
      defineDataMigration({
        id: '0003-d',
        engine: 'mongodb',
        collection: 'messages',
        dependsOn: ['0001-a'],
        transform: (r) => r,
      }),
    ];
    const p = plan(input(ms, { 'pg-0': [rec(ms[0]!, 'applied'), rec(ms[1]!, 'running')] }, { router }));
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    expect(p.shards.find((s) => s.shardId === 'mg-0')!.steps[0]).toMatchObject({ kind: 'data', wave: 1 });
  });

  it('does not mutate its input', () => {
    const ms = [schema('0002-b'), schema('0001-a')];
    const ledger = [rec(ms[0]!, 'applied')];
    const snapshot = JSON.stringify({ ids: ms.map((m) => m.id), ledger });
    plan(input(ms, { 'pg-0': ledger }));
    expect(JSON.stringify({ ids: ms.map((m) => m.id), ledger })).toBe(snapshot);
  });
});

describe('planRollback', () => {
  const a = schema('0001-a');
  const b = schema('0002-b', 'postgres', { dependsOn: ['0001-a'] });
  const c = schema('0003-c');
  const m = schema('0001-m', 'mongodb');
  const migrations = [a, b, c, m];
  const ledgers = new Map<string, LedgerRecord[]>([
    ['pg-0', [rec(a, 'applied'), rec(b, 'applied'), rec(c, 'applied')]],
    ['pg-1', [rec(a, 'applied'), rec(b, 'rolled_back')]],
    ['mg-0', [rec(m, 'applied')]],
  ]);
  const input: PlanInput = { migrations, shards, ledgers };
  const ids = (r: Map<string, { migrationId: string }[]>) =>
    Object.fromEntries([...r].map(([k, v]) => [k, v.map((s) => s.migrationId)]));

  it('steps: 1 rolls back the latest migration applied somewhere, only where applied', () => {
    expect(ids(planRollback(input, { steps: 1 }))).toEqual({ 'pg-0': ['0003-c'], 'pg-1': [], 'mg-0': [] });
  });

  it('steps: n rolls back latest first per shard, skipping shards where already rolled back', () => {
    // order: 0001-a, 0001-m, 0002-b, 0003-c
    expect(ids(planRollback(input, { steps: 3 }))).toEqual({
      'pg-0': ['0003-c', '0002-b'],
      'pg-1': [],
      'mg-0': ['0001-m'],
    });
  });

  it('to: rolls back everything after the target (exclusive)', () => {
    expect(ids(planRollback(input, { to: '0001-a' }))).toEqual({
      'pg-0': ['0003-c', '0002-b'],
      'pg-1': [],
      'mg-0': ['0001-m'],
    });
    expect(ids(planRollback(input, { to: '0003-c' }))).toEqual({ 'pg-0': [], 'pg-1': [], 'mg-0': [] });
  });

  it('refuses an unknown `to` and a bad step count', () => {
    expect(refusal(() => planRollback(input, { to: 'nope' }))).toMatchObject({
      code: ErrorCode.Rollback,
      field: 'to',
      migrationId: 'nope',
    });
    expect(refusal(() => planRollback(input, { steps: 0 }))).toMatchObject({
      code: ErrorCode.Rollback,
      field: 'steps',
    });
    expect(refusal(() => planRollback(input, { steps: 1.5 }))).toMatchObject({ field: 'steps' });
  });

  it('includes failed and running migrations (partly applied work can be undone)', () => {
    const l = new Map<string, LedgerRecord[]>([
      ['pg-0', [rec(a, 'applied'), rec(b, 'failed')]],
      ['pg-1', [rec(a, 'applied'), rec(b, 'running')]],
    ]);
    expect(ids(planRollback({ migrations, shards, ledgers: l }, { steps: 1 }))).toEqual({
      'pg-0': ['0002-b'],
      'pg-1': ['0002-b'],
      'mg-0': [],
    });
  });
});
