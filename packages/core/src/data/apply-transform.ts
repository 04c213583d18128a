/** Runs a data migration's `transform` or `reverse` on one row: a copy of it, checked for what it returns. */
import type { DataTarget, Row } from '../engine/spi.js';
import { MigrationFailedError } from '../errors/errors.js';
import { describeRow } from '../errors/classify.js';
import type { TransformFn } from '../definition/migration.js';
import { canonicalEncode } from '../util/canonical.js';
import { cloneValue } from '../util/clone.js';
import { keyOf, type BatchRunInput } from './batch-step.js';

/**
 * `fn` on a copy of `row`: the new row, or `null` to leave it. Refuses (`MigrationFailedError`)
 * a throw, a result that is not an object, and a changed key.
 */
export async function apply(fn: TransformFn, row: Row, input: BatchRunInput, target: DataTarget): Promise<Row | null> {
  // Only for the error messages below: not computed for every row.
  const named = () => describeRow(keyOf(target, row));
  let next: Row | null | undefined;
  try {
    next = await fn(cloneValue(row), { shard: input.descriptor, migrationId: input.migration.id });
  } catch (error) {
    throw new MigrationFailedError(
      `Data migration "${input.migration.id}" on shard "${input.shard.id}": ${input.direction === 'up' ? 'transform' : 'reverse'} threw for ${named()}: ${error instanceof Error ? error.message : String(error)}`,
      { migrationId: input.migration.id, shardId: input.shard.id, cause: error },
    );
  }
  if (next === null || next === undefined) return null;
  if (typeof next !== 'object' || Array.isArray(next)) {
    throw new MigrationFailedError(
      `Data migration "${input.migration.id}": transform must return an object or null, got ${Array.isArray(next) ? 'an array' : typeof next} for ${named()}`,
      {
        migrationId: input.migration.id,
        shardId: input.shard.id,
        field: 'transform',
      },
    );
  }
  if (!sameKey(target, row, next)) {
    throw new MigrationFailedError(
      `Data migration "${input.migration.id}" on shard "${input.shard.id}": transform changed the key (${target.key.join(', ')}) of ${named()}; keys must stay as they are`,
      { migrationId: input.migration.id, shardId: input.shard.id, field: 'key' },
    );
  }
  return next;
}

/** Whether `next` has the key of `row`: `Object.is` on each key field (the usual case), else compared canonically. */
function sameKey(target: DataTarget, row: Row, next: Row): boolean {
  const key = target.key;
  let identical = true;
  for (let i = 0; i < key.length && identical; i++) identical = Object.is(row[key[i]!], next[key[i]!]);
  return identical || canonicalEncode(keyOf(target, next)) === canonicalEncode(keyOf(target, row));
}
