/**
 * Migration definitions: {@link defineMigration} for schema steps and {@link defineDataMigration}
 * for batched, resumable rewrites of existing rows/documents. Both validate their input with zod
 * and throw a `DefinitionError` that names the migration and the field, before anything runs.
 */
import { z } from 'zod';
import type { EngineAdapter, EngineName, PreserveTarget, Row, ShardDescriptor } from '../engine/index.js';
import { DefinitionError } from '../errors/errors.js';
import type { Logger } from '../util/logger.js';
import { sha256 } from '../util/canonical.js';
import { NAME } from './names.js';
import { normalizePreserve, preserveSchema, type PreserveInput } from './preserve.js';

/** What a migration's `up`/`down` receive besides the native handle. */
export interface MigrationContext {
  readonly shard: ShardDescriptor;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** For tenant-scoped migrations: the tenants of `scope.tenants` that live on this shard. */
  readonly tenants: readonly string[] | undefined;
}

/** Where a migration runs: every shard of its engine (default), named shards, or the shards of some tenants. */
export type MigrationScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'shards'; readonly shards: readonly string[] }
  | { readonly kind: 'tenants'; readonly tenants: readonly string[] };

export type ScopeInput = 'all' | { readonly shards: readonly string[] } | { readonly tenants: readonly string[] };

type Step<Handle> = (handle: Handle, ctx: MigrationContext) => unknown;

export interface MigrationInput<Handle = any> {
  /** Stable, unique id; sorts the migrations that do not depend on each other. `[A-Za-z0-9][A-Za-z0-9_.-]*`. */
  readonly id: string;
  readonly engine: EngineName;
  readonly description?: string | undefined;
  /** Ids that must be applied first, on every shard they run on, across engines too. */
  readonly dependsOn?: readonly string[] | undefined;
  readonly scope?: ScopeInput | undefined;
  /**
   * Bump it when you edit `up`/`down` of a migration that is already applied somewhere: the checksum
   * hashes what you declared (id, engine, scope, settings, this version; the file text when loaded
   * from a directory), never the compiled function text, so it is the same under tsx, tsc or a bundler.
   */
  readonly version?: number | string | undefined;
  /** Run in a transaction where the engine supports it. Default `true`; `false` for e.g. `CREATE INDEX CONCURRENTLY`. */
  readonly transaction?: boolean | undefined;
  readonly up: Step<Handle>;
  readonly down?: Step<Handle> | undefined;
  /** What `up` destroys: copied server-side before `up`, written back exactly on rollback. See docs/guides/preserve.md. */
  readonly preserve?: readonly PreserveInput[] | undefined;
}

export interface SchemaMigration<Handle = any> {
  readonly kind: 'schema';
  readonly id: string;
  readonly engine: EngineName;
  readonly description: string;
  readonly dependsOn: readonly string[];
  readonly scope: MigrationScope;
  readonly transaction: boolean;
  readonly up: Step<Handle>;
  readonly down: Step<Handle> | undefined;
  readonly preserve: readonly PreserveTarget[];
  /** `v2:` + sha256 of what was declared (see {@link MigrationInput.version}); recorded when applied, compared for drift. */
  readonly checksum: string;
}

/** What a data migration's `transform`/`reverse` receive besides the row. */
export interface TransformContext {
  readonly shard: ShardDescriptor;
  readonly migrationId: string;
}

export type TransformFn = (row: Row, ctx: TransformContext) => Row | null | undefined | Promise<Row | null | undefined>;

