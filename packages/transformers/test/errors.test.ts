import { describe, expect, it } from 'vitest';
import { TransformError, TransformErrorCode, isTransformError } from '../src/index.js';

describe('TransformError', () => {
  it('carries code, transformer, field and key, and formats them into the message', () => {
    const error = new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: 'tenantSettings',
      reason: 'duplicate settings_key "locale"',
      field: 'settings_key',
      key: { tenant_id: 't-1' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TransformError');
    expect(error.code).toBe('TRANSFORM_INVALID_INPUT');
    expect(error.message).toBe('tenantSettings: duplicate settings_key "locale" [field=settings_key, tenant_id=t-1]');
    expect(String(error)).toBe(`TransformError: ${error.message}`);
    expect(error.toJSON()).toEqual({
      name: 'TransformError',
      code: 'TRANSFORM_INVALID_INPUT',
      transformer: 'tenantSettings',
      field: 'settings_key',
      key: { tenant_id: 't-1' },
      value: undefined,
      message: error.message,
    });
    expect(Object.isFrozen(error.key)).toBe(true);
  });

  it('omits the bracket when there is neither field nor key', () => {
    expect(new TransformError({ code: 'TRANSFORM_INVALID_CONFIG', transformer: 'x', reason: 'bad' }).message).toBe(
      'x: bad',
    );
  });

  it('has stable, prefixed, distinct codes', () => {
    const codes = Object.values(TransformErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^TRANSFORM_[A-Z_]+$/);
  });

  it('isTransformError recognises copies from another install by name and code, and nothing else', () => {
    const foreign = Object.assign(new Error('x'), { name: 'TransformError', code: 'TRANSFORM_CONFLICT' });
    expect(isTransformError(foreign)).toBe(true);
    expect(isTransformError(new Error('x'))).toBe(false);
    expect(isTransformError(Object.assign(new Error('x'), { name: 'TransformError', code: 'E_OTHER' }))).toBe(false);
    expect(isTransformError(null)).toBe(false);
    expect(isTransformError('TransformError')).toBe(false);
  });
});
