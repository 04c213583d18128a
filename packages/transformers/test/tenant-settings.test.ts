import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransformErrorCode, createTenantSettings, isTransformError, tenantSettings } from '../src/index.js';
import type { TenantSettingRow, TenantSettingRows, TenantSettings } from '../src/index.js';
import { id, tableKey, text } from './support/arbitraries.js';
import { caught, clone, deepFreeze } from './support/helpers.js';

const T = 'tenant-1';
const row = (
  settings_key: string,
  settings_value: string | null,
  tenant_id: string | number = T,
): TenantSettingRow => ({
  tenant_id,
  settings_key,
  settings_value,
});
const group = (...rows: TenantSettingRow[]): TenantSettingRows => ({ tenant_id: T, rows });

/** Code-point order, computed independently of the implementation (via UTF-8 bytes). */
const byUtf8 = (a: TenantSettingRow, b: TenantSettingRow) =>
  Buffer.compare(Buffer.from(a.settings_key, 'utf8'), Buffer.from(b.settings_key, 'utf8'));

/** Values that are canonical, almost canonical and arbitrary, for known and unknown keys alike. */
const settingValue: fc.Arbitrary<string | null> = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.constantFrom(
    '007',
    '1e3',
    '-0',
    '+1',
    ' 30',
    '30 ',
    '1.0',
    '9007199254740993',
    'true',
    'false',
    'TRUE',
    'yes',
    '',
  ),
  text,
  fc.constant(null),
);
const settingKey = fc.oneof(fc.constantFrom('timezone', 'locale', 'retention_days', 'webhooks_enabled'), tableKey);

/** All rows of one tenant, in arbitrary order, with unique keys. */
const tenantRows: fc.Arbitrary<TenantSettingRows> = id.chain((tenantId) =>
  fc
    .uniqueArray(fc.tuple(settingKey, settingValue), { selector: ([key]) => key, maxLength: 12 })
    .chain((pairs) => fc.shuffledSubarray(pairs, { minLength: pairs.length, maxLength: pairs.length }))
    .map((pairs) => ({
      tenant_id: tenantId,
      rows: pairs.map(([key, value]) => row(key, value, tenantId)),
    })),
);

/** Canonical typed objects, built directly (not through forward). */
const settingsObject: fc.Arbitrary<TenantSettings> = fc.record(
  {
    tenant_id: id,
    timezone: text,
    locale: text,
    retention_days: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    webhooks_enabled: fc.boolean(),
    extra: fc.dictionary(
      tableKey.filter((key) => !['timezone', 'locale', 'retention_days', 'webhooks_enabled'].includes(key)),
      fc.option(text, { nil: null }),
      { maxKeys: 6, noNullPrototype: true },
    ),
  },
  { requiredKeys: ['tenant_id', 'extra'], noNullPrototype: true },
);

describe('tenantSettings.forward', () => {
  it('types the known keys and keeps unknown ones in extra', () => {
    const result = tenantSettings.forward(
      deepFreeze(
        group(
          row('webhooks_enabled', 'true'),
          row('theme', 'dark'),
          row('retention_days', '30'),
          row('timezone', 'America/Sao_Paulo'),
          row('locale', 'pt-BR'),
        ),
      ),
    );
    expect(result).toStrictEqual({
      tenant_id: T,
      timezone: 'America/Sao_Paulo',
      locale: 'pt-BR',
      retention_days: 30,
      webhooks_enabled: true,
      extra: { theme: 'dark' },
    });
  });

  it.each([
    ['retention_days', '007'],
    ['retention_days', '1e3'],
    ['retention_days', '-0'],
    ['retention_days', '-1'],
    ['retention_days', '+5'],
    ['retention_days', '3.0'],
    ['retention_days', '9007199254740993'],
    ['retention_days', ''],
    ['webhooks_enabled', 'TRUE'],
    ['webhooks_enabled', '1'],
    ['timezone', null],
  ])('keeps the non-canonical %s value %j verbatim in extra', (key, value) => {
    const result = tenantSettings.forward(group(row(key, value)));
    expect(result).toStrictEqual({ tenant_id: T, extra: { [key]: value } });
    expect(tenantSettings.inverse(result!)).toStrictEqual(group(row(key, value)));
  });

  it('parses the largest safe integer and zero', () => {
    expect(tenantSettings.forward(group(row('retention_days', '9007199254740991')))?.retention_days).toBe(
      9007199254740991,
    );
    expect(tenantSettings.forward(group(row('retention_days', '0')))?.retention_days).toBe(0);
  });

  it('keeps keys like __proto__ as ordinary own keys of extra', () => {
    const result = tenantSettings.forward(group(row('__proto__', 'x'), row('constructor', null)));
    expect(Object.getPrototypeOf(result?.extra)).toBe(Object.prototype);
    expect(Object.keys(result?.extra ?? {})).toEqual(['__proto__', 'constructor']);
    expect(tenantSettings.inverse(result!)?.rows).toStrictEqual([row('__proto__', 'x'), row('constructor', null)]);
  });

  it('handles a tenant without rows', () => {
    expect(tenantSettings.forward({ tenant_id: 7, rows: [] })).toStrictEqual({ tenant_id: 7, extra: {} });
    expect(tenantSettings.inverse({ tenant_id: 7, extra: {} })).toStrictEqual({ tenant_id: 7, rows: [] });
  });

  it('with { nonCanonical: "throw" } rejects a non-canonical known value without quoting it', () => {
    const strict = createTenantSettings({ nonCanonical: 'throw' });
    const error = caught(() => strict.forward(group(row('retention_days', 'x-private-42'))));
    expect(error).toMatchObject({
      code: TransformErrorCode.InvalidInput,
      field: 'retention_days',
      key: { tenant_id: T },
    });
    expect(String(error)).not.toContain('x-private-42');
    expect(strict.forward(group(row('retention_days', '42'), row('other', 'free text')))).toStrictEqual({
      tenant_id: T,
      retention_days: 42,
      extra: { other: 'free text' },
    });
  });

  it.each<[string, unknown, string]>([
    ['a duplicate key', group(row('locale', 'a'), row('locale', 'b')), 'settings_key'],
    ['a row of another tenant', group(row('locale', 'a', 'tenant-2')), 'rows[0].tenant_id'],
    ['an unexpected column', { tenant_id: T, rows: [{ ...row('locale', 'a'), updated_at: 1 }] }, 'rows[0].updated_at'],
    [
      'a non-string value',
      { tenant_id: T, rows: [{ ...row('locale', 'a'), settings_value: 3 }] },
      'rows[0].settings_value',
    ],
    ['a non-string key', { tenant_id: T, rows: [{ ...row('locale', 'a'), settings_key: 3 }] }, 'rows[0].settings_key'],
    ['rows that are not an array', { tenant_id: T, rows: {} }, 'rows'],
    ['an unknown group property', { ...group(), tenant: T }, 'tenant'],
    ['a missing tenant_id', { rows: [] }, 'tenant_id'],
  ])('rejects %s', (_label, input, field) => {
    const error = caught(() => tenantSettings.forward(input as TenantSettingRows));
    expect(isTransformError(error)).toBe(true);
    expect(error).toMatchObject({ code: TransformErrorCode.InvalidInput, transformer: 'tenantSettings', field });
  });
});