export interface DataMigrationInput {
  readonly id: string;
  readonly engine: EngineName;
  readonly description?: string | undefined;
  readonly dependsOn?: readonly string[] | undefined;
  readonly scope?: ScopeInput | undefined;
  /** Bump it when you edit `transform`/`reverse` after it was applied somewhere (see {@link MigrationInput.version}). */
  readonly version?: number | string | undefined;
  /** MongoDB collection to rewrite (give `collection` or `table`, not both). */
  readonly collection?: string | undefined;
  /** PostgreSQL table to rewrite. */
  readonly table?: string | undefined;
  /**
   * Key for keyset pagination. Composite keys as an array. Default: the engine adapter's
   * `defaultKey` (`_id` on MongoDB, `id` on PostgreSQL and memory engines).
   */
  readonly key?: string | readonly string[] | undefined;
  /** Equality filter `{ field: value }`: only matching rows are read. */
  readonly filter?: Readonly<Record<string, unknown>> | undefined;
  /** Rows per batch to start with (1–100000). Default 1000; adapted to `targetBatchMs` within bounds. */
  readonly batchSize?: number | undefined;
  /** Upper bound of rows per second for this migration, per shard (each shard is its own database). Default: unbounded. */
  readonly maxRowsPerSecond?: number | undefined;
  /** Returns the new row, or `null`/`undefined` to leave it. Must not change the key. */
  readonly transform: TransformFn;
  /** Exact inverse of `transform`. Without it, rollback restores the originals saved before each batch. */
  readonly reverse?: TransformFn | undefined;
  /**
   * Postcondition every row must meet once applied, checked by `migrator.verify({ data: true })`:
   * return `true` when the row is right, `false` or a reason string when not.
   */
  readonly verify?: ((row: Row) => boolean | string) | undefined;
  /**
   * What to do on a shard where the table/collection does not exist when the migration is about to
   * run there: `fail` (default) refuses the step with `MIGRATE_TARGET_MISSING`; `skip` records the
   * migration as applied there with nothing to transform, and a note saying why (see the guide).
   */
  readonly ifMissing?: 'fail' | 'skip' | undefined;
}

export interface DataMigration {
  readonly kind: 'data';
  readonly id: string;
  readonly engine: EngineName;
  readonly description: string;
  readonly dependsOn: readonly string[];
  readonly scope: MigrationScope;
  readonly target: { readonly name: string; readonly key: readonly string[] };
  readonly filter: Readonly<Record<string, unknown>> | undefined;
  readonly batchSize: number;
  readonly maxRowsPerSecond: number | undefined;
  readonly transform: TransformFn;
  readonly reverse: TransformFn | undefined;
  readonly verify: ((row: Row) => boolean | string) | undefined;
  readonly ifMissing: 'fail' | 'skip';
  readonly checksum: string;
}

export type Migration = SchemaMigration | DataMigration;

export const DEFAULT_BATCH_SIZE = 1000;
export const MAX_BATCH_SIZE = 100_000;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const idSchema = z.string().regex(ID, 'must match [A-Za-z0-9][A-Za-z0-9_.-]* (at most 128 characters)');
const engineSchema = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be an engine name such as "postgres" or "mongodb"');
const fn = (name: string) =>
  z.custom<(...args: any[]) => unknown>((v) => typeof v === 'function', `${name} must be a function`);
const scopeSchema = z.union([
  z.literal('all'),
  z.strictObject({ shards: z.array(z.string().min(1)).min(1, 'must name at least one shard') }),
  z.strictObject({ tenants: z.array(z.string().min(1)).min(1, 'must name at least one tenant') }),
]);
const common = {
  id: idSchema,
  engine: engineSchema,
  description: z.string().max(1000).optional(),
  dependsOn: z.array(idSchema).optional(),
  scope: scopeSchema.optional(),
  version: z.union([z.number().int().min(0), z.string().min(1).max(100)]).optional(),
};

const schemaInput = z.strictObject({
  ...common,
  transaction: z.boolean().optional(),
  up: fn('up'),
  down: fn('down').optional(),
  preserve: preserveSchema.optional(),
});

const dataInput = z
  .strictObject({
    ...common,
    collection: z.string().regex(NAME, 'must be a plain table/collection name').optional(),
    table: z.string().regex(NAME, 'must be a plain table/collection name').optional(),
    key: z
      .union([
        z.string().regex(NAME, 'must be a plain field name'),
        z.array(z.string().regex(NAME, 'must be a plain field name')).min(1),
      ])
      .optional(),
    filter: z.record(z.string(), z.unknown()).optional(),
    batchSize: z.number().int('must be an integer').min(1).max(MAX_BATCH_SIZE).optional(),
    maxRowsPerSecond: z.number().positive().optional(),
    transform: fn('transform'),
    reverse: fn('reverse').optional(),
    verify: fn('verify').optional(),
    ifMissing: z.enum(['fail', 'skip']).optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.collection === undefined) === (v.table === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [v.collection === undefined ? 'collection' : 'table'],
        message: 'give exactly one of "collection" or "table"',
      });
    }
  });

