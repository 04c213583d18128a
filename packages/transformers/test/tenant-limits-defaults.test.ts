import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TENANT_LIMIT_COLUMNS, TransformErrorCode, isInvertible, tenantLimitsDefaults } from '../src/index.js';
import type { TenantLimitsRow } from '../src/index.js';
import { caught, deepFreeze } from './support/helpers.js';

const fill = tenantLimitsDefaults({ message_limit: 10_000, channel_limit: 5, storage_limit: '1099511627776' });

describe('tenantLimitsDefaults', () => {
  it('fills null and missing limits and keeps the rest of the row', () => {
    const row = deepFreeze({ tenant_id: 't1', message_limit: null, channel_limit: 3, plan: 'pro' });
    expect(fill.forward(row)).toStrictEqual({
      tenant_id: 't1',
      message_limit: 10_000,
      channel_limit: 3,
      plan: 'pro',
      storage_limit: '1099511627776',
    });
  });

  it('never changes a present value, including 0 and bigint text', () => {
    expect(fill.forward({ tenant_id: 't', message_limit: 0, channel_limit: 0, storage_limit: '0' })).toBeNull();
  });

  it('fills only the limits it was given defaults for', () => {
    const partial = tenantLimitsDefaults({ channel_limit: 2n });
    expect(
      partial.forward({ tenant_id: 't', message_limit: null, channel_limit: null, storage_limit: null }),
    ).toStrictEqual({
      tenant_id: 't',
      message_limit: null,
      channel_limit: 2n,
      storage_limit: null,
    });
  });

  it('has no inverse: a filled limit cannot be told from one that equalled the default', () => {
    expect(isInvertible(fill)).toBe(false);
    const filled = fill.forward({ tenant_id: 't', message_limit: null, channel_limit: 5, storage_limit: 1 });
    const alreadyDefault = { tenant_id: 't', message_limit: 10_000, channel_limit: 5, storage_limit: 1 };
    expect(filled).toStrictEqual(alreadyDefault);
  });

  it('leaves no limit empty, changes nothing else, and a second run writes nothing (property)', () => {
    const limit = fc.oneof(
      fc.constant(null),
      fc.constant(undefined),
      fc.nat(),
      fc.bigInt({ min: 0n, max: 2n ** 40n }).map(String),
    );
    const row = fc.record(
      { tenant_id: fc.uuid(), message_limit: limit, channel_limit: limit, storage_limit: limit, plan: fc.string() },
      { requiredKeys: ['tenant_id'], noNullPrototype: true },
    );
    fc.assert(
      fc.property(row, (r) => {
        const input = deepFreeze(r as TenantLimitsRow);
        const out = fill.forward(input) ?? input;
        for (const column of TENANT_LIMIT_COLUMNS) {
          expect(out[column]).not.toBeNull();
          expect(out[column]).not.toBeUndefined();
          if (input[column] !== null && input[column] !== undefined) expect(out[column]).toBe(input[column]);
        }
        for (const key of Object.keys(input))
          if (!(TENANT_LIMIT_COLUMNS as readonly string[]).includes(key)) expect(out[key]).toBe(input[key]);
        expect(fill.forward(out)).toBeNull();
      }),
    );
  });

  it.each<[string, unknown, string | undefined]>([
    ['a negative default', { message_limit: -1 }, 'message_limit'],
    ['a fractional default', { channel_limit: 1.5 }, 'channel_limit'],
    ['a non-canonical text default', { storage_limit: '010' }, 'storage_limit'],
    ['a default beyond bigint', { storage_limit: '9223372036854775808' }, 'storage_limit'],
    ['an unknown limit', { user_limit: 3 }, 'user_limit'],
    ['no limit at all', {}, undefined],
    ['no object', null, undefined],
  ])('rejects %s when created', (_label, defaults, field) => {
    const error = caught(() => tenantLimitsDefaults(defaults as never));
    expect(error).toMatchObject({ code: TransformErrorCode.InvalidConfig });
    expect((error as { field?: string }).field).toBe(field);
  });

  it('rejects a row that is not an object', () => {
    expect(caught(() => fill.forward([] as never))).toMatchObject({ code: TransformErrorCode.InvalidInput });
  });
});
