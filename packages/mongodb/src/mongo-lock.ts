/**
 * The lease lock of one shard: one document per lock name in `mcp_migrate_locks` (configurable),
 * `{ _id: name, owner, token, since, heartbeatAt, expiresAt }`.
 *
 * - Taking it is ONE atomic `findOneAndUpdate` whose filter matches only a free or expired lease,
 *   with `upsert`; when the lease is held, the upsert tries to insert the same `_id` and fails with
 *   E11000, which means "held" (never check-then-insert). `$inc: { token: 1 }` makes the token the
 *   fencing token: strictly increasing per name, because the document is never deleted.
 * - The take is then CLAIMED by inserting `{ _id: "<name>#<token>" }` into `<collection>_claims`:
 *   a unique insert is the one write FerretDB v1.24 keeps atomic (it applies racing updates of one
 *   document as read-modify-write, so two takes may both "win" with the same token). Only the
 *   runner whose claim is inserted holds the lease; a lost claim means "held". A racing take may
 *   have written its owner over the winner's: the winner writes its own back under its token, and
 *   each loser, whose write has landed before its claim, puts the winner's back where it finds its
 *   own. Never two holders: a lease whose document says otherwise fails its next renew. On
 *   MongoDB the claim always succeeds. Older claims of the name are deleted.
 * - Expiry is compared inside the query (FerretDB has no TTL indexes). Times are the CLIENT's clock
 *   (FerretDB v1.24 has no `$expr`/`$$NOW` to compare with the server's), so clocks of runners must
 *   agree to well within the lease TTL; see docs/guides/mongodb.md.
 * - It only tries (`tryAcquire`): waiting for a held lock is core's (`acquireLock`), polling every
 *   `lockPollMs`.
 */
import type { Collection, Db } from 'mongodb';
import { StaleLeaseError } from '@mcp/migrate-core/engine';
import type { Lease, LockProvider, LockStatus, TryAcquireOptions } from '@mcp/migrate-core/engine';
import { isDuplicateKey } from './mongo-errors.js';

/** Default lease collection. */
export const DEFAULT_LOCK_COLLECTION = 'mcp_migrate_locks';
/** Default poll interval of core's waiting loop while the lock is held. */
export const DEFAULT_LOCK_POLL_MS = 100;

/** A lease as stored. `owner: null` and `expiresAt` in the past mean free. */
export interface LeaseDocument {
  _id: string;
  owner: string | null;
  token: number;
  since: Date;
  heartbeatAt: Date;
  expiresAt: Date;
}

/** The claim of one take of a lease (see the module's comment). */
interface ClaimDocument {
  _id: string;
  name: string;
  token: number;
  owner: string;
  since: Date;
  heartbeatAt: Date;
  expiresAt: Date;
}

const EPOCH = new Date(0);

export class MongoLockProvider implements LockProvider {
  readonly #db: () => Promise<Db>;
  readonly #collection: string;
  readonly #shardId: string;
  readonly pollMs: number;

  constructor(db: () => Promise<Db>, collection: string, shardId: string, pollMs = DEFAULT_LOCK_POLL_MS) {
    this.#db = db;
    this.#collection = collection;
    this.#shardId = shardId;
    this.pollMs = pollMs;
  }

  async tryAcquire(name: string, options: TryAcquireOptions): Promise<Lease | null> {
    const taken = await this.#tryTake(name, options.owner, options.ttlMs);
    if (!taken || !(await this.#claim(taken))) return null;
    return this.#lease(name, options.owner, taken.token, options.ttlMs);
  }

  /** Claims the take of `lease` by a unique insert of its name and token; `false`: another take of that token won. */
  async #claim(lease: LeaseDocument): Promise<boolean> {
    const db = await this.#db();
    const claims = db.collection<ClaimDocument>(`${this.#collection}_claims`);
    const { _id: name, token, owner, since, heartbeatAt, expiresAt } = lease;
    const locks = await this.#locks();
    try {
      await claims.insertOne({ _id: `${name}#${token}`, name, token, owner: owner!, since, heartbeatAt, expiresAt });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // Lost: put the winner's lease back where this take wrote its own (every take's write has landed before its claim).
      const won = await claims.findOne({ _id: `${name}#${token}` });
      if (won)
        await locks.updateOne(
          { _id: name, token, owner },
          { $set: { owner: won.owner, since: won.since, heartbeatAt: won.heartbeatAt, expiresAt: won.expiresAt } },
        );
      return false;
    }
    await locks.updateOne({ _id: name, token }, { $set: { owner, since, heartbeatAt, expiresAt } });
    await claims.deleteMany({ name, token: { $lt: token } }).catch(() => undefined);
    return true;
  }

  async status(name: string): Promise<LockStatus | null> {
    const doc = await (await this.#locks()).findOne({ _id: name });
    if (!doc || doc.owner === null || doc.expiresAt.getTime() <= Date.now()) return null;
    return {
      name,
      owner: doc.owner,
      token: doc.token,
      since: doc.since.toISOString(),
      heartbeatAt: doc.heartbeatAt.toISOString(),
      expiresAt: doc.expiresAt.toISOString(),
    };
  }

  async forceRelease(name: string): Promise<boolean> {
    const before = await (
      await this.#locks()
    ).findOneAndUpdate(
      { _id: name },
      {
        $set: { owner: null, expiresAt: EPOCH },
        $inc: { token: 1 },
        $setOnInsert: { since: EPOCH, heartbeatAt: EPOCH },
      },
      { upsert: true, returnDocument: 'before' },
    );
    return before !== null && before.owner !== null && before.expiresAt.getTime() > Date.now();
  }

  /** The one atomic take: matches a free or expired lease, or inserts a new one; E11000 means held. */
  async #tryTake(name: string, owner: string, ttlMs: number): Promise<LeaseDocument | null> {
    const now = new Date();
    try {
      return await (
        await this.#locks()
      ).findOneAndUpdate(
        { _id: name, $or: [{ expiresAt: { $lte: now } }, { owner: null }] },
        {
          $set: { owner, since: now, heartbeatAt: now, expiresAt: new Date(now.getTime() + ttlMs) },
          $inc: { token: 1 },
        },
        { upsert: true, returnDocument: 'after' },
      );
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
  }

  #lease(name: string, owner: string, token: number, ttlMs: number): Lease {
    const locks = () => this.#locks();
    const shardId = this.#shardId;
    return {
      name,
      owner,
      token,
      async renew() {
        const now = new Date();
        const renewed = await (
          await locks()
        ).findOneAndUpdate(
          { _id: name, token, owner },
          { $set: { heartbeatAt: now, expiresAt: new Date(now.getTime() + ttlMs) } },
          { returnDocument: 'after' },
        );
        if (!renewed)
          throw new StaleLeaseError(
            `Lease on "${name}" (token ${token}) on shard "${shardId}" was lost: it expired and was taken over, or was force-released`,
            { shardId },
          );
      },
      async release() {
        await (await locks()).updateOne({ _id: name, token }, { $set: { owner: null, expiresAt: EPOCH } });
      },
    };
  }

  async #locks(): Promise<Collection<LeaseDocument>> {
    return (await this.#db()).collection<LeaseDocument>(this.#collection);
  }
}
