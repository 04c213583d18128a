// A server-side data migration: the server itself rewrites each key range of 100 tenants with one
// UPDATE ($1 and $2 are the range's bounds), saving the originals of the rows it updates in the same
// statement, so that a rollback restores them exactly. 'Tenant 7' → 'Tenant 0007', so names sort.
import { defineDataMigration } from '@mcp/migrate-core';

export default defineDataMigration({
  id: '0006-tenant-names-padded',
  engine: 'postgres',
  dependsOn: ['0002-seed-example-tenants'],
  table: 'tenants',
  key: 'id',
  batchSize: 100,
  sql: `UPDATE tenants SET name = 'Tenant ' || lpad(substring(name from '[0-9]+$'), 4, '0'), updated_at = now()
        WHERE id > $1 AND id <= $2 AND name ~ '^Tenant [0-9]{1,3}$'`,
});
