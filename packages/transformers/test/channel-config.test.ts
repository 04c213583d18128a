import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_CONFIG_SCHEMAS,
  CHANNEL_TYPES,
  TransformErrorCode,
  channelConfig,
  createChannelConfig,
} from '../src/index.js';
import type { ChannelConfig, ChannelConfigurationRow, ChannelConfigurationRows, ChannelType } from '../src/index.js';
import { id, tableKey, text } from './support/arbitraries.js';
import { caught, clone, deepFreeze } from './support/helpers.js';

const C = 'ch-1';
const row = (
  config_key: string,
  config_value: string | null,
  channel_id: string | number = C,
): ChannelConfigurationRow => ({
  channel_id,
  config_key,
  config_value,
});
const channel = (channel_type: string, ...rows: ChannelConfigurationRow[]): ChannelConfigurationRows => ({
  channel_id: C,
  channel_type,
  rows,
});
const byUtf8 = (a: ChannelConfigurationRow, b: ChannelConfigurationRow) =>
  Buffer.compare(Buffer.from(a.config_key, 'utf8'), Buffer.from(b.config_key, 'utf8'));

const configValue: fc.Arbitrary<string | null> = fc.oneof(
  fc.integer({ min: -1, max: 70_000 }).map(String),
  fc.array(text, { maxLength: 3 }).map((origins) => JSON.stringify(origins)),
  fc.array(text, { maxLength: 3 }).map((origins) => JSON.stringify(origins, null, 1)),
  fc.constantFrom('0', '065', '[1]', '["a",null]', '{}', 'null', '[]', '["\\u00e9"]', 'not json', ''),
  text,
  fc.constant(null),
);

const channelRows: fc.Arbitrary<ChannelConfigurationRows> = fc
  .tuple(id, fc.constantFrom(...CHANNEL_TYPES))
  .chain(([channelId, type]) =>
    fc
      .uniqueArray(
        fc.tuple(fc.oneof(fc.constantFrom(...Object.keys(CHANNEL_CONFIG_SCHEMAS[type])), tableKey), configValue),
        {
          selector: ([key]) => key,
          maxLength: 10,
        },
      )
      .chain((pairs) => fc.shuffledSubarray(pairs, { minLength: pairs.length, maxLength: pairs.length }))
      .map((pairs) => ({
        channel_id: channelId,
        channel_type: type,
        rows: pairs.map(([key, value]) => row(key, value, channelId)),
      })),
  );

describe('channelConfig.forward', () => {
  it('types each channel type from its own schema', () => {
    expect(
      channelConfig.forward(channel('whatsapp', row('phone_number_id', '1099'), row('business_account_id', 'ba-1'))),
    ).toStrictEqual({
      channel_id: C,
      channel_type: 'whatsapp',
      phone_number_id: '1099',
      business_account_id: 'ba-1',
      extra: {},
    });
    expect(channelConfig.forward(channel('sms', row('provider', 'twilio'), row('sender_id', 'ACME')))).toStrictEqual({
      channel_id: C,
      channel_type: 'sms',
      sender_id: 'ACME',
      provider: 'twilio',
      extra: {},
    });
    expect(
      channelConfig.forward(
        channel('email', row('smtp_port', '587'), row('smtp_host', 'smtp.example'), row('from_address', 'a@b.c')),
      ),
    ).toStrictEqual({
      channel_id: C,
      channel_type: 'email',
      from_address: 'a@b.c',
      smtp_host: 'smtp.example',
      smtp_port: 587,
      extra: {},
    });
    expect(
      channelConfig.forward(
        channel(
          'webchat',
          row('allowed_origins', '["https://a.example","https://ü.example"]'),
          row('widget_color', '#fff'),
        ),
      ),
    ).toStrictEqual({
      channel_id: C,
      channel_type: 'webchat',
      widget_color: '#fff',
      allowed_origins: ['https://a.example', 'https://ü.example'],
      extra: {},
    });
  });

  it('a key known to one channel type is extra for another', () => {
    expect(channelConfig.forward(channel('sms', row('smtp_port', '25')))).toStrictEqual({
      channel_id: C,
      channel_type: 'sms',
      extra: { smtp_port: '25' },
    });
  });

  it.each([
    ['email', 'smtp_port', '0'],
    ['email', 'smtp_port', '65536'],
    ['email', 'smtp_port', '0587'],
    ['webchat', 'allowed_origins', '["a", "b"]'],
    ['webchat', 'allowed_origins', '["\\u00e9"]'],
    ['webchat', 'allowed_origins', '[1]'],
    ['webchat', 'allowed_origins', '"a"'],
    ['webchat', 'allowed_origins', 'not json'],
    ['webchat', 'allowed_origins', null],
  ])('keeps the non-canonical %s %s value %j verbatim in extra', (type, key, value) => {
    const input = channel(type, row(key, value));
    const config = channelConfig.forward(input);
    expect(config).toStrictEqual({ channel_id: C, channel_type: type, extra: { [key]: value } });
    expect(channelConfig.inverse(config!)).toStrictEqual(input);
  });

  it('accepts the port range bounds and the empty origin list', () => {
    expect(channelConfig.forward(channel('email', row('smtp_port', '1')))).toMatchObject({ smtp_port: 1 });
    expect(channelConfig.forward(channel('email', row('smtp_port', '65535')))).toMatchObject({ smtp_port: 65535 });
    expect(channelConfig.forward(channel('webchat', row('allowed_origins', '[]')))).toMatchObject({
      allowed_origins: [],
    });
  });

  it('rejects an unknown channel type, naming the channel and the type', () => {
    const error = caught(() => channelConfig.forward(channel('telegram', row('bot_token', 'secret-token'))));
    expect(error).toMatchObject({
      code: TransformErrorCode.UnknownValue,
      field: 'channel_type',
      key: { channel_id: C },
      value: 'telegram',
    });
    expect(String(error)).toContain('telegram');
    expect(String(error)).not.toContain('secret-token');
  });

  it('does not treat Object.prototype names as channel types', () => {
    for (const type of ['constructor', '__proto__', 'toString']) {
      expect(caught(() => channelConfig.forward(channel(type)))).toMatchObject({
        code: TransformErrorCode.UnknownValue,
      });
    }
  });

  it.each<[string, unknown, string]>([
    ['a duplicate key', channel('sms', row('provider', 'a'), row('provider', 'b')), 'config_key'],
    ['a row of another channel', channel('sms', row('provider', 'a', 'ch-2')), 'rows[0].channel_id'],
    ['a non-string channel_type', { channel_id: C, channel_type: 1, rows: [] }, 'channel_type'],
    ['a boolean channel_id', { channel_id: true, channel_type: 'sms', rows: [] }, 'channel_id'],
    ['an unexpected column', { ...channel('sms'), rows: [{ ...row('provider', 'a'), secret: 'x' }] }, 'rows[0].secret'],
  ])('rejects %s', (_label, input, field) => {
    expect(caught(() => channelConfig.forward(input as ChannelConfigurationRows))).toMatchObject({
      code: TransformErrorCode.InvalidInput,
      field,
    });
  });

  it('with { nonCanonical: "throw" } rejects a non-canonical known value', () => {
    const strict = createChannelConfig({ nonCanonical: 'throw' });
    expect(caught(() => strict.forward(channel('email', row('smtp_port', '99999'))))).toMatchObject({
      code: TransformErrorCode.InvalidInput,
      field: 'smtp_port',
      key: { channel_id: C },
    });
  });
});

