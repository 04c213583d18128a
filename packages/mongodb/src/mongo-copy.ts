/**
 * Bulk copy of documents between databases, for tenant moves: keyset batches on `_id` read from
 * the source and written to the target with one unordered bulk of idempotent upserts each, so a
 * copy interrupted at any point can simply be run again. Documents are read as raw BSON and
 * written as stored (never through promoted JS numbers), so every BSON type survives the copy.
 */
import type { AnyBulkWriteOperation, Db, Document, Filter } from 'mongodb';
import type { Row } from '@mcp/migrate-core/engine';
import { afterKey, and } from './keyset.js';
import { bulkFailure, chunkedBulkWrite } from './internal/bulk-write.js';
import { decodeRow, RAW_READ, storedDocument } from './stored-form.js';

export interface CopyDocumentsOptions {
  /** Documents per batch. Default 1000. */
  readonly batchSize?: number | undefined;
  /** Target collection name. Default: the source collection's name. */
  readonly targetCollection?: string | undefined;
  /** Resume after this `_id` (exclusive), e.g. the `lastId` of an interrupted copy. */
  readonly after?: unknown;
  /** Called after each batch with the counts so far and the last `_id` copied (a checkpoint). */
  readonly onBatch?: ((progress: CopyProgress) => void | Promise<void>) | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface CopyProgress {
  /** Documents read from the source. */
  readonly read: number;
  /** Documents written to the target (matched + upserted): equals `read` or the copy throws. */
  readonly written: number;
  readonly batches: number;
  /** `_id` of the last document copied; `undefined` when nothing was. */
  readonly lastId: unknown;
}

/**
 * Copies the documents of `collection` matching `filter` from `sourceDb` to `targetDb`. Throws a
 * `MigrationFailedError` naming the keys when a batch cannot be written completely (e.g. a unique
 * index on the target refuses a document); never drops a document silently.
 */
export async function copyDocuments(
  sourceDb: Db,
  targetDb: Db,
  collection: string,
  filter: Filter<Document> = {},
  options: CopyDocumentsOptions = {},
): Promise<CopyProgress> {
  const batchSize = options.batchSize ?? 1_000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new TypeError('copyDocuments: "batchSize" must be a positive integer');
  const source = sourceDb.collection(collection);
  const targetName = options.targetCollection ?? collection;
  let progress: CopyProgress = { read: 0, written: 0, batches: 0, lastId: options.after };
  for (;;) {
    options.signal?.throwIfAborted();
    const query = and([
      filter as Record<string, unknown>,
      progress.lastId === undefined ? undefined : afterKey(['_id'], [progress.lastId]),
    ]);
    const raw = (await source
      .find(query, RAW_READ)
      .sort({ _id: 1 })
      .limit(batchSize)
      .toArray()) as unknown as Uint8Array[];
    const docs = raw.map(decodeRow);
    if (docs.length === 0) return progress;
    const ops: AnyBulkWriteOperation<Document>[] = docs.map((doc) => ({
      replaceOne: { filter: { _id: doc._id } as Document, replacement: storedDocument(doc)!, upsert: true },
    }));
    let written: number;
    try {
      const result = await chunkedBulkWrite(targetDb, targetName, ops);
      written = result.matchedCount + result.upsertedCount;
    } catch (error) {
      if (Array.isArray((error as { writeErrors?: unknown }).writeErrors))
        throw bulkFailure('(copy)', targetName, docs as Row[], ['_id'], 'copy', error);
      throw error;
    }
    if (written !== docs.length) {
      throw bulkFailure(
        '(copy)',
        targetName,
        docs as Row[],
        ['_id'],
        'copy',
        new Error(`wrote ${written} of ${docs.length} documents`),
      );
    }
    progress = {
      read: progress.read + docs.length,
      written: progress.written + written,
      batches: progress.batches + 1,
      lastId: docs.at(-1)!._id,
    };
    await options.onBatch?.(progress);
    if (docs.length < batchSize) return progress;
  }
}
