import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, isInvertible, messageContent, messageMetadata, messageStatus } from '../src/index.js';
import type { InvertibleSyncTransformer, MessageDocument, SyncTransformer, Transformer } from '../src/index.js';
import { NO_NULL_PROTO, text } from './support/arbitraries.js';
import { clone, deepFreeze, restoreSync } from './support/helpers.js';

type Doc = { log: string; n?: number };

/** Appends its tag to `log`, unless the log already ends with it (then: unchanged = null). Inverse strips it. */
const tag = (t: string): InvertibleSyncTransformer<Doc, Doc> => ({
  name: t,
  forward: (d) => (d.log.endsWith(t) ? null : { ...d, log: d.log + t }),
  inverse: (d) => (d.log.endsWith(t) ? { ...d, log: d.log.slice(0, -t.length) } : null),
});
const never: InvertibleSyncTransformer<Doc, Doc> = { name: 'never', forward: () => null, inverse: () => null };
const oneWay: SyncTransformer<Doc, Doc> = { name: 'oneWay', forward: (d) => ({ ...d, n: (d.n ?? 0) + 1 }) };

describe('compose', () => {
  it('applies steps left to right forward and right to left backward', () => {
    const ab = compose(tag('a'), tag('b'));
    expect(ab.name).toBe('compose(a, b)');
    expect(ab.forward({ log: '' })).toStrictEqual({ log: 'ab' });
    expect(ab.inverse({ log: 'ab' })).toStrictEqual({ log: '' });
    expect(compose(tag('a'), tag('b'), tag('c')).forward({ log: '' })).toStrictEqual({ log: 'abc' });
  });

  it('feeds the unchanged row to the next step when a step returns null', () => {
    // 'a' leaves the row alone (already ends with a); 'b' must still run on the original row.
    expect(compose(tag('a'), tag('b')).forward({ log: 'xa' })).toStrictEqual({ log: 'xab' });
    expect(compose(never, tag('b')).forward({ log: '' })).toStrictEqual({ log: 'b' });
    expect(compose(tag('a'), never).forward({ log: '' })).toStrictEqual({ log: 'a' });
  });

  it('treats a hand-written step returning undefined like null', () => {
    const loose: SyncTransformer<Doc, Doc> = { name: 'loose', forward: () => undefined as unknown as null };
    expect(compose(loose, tag('b')).forward({ log: 'x' })).toStrictEqual({ log: 'xb' });
    expect(compose(loose, loose).forward({ log: 'x' })).toBeNull();
  });

  it('returns null only when every step left the row alone', () => {
    expect(compose(never, never).forward({ log: '' })).toBeNull();
    expect(compose(never, never).inverse({ log: '' })).toBeNull();
    expect(compose(tag('a'), tag('a')).forward({ log: '' })).toStrictEqual({ log: 'a' });
  });

  it('has an inverse only when every step has one', () => {
    expect(isInvertible(compose(tag('a'), tag('b')))).toBe(true);
    const partial = compose(tag('a'), oneWay);
    expect(isInvertible(partial)).toBe(false);
    expect('inverse' in partial).toBe(false);
    expect(isInvertible(compose(oneWay, tag('a')))).toBe(false);
  });

  it('stays synchronous when every step is, and awaits async steps in order', async () => {
    const sync = compose(tag('a'), tag('b')).forward({ log: '' });
    expect(sync).not.toBeInstanceOf(Promise);
    const slow: Transformer<Doc, Doc> = {
      name: 'slow',
      forward: async (d) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { ...d, log: `${d.log}s` };
      },
      inverse: async (d) => ({ ...d, log: d.log.replace(/s$/, '') }),
    };
    const mixed = compose(tag('a'), slow, tag('b'));
    const result = mixed.forward({ log: '' });
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toStrictEqual({ log: 'asb' });
    expect(await mixed.inverse?.({ log: 'asb' })).toStrictEqual({ log: '' });
    const asyncNull: Transformer<Doc, Doc> = { name: 'asyncNull', forward: async () => null };
    expect(await compose(asyncNull, asyncNull).forward({ log: '' })).toBeNull();
  });

  it('propagates errors from any step, sync or async', async () => {
    const boom: Transformer<Doc, Doc> = {
      name: 'boom',
      forward: () => {
        throw new Error('boom');
      },
    };
    const asyncBoom: Transformer<Doc, Doc> = {
      name: 'asyncBoom',
      forward: () => Promise.reject(new Error('async boom')),
    };
    expect(() => compose(tag('a'), boom).forward({ log: '' })).toThrow('boom');
    await expect(compose(tag('a'), asyncBoom).forward({ log: '' })).rejects.toThrow('async boom');
  });

  it('rejects something that is not a transformer', () => {
    expect(() => compose(tag('a'), {} as never)).toThrow(TypeError);
  });

  it('composes the message transformers into one exact migration (property)', () => {
    const messagesV2 = compose(messageContent, messageStatus);
    const doc: fc.Arbitrary<MessageDocument> = fc.record(
      {
        message_id: text,
        content: fc.oneof(text, fc.constant({ type: 'text', text: 'born structured' }), fc.constant(null)),
        status: fc.constantFrom('SENT', 'DELIVERED', 'READ', 'FAILED', 'QUEUED', null),
      },
      { requiredKeys: ['message_id'], ...NO_NULL_PROTO },
    );
    fc.assert(
      fc.property(doc, (d) => {
        expect(restoreSync(messagesV2, deepFreeze(d))).toStrictEqual(clone(d));
      }),
      { numRuns: 300 },
    );
    expect(isInvertible(compose(messageContent, messageMetadata))).toBe(false);
  });
});
