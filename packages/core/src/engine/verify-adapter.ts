/**
 * `verifyEngineAdapter`: checks a (third-party) engine adapter against the contract before anything
 * connects, as Umzug's `verifyUmzugStorage` does. `createMigrator` calls it for every engine; an
 * adapter's own tests may call it too. A malformed adapter is refused with a `MIGRATE_CONFIG` error
 * that names the member that is missing or wrong.
 */
import { DefinitionError, ErrorCode } from '../errors/errors.js';
import type { EngineAdapter } from './engine-adapter.js';

/** Callables every engine adapter has. */
const ENGINE_METHODS = ['shard', 'close', 'classifyError', 'compareKeys'] as const;
/** Optional callables: a function when present. */
const ENGINE_OPTIONAL_METHODS = ['control', 'secrets'] as const;
/** Callables of each shard adapter, by role (`''`: the shard adapter itself). */
const SHARD_METHODS: Readonly<Record<string, readonly string[]>> = {
  '': ['connect', 'close'],
  executor: ['execute'],
  ledger: ['init', 'list', 'put', 'delete'],
  lock: ['tryAcquire', 'status', 'forceRelease'],
  data: ['scan', 'count', 'checksum', 'write', 'update', 'remove', 'drop'],
};

/**
 * Capability flag → the member of the shard's data store that a `true` flag promises. A flag that
 * says `true` without its member would make core call what is not there.
 */
export const CAPABILITY_MEMBERS: Readonly<Record<string, string>> = {
  compareAndSet: 'compareAndSet',
  serverCopy: 'serverCopy',
  inspect: 'inspect',
  serverUpdate: 'serverUpdate',
  batchWrite: 'batchWrite',
  openScan: 'openScan',
};

export interface VerifyAdapterOptions {
  /** Prefix of messages, e.g. `createMigrator: field "engines.postgres"`. Default `engine adapter "<name>"`. */
  readonly where?: string;
  /** The `field` of the error. Default `engines`. */
  readonly field?: string;
}

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/**
 * Throws `MIGRATE_CONFIG` naming the first member of `adapter` (or of one of its shard adapters)
 * that is missing or of the wrong kind; checks that each capability flag that says `true` (on the
 * engine or on a shard) has its member on the shard's data store (see {@link CAPABILITY_MEMBERS}).
 * Calls `adapter.shard(id)` for each shard (which must not connect).
 */
export function verifyEngineAdapter(
  adapter: unknown,
  options: VerifyAdapterOptions = {},
): asserts adapter is EngineAdapter {
  const a = adapter as Record<string, unknown> | null;
  const name = typeof a?.name === 'string' ? a.name : undefined;
  const where = options.where ?? `engine adapter${name ? ` "${name}"` : ''}`;
  const fail = (member: string, why: string): never => {
    throw new DefinitionError(
      `${where}: ${member ? `member "${member}" ` : ''}${why}; see verifyEngineAdapter in @mcp/migrate-core/engine`,
      {
        code: ErrorCode.Config,
        field: options.field ?? 'engines',
      },
    );
  };
  if (typeof a !== 'object' || a === null)
    return fail(
      '',
      `must be an engine adapter object (postgresEngine(), mongoEngine(), memoryEngine()), got ${describe(a)}`,
    );
  if (!name) fail('name', `must be a non-empty string, got ${describe(a.name)}`);
  for (const m of ENGINE_METHODS) if (typeof a[m] !== 'function') fail(m, `must be a function, got ${describe(a[m])}`);
  for (const m of ENGINE_OPTIONAL_METHODS)
    if (a[m] !== undefined && typeof a[m] !== 'function')
      fail(m, `must be a function when present, got ${describe(a[m])}`);
  const key = a.defaultKey;
  if (!Array.isArray(key) || key.length === 0 || key.some((k) => typeof k !== 'string' || k.length === 0))
    fail('defaultKey', 'must be a non-empty array of field names');
  const capabilities = a.capabilities as Record<string, unknown> | null | undefined;
  if (typeof capabilities !== 'object' || capabilities === null)
    return fail('capabilities', `must be an object of boolean flags, got ${describe(capabilities)}`);
  checkFlags(capabilities, 'capabilities', fail);
  const terms = a.terms as Record<string, unknown> | undefined;
  if (terms !== undefined && (typeof terms?.target !== 'string' || typeof terms.uniqueKey !== 'string'))
    fail('terms', 'must be { target, uniqueKey } strings when present');
  if (!Array.isArray(a.shards))
    return fail('shards', `must be an array of shard descriptors, got ${describe(a.shards)}`);
  (a.shards as unknown[]).forEach((d, i) =>
    verifyShard(a as unknown as EngineAdapter, { descriptor: d, at: `shards[${i}]`, capabilities, fail }),
  );
}

