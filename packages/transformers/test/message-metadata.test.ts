import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransformErrorCode, createMessageMetadata, isInvertible, messageMetadata, toSnakeCase } from '../src/index.js';
import type { MessageDocument } from '../src/index.js';
import { jsonObject, text } from './support/arbitraries.js';
import { caught, deepFreeze } from './support/helpers.js';

describe('toSnakeCase', () => {
  it.each([
    ['userId', 'user_id'],
    ['UserId', 'user_id'],
    ['HTTPStatus', 'http_status'],
    ['fooBARBaz', 'foo_bar_baz'],
    ['X-Request-Id', 'x_request_id'],
    ['retry count', 'retry_count'],
    ['already_snake', 'already_snake'],
    ['a1B', 'a1_b'],
    ['ÉtatCivil', 'état_civil'],
    ['ṉ𝒜', 'ṉ𝒜'],
    ['ǅungla', 'ǆungla'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(toSnakeCase(input)).toBe(expected);
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(text, (key) => {
        expect(toSnakeCase(toSnakeCase(key))).toBe(toSnakeCase(key));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('messageMetadata', () => {
  it('renames top-level keys to snake_case and drops undefined values, keeping order and values', () => {
    const doc = deepFreeze({
      message_id: 'm',
      metadata: { clientId: 'c', retryCount: 2, skip: undefined, nested: { innerKey: 1 } },
    });
    const result = messageMetadata.forward(doc);
    expect(result).toStrictEqual({
      message_id: 'm',
      metadata: { client_id: 'c', retry_count: 2, nested: { innerKey: 1 } },
    });
    expect(Object.keys(result?.metadata ?? {})).toEqual(['client_id', 'retry_count', 'nested']);
    expect(result?.metadata?.nested).toBe(doc.metadata.nested);
  });

  it('returns null when nothing changes (already normalised, null, or missing metadata)', () => {
    expect(messageMetadata.forward({ message_id: 'm', metadata: { a_b: 1, c: { dE: 2 } } })).toBeNull();
    expect(messageMetadata.forward({ message_id: 'm', metadata: {} })).toBeNull();
    expect(messageMetadata.forward({ message_id: 'm', metadata: null })).toBeNull();
    expect(messageMetadata.forward({ message_id: 'm' })).toBeNull();
  });

  it('drops undefined even when no key is renamed', () => {
    expect(messageMetadata.forward({ message_id: 'm', metadata: { a: undefined, b: 1 } })).toStrictEqual({
      message_id: 'm',
      metadata: { b: 1 },
    });
  });

  it('throws a conflict naming both keys instead of losing a value', () => {
    const error = caught(() => messageMetadata.forward({ message_id: 'm-3', metadata: { userId: 1, user_id: 2 } }));
    expect(error).toMatchObject({
      code: TransformErrorCode.Conflict,
      field: 'metadata.user_id',
      key: { message_id: 'm-3' },
    });
    expect((error as Error).message).toContain('"userId" and "user_id"');
  });

  it('rejects metadata that is not an object', () => {
    for (const metadata of ['x', 3, [1, 2]]) {
      expect(caught(() => messageMetadata.forward({ message_id: 'm', metadata: metadata as never }))).toMatchObject({
        code: TransformErrorCode.InvalidInput,
        field: 'metadata',
      });
    }
  });

  it('with { deep: true } also renames nested keys, inside arrays too', () => {
    const deep = createMessageMetadata({ deep: true });
    expect(
      deep.forward({
        message_id: 'm',
        metadata: { outer: { innerKey: 1, list: [{ itemId: 2 }, 3, [{ aB: undefined, cD: 4 }]] } },
      }),
    ).toStrictEqual({
      message_id: 'm',
      metadata: { outer: { inner_key: 1, list: [{ item_id: 2 }, 3, [{ c_d: 4 }]] } },
    });
    expect(deep.forward({ message_id: 'm', metadata: { a: { b_c: [{ d: 1 }] } } })).toBeNull();
    expect(caught(() => deep.forward({ message_id: 'm', metadata: { a: { xY: 1, x_y: 2 } } }))).toMatchObject({
      code: TransformErrorCode.Conflict,
      field: 'metadata.a.x_y',
    });
  });

  it('has no inverse: the normalisation is lossy', () => {
    expect(isInvertible(messageMetadata)).toBe(false);
    expect('inverse' in messageMetadata).toBe(false);
    // The reason: two different documents normalise to the same one.
    const a = messageMetadata.forward({ metadata: { userId: 1 } });
    const b = messageMetadata.forward({ metadata: { user_id: 1, gone: undefined } });
    expect(a).toStrictEqual(b);
  });

  it('output keys are snake_case, values are kept in order, and a second run writes nothing (property)', () => {
    fc.assert(
      fc.property(jsonObject, fc.boolean(), (metadata, deep) => {
        const snakeKeys = Object.keys(metadata).map(toSnakeCase);
        fc.pre(new Set(snakeKeys).size === snakeKeys.length);
        const transformer = createMessageMetadata({ deep });
        const doc = deepFreeze({ message_id: 'm', metadata });
        let once: MessageDocument;
        try {
          once = transformer.forward(doc) ?? doc;
        } catch (error) {
          // Only a nested collision (deep mode) may fail; the top level was checked above.
          expect(deep).toBe(true);
          expect(error).toMatchObject({ code: TransformErrorCode.Conflict });
          const [, a, b] = /keys "(.*)" and "(.*)" both/su.exec((error as Error).message) ?? [];
          expect(a === undefined || b === undefined ? undefined : toSnakeCase(a)).toBe(toSnakeCase(b ?? ''));
          return;
        }
        const out = once.metadata as Record<string, unknown>;
        expect(Object.keys(out)).toEqual(snakeKeys);
        if (!deep) expect(Object.values(out)).toEqual(Object.values(metadata));
        expect(transformer.forward(once)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});
