/**
 * Bulk writes that FerretDB v1.24 answers, and the typed error a failed one becomes: shared by the
 * data store, the preserved copies and the document mover. Internal.
 */
import type { AnyBulkWriteOperation, BulkWriteResult, Db, Document } from 'mongodb';
import { canonicalEncode, MigrationFailedError } from '@mcp/migrate-core/engine';
import type { Row } from '@mcp/migrate-core/engine';
import { keyOf } from './keyset.js';
import { describe } from '../mongo-errors.js';

/**
 * Write statements per command on FerretDB: v1.24 (SQLite handler) never answers an `update` or
 * `delete` command with 100 or more statements (99 work), so bulk writes are sent in chunks there.
 * On MongoDB a bulk write is one `bulkWrite` call (the driver splits at `maxWriteBatchSize`).
 */
export const FERRETDB_WRITE_CHUNK = 50;

const chunkSizes = new WeakMap<object, Promise<number>>();

/** How many write statements to send per command to the server of `db` (cached per client). */
export function writeChunkSize(db: Db): Promise<number> {
  const key = (db as unknown as { client?: object }).client ?? db;
  let size = chunkSizes.get(key);
  if (!size) {
    size = db.command({ buildInfo: 1 }).then(
      (info) => (typeof info.ferretdbVersion === 'string' ? FERRETDB_WRITE_CHUNK : Number.POSITIVE_INFINITY),
      () => FERRETDB_WRITE_CHUNK,
    );
    chunkSizes.set(key, size);
  }
  return size;
}

/** Sums of the counts of the chunks of one logical bulk write. */
export interface BulkCounts {
  matchedCount: number;
  upsertedCount: number;
  deletedCount: number;
  insertedCount: number;
}

/**
 * One logical unordered bulk write, sent as one `bulkWrite` (MongoDB) or in chunks (FerretDB).
 * Throws what the driver throws, with `firstIndex` set to the chunk's offset so that the
 * `writeErrors[].index` of the error can be mapped back to `ops`.
 */
export async function chunkedBulkWrite(
  db: Db,
  collection: string,
  ops: AnyBulkWriteOperation<Document>[],
): Promise<BulkCounts> {
  const size = await writeChunkSize(db);
  const total: BulkCounts = { matchedCount: 0, upsertedCount: 0, deletedCount: 0, insertedCount: 0 };
  for (let start = 0; start < ops.length; start += Math.min(size, ops.length)) {
    const chunk = size >= ops.length ? ops : ops.slice(start, start + size);
    let result: BulkWriteResult;
    try {
      result = await db.collection(collection).bulkWrite(chunk, { ordered: false, ignoreUndefined: true });
    } catch (error) {
      if (typeof error === 'object' && error !== null) Object.assign(error, { firstIndex: start });
      throw error;
    }
    total.matchedCount += result.matchedCount;
    total.upsertedCount += result.upsertedCount;
    total.deletedCount += result.deletedCount;
    total.insertedCount += result.insertedCount;
  }
  return total;
}

export function hasWriteErrors(error: unknown): boolean {
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  return Array.isArray(writeErrors) && writeErrors.length > 0;
}

/** A `MigrationFailedError` naming the keys whose writes failed (a network error names none). */
export function bulkFailure(
  shardId: string,
  collection: string,
  rows: readonly Row[],
  key: readonly string[],
  what: string,
  error: unknown,
): MigrationFailedError {
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  const offset = Number((error as { firstIndex?: unknown } | null)?.firstIndex ?? 0);
  const failed = Array.isArray(writeErrors)
    ? writeErrors.map((w: { index?: unknown }) => {
        const row = typeof w.index === 'number' ? rows[offset + w.index] : undefined;
        return row ? canonicalKey(key, row) : '?';
      })
    : [];
  const keys = failed.length
    ? `; failed key(s): ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ` and ${failed.length - 10} more` : ''}`
    : '';
  return new MigrationFailedError(
    `Bulk ${what} of ${rows.length} document(s) into "${collection}" on shard "${shardId}" failed${keys}: ${describe(error)}`,
    { shardId, cause: error, retryable: false },
  );
}

function canonicalKey(key: readonly string[], row: Row): string {
  const values = keyOf(key, row);
  return values.length === 1 ? stringify(values[0]) : `(${values.map(stringify).join(', ')})`;
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v && typeof v === 'object' && typeof (v as { toHexString?: unknown }).toHexString === 'function')
    return `ObjectId(${(v as { toHexString(): string }).toHexString()})`;
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? canonicalEncode(v) : String(v);
}
