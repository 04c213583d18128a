/**
 * `channelConfig`: a channel's `channel_configurations` rows ⇄ one typed config for its `channel_type`.
 *
 * `channel_configurations` has no `channel_type` column (it lives on `channels`), so the input is the
 * channel's id and type plus its rows. Each type has a schema of known keys; their canonical text becomes
 * typed fields (`smtp_port: 587`, `allowed_origins: ['https://a.example']` from the compact JSON text
 * `["https://a.example"]`), everything else stays verbatim in `extra`. The inverse writes the rows back
 * sorted by `config_key` in code-point order (`COLLATE "C"`); the round trip is exact.
 *
 * An unknown `channel_type` is rejected with `TRANSFORM_UNKNOWN_VALUE` naming the channel and the type,
 * so a new channel type is a deliberate schema addition rather than a silent pass-through.
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import type { CodecContext, KeyValueSchema, NonCanonicalPolicy } from '../internal/key-value-codec.js';
import { decodeEntries, encodeEntries, nonCanonicalPolicy } from '../internal/key-value-codec.js';
import type { Id } from '../internal/key-value-rows.js';
import { assertKnownProperties, isId, readRows, writeRows } from '../internal/key-value-rows.js';
import { describeType, hasOwn, isPlainObject } from '../internal/plain.js';
import type { GroupMigrationContext, KeyValueTransformer } from '../data-migration.js';
import type { MaybePromise } from '../transformer.js';

/** One row of `channel_configurations`. */
export interface ChannelConfigurationRow {
  channel_id: Id;
  config_key: string;
  config_value: string | null;
}

/** A channel (id and type, from `channels`) with all its `channel_configurations` rows (possibly none). */
export interface ChannelConfigurationRows {
  channel_id: Id;
  channel_type: string;
  rows: ChannelConfigurationRow[];
}

/** The known keys of each channel type and their types. */
export const CHANNEL_CONFIG_SCHEMAS = {
  whatsapp: {
    phone_number_id: { type: 'string' },
    business_account_id: { type: 'string' },
  },
  sms: {
    sender_id: { type: 'string' },
    provider: { type: 'string' },
  },
  email: {
    from_address: { type: 'string' },
    smtp_host: { type: 'string' },
    smtp_port: { type: 'integer', min: 1, max: 65535 },
  },
  webchat: {
    widget_color: { type: 'string' },
    /** Stored as compact JSON text: `["https://a.example","https://b.example"]`. */
    allowed_origins: { type: 'string[]' },
  },
} as const satisfies Record<string, KeyValueSchema>;

export type ChannelType = keyof typeof CHANNEL_CONFIG_SCHEMAS;
export const CHANNEL_TYPES = Object.keys(CHANNEL_CONFIG_SCHEMAS) as ChannelType[];

interface ChannelConfigBase<Type extends ChannelType> {
  channel_id: Id;
  channel_type: Type;
  /** Unknown keys, and known keys whose text is not canonical, verbatim. */
  extra: Record<string, string | null>;
}
export interface WhatsappChannelConfig extends ChannelConfigBase<'whatsapp'> {
  phone_number_id?: string;
  business_account_id?: string;
}
export interface SmsChannelConfig extends ChannelConfigBase<'sms'> {
  sender_id?: string;
  provider?: string;
}
export interface EmailChannelConfig extends ChannelConfigBase<'email'> {
  from_address?: string;
  smtp_host?: string;
  /** 1..65535. */
  smtp_port?: number;
}
export interface WebchatChannelConfig extends ChannelConfigBase<'webchat'> {
  widget_color?: string;
  allowed_origins?: string[];
}
/** A channel's typed config, discriminated by `channel_type`. */
export type ChannelConfig = WhatsappChannelConfig | SmsChannelConfig | EmailChannelConfig | WebchatChannelConfig;

export interface ChannelConfigOptions {
  /**
   * What `forward` does with a known key whose text is not canonical for its type: keep it verbatim in
   * `extra` (`'extra'`), or throw `TRANSFORM_INVALID_INPUT` naming the channel and key (`'throw'`).
   * Default is `'extra'`.
   */
  readonly nonCanonical?: NonCanonicalPolicy;
}

