/**
 * Migrations for the platform schema, written once and run by the host service at startup, by its
 * tests on in-memory shards, and by operators through the CLI. On the memory engine the native
 * handle is a `MemoryShard`; on real shards it is a `pg` client or a MongoDB `Db`.
 */
import { defineDataMigration, defineMigration } from '@mcp/migrate-core';
import { messageContent } from '@mcp/migrate-transformers';
import type { MemoryShard } from '@mcp/migrate-core/testing';

const PG_TABLES: Record<string, string[]> = {
  tenants: ['id'],
  tenant_settings: ['tenant_id', 'settings_key'],
  tenant_limits: ['tenant_id'],
  tenant_feature_flags: ['tenant_id', 'feature_key'],
  channels: ['id'],
  channel_configurations: ['channel_id', 'config_key'],
  webhooks: ['id'],
  users: ['id'],
};

const MONGO_COLLECTIONS = ['messages', 'conversations', 'deliveries', 'delivery_attempts', 'receipts', 'media_files'];

export const createTenantTables = defineMigration<MemoryShard>({
  id: '0001-create-tenant-tables',
  engine: 'postgres',
  description: 'tenants, settings, limits, flags, channels, webhooks, users',
  up(db) {
    for (const [name, key] of Object.entries(PG_TABLES)) db.collection(name, key); // CREATE TABLE IF NOT EXISTS
  },
  down(db) {
    for (const name of Object.keys(PG_TABLES)) db.dropCollection(name);
  },
});

export const tenantsRegion = defineMigration<MemoryShard>({
  id: '0002-tenants-region',
  engine: 'postgres',
  description: "add tenants.region with default 'eu'",
  dependsOn: ['0001-create-tenant-tables'],
  up(db) {
    db.schema.set('tenants.region', { type: 'text', default: 'eu' });
    db.collection('tenants').update((row) => ({ ...row, region: row.region ?? 'eu' }));
  },
  down(db) {
    db.schema.delete('tenants.region');
    db.collection('tenants').update((row) => {
      const { region: _region, ...rest } = row;
      return rest;
    });
  },
});

export const createMessageCollections = defineMigration<MemoryShard>({
  id: '0101-create-message-collections',
  engine: 'mongodb',
  description: 'the six message collections, indexed by tenant first',
  // Cross-engine: tenants must exist on every PostgreSQL shard before documents reference them.
  dependsOn: ['0001-create-tenant-tables'],
  up(db) {
    for (const name of MONGO_COLLECTIONS) {
      const c = db.collection(name, ['_id']);
      c.indexes.set('tenant_id_1_created_at_-1', { fields: ['tenant_id', 'created_at'], unique: false });
    }
  },
  down(db) {
    for (const name of MONGO_COLLECTIONS) db.collection(name, ['_id']).indexes.delete('tenant_id_1_created_at_-1');
  },
});

/**
 * messages.content: a plain string becomes `{ type: 'text', text }` (marked `content_v: 2`);
 * structured content stays. The transformer pack's inverse undoes exactly the marked documents.
 */
export const structuredContent = defineDataMigration({
  id: '0102-message-content-structured',
  engine: 'mongodb',
  collection: 'messages',
  dependsOn: ['0101-create-message-collections'],
  batchSize: 2000,
  transform: messageContent.forward,
  reverse: messageContent.inverse,
});

export const migrations = [createTenantTables, tenantsRegion, createMessageCollections, structuredContent];
