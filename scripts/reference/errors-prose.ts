/**
 * The prose of docs/reference/errors.md: the page's header, and for every `ErrorCode` where it comes
 * from and what to do. The classes that carry each code are not written here: the generator reads
 * them from the code (error-sites.ts). A code missing here, or a code here that `ErrorCode` does not
 * have, fails the generator.
 */

export const ERRORS_HEADER = `Every error the SDK throws is a \`MigrateError\` (check with \`isMigrateError(e)\`, which survives
duplicate installs and the ESM and CommonJS builds side by side, where \`instanceof\` does not) with a
stable \`code\`, the \`migrationId\`, \`shardId\` and \`field\` it concerns when there are some,
\`retryable\`, and the original error as \`cause\`. Messages are redacted: connection strings lose their
credentials (the whole userinfo, up to the last \`@\` before the host, so a password holding \`@\` or \`/\`
loses every character), \`password=…\`/\`PGPASSWORD=…\`/\`?sslpassword=…\`/\`"token": "…"\`/\`Bearer …\` lose
their values.

**Exact secret scrubbing.** Patterns cannot see a password that a driver echoes as a literal
(\`22P02 invalid input syntax for type integer: "<password>"\`), that a transform puts in its message,
or that a migration logs. So the migrator also replaces, with \`***\`, every secret it was configured
with: the passwords of the engines' connection strings and pools (\`postgresEngine\`: URL passwords,
a pool's \`password\` and \`ssl.passphrase\`, \`PGPASSWORD\`, \`?sslpassword=\`; \`mongoEngine\`: URI passwords,
a host client's \`auth.password\`, \`clientOptions.auth.password\`), exposed by \`EngineAdapter.secrets()\`,
plus any \`createMigrator({ secrets: [...] })\` lists. Each is scrubbed as given, percent-decoded and
-encoded (either hex case) and JSON-escaped, in every string that leaves the migrator: thrown errors
(message, stack, own fields such as a driver's \`detail\`, the whole \`cause\` chain, the report a
\`RunFailedError\` carries), events, log lines (\`ctx.log\` included), ledger rows, reports, \`status()\`,
\`verify()\` and \`plan()\`. Secrets shorter than 4 characters are not scrubbed exactly (the patterns still
apply).

**Rows** are named one way in every message: \`row \` and the JSON array of the key's values, e.g.
\`row ["3"]\`, \`row [7,"eu"]\` (bigints as strings, bytes as hex).

**Where a code reaches you.** A failure inside a step (its \`up\`/\`down\`, a transform, a batch, a
lost connection, an abort) does not reject \`run()\` or \`rollback()\` with its own code: the step is
reported \`failed\` with it (\`error.code\`, in the report and the ledger), and the call then throws
\`MIGRATE_RUN_FAILED\` carrying the report. Codes raised before or around the steps (definitions,
options, the plan, the lock, \`mode: 'wait'\`/\`'verify'\`) reject the call directly.`;

export const ERRORS_FOOTER = `In a ledger record or a report, an error is stored as \`{ name, code, message, causeCode? }\`
(\`serializeError\`, see [reports](reports.md#serializederror)): \`causeCode\` is the driver's own code,
e.g. a PostgreSQL SQLSTATE (\`42601\`) or a MongoDB error code (\`11000\`); it skips the SDK's own
wrappers, so a \`MIGRATE_ROLLBACK\` wrapping a failed statement carries the statement's SQLSTATE.

Reports of \`run({ mode: 'verify' })\` and \`run({ mode: 'wait' })\` list every applied migration per
shard as \`skipped\` (nothing for this runner to do): reason \`already applied\`, or \`applied by another
runner while this one waited\`; a \`wait\` run that had to wait has \`waitedForLock: true\`.`;

export interface ErrorProse {
  /** The calls or moments that raise it. */
  readonly thrownBy: string;
  /** What it means, and what to do. */
  readonly meaning: string;
}

