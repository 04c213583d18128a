/**
 * The 64-bit key of a PostgreSQL advisory lock for a lock name, shared by the lock and by the
 * shard context (which serialises `CREATE TABLE` of concurrent initialisers with it). Internal
 * apart from the re-export in `index.ts`.
 */
import { createHash } from 'node:crypto';

/** The 64-bit advisory-lock key of a lock name, and its two halves as `pg_locks` shows them. */
export interface AdvisoryKey {
  /** Signed 64-bit key, decimal. */
  readonly key: string;
  /** High 32 bits, unsigned (`pg_locks.classid`). */
  readonly classid: string;
  /** Low 32 bits, unsigned (`pg_locks.objid`). */
  readonly objid: string;
}

/**
 * The advisory-lock key of `name` in `schema`: the first 8 bytes of sha256(`schema \0 name`) as a
 * signed 64-bit integer. Computed in the client (not with `hashtext`, whose output is an internal
 * detail of the server) so every runner and every server version agree.
 */
export function lockKey(schema: string, name: string): AdvisoryKey {
  const digest = createHash('sha256').update(`${schema}\0${name}`).digest();
  const unsigned = digest.readBigUInt64BE(0);
  return {
    key: BigInt.asIntN(64, unsigned).toString(),
    classid: String(unsigned >> 32n),
    objid: String(unsigned & 0xffffffffn),
  };
}
