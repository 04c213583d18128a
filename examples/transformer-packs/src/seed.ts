/**
 * The platform's tables and collections the example migrations rewrite, created and seeded with data
 * that each migration has something to do on (and rows it must leave alone).
 */
import type pg from 'pg';
import { Double, Int32, Long, type Db } from 'mongodb';
import { seal, type Keyring } from './demo-cipher.js';

export interface SeedSizes {
  /** Tenants in `tenant_settings` (and `tenant_limits`); tenant 0 has `bigTenantKeys` settings. */
  readonly tenants: number;
  readonly bigTenantKeys: number;
  /** Channels in `channels` / `channel_configurations` / `channel_credentials`. */
  readonly channels: number;
  /** Documents in `messages`. */
  readonly messages: number;
}

export const DEFAULT_SIZES: SeedSizes = { tenants: 200, bigTenantKeys: 60, channels: 120, messages: 400 };

const FLAGS = ['true', 'false', 'TRUE', 'yes', '0', 'False', null];
const DAYS = ['30', '007', '+14', '1e3', null, '90'];
const pad = (n: number) => String(n).padStart(4, '0');

/** The PostgreSQL tables (as the platform has them, plus an `updated_at` no migration touches) and their rows. */
export async function seedPostgres(pool: pg.Pool, sizes: SeedSizes, keys: Keyring): Promise<void> {
  await pool.query(`
    CREATE TABLE tenant_settings (tenant_id text, settings_key text, settings_value text,
      updated_at timestamptz NOT NULL DEFAULT '2024-05-06 07:08:09.123456+00', PRIMARY KEY (tenant_id, settings_key));
    CREATE TABLE tenant_limits (tenant_id text PRIMARY KEY, message_limit bigint, channel_limit integer, storage_limit bigint);
    CREATE TABLE channels (id text PRIMARY KEY, tenant_id text NOT NULL, channel_type text NOT NULL, status text);
    CREATE TABLE channel_configurations (channel_id text, config_key text, config_value text, PRIMARY KEY (channel_id, config_key));
    CREATE TABLE channel_credentials (channel_id text, credential_type text, encrypted_value text, PRIMARY KEY (channel_id, credential_type));`);
  const settings: unknown[][] = [];
  for (let t = 0; t < sizes.tenants; t++) {
    const tenant = `t-${pad(t)}`;
    const keysOf = t === 0 ? sizes.bigTenantKeys : 1 + (t % 6);
    for (let k = 0; k < keysOf; k++) {
      const [key, value] =
        k === 0
          ? ['webhooks_enabled', FLAGS[t % FLAGS.length]]
          : k === 1
            ? ['retention_days', DAYS[t % DAYS.length]]
            : k === 2
              ? ['timezone', 'Europe/Berlin']
              : [`custom_${pad(k)}`, k % 5 === 0 ? null : `v${k}`];
      settings.push([tenant, key, value]);
    }
  }
  await insert(pool, 'tenant_settings', ['tenant_id', 'settings_key', 'settings_value'], settings);
  await insert(
    pool,
    'tenant_limits',
    ['tenant_id', 'message_limit', 'channel_limit', 'storage_limit'],
    Array.from({ length: sizes.tenants }, (_, t) => [
      `t-${pad(t)}`,
      t % 3 === 0 ? null : String(1000 + t),
      t % 4 === 0 ? null : t % 7,
      t % 5 === 0 ? null : '9223372036854775807',
    ]),
  );
  const types = ['email', 'webchat', 'sms', 'whatsapp'];
  const channels = Array.from({ length: sizes.channels }, (_, c) => [
    `c-${pad(c)}`,
    `t-${pad(c % sizes.tenants)}`,
    types[c % 4],
    'active',
  ]);
  await insert(pool, 'channels', ['id', 'tenant_id', 'channel_type', 'status'], channels);
  const config: unknown[][] = [];
  for (const [id, , type] of channels as string[][]) {
    const c = Number(id!.slice(2));
    if (type === 'email')
      config.push([id, 'smtp_port', c % 2 ? '0587' : '587'], [id, 'smtp_host', 'mx.example'], [id, 'note', null]);
    if (type === 'webchat')
      config.push(
        [id, 'allowed_origins', c % 2 ? '["https://a.example", "https://b.example"]' : '["https://a.example"]'],
        [id, 'widget_color', '#fff'],
      );
    if (type === 'sms') config.push([id, 'provider', 'twilio']);
    if (type === 'whatsapp') config.push([id, 'phone_number_id', `+49${c}`], [id, 'business_account_id', `ba-${c}`]);
  }
  await insert(pool, 'channel_configurations', ['channel_id', 'config_key', 'config_value'], config);
  const credentials: unknown[][] = (channels as string[][]).flatMap(([id]) =>
    ['api_key', 'webhook_secret'].map((type) => [
      id,
      type,
      seal(keys, 'k1', `secret-${id}-${type}`, { channel_id: id, credential_type: type }),
    ]),
  );
  credentials.push(['c-9999', 'none', null]);
  await insert(pool, 'channel_credentials', ['channel_id', 'credential_type', 'encrypted_value'], credentials);
}

async function insert(pool: pg.Pool, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values = chunk.map((row, r) => `(${row.map((_, c) => `$${r * row.length + c + 1}`).join(', ')})`).join(', ');
    await pool.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
  }
}

/** `messages` documents: string and structured content, legacy statuses (some missing or null), camelCase metadata, and BSON types no migration touches. */
export async function seedMongo(db: Db, sizes: SeedSizes): Promise<void> {
  const statuses = ['SENT', 'DELIVERED', 'READ', 'FAILED', 'QUEUED', null];
  const docs = Array.from({ length: sizes.messages }, (_, i) => {
    const doc: Record<string, unknown> = {
      _id: `m-${pad(i)}`,
      message_id: `m-${pad(i)}`,
      tenant_id: `t-${pad(i % 50)}`,
      content:
        i % 4 === 3
          ? { type: 'media', media: { file_id: `f-${i}`, url: `https://cdn.example/${i}.png` } }
          : `hello ${i}`,
      metadata: i % 3 === 0 ? { userId: i, 'X-Request-Id': `r-${i}` } : { user_id: i },
      attempts: Long.fromNumber(i % 3),
      score: new Double(1),
      small: new Int32(i % 100),
      created_at: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, i)),
    };
    if (i % 7 !== 6) doc.status = statuses[i % statuses.length];
    return doc;
  });
  for (let i = 0; i < docs.length; i += 500) await db.collection('messages').insertMany(docs.slice(i, i + 500));
}
