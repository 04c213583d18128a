import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  channelConfig,
  channelCredentialsReencrypt,
  compose,
  createTenantSettings,
  groupedTransform,
  isTransformError,
  messageContent,
  messageMetadata,
  messageStatus,
  rowTransform,
  tenantLimitsDefaults,
  tenantSettings,
  type ChannelConfig,
  type GroupMigrationContext,
  type MigrationRow,
  type TenantSettings,
} from '../src/index.js';
import { deepFreeze } from './support/helpers.js';

const ctx = (group: MigrationRow): GroupMigrationContext => ({ migrationId: '0001', shard: { id: 'pg-0' }, group });
const settingRows = (tenant: string | number, entries: [string, string | null][], extra: MigrationRow = {}) =>
  entries.map(([settings_key, settings_value]) => ({ tenant_id: tenant, settings_key, settings_value, ...extra }));

/** An invertible edit: flips `webhooks_enabled` where the tenant has it. */
const flipWebhooks = {
  forward: (s: TenantSettings) =>
    s.webhooks_enabled === undefined ? null : { ...s, webhooks_enabled: !s.webhooks_enabled },
  inverse: (s: TenantSettings) =>
    s.webhooks_enabled === undefined ? null : { ...s, webhooks_enabled: !s.webhooks_enabled },
};

describe('groupedTransform(tenantSettings, edit)', () => {
  const rows = deepFreeze(
    settingRows('t1', [
      ['webhooks_enabled', 'true'],
      ['retention_days', '007'],
      ['theme', null],
      ['timezone', 'Europe/Berlin'],
    ]),
  );

  it('gives groupBy: "tenant_id" and a transformGroup that runs forward → edit → inverse, rows in, same rows out', async () => {
    const fns = groupedTransform(tenantSettings, flipWebhooks);
    expect(fns.groupBy).toBe('tenant_id');
    const out = await fns.transformGroup(rows, ctx({ tenant_id: 't1' }));
    // Same rows (by key), in whatever order; only the edited value differs; non-canonical '007' and NULL stay verbatim.
    expect(out).toEqual(
      expect.arrayContaining(
        rows.map((r) => (r.settings_key === 'webhooks_enabled' ? { ...r, settings_value: 'false' } : r)),
      ),
    );
    expect(out).toHaveLength(rows.length);
    expect(await fns.reverseGroup(out!, ctx({ tenant_id: 't1' }))).toEqual(expect.arrayContaining(rows));
  });

  it('an edit returning null (or undefined) leaves the group: null', async () => {
    const fns = groupedTransform(tenantSettings, () => undefined);
    expect(await fns.transformGroup(rows, ctx({ tenant_id: 't1' }))).toBeNull();
    expect('reverseGroup' in fns).toBe(false);
  });

  it('columns of the table the pack does not know are kept as they are', async () => {
    const withMore = settingRows(
      't1',
      [
        ['webhooks_enabled', 'false'],
        ['locale', 'pt-BR'],
      ],
      {
        updated_at: new Date(0),
        version: 3n,
      },
    );
    const out = await groupedTransform(tenantSettings, flipWebhooks).transformGroup(withMore, ctx({ tenant_id: 't1' }));
    expect(out).toEqual(expect.arrayContaining([{ ...withMore[0], settings_value: 'true' }, withMore[1]]));
  });

  it('an edit that adds a key comes back as a row not in the group (the SDK refuses it, naming the tenant)', async () => {
    const out = await groupedTransform(tenantSettings, (s) => ({ ...s, locale: 'en' })).transformGroup(
      rows,
      ctx({ tenant_id: 't1' }),
    );
    expect(out!.map((r) => r.settings_key)).toContain('locale');
    expect(out).toHaveLength(rows.length + 1);
  });

  it("an edit the pack cannot write back throws the pack's TransformError", async () => {
    const bad = groupedTransform(tenantSettings, (s) => ({ ...s, retention_days: -1 }));
    const error = await bad.transformGroup(rows, ctx({ tenant_id: 't1' })).catch((e: unknown) => e);
    expect(isTransformError(error)).toBe(true);
  });

  it('works with a pack made by createTenantSettings and an edit built with compose', async () => {
    const strict = createTenantSettings({ nonCanonical: 'throw' });
    const flip = { name: 'flipWebhooks', ...flipWebhooks };
    const fns = groupedTransform(strict, compose(flip, flip));
    const canonical = settingRows(7, [['webhooks_enabled', 'true']]);
    // Flipped twice: nothing changes.
    expect(await fns.transformGroup(canonical, ctx({ tenant_id: 7 }))).toEqual(canonical);
    expect(typeof fns.reverseGroup).toBe('function');
  });

  it('property: reverseGroup(transformGroup(rows)) gives back the rows, for any tenant id and any values', async () => {
    const value = fc.oneof(fc.constantFrom('true', 'false', 'TRUE', '30', '007', null), fc.string());
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ minLength: 1 }), fc.nat()),
        fc.uniqueArray(fc.tuple(fc.oneof(fc.constantFrom('webhooks_enabled', 'retention_days'), fc.string()), value), {
          selector: ([k]) => k,
          maxLength: 8,
        }),
        async (tenant, entries) => {
          const input = deepFreeze(settingRows(tenant, entries));
          if (input.length === 0) return;
          const fns = groupedTransform(tenantSettings, flipWebhooks);
          const out = (await fns.transformGroup(input, ctx({ tenant_id: tenant }))) ?? input;
          const back = (await fns.reverseGroup(out, ctx({ tenant_id: tenant }))) ?? out;
          const sorted = (rs: readonly MigrationRow[]) =>
            [...rs].sort((a, b) => String(a.settings_key).localeCompare(String(b.settings_key)));
          expect(sorted(back)).toEqual(sorted(input));
        },
      ),
    );
  });
});

