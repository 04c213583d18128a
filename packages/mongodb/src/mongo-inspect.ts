/**
 * What the migrator checks about a data migration's collection before its first batch: that it
 * exists, and that the migration's key identifies one document. Keyset pagination and the backup
 * (first copy wins, by key) assume it: on a non-unique key a batch skips documents that share a key
 * value with the last one read, and the backup keeps one document per value.
 *
 * The key is unique when it is `_id`, or exactly the fields of a unique index that is neither
 * partial nor sparse (a sparse unique index lets any number of documents lack the field).
 */
import type { Db, Document } from 'mongodb';
import type { DataTarget, TargetInfo } from '@mcp/migrate-core/engine';
import { isNotFound } from './mongo-errors.js';

export async function inspectCollection(db: Db, target: DataTarget): Promise<TargetInfo> {
  const found = await db.listCollections({ name: target.name }, { nameOnly: true }).toArray();
  if (found.length === 0) return { exists: false, uniqueKey: false };
  if (target.key.length === 1 && target.key[0] === '_id') return { exists: true, uniqueKey: true };
  let indexes: Document[];
  try {
    indexes = await db.collection(target.name).listIndexes().toArray();
  } catch (error) {
    // Dropped between the two calls.
    if (isNotFound(error)) return { exists: false, uniqueKey: false };
    throw error;
  }
  const exactly = (fields: readonly string[]) =>
    fields.length === target.key.length && target.key.every((k) => fields.includes(k));
  const uniqueKey = indexes.some(
    (i) =>
      i.unique === true &&
      i.sparse !== true &&
      i.partialFilterExpression === undefined &&
      exactly(Object.keys((i.key ?? {}) as Document)),
  );
  return { exists: true, uniqueKey };
}