const NAME = 'channelConfig';
const SHAPE = { ownerColumn: 'channel_id', keyColumn: 'config_key', valueColumn: 'config_value' } as const;
const GROUP_PROPERTIES = new Set(['channel_id', 'channel_type', 'rows']);

/**
 * What `groupedTransform(channelConfig, edit, options)` needs besides a channel's rows: its type,
 * which lives in `channels` (e.g. a lookup by id in the shard's database, or a map loaded before).
 */
export interface ChannelConfigGroupOptions {
  channelType(channelId: Id, ctx: GroupMigrationContext): MaybePromise<string>;
}

/**
 * The `channelConfig` transformer: a channel's rows ⇄ its typed config, and where those rows sit in
 * `channel_configurations` (`keyValue`, for `groupedTransform`).
 */
export type ChannelConfigTransformer = KeyValueTransformer<
  ChannelConfigurationRows,
  ChannelConfig,
  'channel_id',
  ChannelConfigGroupOptions
>;

/** Create a `channelConfig` transformer with non-default options. */
export function createChannelConfig(options: ChannelConfigOptions = {}): ChannelConfigTransformer {
  const policy = nonCanonicalPolicy(NAME, options.nonCanonical);
  return {
    name: NAME,
    keyValue: {
      ...SHAPE,
      group: async (channelId, rows, lookup, ctx) => ({
        channel_id: channelId,
        channel_type: await lookup.channelType(channelId, ctx),
        rows: rows as unknown as ChannelConfigurationRow[],
      }),
    },
    forward: (input) => {
      const { channelId, channelType, schema } = identify(input);
      const context = contextFor(channelId);
      assertKnownProperties(input as unknown as Record<string, unknown>, GROUP_PROPERTIES, context);
      const entries = readRows(input.rows, channelId, SHAPE, context);
      const { fields, extra } = decodeEntries(schema, entries, policy, context);
      return { channel_id: channelId, channel_type: channelType, ...fields, extra } as ChannelConfig;
    },
    inverse: (config) => {
      const { channelId, channelType, schema } = identify(config);
      const context = contextFor(channelId);
      const record = config as unknown as Record<string, unknown>;
      assertKnownProperties(record, new Set(['channel_id', 'channel_type', 'extra', ...Object.keys(schema)]), context);
      const entries = encodeEntries(schema, record, record.extra, context);
      return {
        channel_id: channelId,
        channel_type: channelType,
        rows: writeRows<ChannelConfigurationRow>(entries, channelId, SHAPE),
      };
    },
  };
}

/**
 * `channel_configurations` rows of one channel ⇄ a typed {@link ChannelConfig}; exact inverse.
 *
 * ### Examples
 * ```ts
 * channelConfig.forward({ channel_id: 'c1', channel_type: 'email', rows: [
 *   { channel_id: 'c1', config_key: 'smtp_port', config_value: '587' },
 * ] });
 * // → { channel_id: 'c1', channel_type: 'email', smtp_port: 587, extra: {} }
 * ```
 */
export const channelConfig = createChannelConfig();

function identify(group: unknown): { channelId: Id; channelType: ChannelType; schema: KeyValueSchema } {
  if (!isPlainObject(group) || !isId(group.channel_id)) {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: 'expected an object with a string or integer channel_id',
      field: 'channel_id',
    });
  }
  const channelId = group.channel_id;
  const channelType = group.channel_type;
  if (typeof channelType !== 'string') {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: `channel_type must be a string, got ${describeType(channelType)}`,
      field: 'channel_type',
      key: { channel_id: channelId },
    });
  }
  if (!hasOwn(CHANNEL_CONFIG_SCHEMAS, channelType)) {
    throw new TransformError({
      code: TransformErrorCode.UnknownValue,
      transformer: NAME,
      reason: `unknown channel_type "${channelType}" (known: ${CHANNEL_TYPES.join(', ')})`,
      field: 'channel_type',
      key: { channel_id: channelId },
      value: channelType,
    });
  }
  const known = channelType as ChannelType;
  return { channelId, channelType: known, schema: CHANNEL_CONFIG_SCHEMAS[known] };
}

function contextFor(channelId: Id): CodecContext {
  return { transformer: NAME, owner: { channel_id: channelId }, keyColumn: SHAPE.keyColumn };
}
