// A batched, resumable backfill: keyset pages of 100 tenants, originals saved before each write so
// that a rollback restores them exactly.
import { defineDataMigration } from '@mcp/migrate-core';

export default defineDataMigration({
  id: '0004-backfill-tenant-region',
  engine: 'postgres',
  dependsOn: ['0003-tenants-region', '0002-seed-example-tenants'],
  table: 'tenants',
  key: 'id',
  batchSize: 100,
  transform: (row) => {
    const n = Number(String(row.id).split('-t').at(-1));
    const region = n % 3 === 0 ? 'us' : 'eu';
    return row.region === region ? null : { ...row, region, updated_at: new Date() };
  },
});
