import { defineDataMigration } from '@mcp/migrate-core';
import { messageStatus, rowTransform } from '@mcp/migrate-transformers';

/**
 * `messages.status`: `SENT…QUEUED` become `sent…pending`. The pack's inverse is exact for documents
 * whose status was legacy, missing or null before the migration; a collection that already held new
 * values comes back with them in legacy form, so leave `reverse` out there (rollback from the backup).
 */
export default defineDataMigration({
  id: '0104-messages-status-lowercase',
  engine: 'mongodb',
  collection: 'messages',
  key: '_id',
  batchSize: 500,
  dependsOn: ['0103-messages-structured-content'],
  ...rowTransform(messageStatus),
});
