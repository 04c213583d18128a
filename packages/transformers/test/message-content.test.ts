import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_VERSION,
  CONTENT_VERSION_FIELD,
  TransformErrorCode,
  createMessageContent,
  isTransformError,
  messageContent,
} from '../src/index.js';
import type { MessageDocument } from '../src/index.js';
import { NO_NULL_PROTO, otherFields, text } from './support/arbitraries.js';
import { caught, clone, deepFreeze, restoreSync } from './support/helpers.js';

const media = { type: 'media', media: { file_id: 'f-1', url: 'https://cdn.example/f-1', mime: 'image/png' } };

const structuredContent = fc.oneof(
  text.map((t) => ({ type: 'text', text: t })),
  fc.record({ type: fc.constant('text'), text, format: fc.constantFrom('markdown', 'plain') }, NO_NULL_PROTO),
  fc.record(
    {
      type: fc.constant('media'),
      media: fc.record(
        { file_id: text, url: fc.webUrl(), mime: fc.constantFrom('image/png', 'audio/ogg') },
        { requiredKeys: ['file_id', 'url'], noNullPrototype: true },
      ),
    },
    NO_NULL_PROTO,
  ),
  fc.record({ type: fc.constantFrom('location', 'template'), payload: fc.jsonValue({ maxDepth: 2 }) }, NO_NULL_PROTO),
  fc.array(fc.record({ type: fc.constant('text'), text }, NO_NULL_PROTO), { maxLength: 2 }),
);

/** Any message document the collection may hold before the migration (none carries the marker). */
const messageDocument: fc.Arbitrary<MessageDocument> = fc
  .tuple(
    fc.record(
      {
        message_id: text,
        tenant_id: text,
        content: fc.oneof(text, structuredContent, fc.constant(null)),
        status: fc.constantFrom('SENT', 'READ'),
      },
      { requiredKeys: ['message_id'], noNullPrototype: true },
    ),
    otherFields(['message_id', 'tenant_id', 'content', 'status', CONTENT_VERSION_FIELD]),
  )
  // Arrays of parts are not in the MessageContent type but are tolerated (left alone) at runtime.
  .map(([known, other]) => ({ ...other, ...known }) as MessageDocument);

const stringContentDocument = fc
  .tuple(messageDocument, text)
  .map(([doc, content]): MessageDocument => ({ ...doc, content }));

describe('messageContent.forward', () => {
  it('turns string content into { type: "text", text } and marks the document', () => {
    const doc = deepFreeze({ _id: 'x1', message_id: 'm-1', content: 'héllo 👋', status: 'SENT' });
    expect(messageContent.forward(doc)).toStrictEqual({
      _id: 'x1',
      message_id: 'm-1',
      content: { type: 'text', text: 'héllo 👋' },
      status: 'SENT',
      content_v: 2,
    });
  });

  it('converts the empty string too', () => {
    expect(messageContent.forward({ message_id: 'm', content: '' })).toStrictEqual({
      message_id: 'm',
      content: { type: 'text', text: '' },
      content_v: CONTENT_VERSION,
    });
  });

  it('leaves structured, null and missing content alone', () => {
    expect(messageContent.forward({ message_id: 'm', content: media })).toBeNull();
    expect(messageContent.forward({ message_id: 'm', content: { type: 'text', text: 'born structured' } })).toBeNull();
    expect(messageContent.forward({ message_id: 'm', content: null })).toBeNull();
    expect(messageContent.forward({ message_id: 'm' })).toBeNull();
  });

  it('is idempotent: a second run over converted documents writes nothing', () => {
    fc.assert(
      fc.property(messageDocument, (doc) => {
        const once = messageContent.forward(doc) ?? doc;
        expect(messageContent.forward(once)).toBeNull();
      }),
    );
  });

  it('rejects content that is neither a string nor an object, naming the message', () => {
    const error = caught(() => messageContent.forward({ message_id: 'm-42', content: 42 as never }));
    expect(isTransformError(error)).toBe(true);
    expect(error).toMatchObject({
      code: TransformErrorCode.InvalidInput,
      transformer: 'messageContent',
      field: 'content',
      key: { message_id: 'm-42' },
    });
    expect((error as Error).message).toContain('message_id=m-42');
  });

  it('refuses to overwrite an existing marker field on a string-content document', () => {
    const error = caught(() => messageContent.forward({ message_id: 'm-7', content: 'hi', content_v: 1 }));
    expect(error).toMatchObject({ code: TransformErrorCode.Conflict, field: 'content_v', key: { message_id: 'm-7' } });
  });

  it('names the document by _id when it has no message_id (ObjectId-like ids included)', () => {
    const objectId = { toHexString: () => '65f0c0ffee0000000000abcd' };
    const error = caught(() => messageContent.forward({ _id: objectId, content: true as never }));
    expect(error).toMatchObject({ key: { _id: '65f0c0ffee0000000000abcd' } });
  });

  it('rejects a value that is not a document', () => {
    expect(caught(() => messageContent.forward('nope' as never))).toMatchObject({
      code: TransformErrorCode.InvalidInput,
    });
  });
});

