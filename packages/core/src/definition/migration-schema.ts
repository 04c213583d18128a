/**
 * The zod schemas of migration inputs, and how their failures become a `DefinitionError` naming the
 * migration and the field. Shared by `define*()` and by the check of built migrations.
 */
import { z } from 'zod';
import { DefinitionError } from '../errors/errors.js';
import { firstIssue } from '../errors/zod-issue.js';
import type { MigrationScope, ScopeInput } from './migration-types.js';
import { NAME } from './names.js';
import { preserveSchema } from './preserve.js';
import { serverIssue } from './server-statement.js';

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

export const schemaInput = z.strictObject({
  ...common,
  transaction: z.boolean().optional(),
  up: fn('up'),
  down: fn('down').optional(),
  preserve: preserveSchema.optional(),
});

const field = z.string().regex(NAME, 'must be a plain field name');
const fields = z.union([field, z.array(field).min(1)]);

const sqlText = z.string().min(1, 'must be an UPDATE statement').max(100_000);
const updateDoc = z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]);
/** Server-side migrations (see ./server-statement.ts). */
const serverFields = {
  sql: sqlText.optional(),
  reverseSql: sqlText.optional(),
  update: updateDoc.optional(),
  reverseUpdate: updateDoc.optional(),
};

/** Most key ranges a data migration may run at once on one shard. */
export const MAX_PARALLELISM = 64;

export const dataInput = z
  .strictObject({
    ...common,
    collection: z.string().regex(NAME, 'must be a plain table/collection name').optional(),
    table: z.string().regex(NAME, 'must be a plain table/collection name').optional(),
    key: fields.optional(),
    filter: z.record(z.string(), z.unknown()).optional(),
    batchSize: z.number().int('must be an integer').min(1).max(MAX_BATCH_SIZE).optional(),
    maxRowsPerSecond: z.number().positive().optional(),
    transform: fn('transform').optional(),
    reverse: fn('reverse').optional(),
    groupBy: fields.optional(),
    transformGroup: fn('transformGroup').optional(),
    reverseGroup: fn('reverseGroup').optional(),
    verify: fn('verify').optional(),
    ifMissing: z.enum(['fail', 'skip']).optional(),
    backup: z.boolean().optional(),
    parallelism: z.number().int('must be an integer').min(1).max(MAX_PARALLELISM).optional(),
    ...serverFields,
  })
  .superRefine((v, ctx) => {
    if ((v.collection === undefined) === (v.table === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [v.collection === undefined ? 'collection' : 'table'],
        message: 'give exactly one of "collection" or "table"',
      });
    }
    const issue = transformIssue(v) ?? parallelismIssue(v);
    if (issue) ctx.addIssue({ code: 'custom', path: [issue.field], message: issue.message });
  });

/**
 * `parallelism` > 1 splits the key space into ranges cut at arbitrary keys: a group could straddle
 * two of them, and a run without backup could not tell a rollback which rows it changed.
 */
export function parallelismIssue(v: Readonly<Record<string, unknown>>): { field: string; message: string } | undefined {
  if (typeof v.parallelism !== 'number' || v.parallelism <= 1) return undefined;
  if (v.groupBy !== undefined)
    return {
      field: 'parallelism',
      message:
        'a grouped migration ("groupBy") runs as one key range: ranges are cut at arbitrary keys and a group must never straddle two; drop "parallelism" or "groupBy"',
    };
  if (v.backup === false)
    return {
      field: 'parallelism',
      message:
        '"backup: false" runs as one key range: a rollback of a partly applied run without backup reverses the rows up to ONE checkpoint key; drop "parallelism" or keep the backup',
    };
  return undefined;
}

/**
 * Which transform a data migration must declare: `transform` (and maybe `reverse`) one row at a
 * time, or, with `groupBy`, `transformGroup` (and maybe `reverseGroup`); never a mix.
 */
export function transformIssue(v: Readonly<Record<string, unknown>>): { field: string; message: string } | undefined {
  const has = (f: string) => v[f] !== undefined;
  if (['sql', 'reverseSql', 'update', 'reverseUpdate'].some(has))
    return serverIssue(v) ?? backupIssue(v, has('sql') ? 'reverseSql' : 'reverseUpdate');
  if (has('groupBy')) {
    const rowFn = ['transform', 'reverse'].find(has);
    if (rowFn)
      return {
        field: rowFn,
        message: `a grouped migration ("groupBy") takes "${rowFn}Group", which receives all the rows of a group, not "${rowFn}"`,
      };
    if (!has('transformGroup')) return { field: 'transformGroup', message: 'is required with "groupBy"' };
    return backupIssue(v, 'reverseGroup');
  }
  const groupFn = ['transformGroup', 'reverseGroup'].find(has);
  if (groupFn) return { field: groupFn, message: 'needs "groupBy": the field(s) whose values make a group' };
  if (!has('transform'))
    return { field: 'transform', message: 'transform must be a function (or give "sql" / "update": see the guide)' };
  return backupIssue(v, 'reverse');
}

/** `backup: false` only with the exact inverse rollback then uses. */
function backupIssue(
  v: Readonly<Record<string, unknown>>,
  inverse: string,
): { field: string; message: string } | undefined {
  if (v.backup !== false || v[inverse] !== undefined) return undefined;
  return {
    field: 'backup',
    message: `"backup: false" needs an exact "${inverse}": without a backup, rollback has nothing else to restore the rows from`,
  };
}

/** Turns a zod failure into a DefinitionError naming the migration and the first bad field. */
export function toDefinitionError(what: string, input: unknown, error: z.ZodError): DefinitionError {
  const id = typeof (input as { id?: unknown } | null)?.id === 'string' ? (input as { id: string }).id : undefined;
  const { field, detail } = firstIssue(error, 'field');
  const subject = id ? `${what} "${id}"` : `${what} (no valid id)`;
  return new DefinitionError(`${subject}: field "${field}": ${detail}`, { migrationId: id, field });
}

export function parse<T>(schema: z.ZodType<T>, what: string, input: unknown): T {
  if (typeof input !== 'object' || input === null) {
    throw new DefinitionError(`${what}: expected an object, got ${input === null ? 'null' : typeof input}`, {
      field: '(root)',
    });
  }
  const result = schema.safeParse(input);
  if (!result.success) throw toDefinitionError(what, input, result.error);
  return result.data;
}

export function toScope(scope: ScopeInput | undefined): MigrationScope {
  if (scope === undefined || scope === 'all') return { kind: 'all' };
  if ('shards' in scope) return { kind: 'shards', shards: [...scope.shards] };
  return { kind: 'tenants', tenants: [...scope.tenants] };
}

export function checkDependsOn(id: string, dependsOn: readonly string[] | undefined): readonly string[] {
  const deps = [...new Set(dependsOn ?? [])];
  if (deps.includes(id)) {
    throw new DefinitionError(`Migration "${id}": field "dependsOn": a migration cannot depend on itself`, {
      migrationId: id,
      field: 'dependsOn',
    });
  }
  return deps;
}
