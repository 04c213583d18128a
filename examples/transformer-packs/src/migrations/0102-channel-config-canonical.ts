import { defineDataMigration } from '@mcp/migrate-core';
import { channelConfig, groupedTransform, type ChannelConfig, type Id } from '@mcp/migrate-transformers';

/** What the lookup below needs of a shard's database: a `pg.Pool` or client has it. */
export interface Queryable {
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * `channel_configurations` has no `channel_type` (it lives in `channels`), and `channelConfig` needs it:
 * look it up in the same shard's database (`poolOf(shardId)`), one query per channel.
 */
export const channelTypeFrom =
  (poolOf: (shardId: string) => Queryable) =>
  async (channelId: Id, ctx: { readonly shard: { readonly id: string } }): Promise<string> => {
    const { rows } = await poolOf(ctx.shard.id).query('SELECT channel_type FROM channels WHERE id = $1', [channelId]);
    if (rows.length !== 1) throw new Error(`channel ${String(channelId)} is not in channels`);
    return String(rows[0]!.channel_type);
  };

/**
 * A channel's config in canonical form: an SMTP port written with leading zeros (`'0587'`) and an
 * `allowed_origins` list written as loose JSON (`'["https://a.example", "https://b.example"]'`) are kept
 * verbatim in `extra` by the pack; this edit parses them into the typed fields, written back canonically.
 */
export function canonicalConfig(config: ChannelConfig): ChannelConfig | null {
  if (config.channel_type === 'email') {
    const { smtp_port: port, ...extra } = config.extra;
    if (typeof port !== 'string' || !/^0*\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return null;
    return { ...config, smtp_port: Number(port), extra };
  }
  if (config.channel_type === 'webchat') {
    const { allowed_origins: origins, ...extra } = config.extra;
    const parsed = typeof origins === 'string' ? parseJson(origins) : undefined;
    if (!Array.isArray(parsed) || !parsed.every((o): o is string => typeof o === 'string')) return null;
    return { ...config, allowed_origins: parsed, extra };
  }
  return null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The migration, given how to reach each shard's `channels` table. Rollback: from the backup. */
export function channelConfigCanonical(poolOf: (shardId: string) => Queryable) {
  return defineDataMigration({
    id: '0102-channel-config-canonical',
    engine: 'postgres',
    table: 'channel_configurations',
    key: ['channel_id', 'config_key'],
    batchSize: 500,
    ...groupedTransform(channelConfig, canonicalConfig, { channelType: channelTypeFrom(poolOf) }),
  });
}
