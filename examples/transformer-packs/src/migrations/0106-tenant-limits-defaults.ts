import { defineDataMigration } from '@mcp/migrate-core';
import { rowTransform, tenantLimitsDefaults } from '@mcp/migrate-transformers';

/** Fills the NULL limits of `tenant_limits` with the defaults. No inverse: rollback restores the backup. */
export default defineDataMigration({
  id: '0106-tenant-limits-defaults',
  engine: 'postgres',
  table: 'tenant_limits',
  key: 'tenant_id',
  batchSize: 500,
  ...rowTransform(tenantLimitsDefaults({ message_limit: 10_000, channel_limit: 5, storage_limit: '1099511627776' })),
});
