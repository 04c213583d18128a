import { describe, expect, it } from 'vitest';
import {
  TransformErrorCode,
  builtinTransformers,
  createRegistry,
  isTransformError,
  messageContent,
  messageStatus,
  tenantLimitsDefaults,
} from '../src/index.js';
import { caught } from './support/helpers.js';

describe('createRegistry', () => {
  it('registers, finds and lists transformers in registration order', () => {
    const fill = tenantLimitsDefaults({ message_limit: 100 });
    const registry = createRegistry().register(messageStatus).register(messageContent).register(fill);
    expect(registry.list()).toEqual(['messageStatus', 'messageContent', 'tenantLimitsDefaults']);
    expect(registry.get('messageContent')).toBe(messageContent);
    expect(registry.get('tenantLimitsDefaults')).toBe(fill);
    expect(registry.has('messageStatus')).toBe(true);
    expect(registry.has('nope')).toBe(false);
  });

  it('rejects a duplicate name with a typed error naming it', () => {
    const registry = createRegistry([messageContent]);
    const error = caught(() => registry.register({ name: 'messageContent', forward: () => null }));
    expect(isTransformError(error)).toBe(true);
    expect(error).toMatchObject({ code: TransformErrorCode.DuplicateTransformer });
    expect((error as Error).message).toContain('"messageContent"');
    expect(registry.get('messageContent')).toBe(messageContent);
  });

  it('throws a clear error naming an unknown transformer and the registered ones', () => {
    const registry = createRegistry([messageContent, messageStatus]);
    const error = caught(() => registry.get('messageContnet'));
    expect(error).toMatchObject({ code: TransformErrorCode.UnknownTransformer });
    expect((error as Error).message).toBe(
      'registry: unknown transformer "messageContnet"; registered: messageContent, messageStatus',
    );
    expect((caught(() => createRegistry().get('x')) as Error).message).toContain('none registered');
  });

  it('rejects something that is not a transformer', () => {
    for (const bad of [null, {}, { name: '', forward: () => null }, { name: 'x' }, { name: 1, forward: () => null }]) {
      expect(caught(() => createRegistry().register(bad as never))).toMatchObject({
        code: TransformErrorCode.InvalidConfig,
      });
    }
  });

  it('keeps registries independent (no module-global state)', () => {
    const a = createRegistry([messageContent]);
    const b = createRegistry();
    expect(b.has('messageContent')).toBe(false);
    b.register(messageContent);
    expect(a.list()).toEqual(['messageContent']);
  });

  it('returns a copy from list()', () => {
    const registry = createRegistry([messageContent]);
    registry.list().push('forged');
    expect(registry.list()).toEqual(['messageContent']);
  });

  it('holds the option-free built-ins', () => {
    expect(createRegistry(builtinTransformers).list()).toEqual([
      'messageContent',
      'messageMetadata',
      'messageStatus',
      'tenantSettings',
      'channelConfig',
    ]);
  });
});
