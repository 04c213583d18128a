/** What an engine can do. Core reads these flags; adapters declare them. */
/** What an engine can do. Flags default to `false`; features behind them are feature-detected. */
export interface EngineCapabilities {
  /** Schema steps can run in a transaction (PostgreSQL: yes; MongoDB: only on a replica set). */
  readonly transactions: boolean;
  /** DDL is transactional, so a failed schema step leaves nothing behind (PostgreSQL: yes). */
  readonly transactionalDdl: boolean;
  /** The engine can capture changes made during a copy (PostgreSQL triggers, MongoDB change streams). */
  readonly changeCapture: boolean;
}
