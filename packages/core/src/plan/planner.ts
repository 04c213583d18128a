/**
 * The planner: a pure function of (migrations, shards, ledgers) → per-shard ordered steps. It
 * refuses duplicates, shared backup names, unknown dependencies, cycles, drift, and applied migrations missing from code,
 * each with a typed `PlanError` naming the migration, the shard and the cause. The plan is plain
 * JSON: `migrator.plan()` is the dry run.
 */
import type { EngineName, LedgerRecord, ShardDescriptor } from '../engine/spi.js';
import { ErrorCode, PlanError } from '../errors/errors.js';
import { isLegacyChecksum } from '../definition/checksum.js';
import type { Migration } from '../definition/migration.js';
import { checkBackupNames } from '../definition/backup-names.js';
import { CALL_DEFAULTS, MIGRATOR_DEFAULTS } from '../run/defaults.js';
import type { DirectoryOverrides, Router } from '../router/router.js';

export type DriftPolicy = 'fail' | 'warn';

/** One migration a shard would run. */
export interface PlanStep {
  readonly migrationId: string;
  readonly kind: 'schema' | 'data';
  /** `apply` a new/failed/rolled-back migration, or `resume` one a dead runner left `running`. */
  readonly action: 'apply' | 'resume';
  /**
   * Migrations run wave by wave: a migration's wave is one more than that of any dependency on
   * another engine, so cross-engine `dependsOn` holds without a runner waiting inside a shard task.
   */
  readonly wave: number;
  /** The definition's checksum, recorded in the ledger when applied. */
  readonly checksum: string;
  /** For a tenant-scoped migration: its tenants that live on this shard. */
  readonly tenants?: readonly string[] | undefined;
}

/** What one shard would run. */
export interface ShardPlan {
  readonly shardId: string;
  readonly engine: EngineName;
  readonly steps: readonly PlanStep[];
  /** Migrations already applied here, in apply order. */
  readonly applied: readonly string[];
}

/** What `plan()` returns, and the `plan` event carries: the steps a run would take now. */
export interface Plan {
  /** Every migration in code, in dependency order (ties by id). */
  readonly order: readonly string[];
  /** What each shard would run. */
  readonly shards: readonly ShardPlan[];
  /** Steps in all shards. */
  readonly pending: number;
  /** Drift accepted by `drift: 'warn'`, one message each. */
  readonly warnings: readonly string[];
  /**
   * Applied migrations whose ledger checksum is in the format of SDKs before `v2:` checksums (a hash
   * of compiled function text): not drift; `run()` rewrites them to the current checksum.
   */
  readonly checksumUpgrades?: readonly { readonly shardId: string; readonly migrationId: string }[];
}

export interface PlanInput {
  readonly migrations: readonly Migration[];
  readonly shards: readonly ShardDescriptor[];
  /** Ledger records per shard id. A shard missing here is treated as having an empty ledger. */
  readonly ledgers: ReadonlyMap<string, readonly LedgerRecord[]>;
  readonly router?: Router | undefined;
  readonly overrides?: DirectoryOverrides | undefined;
  readonly drift?: DriftPolicy | undefined;
}

/** Checks ids, dependencies and cycles; returns the migrations in a stable topological order. */
export function orderMigrations(migrations: readonly Migration[]): Migration[] {
  const byId = new Map<string, Migration>();
  for (const m of migrations) {
    if (byId.has(m.id)) {
      throw new PlanError(ErrorCode.Duplicate, `Migration "${m.id}" is defined twice`, {
        migrationId: m.id,
        field: 'id',
      });
    }
    byId.set(m.id, m);
  }
  checkBackupNames(migrations);
  for (const m of migrations) {
    for (const dep of m.dependsOn) {
      if (!byId.has(dep)) {
        throw new PlanError(
          ErrorCode.UnknownDependency,
          `Migration "${m.id}": field "dependsOn": unknown migration "${dep}"`,
          {
            migrationId: m.id,
            field: 'dependsOn',
          },
        );
      }
    }
  }
  // Kahn's algorithm; among ready migrations the smallest id goes first, so the order is stable.
  const indegree = new Map([...byId.keys()].map((id) => [id, byId.get(id)!.dependsOn.length]));
  const dependents = new Map<string, string[]>();
  for (const m of migrations)
    for (const dep of m.dependsOn) dependents.set(dep, [...(dependents.get(dep) ?? []), m.id]);
  const ready = [...indegree].filter(([, n]) => n === 0).map(([id]) => id);
  const order: Migration[] = [];
  while (ready.length) {
    ready.sort();
    const id = ready.shift()!;
    order.push(byId.get(id)!);
    for (const next of dependents.get(id) ?? []) {
      const n = indegree.get(next)! - 1;
      indegree.set(next, n);
      if (n === 0) ready.push(next);
    }
  }
  if (order.length !== migrations.length) {
    const cycle = findCycle(byId);
    throw new PlanError(ErrorCode.Cycle, `Migrations depend on each other in a cycle: ${cycle.join(' → ')}`, {
      migrationId: cycle[0],
      field: 'dependsOn',
    });
  }
  return order;
}

