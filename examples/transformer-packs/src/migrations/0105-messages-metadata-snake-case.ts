import { defineDataMigration } from '@mcp/migrate-core';
import { messageMetadata, rowTransform } from '@mcp/migrate-transformers';

/** `messages.metadata` keys to snake_case. No inverse (lossy): rollback restores the backup. */
export default defineDataMigration({
  id: '0105-messages-metadata-snake-case',
  engine: 'mongodb',
  collection: 'messages',
  key: '_id',
  batchSize: 500,
  dependsOn: ['0104-messages-status-lowercase'],
  ...rowTransform(messageMetadata),
});
