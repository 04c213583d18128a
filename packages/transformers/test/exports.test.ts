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
  'groupedTransform',
  'isInvertible',
  'isTransformError',
  'messageContent',
  'messageMetadata',
  'messageStatus',
  'rowTransform',
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

  // The only check of the built package (test/scenarios/exports.test.ts leaves this package to it).
  // It resolves the package by its own name, as a user does, and fails (never skips) when the
  // package is not built: the message says to build it.
  it('the built ESM and CJS entry points, resolved by package name, export exactly the documented names', async () => {
    expect(existsSync(`${dist}index.cjs`), `${dist} is missing: run "pnpm exec turbo run build" before the tests`).toBe(
      true,
    );
    const esm = (await import('@mcp/migrate-transformers')) as Record<string, unknown>;
    const cjs = createRequire(import.meta.url)('@mcp/migrate-transformers') as Record<string, unknown>;
    expect(
      Object.keys(esm)
        .filter((k) => k !== 'default' && k !== 'module.exports')
        .sort(),
    ).toEqual(PUBLIC_NAMES);
    expect(Object.keys(cjs).sort()).toEqual(PUBLIC_NAMES);
    expect(existsSync(`${dist}index.d.ts`) && existsSync(`${dist}index.d.cts`)).toBe(true);
  });
});

/*
 * Row transformers plug into the SDK contract without casts. A compile-time check only, run by
 * `pnpm typecheck` (this package's tsconfig includes test/): the shape of `defineDataMigration`'s
 * `transform` / `reverse` in @mcp/migrate-core, restated so this package stays independent of core —
 * a generic row in, a row / null / undefined (maybe async) out.
 */
type Row = Record<string, unknown>;
type TransformFn = (row: Row, ctx: never) => Row | null | undefined | Promise<Row | null | undefined>;
export const sdkContractCheck = (): TransformFn[] => {
  const rotate = api.channelCredentialsReencrypt({
    decrypt: (c: string) => c,
    encrypt: (p: string) => p,
    reverse: { decrypt: (c: string) => c, encrypt: (p: string) => p },
  });
  const fill = api.tenantLimitsDefaults({ message_limit: 1 });
  const messagesV2 = api.compose(api.messageContent, api.messageStatus);
  return [
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
};

/*
 * The same for the adapters: `rowTransform(t)` fits `{ transform, reverse }` and `groupedTransform(pack, edit)`
 * fits `{ groupBy, transformGroup, reverseGroup }` of a grouped data migration, whose context (restated
 * from core's `GroupTransformContext`) carries the shard descriptor and the group's values.
 */
type GroupTransformFn = (
  rows: readonly Row[],
  ctx: { readonly migrationId: string; readonly shard: { id: string; engine: string }; readonly group: Readonly<Row> },
) => readonly Row[] | null | undefined | Promise<readonly Row[] | null | undefined>;
interface GroupedInput {
  groupBy: string | readonly string[];
  transformGroup: GroupTransformFn;
  reverseGroup?: GroupTransformFn | undefined;
}
export const sdkGroupedContractCheck = (): [GroupedInput[], { transform: TransformFn; reverse?: TransformFn }[]] => {
  const edit = { name: 'same', forward: (s: api.TenantSettings) => s, inverse: (s: api.TenantSettings) => s };
  return [
    [
      api.groupedTransform(api.tenantSettings, edit),
      api.groupedTransform(api.tenantSettings, (s) => s),
      api.groupedTransform(api.channelConfig, (c) => c, { channelType: () => 'sms' }),
    ],
    [api.rowTransform(api.messageContent), api.rowTransform(api.tenantLimitsDefaults({ message_limit: 1 }))],
  ];
};