/** Turns a zod failure into a DefinitionError naming the migration and the first bad field. */
export function toDefinitionError(what: string, input: unknown, error: z.ZodError): DefinitionError {
  const id = typeof (input as { id?: unknown } | null)?.id === 'string' ? (input as { id: string }).id : undefined;
  const issue = error.issues[0]!;
  const field = issue.path.length
    ? issue.path.join('.')
    : issue.code === 'unrecognized_keys'
      ? issue.keys.join(', ')
      : '(root)';
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  const subject = id ? `${what} "${id}"` : `${what} (no valid id)`;
  return new DefinitionError(`${subject}: field "${field}": ${detail}`, { migrationId: id, field });
}

function parse<T>(schema: z.ZodType<T>, what: string, input: unknown): T {
  if (typeof input !== 'object' || input === null) {
    throw new DefinitionError(`${what}: expected an object, got ${input === null ? 'null' : typeof input}`, {
      field: '(root)',
    });
  }
  const result = schema.safeParse(input);
  if (!result.success) throw toDefinitionError(what, input, result.error);
  return result.data;
}

function toScope(scope: ScopeInput | undefined): MigrationScope {
  if (scope === undefined || scope === 'all') return { kind: 'all' };
  if ('shards' in scope) return { kind: 'shards', shards: [...scope.shards] };
  return { kind: 'tenants', tenants: [...scope.tenants] };
}

function checkDependsOn(id: string, dependsOn: readonly string[] | undefined): readonly string[] {
  const deps = [...new Set(dependsOn ?? [])];
  if (deps.includes(id)) {
    throw new DefinitionError(`Migration "${id}": field "dependsOn": a migration cannot depend on itself`, {
      migrationId: id,
      field: 'dependsOn',
    });
  }
  return deps;
}

/**
 * Prefix of the checksums this SDK writes. A ledger checksum without it was written by an SDK that
 * hashed `Function.prototype.toString` (different under tsx, tsc and bundlers): see {@link isLegacyChecksum}.
 */
export const CHECKSUM_PREFIX = 'v2:';

/**
 * The checksum of a definition: what was declared, never the emitted function text, so that it is
 * the same whichever compiler, target or bundler produced the code. A step given as SQL text would
 * be hashed as that text; a function step is represented by its presence and the declared `version`.
 * Batch settings are left out on purpose: they are in the checkpoint fingerprint (a resume must
 * match them), and tuning them on an applied migration is not an edit of what it did.
 */
export function declaredChecksum(parts: readonly unknown[]): string {
  return CHECKSUM_PREFIX + sha256(JSON.stringify(parts));
}

/**
 * A checksum in the format of SDKs before `v2:` checksums (a bare sha256 hex digest of the compiled
 * function text): accepted once and upgraded by `run()`. Anything else that differs is drift.
 */
export function isLegacyChecksum(checksum: string): boolean {
  return /^[0-9a-f]{64}$/.test(checksum);
}

/** The checksum of `m` combined with the text of the file it was loaded from, as written. */
export function withSourceText(m: Migration, sourceText: string): Migration {
  return keepKeyDefault(
    m,
    Object.freeze({
      ...m,
      checksum: declaredChecksum([m.checksum, sha256(sourceText.replace(/\r\n/g, '\n'))]),
    } as Migration),
  );
}

/**
 * The key a data migration that declares none is defined with, before it is bound to an engine:
 * `['_id']` for `mongodb`, `['id']` for any other engine name. It is part of the migration's
 * checksum, so it stays what it always was (changing it would make every such migration drift);
 * `createMigrator` then binds the migration to its engine, whose adapter's `defaultKey` decides
 * (see {@link bindToEngine}). The memory engine takes it as its own default for its name.
 */
export function definedDefaultKey(engine: EngineName): readonly string[] {
  return engine === 'mongodb' ? ['_id'] : ['id'];
}

/** Data migrations whose key was not declared (it is {@link definedDefaultKey} until bound). */
const KEY_DEFAULTED = new WeakSet<object>();

function keepKeyDefault<T extends Migration>(from: Migration, to: T): T {
  if (KEY_DEFAULTED.has(from)) KEY_DEFAULTED.add(to);
  return to;
}

/**
 * `m` bound to the adapter of its engine: a data migration that declares no key gets the adapter's
 * `defaultKey`. The checksum is left as defined. Returns `m` itself when nothing changes.
 */
export function bindToEngine(m: Migration, adapter: Pick<EngineAdapter, 'defaultKey'>): Migration {
  if (m.kind !== 'data' || !KEY_DEFAULTED.has(m)) return m;
  const key = adapter.defaultKey;
  if (key.length === m.target.key.length && key.every((k, i) => k === m.target.key[i])) return m;
  return keepKeyDefault(m, Object.freeze({ ...m, target: { name: m.target.name, key: [...key] } }));
}