function findCycle(byId: ReadonlyMap<string, Migration>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of byId.get(id)!.dependsOn) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of [...byId.keys()].sort()) {
    const found = visit(id);
    if (found) return found.reverse();
  }
  return [];
}

/** Wave of each migration: cross-engine dependencies push a migration into a later wave. */
export function waves(order: readonly Migration[]): Map<string, number> {
  const byId = new Map(order.map((m) => [m.id, m]));
  const wave = new Map<string, number>();
  for (const m of order) {
    let w = 0;
    for (const dep of m.dependsOn) {
      const d = byId.get(dep)!;
      w = Math.max(w, wave.get(dep)! + (d.engine === m.engine ? 0 : 1));
    }
    wave.set(m.id, w);
  }
  return wave;
}

/** The shards a migration runs on, with the tenants it covers on each for tenant-scoped migrations. */
export function shardsOf(
  m: Migration,
  shards: readonly ShardDescriptor[],
  router?: Router,
  overrides?: DirectoryOverrides,
): Map<string, readonly string[] | undefined> {
  const own = shards.filter((s) => s.engine === m.engine);
  const out = new Map<string, readonly string[] | undefined>();
  if (m.scope.kind === 'all') for (const s of own) out.set(s.id, undefined);
  else if (m.scope.kind === 'shards') {
    for (const id of m.scope.shards) {
      if (!own.some((s) => s.id === id)) {
        throw new PlanError(
          ErrorCode.Config,
          `Migration "${m.id}": field "scope.shards": no ${m.engine} shard "${id}"`,
          {
            migrationId: m.id,
            shardId: id,
            field: 'scope.shards',
          },
        );
      }
      out.set(id, undefined);
    }
  } else {
    if (!router) {
      throw new PlanError(
        ErrorCode.Config,
        `Migration "${m.id}": field "scope.tenants": needs a router in createMigrator()`,
        {
          migrationId: m.id,
          field: 'scope.tenants',
        },
      );
    }
    const ids = own.map((s) => s.id);
    for (const tenant of m.scope.tenants) {
      const shard = router.route(tenant, m.engine, ids, overrides);
      out.set(shard, [...(out.get(shard) ?? []), tenant]);
    }
  }
  return out;
}

/**
 * Plans a run. Throws `PlanError` (drift, missing from code, cycles, duplicates, unknown
 * dependency or shard). Pure: reads only its input.
 */
