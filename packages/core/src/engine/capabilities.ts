/**
 * What an engine can do. Adapters declare these flags; core reads them (the batch engine, the
 * pre-flight) and so does the conformance suite, which runs a case only where its flag is set.
 *
 * An engine declares what it knows before connecting; core reads a shard adapter's own
 * `capabilities`, which may differ once `connect()` has found out what its server is (MongoDB:
 * transactions only on a replica set; PostgreSQL emulated by pg-mem: no compare-and-set and no
 * server-side copies). A data-store flag that says yes, on the engine or on a shard, needs its
 * object on the shard's `DataStore`: core checks both, and an adapter whose flag says yes without
 * the object is a construction error.
 */
export interface EngineCapabilities {
  /** Schema steps can run in a transaction (PostgreSQL: yes; MongoDB: only on a replica set). */
  readonly transactions: boolean;
  /** DDL is transactional, so a failed schema step leaves nothing behind (PostgreSQL: yes). */
  readonly transactionalDdl: boolean;
  /** The engine can capture changes made during a copy (PostgreSQL triggers, MongoDB change streams). */
  readonly changeCapture: boolean;
  /**
   * `DataStore.compareAndSet` is there: a batch's write never overwrites a row the application
   * changed after the batch read it. Default `false` (the batch engine then writes with `update`).
   */
  readonly compareAndSet?: boolean | undefined;
  /**
   * `DataStore.serverCopy` is there: backups are copied and restored inside the server, so values
   * the driver cannot carry exactly (PostgreSQL timestamp microseconds) survive. Default `false`
   * (the batch engine then copies through `scan` and `write`).
   */
  readonly serverCopy?: boolean | undefined;
  /**
   * `DataStore.inspect` is there: a data migration's target is checked (exists, key unique) before
   * anything is written. Default `false` (not checked).
   */
  readonly inspect?: boolean | undefined;
  /**
   * `DataStore.serverUpdate` is there: server-side data migrations (`sql` on PostgreSQL, `update`
   * on MongoDB) run per key range inside the server. Default `false`: such a migration is refused.
   */
  readonly serverUpdate?: boolean | undefined;
  /**
   * `DataStore.batchWrite` is there: a batch's backup, write and (where it says so) checkpoint
   * are one atomic step, one round trip on PostgreSQL. Default `false` (the batch engine then calls
   * `serverCopy`/`write`, `compareAndSet`/`update` and the ledger one after another).
   */
  readonly batchWrite?: boolean | undefined;
  /**
   * `DataStore.openScan` is there: the batch engine reads a data migration's rows (and its backup)
   * through one streaming cursor per scan instead of a query per batch. Default `false` (the batch
   * engine then reads page by page with `scan`, through the same code path).
   */
  readonly openScan?: boolean | undefined;
}
