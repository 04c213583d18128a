/**
 * Runs schema steps: calls the migration's `up`/`down` with the shard's `Db`. A transaction is used
 * only when the step asks for one AND the shard was detected to support it (a replica set or
 * mongos that is not FerretDB). MongoDB transactions bind to a session that each operation must be
 * given explicitly, so in that case the step's operations join the transaction only when they pass
 * `{ session: mongoSession(db) }`; operations without it run outside, as on FerretDB.
 */
import type { ClientSession, Db, MongoClient } from 'mongodb';
import type { StepOptions } from '@mcp/migrate-core/engine';

const sessions = new WeakMap<Db, ClientSession>();

/**
 * The session of the transaction a schema step runs in, or `undefined` when it runs without one
 * (FerretDB, a standalone server, or `transaction: false`). Pass it to operations that must be part
 * of the transaction: `db.collection('x').updateMany(f, u, { session: mongoSession(db) })`.
 */
export function mongoSession(db: Db): ClientSession | undefined {
  return sessions.get(db);
}

export async function executeStep(
  client: MongoClient,
  database: string,
  transactions: boolean,
  options: StepOptions,
  fn: (db: Db) => Promise<void>,
): Promise<void> {
  options.signal?.throwIfAborted();
  // A Db object of its own per step, so that `mongoSession(db)` names this step's session only.
  const db = client.db(database);
  if (!options.transaction || !transactions) return fn(db);
  const session = client.startSession();
  sessions.set(db, session);
  try {
    session.startTransaction();
    try {
      await fn(db);
    } catch (error) {
      await session.abortTransaction().catch(() => undefined);
      throw error;
    }
    // No automatic re-run of `fn` on TransientTransactionError (withTransaction would): the
    // migrator's own retry policy decides, with the error classified by `classifyError`.
    await session.commitTransaction();
  } finally {
    sessions.delete(db);
    await session.endSession().catch(() => undefined);
  }
}
