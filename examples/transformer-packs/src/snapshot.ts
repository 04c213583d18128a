/** What "back exactly" is checked against: every row as PostgreSQL prints it, every document as raw BSON. */
import type pg from 'pg';
import type { Db } from 'mongodb';

export const PG_TABLES: Readonly<Record<string, string>> = {
  tenant_settings: 'tenant_id, settings_key',
  tenant_limits: 'tenant_id',
  channels: 'id',
  channel_configurations: 'channel_id, config_key',
  channel_credentials: 'channel_id, credential_type',
};

/** `<table>: <row>::text` of every row of the example's tables, in key order (bytewise). */
export async function pgSnapshot(pool: pg.Pool): Promise<string[]> {
  const out: string[] = [];
  for (const [table, key] of Object.entries(PG_TABLES)) {
    const order = key
      .split(', ')
      .map((k) => `${k} COLLATE "C"`)
      .join(', ');
    const { rows } = await pool.query<{ t: string }>(`SELECT t::text AS t FROM ${table} t ORDER BY ${order}`);
    out.push(...rows.map((r) => `${table}: ${r.t}`));
  }
  return out;
}

/** Every `messages` document as hex of its raw BSON (field order and BSON types included), by `_id`. */
export async function mongoSnapshot(db: Db): Promise<string[]> {
  const docs = await db.collection('messages').find({}, { raw: true }).sort({ _id: 1 }).toArray();
  return docs.map((d) => Buffer.from(d as unknown as Uint8Array).toString('hex'));
}
