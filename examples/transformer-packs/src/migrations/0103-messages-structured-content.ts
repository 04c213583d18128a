import { defineDataMigration } from '@mcp/migrate-core';
import { messageContent, rowTransform } from '@mcp/migrate-transformers';

/**
 * `messages.content`: a plain string becomes `{ type: 'text', text }`, marked `content_v: 2`; `reverse`
 * (the pack's exact inverse) turns back exactly the marked documents.
 */
export default defineDataMigration({
  id: '0103-messages-structured-content',
  engine: 'mongodb',
  collection: 'messages',
  key: '_id',
  batchSize: 500,
  ...rowTransform(messageContent),
});
