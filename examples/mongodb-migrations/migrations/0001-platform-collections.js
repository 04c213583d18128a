import { defineMigration } from '@mcp/migrate-core';
import { dropCollectionIfExists, ensureCollection } from '@mcp/migrate-mongodb';

/** The platform's six MongoDB collections (DESIGN.md, "The platform's data"). */
export const COLLECTIONS = ['messages', 'conversations', 'deliveries', 'delivery_attempts', 'receipts', 'media_files'];

export default defineMigration({
  id: '0001-platform-collections',
  engine: 'mongodb',
  description: 'Create the messaging collections',
  up: async (db) => {
    for (const name of COLLECTIONS) await ensureCollection(db, name);
  },
  down: async (db) => {
    for (const name of [...COLLECTIONS].reverse()) await dropCollectionIfExists(db, name);
  },
});