describe('tenantSettings.inverse', () => {
  it('writes rows in code-point (COLLATE "C") order, not UTF-16 order', () => {
    // U+FFFF sorts before U+1D11E by code point, after it by UTF-16 code unit.
    const rows = tenantSettings.inverse({
      tenant_id: T,
      extra: { '𝄞': 'clef', '\uFFFF': 'max', b: 'b', a: 'a' },
    })?.rows;
    expect(rows?.map((r) => r.settings_key)).toEqual(['a', 'b', '\uFFFF', '𝄞']);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a fractional retention_days', { retention_days: 1.5 }, 'retention_days', TransformErrorCode.InvalidInput],
    ['a negative retention_days', { retention_days: -1 }, 'retention_days', TransformErrorCode.InvalidInput],
    ['-0 as retention_days', { retention_days: -0 }, 'retention_days', TransformErrorCode.InvalidInput],
    ['a string retention_days', { retention_days: '30' }, 'retention_days', TransformErrorCode.InvalidInput],
    ['a string webhooks_enabled', { webhooks_enabled: 'true' }, 'webhooks_enabled', TransformErrorCode.InvalidInput],
    ['a non-string extra value', { extra: { a: 1 } }, 'extra.a', TransformErrorCode.InvalidInput],
    ['a missing extra', { extra: undefined }, 'extra', TransformErrorCode.InvalidInput],
    ['an unknown property', { theme: 'dark' }, 'theme', TransformErrorCode.InvalidInput],
    ['a key both typed and in extra', { locale: 'en', extra: { locale: 'fr' } }, 'locale', TransformErrorCode.Conflict],
    [
      'a canonical value left in extra',
      { extra: { retention_days: '30' } },
      'extra.retention_days',
      TransformErrorCode.Conflict,
    ],
  ])('rejects %s', (_label, patch, field, code) => {
    const error = caught(() => tenantSettings.inverse({ tenant_id: T, extra: {}, ...patch } as TenantSettings));
    expect(error).toMatchObject({ code, field, key: { tenant_id: T } });
  });
});

describe('tenantSettings round trip', () => {
  it('inverse(forward(rows)) is the rows in canonical key order, exactly (property)', () => {
    fc.assert(
      fc.property(tenantRows, (input) => {
        const expected = { tenant_id: input.tenant_id, rows: clone(input.rows).sort(byUtf8) };
        const settings = tenantSettings.forward(deepFreeze(input));
        expect(settings).not.toBeNull();
        expect(tenantSettings.inverse(deepFreeze(settings!))).toStrictEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('forward(inverse(settings)) is the settings, exactly (property)', () => {
    fc.assert(
      fc.property(settingsObject, (settings) => {
        const rows = tenantSettings.inverse(deepFreeze(settings));
        expect(tenantSettings.forward(rows!)).toStrictEqual(clone(settings));
      }),
      { numRuns: 500 },
    );
  });

  it('the strict variant is exact on the rows it accepts (property)', () => {
    const strict = createTenantSettings({ nonCanonical: 'throw' });
    fc.assert(
      fc.property(tenantRows, (input) => {
        let settings: TenantSettings | null;
        try {
          settings = strict.forward(input);
        } catch (error) {
          expect(error).toMatchObject({ code: TransformErrorCode.InvalidInput });
          return;
        }
        expect(strict.inverse(settings!)?.rows).toStrictEqual(clone(input.rows).sort(byUtf8));
      }),
    );
  });

  it('rejects an invalid option', () => {
    expect(caught(() => createTenantSettings({ nonCanonical: 'drop' as never }))).toMatchObject({
      code: TransformErrorCode.InvalidConfig,
    });
  });
});
