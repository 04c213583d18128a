/**
 * When may a step run, given what its dependencies did in this run? Decided per shard, from the
 * plan, so that the answer never depends on which shard happened to finish first:
 *
 * - a dependency on the SAME engine is per shard: it must be applied on this shard (already, or in
 *   this run before the step). A failure of the dependency on another shard blocks nothing here.
 * - a dependency on ANOTHER engine runs in an earlier wave; it must be applied on every shard of its
 *   engine where it was pending in this run (a failure, a not-run or an unreachable shard there
 *   blocks the dependent everywhere: the other engine's data is not known to be ready).
 */
import type { Migration } from '../definition/migration.js';
import type { Plan } from '../plan/planner.js';

export class DependencyGate {
  /** migration id → shards where it has a step in this run. */
  readonly #pendingOn = new Map<string, Set<string>>();
  /** migration id → shards where this run applied it. */
  readonly #appliedOn = new Map<string, Set<string>>();
  readonly #byId: ReadonlyMap<string, Migration>;

  constructor(plan: Plan, migrations: readonly Migration[]) {
    this.#byId = new Map(migrations.map((m) => [m.id, m]));
    for (const sp of plan.shards) {
      for (const step of sp.steps) setOf(this.#pendingOn, step.migrationId).add(sp.shardId);
    }
  }

  /** Records that `migrationId` was applied on `shardId` in this run. */
  applied(migrationId: string, shardId: string): void {
    setOf(this.#appliedOn, migrationId).add(shardId);
  }

  /** Why `m` must not run on `shardId`, or `undefined` when every dependency is satisfied there. */
  blocker(m: Migration, shardId: string): string | undefined {
    for (const dep of m.dependsOn) {
      const d = this.#byId.get(dep);
      const pending = this.#pendingOn.get(dep) ?? new Set<string>();
      const applied = this.#appliedOn.get(dep) ?? new Set<string>();
      if (!d || d.engine === m.engine) {
        if (pending.has(shardId) && !applied.has(shardId)) return `dependency "${dep}" is not applied on this shard`;
        continue;
      }
      const missing = [...pending].filter((s) => !applied.has(s)).sort();
      if (missing.length) {
        return `dependency "${dep}" (engine ${d.engine}) is not applied on every shard of its engine (missing on ${missing.map((s) => `"${s}"`).join(', ')})`;
      }
    }
    return undefined;
  }
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Set()));
  return s;
}