export const ERROR_PROSE: Readonly<Record<string, ErrorProse>> = {
  MIGRATE_DEFINITION: {
    thrownBy:
      "`defineMigration`, `defineDataMigration`, `createMigrator`; a data migration's batch; `renameField`'s options",
    meaning:
      'a bad definition; the message names the migration and the field, and nothing ran. `createMigrator` checks every migration again with the same schema, so a hand-built or edited object (`{ ...defined, batchSize: 0 }`, an unknown field) is refused the same way, and so is a migration for an engine that is not configured (field `engine`). At run time: a transform returned a column the table does not have (or dropped one): the message names the migration, shard, table and column, nothing of that batch was written, and it is not retried.',
  },
  MIGRATE_CONFIG: {
    thrownBy:
      '`createMigrator`, engine factories, routers, `loadMigrations`, the planner (`plan`, `run`), and the options of `run`/`rollback`/`verify`/`status`/`plan`',
    meaning:
      "a bad option (`field` names it): an unknown option, a value outside its schema (`run({ mode: 'bogus' })`, `rollback({ steps: 1, to: 'x' })` with both, `rollback({ steps: 0 })`, `hashRouter({ key: '' })`), a `.ts` migrations directory without a TypeScript loader; when planning, an unknown shard in a scope or tenants without a router. Thrown before anything connects or applies.",
  },
  MIGRATE_DUPLICATE: { thrownBy: '`plan`, `run`', meaning: 'two migrations share an id' },
  MIGRATE_CYCLE: {
    thrownBy: '`plan`, `run`',
    meaning: '`dependsOn` forms a cycle; the message shows it (`a → b → a`)',
  },
  MIGRATE_UNKNOWN_DEPENDENCY: {
    thrownBy: '`plan`, `run`',
    meaning: '`dependsOn` names a migration that does not exist',
  },
  MIGRATE_DRIFT: {
    thrownBy: '`plan`, `run`',
    meaning:
      "an applied migration's definition changed (its checksum: see `MigrationInput.version`); revert the edit, or accept it with `repair()`. With `drift: 'warn'` it is a warning in the plan instead.",
  },
  MIGRATE_MISSING_FROM_CODE: {
    thrownBy: '`plan`, `run`',
    meaning:
      'a shard has a migration applied that the code no longer has; restore it (an older replica during a rolling deploy sees this, and `verify()` does not count it), or, from the newest code only, forget its ledger records with `repair({ forgetMissing: true })` (what it did stays in the database)',
  },
  MIGRATE_LOCK_TIMEOUT: {
    thrownBy: '`run`, `rollback`, `purgeBackups`, `purgePreserved`',
    meaning:
      "the run lock or a shard lease is held by a holder whose heartbeat stopped advancing for more than the lease ttl (it looks dead or hung), or stayed held past the caller's own `lock.waitMs` (no default: a live holder is waited for); the message names the holder. Retryable.",
  },
  MIGRATE_STALE_LEASE: {
    thrownBy: 'ledger writes, lock renewals',
    meaning:
      "this runner's lease passed to another runner (it paused past its TTL, or was `forceRelease`d); it stops writing",
  },
  MIGRATE_SHARD_UNAVAILABLE: {
    thrownBy: "adapters' `connect`, steps, `run`, `rollback`, `status`",
    meaning:
      "the shard did not answer, or its connection was lost in the middle of a step (`ECONNREFUSED`, `ECONNRESET`, SQLSTATE class 08 or 57P01–57P03, a MongoDB network or server-selection error); names the shard, location redacted, the driver's code in `causeCode`. In a report it is the shard's `error` (unreachable at the start) or the step's `error` (lost mid-run). Retryable: run again when the shard is back.",
  },
  MIGRATE_MIGRATION_FAILED: {
    thrownBy: 'steps; the MongoDB schema helpers',
    meaning:
      "a migration's `up` or transform threw (kept as `cause`, with the driver's code in `causeCode`), a transform changed a key, a write dropped rows, or a row kept changing under a compare-and-set batch (retryable); or a MongoDB helper refused (`ensureIndex` with other options for an existing index, or a name another index has)",
  },
  MIGRATE_RUN_FAILED: {
    thrownBy: '`run`, `rollback`',
    meaning:
      "some step failed or was not run, or a shard was unreachable; `error.report` holds the full per-shard report. The message leads with the causes (each unavailable shard with its error, then each failed step with its code and error; three at most) and ends with the totals: `Migration run failed: shard \"pg-1\" is unavailable (MIGRATE_SHARD_UNAVAILABLE): … (0 applied, 2 skipped, 0 failed, 3 not run)`. `rollback()` reports an unreachable shard the same way: under `onFailure: 'halt'` nothing is rolled back, under `'continue'` the reachable shards are. `run({ mode: 'wait' })` throws it at once when waiting is pointless (the plan is refused, a step failed or drifted).",
  },
  MIGRATE_VALIDATION_FAILED: {
    thrownBy: '`assertEqualData`',
    meaning: 'two sides differ; `error.ranges` holds the mismatching key ranges',
  },
  MIGRATE_ROLLBACK: {
    thrownBy: '`rollback`, `planRollback`',
    meaning:
      "a `down`, `reverse` or backup restore failed (the same code on every engine; the driver's error is the `cause`, its code in `causeCode`), a migration to roll back has no `down`, or is a data migration without `reverse` whose backup was purged (`purgeBackups()`, `backupRetention`): nothing was rolled back; or `to` names a migration that does not exist",
  },
  MIGRATE_CHECKPOINT_MISMATCH: {
    thrownBy: 'data steps',
    meaning:
      "a data migration's checkpoint was made by another version of it (its definition or batch size); restore the code it ran with, roll it back (the rows it wrote come back exactly), or `repair({ resetCheckpoints: true })` to restart it from the first key (rows the old version wrote are redone from their saved originals, never transformed twice)",
  },
  MIGRATE_PENDING: {
    thrownBy: "`run({ mode: 'verify' })`",
    meaning: 'not ready: something is pending, failed, drifted or unreachable; `error.report` says what',
  },
  MIGRATE_ABORTED: {
    thrownBy: "anything given a `signal`; `run({ mode: 'wait' })` and lock waits throw it directly",
    meaning:
      'the signal aborted. A step running then is reported `failed` with this code (so `run()`/`rollback()` throw `MIGRATE_RUN_FAILED`), never `applied`; a step that ignores `ctx.signal` is abandoned and its late ledger write refused, so it must be safe to re-run',
  },
  MIGRATE_TIMEOUT: {
    thrownBy: '`run({ timeoutMs })`',
    meaning:
      '`timeoutMs` passed: the step running then is reported `failed` with this code (never `applied`, even if a step that ignores `ctx.signal` finishes later: its ledger record stays `failed` and the next run applies it again, so such a step must be safe to re-run); an awaited hook abandoned at that moment too',
  },
  MIGRATE_CLOSED: { thrownBy: 'a closed migrator', meaning: '`close()` was called' },
  MIGRATE_UNEXPECTED: {
    thrownBy: 'reports, events, ledgers, `status()`',
    meaning:
      "the serialized form of something thrown that is not a `MigrateError` (a host hook's own error, a bug); the message and `causeCode` say what it was. Never thrown.",
  },
  MIGRATE_PRESERVE_UNSUPPORTED: {
    thrownBy: '`createMigrator`; schema steps on pg-mem',
    meaning:
      'a migration has `preserve` but a shard of its engine cannot keep copies (`ShardAdapter.preserved` absent, or a PostgreSQL emulation such as pg-mem without `to_regclass`); nothing ran ([preserve](../guides/preserve.md))',
  },
  MIGRATE_PRESERVE_TARGET: {
    thrownBy: 'schema steps, before `up`',
    meaning:
      'a `preserve` target does not exist on the shard (table/collection, a column, a field no document has), has no primary key for a column restore, or names a key column; `up` did not run. Fix the typo or scope the migration',
  },
  MIGRATE_PRESERVE_MISSING: {
    thrownBy: '`rollback`',
    meaning:
      'the copy a rollback needs is gone (purged with `purgePreserved()`, or `preserve` was added after the migration was applied); no `down` ran',
  },
  MIGRATE_PRESERVE_RESTORE: {
    thrownBy: '`rollback`, after `down`',
    meaning:
      '`down` did not recreate a saved table/column, or recreated a column with another type, so the values could not come back exactly; the copy is kept',
  },
  MIGRATE_BACKUP_NAME_COLLISION: {
    thrownBy: '`createMigrator`, `plan`, `run`',
    meaning:
      "two data migrations map to the same backup table/collection (`0501-c.1` and `0501-c_1` both become `mcp_backup_0501_c_1`; names are cut at 63 characters). Sharing it, one rollback would restore and drop the other's originals. Rename one; nothing was applied.",
  },
  MIGRATE_KEY_NOT_UNIQUE: {
    thrownBy:
      "`plan`, `run` (before anything is applied; or on the shard before the step's first batch when a schema step planned before it could add the index)",
    meaning:
      "a data migration's `key` does not identify one row of its table/collection on the named shard. PostgreSQL: the key columns must be exactly those of the primary key or of a unique index that is not partial, not on expressions, with every column `NOT NULL`. MongoDB: `_id`, or exactly the fields of a unique index that is neither partial nor sparse. Nothing of the migration was written.",
  },
  MIGRATE_TARGET_MISSING: {
    thrownBy: '`plan`, `run` (same moments)',
    meaning:
      "a data migration's table/collection does not exist on the named shard. Nothing was written and the id is not used up. Declare `ifMissing: 'skip'` when the target may be absent on some shards: the step is then reported `skipped` with the reason and recorded `applied` with that note in its ledger record's `error` field (code `MIGRATE_TARGET_MISSING`, state `applied`), and its rollback changes nothing.",
  },
  MIGRATE_VETOED: {
    thrownBy: '`run` (`beforeRun`), steps (`beforeStep`, `beforeBatch`)',
    meaning:
      'a host hook threw to refuse ([hooks](../guides/hooks.md)); `hook` names it, `reason` is what it threw (also the `cause`). `beforeRun`: `run()` rejects with it and nothing was applied on any shard. `beforeStep`: the step is reported `failed` with it before anything was written on its shard (its ledger is left as it was) and `onFailure` applies; `beforeBatch`: the data step stopped at its last checkpoint and is recorded `failed`. Either way the next run without the veto applies or resumes it.',
  },
  MIGRATE_HOOK_FAILED: {
    thrownBy: '`afterStep`',
    meaning:
      "the `afterStep` hook threw: stored as the step's `hookError` in the report, and the run is not `ok` (`RunFailedError`), but the step stays as it ended (an applied step is not undone)",
  },
};
