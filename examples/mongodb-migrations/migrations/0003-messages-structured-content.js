import { defineDataMigration } from '@mcp/migrate-core';

/** Marks a message whose string content this migration converted, so that `reverse` is exact. */
export const MARKER = 'content_was_string';

/**
 * `messages.content`: a plain string becomes `{ type: 'text', text }`; structured content is left
 * alone. `reverse` turns back exactly the messages this migration converted (and only those: a
 * message that was already `{ type: 'text', … }` keeps it), so a rollback needs no backup read.
 */
export default defineDataMigration({
  id: '0003-messages-structured-content',
  engine: 'mongodb',
  dependsOn: ['0002-platform-indexes'],
  collection: 'messages',
  batchSize: 500,
  transform: (doc) =>
    typeof doc.content === 'string' ? { ...doc, content: { type: 'text', text: doc.content }, [MARKER]: true } : null,
  reverse: (doc) => {
    if (doc[MARKER] !== true) return null;
    const { [MARKER]: _marker, ...rest } = doc;
    return { ...rest, content: doc.content?.text ?? null };
  },
  verify: (doc) => typeof doc.content !== 'string' || `content of ${doc.message_id} is still a string`,
});
