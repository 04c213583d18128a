// The change the pg-transform bench makes, shared by the bench and its migration child process:
// status upper-cased and a computed status code, as a JS transform and as SQL.
import { defineDataMigration } from '@mcp/migrate-core';

const CODES = { SENT: 200, FAILED: 500, QUEUED: 202, DELIVERED: 201 };

export const SET = `SET status = upper(status),
    status_code = CASE upper(status) WHEN 'SENT' THEN 200 WHEN 'FAILED' THEN 500 WHEN 'QUEUED' THEN 202 WHEN 'DELIVERED' THEN 201 END`;

export const transform = (row) => {
  const status = String(row.status).toUpperCase();
  return { ...row, status, status_code: CODES[status] };
};

/** The JS transform with its backup, on `deliveries_sdk`. */
export const withBackup = (batchSize) =>
  defineDataMigration({
    id: '0001-status-upper',
    engine: 'postgres',
    table: 'deliveries_sdk',
    key: 'id',
    batchSize,
    transform,
  });

/** The same transform keeping no backup, on `deliveries_nobk`: rollback uses its exact inverse. */
export const withoutBackup = (batchSize) =>
  defineDataMigration({
    id: '0001-status-upper-no-backup',
    engine: 'postgres',
    table: 'deliveries_nobk',
    key: 'id',
    batchSize,
    transform,
    reverse: (row) => ({ ...row, status: String(row.status).toLowerCase(), status_code: null }),
    backup: false,
  });

/** The transform with its backup as `parallelism` key ranges at once, on `deliveries_p<parallelism>`. */
export const withParallelism = (batchSize, parallelism) =>
  defineDataMigration({
    id: `0003-status-upper-p${parallelism}`,
    engine: 'postgres',
    table: `deliveries_p${parallelism}`,
    key: 'id',
    batchSize,
    parallelism,
    transform,
  });

/** The migration of a bench mode: `backup`, `no-backup` or `parallel-<n>`. */
export const migrationOf = (mode, batchSize) =>
  mode === 'backup'
    ? withBackup(batchSize)
    : mode === 'no-backup'
      ? withoutBackup(batchSize)
      : withParallelism(batchSize, Number(mode.slice('parallel-'.length)));
