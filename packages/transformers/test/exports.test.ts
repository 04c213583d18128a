import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

/** The public runtime surface. A change here is an API change: update the README and a changeset. */
const PUBLIC_NAMES = [
  'CHANNEL_CONFIG_SCHEMAS',
  'CHANNEL_TYPES',
  'CONTENT_VERSION',
  'CONTENT_VERSION_FIELD',
  'LEGACY_MESSAGE_STATUS',
  'LEGACY_MESSAGE_STATUSES',
  'MESSAGE_KEY_COLUMNS',
  'MESSAGE_STATUSES',
  'MESSAGE_STATUS_TO_LEGACY',
  'TENANT_LIMIT_COLUMNS',
  'TENANT_SETTINGS_SCHEMA',
  'TransformError',
  'TransformErrorCode',
  'builtinTransformers',
  'channelConfig',
  'channelCredentialsReencrypt',
  'compose',
  'createChannelConfig',
  'createMessageContent',
  'createMessageMetadata',
  'createMessageStatus',
  'createRegistry',
  'createTenantSettings',
  'isInvertible',
  'isTransformError',
  'messageContent',
  'messageMetadata',
  'messageStatus',
  'tenantLimitsDefaults',
  'tenantSettings',
  'toSnakeCase',
];

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

describe('public API', () => {
  it('exports exactly the documented names from the barrel', () => {
    expect(Object.keys(api).sort()).toEqual(PUBLIC_NAMES);
  });

  it('every transformer instance has a unique name and plain-function properties usable detached', () => {
    const names = new Set<string>();
    for (const t of api.builtinTransformers) {
      expect(names.has(t.name)).toBe(false);
      names.add(t.name);
      const { forward } = t; // detached, as in `transform: messageContent.forward`
      expect(typeof forward).toBe('function');
    }
    const { forward, inverse } = api.messageContent;
    const converted = forward({ content: 'x' });
    expect(inverse(converted!)).toStrictEqual({ content: 'x' });
  });

  it('row transformers plug into the SDK contract without casts (checked by tsc)', () => {
    // The shape of `defineDataMigration`'s `transform` / `reverse` in @mcp/migrate-core, restated here so
    // this package stays independent of core: a generic row in, a row / null / undefined (maybe async) out.
    type Row = Record<string, unknown>;
    type TransformFn = (row: Row, ctx: never) => Row | null | undefined | Promise<Row | null | undefined>;
    const rotate = api.channelCredentialsReencrypt({
      decrypt: (c: string) => c,
      encrypt: (p: string) => p,
      reverse: { decrypt: (c: string) => c, encrypt: (p: string) => p },
    });
    const fill = api.tenantLimitsDefaults({ message_limit: 1 });
    const messagesV2 = api.compose(api.messageContent, api.messageStatus);
    const fns: TransformFn[] = [
      api.messageContent.forward,
      api.messageContent.inverse,
      api.messageStatus.forward,
      api.messageStatus.inverse,
      api.messageMetadata.forward,
      messagesV2.forward,
      messagesV2.inverse,
      fill.forward,
      rotate.forward,
      rotate.inverse,
    ];
    expect(fns.every((fn) => typeof fn === 'function')).toBe(true);
  });

  it.skipIf(!existsSync(`${dist}index.cjs`))('the built ESM and CJS entry points export the same names', async () => {
    const esm = (await import(`${dist}index.js`)) as Record<string, unknown>;
    const cjs = createRequire(import.meta.url)(`${dist}index.cjs`) as Record<string, unknown>;
    expect(Object.keys(esm).sort()).toEqual(PUBLIC_NAMES);
    expect(Object.keys(cjs).sort()).toEqual(PUBLIC_NAMES);
    expect(existsSync(`${dist}index.d.ts`) && existsSync(`${dist}index.d.cts`)).toBe(true);
  });
});
