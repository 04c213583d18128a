import { defineMigration } from '@mcp/migrate-core';
import { dropIndexIfExists, ensureIndex } from '@mcp/migrate-mongodb';

/**
 * Indexes: tenant_id first wherever the collection carries it (queries are per tenant, and the
 * tenant is the shard key); unique business ids. delivery_attempts and receipts reach the tenant
 * only through their parent, so their indexes start with the parent's id.
 */
export const INDEXES = [
  ['messages', { message_id: 1 }, { unique: true }],
  ['messages', { tenant_id: 1, conversation_id: 1, created_at: -1 }],
  ['messages', { tenant_id: 1, channel_id: 1, created_at: -1 }],
  ['messages', { tenant_id: 1, status: 1, created_at: -1 }],
  ['conversations', { conversation_id: 1 }, { unique: true }],
  ['conversations', { tenant_id: 1, user_id: 1, last_message_at: -1 }],
  ['conversations', { tenant_id: 1, channel_id: 1, status: 1 }],
  ['deliveries', { delivery_id: 1 }, { unique: true }],
  ['deliveries', { tenant_id: 1, message_id: 1 }],
  ['deliveries', { tenant_id: 1, status: 1, last_attempt_at: -1 }],
  ['delivery_attempts', { attempt_id: 1 }, { unique: true }],
  ['delivery_attempts', { delivery_id: 1, attempt_time: -1 }],
  ['receipts', { receipt_id: 1 }, { unique: true }],
  ['receipts', { message_id: 1, type: 1, timestamp: -1 }],
  ['media_files', { file_id: 1 }, { unique: true }],
  ['media_files', { tenant_id: 1, message_id: 1 }],
];

export default defineMigration({
  id: '0002-platform-indexes',
  engine: 'mongodb',
  dependsOn: ['0001-platform-collections'],
  description: 'Tenant-first and unique indexes of the messaging collections',
  up: async (db) => {
    for (const [collection, keys, options] of INDEXES) await ensureIndex(db, collection, keys, options);
  },
  down: async (db) => {
    for (const [collection, keys] of [...INDEXES].reverse()) await dropIndexIfExists(db, collection, keys);
  },
});