describe('channelConfig.inverse', () => {
  it('writes canonical text: compact JSON for origins, decimal for ports, rows by code point', () => {
    const rows = channelConfig.inverse({
      channel_id: C,
      channel_type: 'webchat',
      allowed_origins: ['https://a.example', 'é'],
      widget_color: '#000',
      extra: { '𝄞': 'x', '\uFFFF': 'y' },
    })?.rows;
    expect(rows).toStrictEqual([
      row('allowed_origins', '["https://a.example","é"]'),
      row('widget_color', '#000'),
      row('\uFFFF', 'y'),
      row('𝄞', 'x'),
    ]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a port out of range', { channel_type: 'email', smtp_port: 70000 }, 'smtp_port', TransformErrorCode.InvalidInput],
    ['a port as text', { channel_type: 'email', smtp_port: '25' }, 'smtp_port', TransformErrorCode.InvalidInput],
    [
      'origins with a non-string',
      { channel_type: 'webchat', allowed_origins: ['a', 1] },
      'allowed_origins',
      TransformErrorCode.InvalidInput,
    ],
    [
      'sparse origins',
      // eslint-disable-next-line no-sparse-arrays
      { channel_type: 'webchat', allowed_origins: ['a', , 'b'] },
      'allowed_origins',
      TransformErrorCode.InvalidInput,
    ],
    ['a field of another type', { channel_type: 'sms', smtp_port: 25 }, 'smtp_port', TransformErrorCode.InvalidInput],
    [
      'a canonical value in extra',
      { channel_type: 'email', extra: { smtp_port: '25' } },
      'extra.smtp_port',
      TransformErrorCode.Conflict,
    ],
  ])('rejects %s', (_label, patch, field, code) => {
    expect(caught(() => channelConfig.inverse({ channel_id: C, extra: {}, ...patch } as ChannelConfig))).toMatchObject({
      code,
      field,
      key: { channel_id: C },
    });
  });
});

describe('channelConfig round trip', () => {
  it('inverse(forward(channel)) is its rows in canonical key order, exactly, for every channel type (property)', () => {
    const seen = new Set<ChannelType>();
    fc.assert(
      fc.property(channelRows, (input) => {
        seen.add(input.channel_type as ChannelType);
        const expected = { ...clone(input), rows: clone(input.rows).sort(byUtf8) };
        const config = channelConfig.forward(deepFreeze(input));
        expect(config?.channel_type).toBe(input.channel_type);
        expect(channelConfig.inverse(deepFreeze(config!))).toStrictEqual(expected);
      }),
      { numRuns: 600 },
    );
    expect([...seen].sort()).toEqual([...CHANNEL_TYPES].sort());
  });

  it('forward(inverse(config)) is the config, exactly (property)', () => {
    fc.assert(
      fc.property(channelRows, (input) => {
        const config = channelConfig.forward(input)!;
        expect(channelConfig.forward(channelConfig.inverse(config)!)).toStrictEqual(config);
      }),
    );
  });
});
