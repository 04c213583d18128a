/**
 * `messageContent`: a message's legacy plain-string `content` ⇄ structured `{ type: 'text', text }`.
 *
 * ### Why a version marker
 * The collection already holds structured content before the migration (media, and some
 * `{ type: 'text' }` objects), and `forward` leaves those alone. An inverse that flattened every
 * `{ type: 'text', text }` object would therefore also flatten text that was *born* structured, and a
 * rollback would not give back the original documents. So `forward` marks each document it converts with
 * `content_v: 2` (the field name is configurable), and `inverse` flattens exactly the marked documents and
 * removes the marker. Documents without the marker are left alone by `inverse` (`null`), including ones
 * new writers create after the migration in structured form — old readers already understand structured
 * content, since it existed before.
 *
 * Law (tested as a property): for every document that does not already carry `content_v: 2`,
 * `inverse(forward(doc) ?? doc) ?? (forward(doc) ?? doc)` deep-equals `doc`. The marker field is reserved
 * for this transformer: a document that carried `content_v: 2` *before* the migration would be taken for
 * one it converted.
 *
 * - `forward`: string content → structured text plus the marker; `null` for structured content, arrays,
 *   `null` or missing content (so a re-run over converted documents writes nothing). Throws
 *   `TRANSFORM_CONFLICT` when a string-content document already has the marker field (converting would
 *   overwrite it) and `TRANSFORM_INVALID_INPUT` for content that is a number, boolean or bigint.
 * - `inverse`: marked documents → string content, marker removed; `null` for unmarked ones. Throws
 *   `TRANSFORM_NOT_INVERTIBLE` when a marked document's content is no longer exactly `{ type: 'text', text }`
 *   (edited after the migration): restore such a collection from the SDK's backups instead.
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import { describeType, hasOwn, isPlainObject } from '../internal/plain.js';
import { rowKey } from '../internal/row-key.js';
import type { InvertibleSyncTransformer } from '../transformer.js';
import type { MessageDocument, TextContent } from './message-document.js';
import { MESSAGE_KEY_COLUMNS } from './message-document.js';

/** Default name of the marker field `forward` sets on the documents it converts. */
export const CONTENT_VERSION_FIELD = 'content_v';
/** The marker's value. */
export const CONTENT_VERSION = 2;

export interface MessageContentOptions {
  /**
   * The marker field set by `forward` and removed by `inverse`. Pick a field no document uses yet.
   * Default is {@link CONTENT_VERSION_FIELD} (`'content_v'`).
   */
  readonly versionField?: string;
}

const NAME = 'messageContent';

/** Create a `messageContent` transformer with non-default options. */
export function createMessageContent(
  options: MessageContentOptions = {},
): InvertibleSyncTransformer<MessageDocument, MessageDocument> {
  const versionField = options.versionField ?? CONTENT_VERSION_FIELD;
  if (typeof versionField !== 'string' || versionField.length === 0 || versionField === 'content') {
    throw new TransformError({
      code: TransformErrorCode.InvalidConfig,
      transformer: NAME,
      reason: 'option "versionField" must be a non-empty field name other than "content"',
      field: 'versionField',
    });
  }

  return {
    name: NAME,
    forward: (doc) => {
      assertDocument(doc);
      const content = doc.content;
      if (typeof content === 'string') {
        if (hasOwn(doc, versionField)) {
          throw new TransformError({
            code: TransformErrorCode.Conflict,
            transformer: NAME,
            reason: `string content on a document that already has "${versionField}"; converting would overwrite it`,
            field: versionField,
            key: rowKey(doc, MESSAGE_KEY_COLUMNS),
          });
        }
        const text: TextContent = { type: 'text', text: content };
        return { ...doc, content: text, [versionField]: CONTENT_VERSION };
      }
      if (content === null || content === undefined || typeof content === 'object') return null;
      throw new TransformError({
        code: TransformErrorCode.InvalidInput,
        transformer: NAME,
        reason: `content must be a string or an object, got ${describeType(content)}`,
        field: 'content',
        key: rowKey(doc, MESSAGE_KEY_COLUMNS),
      });
    },
    inverse: (doc) => {
      assertDocument(doc);
      if (!hasOwn(doc, versionField) || doc[versionField] !== CONTENT_VERSION) return null;
      const content: unknown = doc.content;
      if (!isConvertedText(content)) {
        throw new TransformError({
          code: TransformErrorCode.NotInvertible,
          transformer: NAME,
          reason: `document is marked ${versionField}=${CONTENT_VERSION} but its content is no longer exactly { type: 'text', text }`,
          field: 'content',
          key: rowKey(doc, MESSAGE_KEY_COLUMNS),
        });
      }
      const { [versionField]: _marker, ...rest } = doc;
      return { ...rest, content: content.text };
    },
  };
}

/**
 * `messages.content`: plain string ⇄ `{ type: 'text', text }`, with an exact inverse thanks to the
 * `content_v: 2` marker (see the module docs).
 *
 * ### Examples
 * ```ts
 * messageContent.forward({ message_id: 'm1', content: 'hi' });
 * // → { message_id: 'm1', content: { type: 'text', text: 'hi' }, content_v: 2 }
 * messageContent.forward({ message_id: 'm2', content: { type: 'media', media: { file_id: 'f', url: 'u' } } });
 * // → null (left alone)
 * ```
 */
export const messageContent = createMessageContent();

/** Exactly what `forward` writes: two own keys, `type: 'text'` and a string `text`. */
function isConvertedText(content: unknown): content is TextContent {
  if (!isPlainObject(content)) return false;
  const keys = Object.keys(content);
  return (
    keys.length === 2 &&
    hasOwn(content, 'type') &&
    hasOwn(content, 'text') &&
    content.type === 'text' &&
    typeof content.text === 'string'
  );
}

function assertDocument(doc: unknown): asserts doc is MessageDocument {
  if (!isPlainObject(doc)) {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: `expected a message document, got ${describeType(doc)}`,
    });
  }
}