describe('groupedTransform(channelConfig, edit, { channelType })', () => {
  const rows = deepFreeze([
    { channel_id: 'c1', config_key: 'smtp_port', config_value: '25' },
    { channel_id: 'c1', config_key: 'smtp_host', config_value: 'mx.example' },
  ]);
  const port587 = (c: ChannelConfig) =>
    c.channel_type === 'email' && c.smtp_port === 25 ? { ...c, smtp_port: 587 } : null;

  it('asks channelType for the channel (it lives in `channels`) and gives groupBy: "channel_id"', async () => {
    const asked: unknown[] = [];
    const fns = groupedTransform(channelConfig, port587, {
      channelType: async (channelId, context) => {
        asked.push([channelId, context.shard.id]);
        return 'email';
      },
    });
    expect(fns.groupBy).toBe('channel_id');
    const out = await fns.transformGroup(rows, ctx({ channel_id: 'c1' }));
    expect(asked).toEqual([['c1', 'pg-0']]);
    expect(out).toEqual(expect.arrayContaining([{ ...rows[0], config_value: '587' }, rows[1]]));
  });

  it("an unknown channel type fails with the pack's TRANSFORM_UNKNOWN_VALUE", async () => {
    const fns = groupedTransform(channelConfig, port587, { channelType: () => 'fax' });
    const error = await fns.transformGroup(rows, ctx({ channel_id: 'c1' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRANSFORM_UNKNOWN_VALUE', transformer: 'channelConfig' });
  });
});

describe('rowTransform(transformer)', () => {
  it('gives transform (and reverse only when the transformer has an exact inverse)', async () => {
    const doc = deepFreeze({ _id: 'm1', content: 'hi', status: 'SENT', metadata: { userId: 1 } });
    const content = rowTransform(messageContent);
    const converted = await content.transform(doc, ctx({}));
    expect(converted).toMatchObject({ content: { type: 'text', text: 'hi' } });
    expect(await content.reverse(converted!, ctx({}))).toEqual(doc);
    expect(await rowTransform(messageStatus).transform(doc, ctx({}))).toMatchObject({ status: 'sent' });
    const metadata = rowTransform(messageMetadata);
    expect(await metadata.transform(doc, ctx({}))).toMatchObject({ metadata: { user_id: 1 } });
    expect(metadata.reverse).toBeUndefined();
    const limits = rowTransform(tenantLimitsDefaults({ channel_limit: 5 }));
    expect(await limits.transform({ tenant_id: 't1', channel_limit: null }, ctx({}))).toEqual({
      tenant_id: 't1',
      channel_limit: 5,
    });
    expect('reverse' in limits).toBe(false);
    const rotate = rowTransform(
      channelCredentialsReencrypt({
        decrypt: (c: string) => c.slice('old:'.length),
        encrypt: (p: string) => `new:${p}`,
        isCurrent: (c: string) => c.startsWith('new:'),
        reverse: {
          decrypt: (c: string) => c.slice('new:'.length),
          encrypt: (p: string) => `old:${p}`,
          isCurrent: (c: string) => c.startsWith('old:'),
        },
      }),
    );
    const credential = { channel_id: 'c1', credential_type: 'token', encrypted_value: 'old:s3cret' };
    const rotated = await rotate.transform(credential, ctx({}));
    expect(rotated).toEqual({ ...credential, encrypted_value: 'new:s3cret' });
    expect(await rotate.reverse(rotated!, ctx({}))).toEqual(credential);
  });
});
