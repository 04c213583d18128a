// CREATE INDEX CONCURRENTLY cannot run inside a transaction: `transaction: false`. If it fails it
// leaves an INVALID index behind, so `up` drops a leftover first and the step can simply be re-run.
import { defineMigration } from '@mcp/migrate-core';

export default defineMigration({
  id: '0005-tenants-region-index',
  engine: 'postgres',
  dependsOn: ['0004-backfill-tenant-region'],
  transaction: false,
  up: async (client) => {
    await client.query('DROP INDEX CONCURRENTLY IF EXISTS tenants_region_status');
    await client.query('CREATE INDEX CONCURRENTLY tenants_region_status ON tenants (region, status)');
  },
  down: async (client) => {
    await client.query('DROP INDEX CONCURRENTLY IF EXISTS tenants_region_status');
  },
});
