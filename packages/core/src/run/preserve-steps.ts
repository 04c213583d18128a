/**
 * The steps the migrator takes for a schema migration's `preserve`: refuse it up front where an
 * engine cannot keep copies, copy the targets before `up`, check every copy exists before any
 * `down` of a rollback, write the copies back after `down`, list and purge them.
 *
 * The logic lives here so that the migrator only calls it; the copies themselves are made by the
 * shard adapter's optional {@link PreserveStore}, in the server.
 */
import type {
  EngineAdapter,
  Lease,
  PreservedCopy,
  PreserveStore,
  PreserveTarget,
  ShardAdapter,
  ShardDescriptor,
} from '../engine/spi.js';
import type { Migration } from '../definition/migration.js';
import { ErrorCode, PreserveError } from '../errors/errors.js';
import { throwIfAborted } from '../util/time.js';

/** What `preserve` names, `[]` for data migrations and schema migrations without it. */
function targetsOf(m: Migration): readonly PreserveTarget[] {
  return m.kind === 'schema' ? ((m.preserve as readonly PreserveTarget[] | undefined) ?? []) : [];
}

/** `table "channels" (columns legacy_cfg)` for messages. */
export function describeTarget(target: PreserveTarget): string {
  return `"${target.name}"${target.columns ? ` (${target.columns.map((c) => `"${c}"`).join(', ')})` : ''}`;
}

function storeOf(m: Migration, shard: ShardAdapter): PreserveStore {
  if (!shard.preserved) {
    throw new PreserveError(
      ErrorCode.PreserveUnsupported,
      `Migration "${m.id}": field "preserve": shard "${shard.id}" (engine "${shard.engine}") cannot keep preserved copies`,
      {
        migrationId: m.id,
        shardId: shard.id,
        field: 'preserve',
      },
    );
  }
  return shard.preserved;
}

/**
 * Refuses, before anything runs, a migration with `preserve` on an engine one of whose shards has
 * no {@link PreserveStore}: its `up` would destroy data that rollback could not bring back.
 */
export function checkPreserveSupport(m: Migration, engine: EngineAdapter<unknown>): void {
  if (targetsOf(m).length === 0) return;
  for (const d of engine.shards) storeOf(m, engine.shard(d.id));
}

/**
 * Copies what `m` preserves on `shard`, just before its `up` runs there, inside the step: `handle`
 * is the step's native handle, handed on when the step runs in a transaction so that an adapter
 * can take the copy in it.
 */
export async function savePreserved(
  m: Migration,
  shard: ShardAdapter,
  handle: unknown,
  options: { reuse: boolean; signal?: AbortSignal | undefined },
): Promise<void> {
  const targets = targetsOf(m);
  if (targets.length === 0) return;
  throwIfAborted(options.signal);
  await storeOf(m, shard).save(m.id, targets, { ...options, handle: inTransaction(m) ? handle : undefined });
}

const inTransaction = (m: Migration) => m.kind === 'schema' && m.transaction;

/** The complete copy of `target` kept for `migrationId`, if there is one. */
export function findCopy(
  copies: readonly PreservedCopy[],
  migrationId: string,
  target: PreserveTarget,
): PreservedCopy | undefined {
  const columns = JSON.stringify(target.columns ?? null);
  return copies.find(
    (c) =>
      c.complete && c.migrationId === migrationId && c.target === target.name && JSON.stringify(c.columns) === columns,
  );
}

/**
 * Before any `down` of a rollback runs: every copy each migration to roll back needs exists on
 * every shard it will be rolled back on. A purged copy is a `MIGRATE_PRESERVE_MISSING` naming
 * migration, shard and target, and nothing is rolled back.
 */
export async function assertPreservedCopies(
  byId: ReadonlyMap<string, Migration>,
  perShard: ReadonlyMap<string, readonly { readonly migrationId: string }[]>,
  shards: readonly { readonly descriptor: ShardDescriptor; readonly adapter: ShardAdapter }[],
): Promise<void> {
  for (const { descriptor, adapter } of shards) {
    const migrations = (perShard.get(descriptor.id) ?? [])
      .map((s) => byId.get(s.migrationId))
      .filter((m): m is Migration => m !== undefined && targetsOf(m).length > 0);
    if (migrations.length === 0) continue;
    const copies = await storeOf(migrations[0]!, adapter).list();
    for (const m of migrations) {
      for (const target of targetsOf(m)) {
        if (findCopy(copies, m.id, target)) continue;
        throw new PreserveError(
          ErrorCode.PreserveMissing,
          `Rollback of "${m.id}" on shard "${descriptor.id}": the preserved copy of ${describeTarget(target)} is missing (purged, or "preserve" was added after it was applied); nothing was rolled back`,
          { migrationId: m.id, shardId: descriptor.id, field: target.name },
        );
      }
    }
  }
}

/** Writes the copies back on `shard`, right after `m`'s `down` recreated the shape, inside the step (see {@link savePreserved}). */
export async function restorePreserved(
  m: Migration,
  shard: ShardAdapter,
  handle: unknown,
  signal: AbortSignal | undefined,
): Promise<void> {
  const targets = targetsOf(m);
  if (targets.length === 0) return;
  throwIfAborted(signal);
  await storeOf(m, shard).restore(m.id, targets, { signal, handle: inTransaction(m) ? handle : undefined });
}

/** The copies on `shard` (none when its adapter cannot keep any); `status()` shows them. */
export async function listPreserved(shard: ShardAdapter): Promise<readonly PreservedCopy[]> {
  return shard.preserved ? await shard.preserved.list() : [];
}

export interface PurgePreservedOptions {
  /** Only the copies of these migrations. Default: every copy. */
  readonly migrationIds?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface PurgedCopy extends PreservedCopy {
  readonly shardId: string;
}

/**
 * Drops preserved copies on every shard (under each shard's lease, so never under a rollback that
 * is reading them). A rollback of a migration whose copies were purged is refused afterwards.
 */
export async function purgePreservedCopies<
  S extends { readonly descriptor: ShardDescriptor; readonly adapter: ShardAdapter },
>(shards: readonly S[], options: PurgePreservedOptions, lease: (shard: S) => Promise<Lease>): Promise<PurgedCopy[]> {
  const wanted = options.migrationIds ? new Set(options.migrationIds) : undefined;
  const purged: PurgedCopy[] = [];
  for (const ref of shards) {
    const store = ref.adapter.preserved;
    if (!store) continue;
    throwIfAborted(options.signal);
    await ref.adapter.connect(options.signal);
    const ids = [...new Set((await store.list()).map((c) => c.migrationId))].filter((id) => !wanted || wanted.has(id));
    if (ids.length === 0) continue;
    const held = await lease(ref);
    try {
      for (const id of ids) for (const c of await store.drop(id)) purged.push({ ...c, shardId: ref.descriptor.id });
    } finally {
      await held.release().catch(() => undefined);
    }
  }
  return purged;
}