describe('messageContent.inverse', () => {
  it('flattens a converted document and removes the marker, keeping field order', () => {
    const converted = deepFreeze({
      message_id: 'm',
      content: { type: 'text', text: 'hi' },
      status: 'sent',
      content_v: 2,
    });
    const restored = messageContent.inverse(converted);
    expect(restored).toStrictEqual({ message_id: 'm', content: 'hi', status: 'sent' });
    expect(Object.keys(restored ?? {})).toEqual(['message_id', 'content', 'status']);
  });

  it('leaves text that was born structured alone (no marker), unlike a naive flattening inverse', () => {
    const born = { message_id: 'm', content: { type: 'text', text: 'already structured' } };
    expect(messageContent.forward(born)).toBeNull();
    expect(messageContent.inverse(born)).toBeNull();
  });

  it('leaves documents with another marker value alone', () => {
    expect(messageContent.inverse({ message_id: 'm', content: { type: 'text', text: 'x' }, content_v: 1 })).toBeNull();
    expect(
      messageContent.inverse({ message_id: 'm', content: { type: 'text', text: 'x' }, content_v: '2' }),
    ).toBeNull();
  });

  it('refuses a marked document whose content was edited after the migration', () => {
    for (const content of [
      { type: 'text', text: 'x', edited: true },
      { type: 'text', text: 7 },
      media,
      'flat again',
      null,
    ]) {
      const error = caught(() =>
        messageContent.inverse({ message_id: 'm-9', content: content as never, content_v: 2 }),
      );
      expect(error).toMatchObject({
        code: TransformErrorCode.NotInvertible,
        field: 'content',
        key: { message_id: 'm-9' },
      });
    }
  });
});

describe('messageContent round trip', () => {
  it('restores every document exactly after forward then inverse (property)', () => {
    fc.assert(
      fc.property(messageDocument, (doc) => {
        const expected = clone(doc);
        expect(restoreSync(messageContent, deepFreeze(doc))).toStrictEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('converts every string-content document and inverts it exactly (property)', () => {
    fc.assert(
      fc.property(stringContentDocument, (doc) => {
        const expected = clone(doc);
        const converted = messageContent.forward(deepFreeze(doc));
        expect(converted).not.toBeNull();
        expect(converted?.content).toStrictEqual({ type: 'text', text: doc.content });
        expect(messageContent.inverse(converted!)).toStrictEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('supports a custom marker field', () => {
    const custom = createMessageContent({ versionField: '_content_schema' });
    const converted = custom.forward({ message_id: 'm', content: 'a', content_v: 'kept' });
    expect(converted).toStrictEqual({
      message_id: 'm',
      content: { type: 'text', text: 'a' },
      content_v: 'kept',
      _content_schema: 2,
    });
    expect(custom.inverse(converted!)).toStrictEqual({ message_id: 'm', content: 'a', content_v: 'kept' });
  });

  it('rejects an unusable marker field name', () => {
    for (const versionField of ['', 'content']) {
      expect(caught(() => createMessageContent({ versionField }))).toMatchObject({
        code: TransformErrorCode.InvalidConfig,
        field: 'versionField',
      });
    }
  });
});
