/**
 * The ledger of one shard: collection `mcp_migrations` (configurable) in the shard's database, one
 * document per migration with `_id` = migration id.
 *
 * Fencing without transactions (FerretDB has none, and a standalone MongoDB neither): a write
 * 1. reads the lease document of `fence.lockName` and refuses unless its token is `fence.token`;
 * 2. writes the record with a filter that refuses to overwrite a record stamped with a newer token
 *    of the same lock (`{ _id, $or: [fence older or equal, fence of another lock, no fence] }` with
 *    `upsert`); when the filter does not match, the upsert tries to insert the same `_id` and fails
 *    with E11000, which means a newer holder wrote the record: `StaleLeaseError`. Two upserts of a
 *    record that does not exist yet can also both try the insert (the standard MongoDB upsert race:
 *    the loser gets E11000 although its fence is valid), so the first E11000 is retried once: the
 *    record now exists, and the retry replaces it or, if it carries a newer fence, fails again.
 * The window left between 1 and 2 is described in docs/guides/mongodb.md.
 */
import type { Collection, Db } from 'mongodb';
import { StaleLeaseError } from '@mcp/migrate-core/engine';
import type { Fence, LedgerRecord, LedgerStore } from '@mcp/migrate-core/engine';
import { isAlreadyExists, isDuplicateKey } from './mongo-errors.js';
import type { LeaseDocument } from './mongo-lock.js';

/** Default ledger collection. */
export const DEFAULT_LEDGER_COLLECTION = 'mcp_migrations';

/** A ledger record as stored: `_id` instead of `id`, plus the fence that wrote it. */
interface LedgerDocument extends Omit<LedgerRecord, 'id'> {
  _id: string;
  fence?: Fence;
}

export class MongoLedgerStore implements LedgerStore {
  readonly #db: () => Promise<Db>;
  readonly #collection: string;
  readonly #lockCollection: string;
  readonly #shardId: string;

  constructor(db: () => Promise<Db>, collection: string, lockCollection: string, shardId: string) {
    this.#db = db;
    this.#collection = collection;
    this.#lockCollection = lockCollection;
    this.#shardId = shardId;
  }

  /** Creates the ledger and lease collections and the ledger's `seq` index; concurrent calls are safe. */
  async init(): Promise<void> {
    const db = await this.#db();
    for (const name of [this.#collection, this.#lockCollection]) {
      await db.createCollection(name).catch(ignoreExists);
    }
    await db.collection(this.#collection).createIndex({ seq: 1 }, { name: 'seq_1' }).catch(ignoreExists);
  }

  async list(): Promise<LedgerRecord[]> {
    const docs = await (await this.#ledger()).find({}).toArray();
    return docs.map(({ _id, fence: _fence, ...rest }) => ({ id: _id, ...rest }) as LedgerRecord);
  }

  async put(record: LedgerRecord, fence: Fence): Promise<void> {
    const what = `Ledger write of "${record.id}" on shard "${this.#shardId}"`;
    await this.#checkLease(fence, what);
    const { id, ...rest } = record;
    const doc: LedgerDocument = { _id: id, ...rest, fence: { lockName: fence.lockName, token: fence.token } };
    const ledger = await this.#ledger();
    const upsert = () =>
      ledger.replaceOne({ _id: id, ...notNewer(fence) }, doc, { upsert: true, ignoreUndefined: true });
    try {
      await upsert().catch((error: unknown) => {
        // The upsert race (see the file's comment): a concurrent insert of the same `_id` won.
        if (isDuplicateKey(error)) return upsert();
        throw error;
      });
    } catch (error) {
      if (isDuplicateKey(error))
        throw stale(what, fence, this.#shardId, 'a newer lease holder already wrote this record', error);
      throw error;
    }
  }

  async delete(id: string, fence: Fence): Promise<void> {
    const what = `Ledger delete of "${id}" on shard "${this.#shardId}"`;
    await this.#checkLease(fence, what);
    const ledger = await this.#ledger();
    const { deletedCount } = await ledger.deleteOne({ _id: id, ...notNewer(fence) });
    if (deletedCount === 0 && (await ledger.countDocuments({ _id: id }, { limit: 1 })) > 0) {
      throw stale(what, fence, this.#shardId, 'a newer lease holder wrote this record');
    }
  }

  async #checkLease(fence: Fence, what: string): Promise<void> {
    const db = await this.#db();
    const lease = await db
      .collection<LeaseDocument>(this.#lockCollection)
      .findOne({ _id: fence.lockName }, { projection: { token: 1 } });
    const newest = typeof lease?.token === 'number' ? lease.token : 0;
    if (newest !== fence.token) throw stale(what, fence, this.#shardId, `newest is ${newest}`);
  }

  async #ledger(): Promise<Collection<LedgerDocument>> {
    return (await this.#db()).collection<LedgerDocument>(this.#collection);
  }
}

/** Matches a record this fence may overwrite: no fence, another lock's fence, or an older-or-equal token. */
function notNewer(fence: Fence): Record<string, unknown> {
  return {
    $or: [
      { fence: { $exists: false } },
      { 'fence.lockName': { $ne: fence.lockName } },
      { 'fence.token': { $lte: fence.token } },
    ],
  };
}

function stale(what: string, fence: Fence, shardId: string, detail: string, cause?: unknown): StaleLeaseError {
  return new StaleLeaseError(
    `${what} refused: fencing token ${fence.token} of lock "${fence.lockName}" is stale (${detail})`,
    { shardId, cause },
  );
}

function ignoreExists(error: unknown): void {
  if (!isAlreadyExists(error)) throw error;
}
