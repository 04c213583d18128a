// Adding a column with a constant default is instant on PostgreSQL ≥ 11 (no table rewrite).
// lock_timeout (postgresEngine's lockTimeoutMs) keeps it from queueing behind a long transaction.
import { defineMigration } from '@mcp/migrate-core';

export default defineMigration({
  id: '0003-tenants-region',
  engine: 'postgres',
  dependsOn: ['0001-platform-schema'],
  up: async (client) => {
    await client.query(`ALTER TABLE tenants ADD COLUMN region text DEFAULT 'eu'`);
  },
  down: async (client) => {
    await client.query(`ALTER TABLE tenants DROP COLUMN region`);
  },
});