const stepPart = (f: unknown): string | boolean => (typeof f === 'string' ? f : typeof f === 'function');

/**
 * Defines a schema migration. Throws `DefinitionError` for bad input.
 *
 * ### Examples
 * ```ts
 * export default defineMigration({
 *   id: '0003-webhooks-secret-not-null',
 *   engine: 'postgres',
 *   async up(client) { await client.query('ALTER TABLE webhooks ALTER COLUMN secret SET NOT NULL'); },
 *   async down(client) { await client.query('ALTER TABLE webhooks ALTER COLUMN secret DROP NOT NULL'); },
 * });
 * ```
 */
export function defineMigration<Handle = any>(input: MigrationInput<Handle>): SchemaMigration<Handle> {
  const v = parse(schemaInput, 'Migration', input);
  const scope = toScope(v.scope);
  const transaction = v.transaction ?? true;
  return Object.freeze({
    kind: 'schema' as const,
    id: v.id,
    engine: v.engine,
    description: v.description ?? '',
    dependsOn: checkDependsOn(v.id, v.dependsOn),
    scope,
    transaction,
    up: input.up,
    down: input.down,
    preserve: normalizePreserve(v.preserve),
    checksum: declaredChecksum([
      'schema',
      v.id,
      v.engine,
      scope,
      transaction,
      v.version ?? null,
      stepPart(input.up),
      stepPart(input.down),
      ...(v.preserve ? [v.preserve] : []),
    ]),
  });
}

/**
 * Defines a data migration: a batched, resumable, throttled rewrite. Throws `DefinitionError` for bad input.
 *
 * ### Examples
 * ```ts
 * export default defineDataMigration({
 *   id: '0007-message-content-structured',
 *   engine: 'mongodb',
 *   collection: 'messages',
 *   transform: (doc) => (typeof doc.content === 'string' ? { ...doc, content: { type: 'text', text: doc.content } } : null),
 * });
 * ```
 */
export function defineDataMigration(input: DataMigrationInput): DataMigration {
  const v = parse(dataInput, 'Data migration', input);
  const scope = toScope(v.scope);
  const key = v.key === undefined ? [...definedDefaultKey(v.engine)] : typeof v.key === 'string' ? [v.key] : [...v.key];
  if (new Set(key).size !== key.length) {
    throw new DefinitionError(`Data migration "${v.id}": field "key": repeats a field`, {
      migrationId: v.id,
      field: 'key',
    });
  }
  const target = { name: (v.collection ?? v.table)!, key };
  const batchSize = v.batchSize ?? DEFAULT_BATCH_SIZE;
  const defined = Object.freeze({
    kind: 'data' as const,
    id: v.id,
    engine: v.engine,
    description: v.description ?? '',
    dependsOn: checkDependsOn(v.id, v.dependsOn),
    scope,
    target,
    filter: v.filter,
    batchSize,
    maxRowsPerSecond: v.maxRowsPerSecond,
    transform: input.transform,
    reverse: input.reverse,
    verify: input.verify,
    ifMissing: v.ifMissing ?? 'fail',
    checksum: declaredChecksum([
      'data',
      v.id,
      v.engine,
      scope,
      target,
      v.filter ?? null,
      v.version ?? null,
      stepPart(input.transform),
      stepPart(input.reverse),
    ]),
  });
  if (v.key === undefined) KEY_DEFAULTED.add(defined);
  return defined;
}

/** Fields a built migration has beyond its input's (the input's `table`/`collection`/`key` become `target`). */
const BUILT_FIELDS: Record<'schema' | 'data', readonly string[]> = {
  schema: ['kind', 'checksum'],
  data: ['kind', 'checksum', 'target'],
};

/**
 * Input fields a built migration keeps in their input form, so the input's schema checks them again
 * as they are. Other input fields (`scope`, `table`/`key` → `target`) are translated back first; a
 * field whose built form is its own (normalised) shape is allowed but left to its own check.
 */
const SAME_FORM = [
  'id',
  'engine',
  'description',
  'dependsOn',
  'version',
  'transaction',
  'up',
  'down',
  'batchSize',
  'maxRowsPerSecond',
  'filter',
  'transform',
  'reverse',
  'verify',
  'ifMissing',
];

