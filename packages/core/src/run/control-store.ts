/**
 * Which control store a migrator uses — the run lock and the tenant directory. Chosen once, at
 * construction, in this order:
 * 1. what `createMigrator({ control })` gives (`lock`, `directory`; each may be given alone);
 * 2. for what it leaves out: the control store of the engine with the highest `controlPreference`
 *    among those whose adapter offers `control()` (ties: the order of the `engines` object; the
 *    built-in adapters offer their first shard, PostgreSQL preferred over MongoDB);
 * 3. else the lock of the first engine's first shard, and no directory (it reads as empty and
 *    refuses writes).
 */
import type { ControlStore, DirectoryOverrides, EngineAdapter, TenantDirectory } from '../engine/spi.js';
import { DefinitionError, ErrorCode } from '../errors/errors.js';

/** The `directory` option: a tenant directory, or (read-only) a function returning its placements. */
export type DirectoryOption = TenantDirectory | (() => DirectoryOverrides | Promise<DirectoryOverrides>);

/** The `control` option of `createMigrator`. */
export interface ControlOption {
  /** The run lock's provider, e.g. another engine's `control().lock`. Default: chosen from `engines` (see `control`). */
  readonly lock?: ControlStore['lock'] | undefined;
  /**
   * Where tenants are placed (the router's overrides, where tenant moves record a tenant): a
   * `TenantDirectory`, or a function returning the placements (read-only). Default: chosen from `engines`.
   */
  readonly directory?: DirectoryOption | undefined;
}

/** What the control store is chosen from: `createMigrator`'s `engines` and `control`. */
export interface ControlChoice {
  readonly engines: Readonly<Record<string, EngineAdapter<any>>>;
  readonly control?: ControlOption | undefined;
}

export function resolveControlStore(config: ControlChoice): ControlStore {
  const explicit = config.control;
  const engines = Object.values(config.engines);
  const offering = explicit?.lock && explicit.directory ? undefined : preferred(engines);
  const offered = offering?.control!();
  return {
    lock: explicit?.lock ?? offered?.lock ?? firstShardLock(engines[0]!),
    directory: explicit?.directory ? asDirectory(explicit.directory) : (offered?.directory ?? NO_DIRECTORY),
  };
}

/** The offering engine with the highest preference; the first of them in `engines` order on a tie. */
function preferred(engines: readonly EngineAdapter[]): EngineAdapter | undefined {
  let best: EngineAdapter | undefined;
  for (const e of engines) {
    if (typeof e.control !== 'function') continue;
    if (!best || (e.controlPreference ?? 0) > (best.controlPreference ?? 0)) best = e;
  }
  return best;
}

function firstShardLock(engine: EngineAdapter): ControlStore['lock'] {
  return engine.shard(engine.shards[0]!.id).lock;
}

function asDirectory(option: DirectoryOption): TenantDirectory {
  if (typeof option !== 'function') return option;
  return {
    list: async () => option(),
    get: async (engine, tenant) => (await option())[engine]?.[tenant],
    set: async () => readOnly(),
    delete: async () => readOnly(),
  };
}

const readOnly = (): never => {
  throw new DefinitionError(
    'The tenant directory given as a function is read-only: give a TenantDirectory (get, set, delete, list) to write it',
    {
      code: ErrorCode.Config,
      field: 'control.directory',
    },
  );
};

/** No engine offers a directory and none was given: nothing is placed, and nothing can be. */
const NO_DIRECTORY: TenantDirectory = {
  list: async () => ({}),
  get: async () => undefined,
  set: async () => {
    throw new DefinitionError(
      'No tenant directory: no engine offers a control store; give createMigrator({ control: { directory } })',
      {
        code: ErrorCode.Config,
        field: 'control.directory',
      },
    );
  },
  delete: async () => false,
};
