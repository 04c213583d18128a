/**
 * Bulk writes that FerretDB v1.24 answers, and the typed error a failed one becomes: shared by the
 * data store, the preserved copies and the document mover. Internal.
 */
import { BSON, type AnyBulkWriteOperation, type BulkWriteResult, type Db, type Document } from 'mongodb';
import { canonicalEncode, MigrationFailedError } from '@mcp/migrate-core/engine';
import type { Row } from '@mcp/migrate-core/engine';
import { keyOf } from './keyset.js';
import { describe } from '../mongo-errors.js';

/** How the adapter sizes the bulk writes it sends to one server. */
export interface WritePlan {
  /** Write statements per command (`bulkWrite` call). */
  readonly statements: number;
  /** Estimated BSON bytes of the statements of one command (at least one statement per command). */
  readonly bytes: number;
  /** Commands of one logical bulk write in flight at once. */
  readonly inFlight: number;
}

/**
 * FerretDB v1.24.2 (SQLite handler), measured with `updateOne`-`$set` statements spread over the
 * collection (docs/guides/mongodb.md, "What FerretDB costs"). Every `update`/`delete` statement reads
 * the collection up to its document (Int32 ids are decoded one by one; string and ObjectId ids are
 * filtered inside SQLite, still without the `_id` index), so a statement costs the same inside a
 * bulk as alone — Int32 ids, 20k documents: 436–596 ms per document for k = 1, 5, 10, 25, 50, 99
 * statements per command; 100k: 2.8–4.6 s; ObjectId ids, 100k: 326–386 ms — there is no knee to stay
 * under, only a cliff: a command of 100 or more statements never answers and keeps a server thread
 * spinning until restart. Commands in flight at once do overlap (two cores): 20k, k = 10, one in
 * flight 363–445 ms per document, two 247–364, three 218–255, four 216–245. So: commands of 10
 * statements (far from the cliff; a failure names few keys), three in flight.
 */
export const FERRETDB_WRITES: WritePlan = { statements: 10, bytes: 8 * 1024 * 1024, inFlight: 3 };
/**
 * MongoDB: a batch's writes are one unordered `bulkWrite` (the driver splits it at the server's
 * `maxWriteBatchSize` and message size), cut only past 8 MiB of statements, two such commands in flight.
 */
export const MONGODB_WRITES: WritePlan = { statements: Number.POSITIVE_INFINITY, bytes: 8 * 1024 * 1024, inFlight: 2 };

const plans = new WeakMap<object, Promise<WritePlan>>();

/** The write plan for the server of `db` (FerretDB or MongoDB, by `buildInfo`; cached per client). */
export function writePlan(db: Db): Promise<WritePlan> {
  const key = (db as unknown as { client?: object }).client ?? db;
  let plan = plans.get(key);
  if (!plan) {
    plan = db.command({ buildInfo: 1 }).then(
      (info) => (typeof info.ferretdbVersion === 'string' ? FERRETDB_WRITES : MONGODB_WRITES),
      () => FERRETDB_WRITES,
    );
    plans.set(key, plan);
  }
  return plan;
}

/** How many write statements to send per command to the server of `db` (see {@link writePlan}). */
export async function writeChunkSize(db: Db): Promise<number> {
  return (await writePlan(db)).statements;
}

/** Sums of the counts of the chunks of one logical bulk write. */
export interface BulkCounts {
  matchedCount: number;
  upsertedCount: number;
  deletedCount: number;
  insertedCount: number;
}

/** `ops` cut into commands of at most `plan.statements` statements and about `plan.bytes` bytes. */
export function chunksOf<T extends object>(
  ops: readonly T[],
  plan: Pick<WritePlan, 'statements' | 'bytes'>,
): { start: number; ops: T[] }[] {
  const chunks: { start: number; ops: T[] }[] = [];
  let current: { start: number; ops: T[] } | undefined;
  let bytes = 0;
  ops.forEach((op, i) => {
    const size = BSON.calculateObjectSize(op as Document, { ignoreUndefined: true });
    if (!current || current.ops.length >= plan.statements || (current.ops.length > 0 && bytes + size > plan.bytes)) {
      current = { start: i, ops: [] };
      chunks.push(current);
      bytes = 0;
    }
    current.ops.push(op);
    bytes += size;
  });
  return chunks;
}

/**
 * One logical unordered bulk write, sent as commands sized by the server's {@link writePlan}, a
 * few in flight at once. After a failed command no further one starts; the ones in flight finish,
 * and what the driver threw for the first failed one (by position) is rethrown, with `firstIndex`
 * set to its command's offset so that `writeErrors[].index` maps back to `ops`.
 */
export async function chunkedBulkWrite(
  db: Db,
  collection: string,
  ops: AnyBulkWriteOperation<Document>[],
): Promise<BulkCounts> {
  const plan = await writePlan(db);
  const chunks = chunksOf(ops, plan);
  const total: BulkCounts = { matchedCount: 0, upsertedCount: 0, deletedCount: 0, insertedCount: 0 };
  type Failure = { start: number; error: unknown };
  const state: { failure?: Failure } = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length && !state.failure) {
      const chunk = chunks[next++]!;
      let result: BulkWriteResult;
      try {
        result = await db.collection(collection).bulkWrite(chunk.ops, { ordered: false, ignoreUndefined: true });
      } catch (error) {
        // Several may fail while in flight: the first by position is reported.
        // (Read afresh: another command may have failed while this one was in flight.)
        const first = state.failure as Failure | undefined;
        if (first === undefined || chunk.start < first.start) state.failure = { start: chunk.start, error };
        continue;
      }
      total.matchedCount += result.matchedCount;
      total.upsertedCount += result.upsertedCount;
      total.deletedCount += result.deletedCount;
      total.insertedCount += result.insertedCount;
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.inFlight, chunks.length) }, worker));
  if (state.failure) {
    const { error, start } = state.failure;
    if (typeof error === 'object' && error !== null) Object.assign(error, { firstIndex: start });
    throw error;
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
