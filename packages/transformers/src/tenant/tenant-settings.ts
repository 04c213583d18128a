/**
 * `tenantSettings`: a tenant's `tenant_settings` rows ⇄ one typed settings object.
 *
 * Known keys (`timezone`, `locale`, `retention_days`, `webhooks_enabled`) become typed fields when their
 * text is canonical; every other key, and a known key whose text is not canonical (`'007'`, `'1e3'`,
 * `'TRUE'`, NULL), is kept verbatim in `extra`. The inverse writes the rows back sorted by `settings_key`
 * in code-point order (`COLLATE "C"`), so `inverse(forward(x))` equals `x` with its rows in that order,
 * and `forward(inverse(s))` equals `s` for every object the inverse accepts.
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import type { CodecContext, KeyValueSchema, NonCanonicalPolicy } from '../internal/key-value-codec.js';
import { decodeEntries, encodeEntries, nonCanonicalPolicy } from '../internal/key-value-codec.js';
import type { Id } from '../internal/key-value-rows.js';
import { assertKnownProperties, isId, readRows, writeRows } from '../internal/key-value-rows.js';
import { describeType, isPlainObject } from '../internal/plain.js';
import type { KeyValueTransformer } from '../data-migration.js';

/** One row of `tenant_settings`. */
export interface TenantSettingRow {
  tenant_id: Id;
  settings_key: string;
  settings_value: string | null;
}

/** All `tenant_settings` rows of one tenant (possibly none). */
export interface TenantSettingRows {
  tenant_id: Id;
  rows: TenantSettingRow[];
}

/** A tenant's settings, typed. A field is absent when the tenant has no (canonical) row for it. */
export interface TenantSettings {
  tenant_id: Id;
  /** IANA zone name, e.g. `Europe/Berlin` (not validated: any text round-trips). */
  timezone?: string;
  /** BCP 47 tag, e.g. `pt-BR` (not validated). */
  locale?: string;
  /** Non-negative safe integer; stored as its canonical decimal text. */
  retention_days?: number;
  /** Stored as `'true'` / `'false'`. */
  webhooks_enabled?: boolean;
  /** Unknown keys, and known keys whose text is not canonical, verbatim. */
  extra: Record<string, string | null>;
}

/** The known keys of `tenant_settings` and their types. */
export const TENANT_SETTINGS_SCHEMA = {
  timezone: { type: 'string' },
  locale: { type: 'string' },
  retention_days: { type: 'integer', min: 0 },
  webhooks_enabled: { type: 'boolean' },
} as const satisfies KeyValueSchema;

export interface TenantSettingsOptions {
  /**
   * What `forward` does with a known key whose text is not canonical for its type: keep it verbatim in
   * `extra` (`'extra'`), or throw `TRANSFORM_INVALID_INPUT` naming the tenant and key (`'throw'`).
   * Either way nothing is lost. Default is `'extra'`.
   */
  readonly nonCanonical?: NonCanonicalPolicy;
}

const NAME = 'tenantSettings';
const SHAPE = { ownerColumn: 'tenant_id', keyColumn: 'settings_key', valueColumn: 'settings_value' } as const;
const GROUP_PROPERTIES = new Set(['tenant_id', 'rows']);
const PROPERTIES = new Set(['tenant_id', 'extra', ...Object.keys(TENANT_SETTINGS_SCHEMA)]);

/**
 * The `tenantSettings` transformer: all of a tenant's rows ⇄ its typed settings, and where those rows
 * sit in `tenant_settings` (`keyValue`, for `groupedTransform`).
 */
export type TenantSettingsTransformer = KeyValueTransformer<TenantSettingRows, TenantSettings, 'tenant_id'>;

/** Create a `tenantSettings` transformer with non-default options. */
export function createTenantSettings(options: TenantSettingsOptions = {}): TenantSettingsTransformer {
  const policy = nonCanonicalPolicy(NAME, options.nonCanonical);
  return {
    name: NAME,
    keyValue: {
      ...SHAPE,
      group: (tenantId, rows) => ({ tenant_id: tenantId, rows: rows as unknown as TenantSettingRow[] }),
    },
    forward: (input) => {
      const tenantId = ownerOf(input);
      const context = contextFor(tenantId);
      assertKnownProperties(input as unknown as Record<string, unknown>, GROUP_PROPERTIES, context);
      const entries = readRows(input.rows, tenantId, SHAPE, context);
      const { fields, extra } = decodeEntries(TENANT_SETTINGS_SCHEMA, entries, policy, context);
      return { tenant_id: tenantId, ...fields, extra } as TenantSettings;
    },
    inverse: (settings) => {
      const tenantId = ownerOf(settings);
      const context = contextFor(tenantId);
      const record = settings as unknown as Record<string, unknown>;
      assertKnownProperties(record, PROPERTIES, context);
      const entries = encodeEntries(TENANT_SETTINGS_SCHEMA, record, record.extra, context);
      return { tenant_id: tenantId, rows: writeRows<TenantSettingRow>(entries, tenantId, SHAPE) };
    },
  };
}

/**
 * `tenant_settings` rows of one tenant ⇄ a typed {@link TenantSettings} object; exact inverse. Unknown
 * and non-canonical values are kept verbatim in `extra`.
 *
 * ### Examples
 * ```ts
 * tenantSettings.forward({ tenant_id: 't1', rows: [
 *   { tenant_id: 't1', settings_key: 'retention_days', settings_value: '30' },
 *   { tenant_id: 't1', settings_key: 'theme', settings_value: 'dark' },
 * ] });
 * // → { tenant_id: 't1', retention_days: 30, extra: { theme: 'dark' } }
 * ```
 */
export const tenantSettings = createTenantSettings();

function ownerOf(group: unknown): Id {
  if (!isPlainObject(group) || !isId(group.tenant_id)) {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: `expected an object with a string or integer tenant_id, got ${isPlainObject(group) ? `tenant_id of type ${describeType(group.tenant_id)}` : describeType(group)}`,
      field: 'tenant_id',
    });
  }
  return group.tenant_id;
}

function contextFor(tenantId: Id): CodecContext {
  return { transformer: NAME, owner: { tenant_id: tenantId }, keyColumn: SHAPE.keyColumn };
}