/** Every flag a boolean (`undefined`: the default, `false`). */
function checkFlags(
  capabilities: Record<string, unknown>,
  path: string,
  fail: (member: string, why: string) => never,
): void {
  for (const [flag, value] of Object.entries(capabilities)) {
    if (value !== undefined && typeof value !== 'boolean')
      fail(`${path}.${flag}`, `must be a boolean, got ${describe(value)}`);
  }
}

interface ShardCheck {
  readonly descriptor: unknown;
  readonly at: string;
  readonly capabilities: Record<string, unknown>;
  readonly fail: (member: string, why: string) => never;
}

function verifyShard(engine: EngineAdapter, { descriptor, at, capabilities, fail }: ShardCheck): void {
  const d = descriptor as { id?: unknown; engine?: unknown } | null;
  if (typeof d?.id !== 'string' || d.id.length === 0) fail(`${at}.id`, 'must be a non-empty string');
  if (d!.engine !== engine.name)
    fail(`${at}.engine`, `must be the adapter's name "${engine.name}", got ${JSON.stringify(d!.engine)}`);
  const id = d!.id as string;
  let shard: Record<string, unknown>;
  try {
    shard = engine.shard(id) as unknown as Record<string, unknown>;
  } catch (error) {
    return fail('shard', `threw for its own shard "${id}": ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof shard !== 'object' || shard === null)
    fail('shard', `returned ${describe(shard)} for shard "${id}", not a shard adapter`);
  if (shard.id !== id) fail(`shard("${id}").id`, `must be "${id}", got ${JSON.stringify(shard.id)}`);
  if (shard.engine !== engine.name)
    fail(`shard("${id}").engine`, `must be "${engine.name}", got ${JSON.stringify(shard.engine)}`);
  for (const [role, methods] of Object.entries(SHARD_METHODS)) {
    const owner = (role ? shard[role] : shard) as Record<string, unknown> | null | undefined;
    const path = `shard("${id}")${role ? `.${role}` : ''}`;
    if (typeof owner !== 'object' || owner === null) fail(path, `must be an object, got ${describe(owner)}`);
    for (const m of methods)
      if (typeof owner![m] !== 'function') fail(`${path}.${m}`, `must be a function, got ${describe(owner![m])}`);
  }
  const own = shard.capabilities as Record<string, unknown> | null | undefined;
  if (typeof own !== 'object' || own === null)
    return fail(`shard("${id}").capabilities`, `must be an object of boolean flags, got ${describe(own)}`);
  checkFlags(own, `shard("${id}").capabilities`, fail);
  const data = shard.data as Record<string, unknown>;
  for (const [flag, member] of Object.entries(CAPABILITY_MEMBERS)) {
    const offered = data[member];
    const says =
      capabilities[flag] === true ? 'capabilities' : own[flag] === true ? `shard("${id}").capabilities` : undefined;
    if (
      says &&
      (offered === undefined || offered === null || (typeof offered !== 'object' && typeof offered !== 'function'))
    ) {
      fail(`shard("${id}").data.${member}`, `must be present: ${says}.${flag} is true`);
    }
  }
}