function fromScope(scope: unknown): unknown {
  const s = scope as MigrationScope | null | undefined;
  if (s?.kind === 'all') return 'all';
  if (s?.kind === 'shards') return { shards: s.shards };
  if (s?.kind === 'tenants') return { tenants: s.tenants };
  return scope;
}

/** The schema a built migration of `kind` is checked with, and the input it stands for. */
function builtCheck(
  m: Record<string, unknown>,
  kind: 'schema' | 'data',
): { schema: z.ZodType; input: Record<string, unknown> } {
  const shape = (kind === 'schema' ? schemaInput : dataInput).shape as Record<string, z.ZodType>;
  const fields = SAME_FORM.filter((f) => f in shape);
  const translated = kind === 'data' ? ['scope', 'table', 'key'] : ['scope'];
  const schema = z.strictObject(Object.fromEntries([...fields, ...translated].map((f) => [f, shape[f]!])));
  const input: Record<string, unknown> = {};
  for (const f of fields) if (m[f] !== undefined) input[f] = m[f];
  input.scope = fromScope(m.scope);
  if (kind === 'data') {
    const target = m.target as { name?: unknown; key?: unknown } | undefined;
    input.table = target?.name;
    input.key = Array.isArray(target?.key) ? [...(target.key as unknown[])] : target?.key;
  }
  return { schema, input };
}

/**
 * Checks a built migration object again, with the same schema as {@link defineMigration} /
 * {@link defineDataMigration}: `createMigrator` calls it for every migration, so an object built
 * or changed by hand (`{ ...defined, batchSize: 0 }`, an unknown field) is refused with a
 * `DefinitionError` naming the migration and the field before anything connects.
 */
export function validateMigration(value: unknown, where = 'Migration'): asserts value is Migration {
  if (typeof value !== 'object' || value === null)
    throw new DefinitionError(`${where}: expected a migration object, got ${value === null ? 'null' : typeof value}`, {
      field: '(root)',
    });
  const m = value as Record<string, unknown>;
  const kind = m.kind;
  const id = typeof m.id === 'string' ? m.id : undefined;
  const fail = (field: string, why: string): never => {
    throw new DefinitionError(`${id ? `Migration "${id}"` : `${where} (no valid id)`}: field "${field}": ${why}`, {
      migrationId: id,
      field,
    });
  };
  if (kind !== 'schema' && kind !== 'data')
    return fail('kind', 'not a migration; build it with defineMigration() or defineDataMigration()');
  const shape = (kind === 'schema' ? schemaInput : dataInput).shape;
  const known = new Set([
    ...Object.keys(shape).filter((f) => !['table', 'collection', 'key'].includes(f)),
    ...BUILT_FIELDS[kind],
  ]);
  const unknown = Object.keys(m).filter((k) => !known.has(k));
  if (unknown.length) fail(unknown.join(', '), `unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
  if (typeof m.checksum !== 'string' || m.checksum.length === 0)
    fail('checksum', 'must be the checksum define*() computed');
  if (!Array.isArray(m.dependsOn)) fail('dependsOn', 'must be an array of migration ids');
  const { schema, input } = builtCheck(m, kind);
  const result = schema.safeParse(input);
  if (!result.success) {
    const error = toDefinitionError('Migration', m, result.error);
    // The built form names the target `target`; say so rather than the input's `table`/`key`.
    const field =
      error.field === 'table'
        ? 'target.name'
        : error.field === 'key' || error.field?.startsWith('key.')
          ? 'target.key'
          : error.field;
    throw field === error.field
      ? error
      : new DefinitionError(error.message.replace(`field "${error.field}"`, `field "${field}"`), {
          migrationId: id,
          field,
        });
  }
  checkDependsOn(id!, m.dependsOn as string[]);
  if (kind === 'schema' && typeof m.transaction !== 'boolean') fail('transaction', 'must be a boolean');
  if (kind === 'data') {
    if (m.batchSize === undefined) fail('batchSize', 'is required on a built data migration');
    const key = (m.target as { key: string[] }).key;
    if (new Set(key).size !== key.length) fail('target.key', 'repeats a field');
  }
}

export function isMigration(value: unknown): value is Migration {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return (
    typeof value === 'object' &&
    value !== null &&
    (kind === 'schema' || kind === 'data') &&
    typeof (value as { checksum?: unknown }).checksum === 'string'
  );
}
