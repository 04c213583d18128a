/**
 * The `preserve` option of a schema migration: what its `up` destroys (a table or collection it
 * drops, columns or fields it removes). The SDK keeps a server-side copy of each target on every
 * shard before `up` runs there, and rolling the migration back (after `down` recreated the shape)
 * writes the saved values back exactly. Copies stay until `migrator.purgePreserved()`.
 */
import { z } from 'zod';
import type { PreserveTarget } from '../engine/spi.js';
import { sha256 } from '../util/row-set-hash.js';

/**
 * One thing a migration destroys: a table/collection name (`'tenant_feature_flags'`, or
 * `'schema.table'` on PostgreSQL), or some of its columns/fields, restored by primary key / `_id`.
 */
export type PreserveInput =
  | string
  | { readonly table: string; readonly columns?: readonly string[] | undefined }
  | { readonly collection: string; readonly fields?: readonly string[] | undefined };

const TARGET = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const targetName = z
  .string()
  .regex(TARGET, 'must be a plain table/collection name (PostgreSQL: optionally "schema.table")')
  .max(127);
const columnList = z
  .array(z.string().regex(COLUMN, 'must be a plain top-level column/field name'))
  .min(1, 'must name at least one column/field; omit it to keep the whole table/collection')
  .refine((a) => new Set(a).size === a.length, 'names a column/field twice');

export const preserveSchema = z
  .array(
    z.union([
      targetName,
      z.strictObject({ table: targetName, columns: columnList.optional() }),
      z.strictObject({ collection: targetName, fields: columnList.optional() }),
    ]),
  )
  .min(1, 'must name at least one table/collection; omit "preserve" otherwise')
  .superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const name = normalizeOne(item).name;
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `names "${name}" twice; list its columns/fields in one entry`,
        });
      seen.add(name);
    });
  });

function normalizeOne(item: PreserveInput): PreserveTarget {
  if (typeof item === 'string') return { name: item };
  const columns = 'table' in item ? item.columns : item.fields;
  const name = 'table' in item ? item.table : item.collection;
  return columns ? { name, columns: [...columns] } : { name };
}

/** The targets of a validated `preserve` option, in the order given (restored in that order too). */
export function normalizePreserve(input: readonly PreserveInput[] | undefined): readonly PreserveTarget[] {
  return Object.freeze((input ?? []).map((item) => Object.freeze(normalizeOne(item))));
}

const slug = (text: string, max: number) => text.replace(/[^A-Za-z0-9_]/g, '_').slice(0, max);

/**
 * The deterministic name of the copy of `target` kept for migration `migrationId`: readable parts
 * of both plus a hash of the exact id, target and columns, so that two ids that read alike
 * (`0501-c.1`, `0501-c_1`) never share a copy. At most 60 characters (a PostgreSQL identifier).
 * The copy lives beside the target (same schema / database), so it stays on the shard.
 */
export function preserveCopyName(migrationId: string, target: PreserveTarget): string {
  const table = target.name.includes('.') ? target.name.slice(target.name.indexOf('.') + 1) : target.name;
  const hash = sha256(JSON.stringify([migrationId, target.name, target.columns ?? null])).slice(0, 10);
  return `mcp_preserved_${slug(migrationId, 18)}_${slug(table, 16)}_${hash}`;
}

/** Name of the per-shard catalog of preserved copies (a table in the adapter's schema / a collection). */
export const PRESERVE_CATALOG = 'mcp_preserved';
