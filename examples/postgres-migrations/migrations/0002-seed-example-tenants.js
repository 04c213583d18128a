// A few rows so that the backfill below has something to do (an example, not a real migration).
import { defineMigration } from '@mcp/migrate-core';

export default defineMigration({
  id: '0002-seed-example-tenants',
  engine: 'postgres',
  dependsOn: ['0001-platform-schema'],
  up: async (client, ctx) => {
    await client.query(
      `INSERT INTO tenants (id, name) SELECT $1 || '-t' || g, 'Tenant ' || g FROM generate_series(1, 250) g`,
      [ctx.shard.id],
    );
    await client.query(`INSERT INTO permissions (id, name) VALUES ('p-read', 'read'), ('p-write', 'write')`);
  },
  down: async (client) => {
    await client.query(`DELETE FROM permissions WHERE id IN ('p-read', 'p-write')`);
    await client.query(`DELETE FROM tenants`);
  },
});
