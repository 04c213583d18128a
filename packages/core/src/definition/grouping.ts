/**
 * The `groupBy` of a grouped data migration: a prefix of its key, so that the rows of a group are
 * contiguous in key order and a batch can hold whole groups.
 */
import { DefinitionError } from '../errors/errors.js';
import type { DataMigration } from './migration-types.js';

/**
 * `groupBy` as a list of fields, checked against `key`: it must be the key's first fields, in the
 * key's order (`key: ['tenant_id', 'settings_key']` takes `groupBy: 'tenant_id'`). Throws a
 * `DefinitionError` naming the migration and the field `groupBy` otherwise. `undefined` stays
 * `undefined` (a migration that transforms one row at a time).
 */
export function checkGroupBy(
  id: string,
  groupBy: string | readonly string[] | undefined,
  key: readonly string[],
  field = 'groupBy',
): readonly string[] | undefined {
  if (groupBy === undefined) return undefined;
  const fields = typeof groupBy === 'string' ? [groupBy] : [...groupBy];
  const fail = (why: string): never => {
    throw new DefinitionError(`Data migration "${id}": field "${field}": ${why}`, { migrationId: id, field });
  };
  if (new Set(fields).size !== fields.length) fail('repeats a field');
  const keyText = `(${key.join(', ')})`;
  if (fields.length > key.length)
    fail(`has ${fields.length} fields but the key ${keyText} has ${key.length}; it must be a prefix of the key`);
  const at = fields.findIndex((f, i) => f !== key[i]);
  if (at >= 0) {
    const why = key.includes(fields[at]!)
      ? `"${fields[at]}" is field ${key.indexOf(fields[at]!) + 1} of the key ${keyText}, but field ${at + 1} of groupBy`
      : `"${fields[at]}" is not a field of the key ${keyText}`;
    fail(
      `must be a prefix of the key (its first fields, in the key's order) so that a group's rows are contiguous; ${why}`,
    );
  }
  return fields;
}

/** Whether `m` rolls back with its own inverse (`reverse`, or `reverseGroup` when grouped) rather than from its backup. */
export function hasReverse(m: DataMigration): boolean {
  if ('sql' in m || 'update' in m) return (m.reverseSql ?? m.reverseUpdate) !== undefined;
  return (m.groupBy ? m.reverseGroup : m.reverse) !== undefined;
}