export function plan(input: PlanInput): Plan {
  const order = orderMigrations(input.migrations);
  const wave = waves(order);
  const codeIds = new Set(order.map((m) => m.id));
  const warnings: string[] = [];
  const checksumUpgrades: { shardId: string; migrationId: string }[] = [];
  const steps = new Map<string, PlanStep[]>(input.shards.map((s) => [s.id, []]));

  for (const shard of input.shards) {
    for (const record of input.ledgers.get(shard.id) ?? []) {
      if (!codeIds.has(record.id) && record.state !== 'rolled_back' && record.state !== 'pending') {
        throw new PlanError(
          ErrorCode.MissingFromCode,
          `Migration "${record.id}" is ${record.state} on shard "${shard.id}" but missing from code; restore its definition, or forget it with repair({ forgetMissing: true }) (what it did stays in the database)`,
          { migrationId: record.id, shardId: shard.id },
        );
      }
    }
  }

  for (const m of order) {
    for (const [shardId, tenants] of shardsOf(m, input.shards, input.router, input.overrides)) {
      const record = input.ledgers.get(shardId)?.find((r) => r.id === m.id);
      if (record?.state === 'applied') {
        if (record.checksum !== m.checksum && isLegacyChecksum(record.checksum)) {
          // Recorded by an older SDK from emitted code, which differs between compilers: it cannot
          // tell an edit from a rebuild, so it is accepted once and upgraded.
          checksumUpgrades.push({ shardId, migrationId: m.id });
        } else if (record.checksum !== m.checksum) {
          const message = `Migration "${m.id}" changed after it was applied on shard "${shardId}" (checksum ${short(record.checksum)} → ${short(m.checksum)}); revert the edit, or accept it with repair`;
          if ((input.drift ?? MIGRATOR_DEFAULTS.drift) === 'fail')
            throw new PlanError(ErrorCode.Drift, message, { migrationId: m.id, shardId, field: 'checksum' });
          warnings.push(message);
        }
        continue;
      }
      steps.get(shardId)!.push({
        migrationId: m.id,
        kind: m.kind,
        action: record?.state === 'running' ? 'resume' : 'apply',
        wave: wave.get(m.id)!,
        checksum: m.checksum,
        ...(tenants ? { tenants } : {}),
      });
    }
  }

  const shards = input.shards.map((s) => ({
    shardId: s.id,
    engine: s.engine,
    steps: steps.get(s.id)!,
    applied: (input.ledgers.get(s.id) ?? [])
      .filter((r) => r.state === 'applied')
      .sort((a, b) => a.seq - b.seq)
      .map((r) => r.id),
  }));
  return {
    order: order.map((m) => m.id),
    shards,
    pending: shards.reduce((n, s) => n + s.steps.length, 0),
    warnings,
    checksumUpgrades,
  };
}

const short = (checksum: string): string => checksum.slice(0, 12);

export interface RollbackTarget {
  /** Roll back the last `steps` migrations (in dependency order) that are applied somewhere. Default `1` (when `to` is not given). */
  readonly steps?: number | undefined;
  /** Roll back every migration after `to` (exclusive) that is applied somewhere. Give `steps` or `to`, not both. */
  readonly to?: string | undefined;
}

export interface RollbackStep {
  readonly migrationId: string;
  readonly kind: 'schema' | 'data';
}

/** Per shard, the applied migrations to roll back, latest first. Pure; throws `PlanError` for a bad target. */
export function planRollback(input: PlanInput, target: RollbackTarget): Map<string, RollbackStep[]> {
  const order = orderMigrations(input.migrations);
  const appliedSomewhere = (id: string) =>
    input.shards.some((s) =>
      (input.ledgers.get(s.id) ?? []).some(
        (r) => r.id === id && (r.state === 'applied' || r.state === 'running' || r.state === 'failed'),
      ),
    );
  const candidates = order.filter((m) => appliedSomewhere(m.id));
  let chosen: Migration[];
  if (target.to !== undefined) {
    const at = order.findIndex((m) => m.id === target.to);
    if (at < 0)
      throw new PlanError(ErrorCode.Rollback, `Rollback: field "to": unknown migration "${target.to}"`, {
        migrationId: target.to,
        field: 'to',
      });
    chosen = candidates.filter((m) => order.indexOf(m) > at);
  } else {
    const steps = target.steps ?? CALL_DEFAULTS.rollback.steps;
    if (!Number.isInteger(steps) || steps < 1)
      throw new PlanError(ErrorCode.Rollback, `Rollback: field "steps": must be a positive integer, got ${steps}`, {
        field: 'steps',
      });
    chosen = candidates.slice(-steps);
  }
  const out = new Map<string, RollbackStep[]>();
  for (const shard of input.shards) {
    const records = input.ledgers.get(shard.id) ?? [];
    const list = chosen
      .filter((m) => records.some((r) => r.id === m.id && r.state !== 'rolled_back' && r.state !== 'pending'))
      .reverse()
      .map((m) => ({ migrationId: m.id, kind: m.kind }));
    out.set(shard.id, list);
  }
  return out;
}
