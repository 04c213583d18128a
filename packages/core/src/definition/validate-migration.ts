/**
 * The check of a built migration object (`createMigrator` runs it on every migration), with the same
 * schemas as `defineMigration` / `defineDataMigration`.
 */
import { z } from 'zod';
import { DefinitionError } from '../errors/errors.js';
import { checkGroupBy } from './grouping.js';
import {
  checkDependsOn,
  dataInput,
  MAX_PARALLELISM,
  parallelismIssue,
  schemaInput,
  toDefinitionError,
  transformIssue,
} from './migration-schema.js';
import type { Migration, MigrationScope } from './migration-types.js';
import { checkServerStatements } from './server-statement.js';

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
  'groupBy',
  'transformGroup',
  'reverseGroup',
  'verify',
  'ifMissing',
  'sql',
  'reverseSql',
  'update',
  'reverseUpdate',
  'backup',
  'parallelism',
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
    const p = m.parallelism;
    if (p !== undefined && (!Number.isInteger(p) || (p as number) < 1 || (p as number) > MAX_PARALLELISM))
      fail('parallelism', `must be an integer from 1 to ${MAX_PARALLELISM}`);
    const issue = transformIssue(m) ?? parallelismIssue(m);
    if (issue) fail(issue.field, issue.message);
    checkGroupBy(id!, m.groupBy as string[] | undefined, key);
    checkServerStatements(id!, m, key);
  }
}
