/**
 * The shape of a document in the MongoDB `messages` collection, as far as the message transformers read
 * it. Every field is optional and any other field is allowed: transformers pass unknown fields through
 * untouched, and a collection mid-migration holds both the old and the new forms.
 */

/** New-style plain text content. */
export interface TextContent {
  type: 'text';
  text: string;
}

/** A media attachment (a `media_files` entry). */
export interface MediaContent {
  type: 'media';
  media: { file_id: string; url: string; mime?: string };
}

/** Any other structured content (location, template, …): passed through untouched. */
export interface OtherStructuredContent {
  type: string;
  [field: string]: unknown;
}

export type StructuredContent = TextContent | MediaContent | OtherStructuredContent;

/** Legacy content is a plain string; new content is structured. */
export type MessageContent = string | StructuredContent;

export interface MessageDocument {
  _id?: unknown;
  message_id?: string;
  conversation_id?: string;
  tenant_id?: string;
  channel_id?: string;
  content?: MessageContent | null;
  metadata?: Record<string, unknown> | null;
  direction?: string;
  status?: string | null;
  created_at?: unknown;
  [field: string]: unknown;
}

/** Key fields that identify a message in errors, in order of preference. */
export const MESSAGE_KEY_COLUMNS = ['message_id', '_id'] as const;
