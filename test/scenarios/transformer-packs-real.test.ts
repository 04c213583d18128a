/**
 * Every transformer pack as a data migration (examples/transformer-packs) on the real servers, through
 * createMigrator: tenantSettings and channelConfig as grouped migrations (a batch never splits a tenant
 * or a channel; a tenant larger than the batch included), tenantLimitsDefaults and
 * channelCredentialsReencrypt on PostgreSQL, messageContent/messageStatus/messageMetadata on MongoDB.
 * Each is checked against the database after the forward run, then rolled back and compared exactly:
 * PostgreSQL by `t::text` of every row, MongoDB by the raw BSON of every document.
 */
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { MongoClient, type Db, type Document } from 'mongodb';
import { createMigrator, defineDataMigration, type BatchEvent, type Migration } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import { groupedTransform, tenantSettings, type TenantSettings } from '@mcp/migrate-transformers';
import { databaseName, mongoEnabled, postgresEnabled, tempPgDatabases, testPool } from '@mcp/test-support';
import { DEMO_KEYS, open } from '../../examples/transformer-packs/src/demo-cipher.js';
import { packMigrations } from '../../examples/transformer-packs/src/packs.js';
import { seedMongo, seedPostgres, type SeedSizes } from '../../examples/transformer-packs/src/seed.js';
import { mongoSnapshot, pgSnapshot } from '../../examples/transformer-packs/src/snapshot.js';

const SIZES: SeedSizes = { tenants: 200, bigTenantKeys: 60, channels: 120, messages: 300 };
const LOCK = { lock: { ttlMs: 15_000, waitMs: 60_000 } };
const fixed = (size: number) => ({ throttle: { minBatchSize: size, maxBatchSize: size } });
const timings: string[] = [];
const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings.push(`${what}: ${Date.now() - t0} ms`);
    console.log(`[transformer-packs-real] ${what}: ${Date.now() - t0} ms`);
  }
};

/** What the example's edits must make of a setting's text: computed here, not by the packs. */
const FLAG: Record<string, string> = {
  TRUE: 'true',
  True: 'true',
  '1': 'true',
  yes: 'true',
  FALSE: 'false',
  False: 'false',
  '0': 'false',
  no: 'false',
};
function expectedSetting(key: string, value: string | null): string | null {
  if (value === null) return null;
  if (key === 'webhooks_enabled' && Object.hasOwn(FLAG, value)) return FLAG[value]!;
  if (key === 'retention_days' && /^\+?\d{1,9}$/.test(value)) return String(Number(value));
  return value;
}
function expectedConfig(key: string, value: string | null): string | null {
  if (key === 'smtp_port' && value === '0587') return '587';
  if (key === 'allowed_origins' && value !== null) return JSON.stringify(JSON.parse(value));
  return value;
}

/** Cumulative row counts at the end of each owner's group, in key order: where every batch of a grouped migration must end. */
async function groupEnds(pool: pg.Pool, table: string, owner: string): Promise<Set<number>> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} GROUP BY ${owner} ORDER BY ${owner} COLLATE "C"`,
  );
  let sum = 0;
  return new Set(rows.map((r) => (sum += r.n)));
}

describe('transformer packs as data migrations on real PostgreSQL', async () => {
  const enabled = await postgresEnabled();

  it.skipIf(!enabled)(
    'tenantSettings and channelConfig as grouped migrations (batches of 7, a 60-row tenant), tenantLimitsDefaults, channelCredentialsReencrypt: forward as expected, interrupted and resumed, rolled back exactly',
    async () => {
      const dbs = await tempPgDatabases(1, 'group_batches');
      const pool = testPool(dbs.urls[0]!, 4);
      const engine = () => postgresEngine({ shards: [{ id: 'pg-0', connectionString: dbs.urls[0]! }], poolSize: 3 });
      try {
        await seedPostgres(pool, SIZES, DEMO_KEYS);
        const before = await pgSnapshot(pool);
        const settingsBefore = (
          await pool.query(
            `SELECT tenant_id, settings_key, settings_value, updated_at::text AS at FROM tenant_settings`,
          )
        ).rows;
        const configBefore = (
          await pool.query(`SELECT channel_id, config_key, config_value FROM channel_configurations`)
        ).rows;
        const tenantEnds = await groupEnds(pool, 'tenant_settings', 'tenant_id');
        const channelEnds = await groupEnds(pool, 'channel_configurations', 'channel_id');
        let lookups = 0;
        const counting = {
          query: (text: string, values: unknown[]) => {
            lookups++;
            return pool.query(text, values);
          },
        };
        const migrations = packMigrations({ poolOf: () => counting, keys: DEMO_KEYS }).filter(
          (m) => m.engine === 'postgres',
        );
        expect(migrations.map((m) => m.id)).toEqual([
          '0101-tenant-settings-canonical',
          '0102-channel-config-canonical',
          '0106-tenant-limits-defaults',
          '0107-channel-credentials-rotate',
        ]);

        // First run: interrupted after 5 batches of tenant settings (batches of 7 rows).
        const controller = new AbortController();
        const first = createMigrator({ engines: { postgres: engine() }, migrations, ...LOCK, ...fixed(7) });
        const batches: BatchEvent[] = [];
        first.on('batch', (e) => {
          batches.push(e);
          if (batches.length === 5) controller.abort(new Error('simulated crash'));
        });
        await timed('PG first run, interrupted', () =>
          first.run({ signal: controller.signal }).then(
            () => expect.unreachable('the run was interrupted'),
            () => undefined,
          ),
        );
        await first.close();
        const second = createMigrator({ engines: { postgres: engine() }, migrations, ...LOCK, ...fixed(13) });
        second.on('batch', (e) => batches.push(e));
        const report = await timed('PG resumed run (batches of 13)', () => second.run());
        expect(report.totals).toMatchObject({ applied: 4, failed: 0 });

        // Every batch of a grouped migration ended on a group boundary, at both batch sizes.
        const ends = (id: string) =>
          batches.filter((e) => e.migrationId === id && e.direction === 'up').map((e) => e.processed);
        expect(ends('0101-tenant-settings-canonical').length).toBeGreaterThan(20);
        for (const n of ends('0101-tenant-settings-canonical'))
          expect(tenantEnds.has(n), `tenant batch ending at ${n}`).toBe(true);
        for (const n of ends('0102-channel-config-canonical'))
          expect(channelEnds.has(n), `channel batch ending at ${n}`).toBe(true);
        // The 60-row tenant was one batch although the batch size was 7.
        const perBatch = ends('0101-tenant-settings-canonical').map((n, i, all) => n - (all[i - 1] ?? 0));
        expect(perBatch[0]).toBe(60);
        // channel_type looked up once per channel: each channel's rows went to the pack as one group.
        expect(lookups).toBe(SIZES.channels);
        const steps = Object.fromEntries(report.shards[0]!.migrations.map((s) => [s.migrationId, s.counts]));
        expect(steps['0101-tenant-settings-canonical']).toMatchObject({ read: settingsBefore.length });

        // tenant_settings: every value as the edit must make it; the untouched updated_at (µs) kept.
        const settingsAfter = await pool.query(
          `SELECT tenant_id, settings_key, settings_value, updated_at::text AS at FROM tenant_settings`,
        );
        expect(settingsAfter.rows).toHaveLength(settingsBefore.length);
        const want = new Map(
          settingsBefore.map((r) => [
            `${r.tenant_id}/${r.settings_key}`,
            { ...r, settings_value: expectedSetting(r.settings_key, r.settings_value) },
          ]),
        );
        for (const row of settingsAfter.rows) expect(row).toEqual(want.get(`${row.tenant_id}/${row.settings_key}`));
        expect(settingsAfter.rows.filter((r) => r.at !== '2024-05-06 07:08:09.123456+00')).toEqual([]);
        const changedSettings = settingsBefore.filter(
          (r) => expectedSetting(r.settings_key, r.settings_value) !== r.settings_value,
        );
        expect(changedSettings.length).toBeGreaterThan(50);

        const configAfter = await pool.query(`SELECT channel_id, config_key, config_value FROM channel_configurations`);
        const wantConfig = new Map(
          configBefore.map((r) => [
            `${r.channel_id}/${r.config_key}`,
            { ...r, config_value: expectedConfig(r.config_key, r.config_value) },
          ]),
        );
        expect(configAfter.rows).toHaveLength(configBefore.length);
        for (const row of configAfter.rows) expect(row).toEqual(wantConfig.get(`${row.channel_id}/${row.config_key}`));

        const limits = await pool.query(
          `SELECT count(*)::int AS nulls FROM tenant_limits WHERE message_limit IS NULL OR channel_limit IS NULL OR storage_limit IS NULL`,
        );
        expect(limits.rows[0].nulls).toBe(0);
        const filled = await pool.query(
          `SELECT message_limit::text, channel_limit, storage_limit::text FROM tenant_limits WHERE tenant_id = 't-0000'`,
        );
        expect(filled.rows[0]).toEqual({ message_limit: '10000', channel_limit: 5, storage_limit: '1099511627776' });
        const credentials = await pool.query(
          `SELECT channel_id, credential_type, encrypted_value FROM channel_credentials`,
        );
        for (const c of credentials.rows) {
          if (c.encrypted_value === null) continue;
          expect(c.encrypted_value.startsWith('k2:')).toBe(true);
          expect(open(DEMO_KEYS, c.encrypted_value, c)).toBe(`secret-${c.channel_id}-${c.credential_type}`);
        }

        // Rolled back (all four from their backups): every row exactly as before.
        const back = createMigrator({ engines: { postgres: engine() }, migrations, ...LOCK, ...fixed(7) });
        await timed('PG rollback of 4 migrations', () => back.rollback({ steps: 4 }));
        await back.close();
        expect(await pgSnapshot(pool)).toEqual(before);
        await second.close();
      } finally {
        await pool.end();
        await dbs.drop();
      }
    },
    300_000,
  );

  it.skipIf(!enabled)(
    'a grouped migration with an exact inverse (reverseGroup) rolls back through it, not from the backup, exactly',
    async () => {
      const dbs = await tempPgDatabases(1, 'group_batches');
      const pool = testPool(dbs.urls[0]!, 4);
      try {
        await seedPostgres(pool, SIZES, DEMO_KEYS);
        const before = await pgSnapshot(pool);
        const flip = (s: TenantSettings) =>
          s.webhooks_enabled === undefined ? null : { ...s, webhooks_enabled: !s.webhooks_enabled };
        const m: Migration = defineDataMigration({
          id: '0199-flip-webhooks',
          engine: 'postgres',
          table: 'tenant_settings',
          key: ['tenant_id', 'settings_key'],
          ...groupedTransform(tenantSettings, { forward: flip, inverse: flip }),
        });
        const migrator = createMigrator({
          engines: {
            postgres: postgresEngine({ shards: [{ id: 'pg-0', connectionString: dbs.urls[0]! }], poolSize: 3 }),
          },
          migrations: [m],
          ...LOCK,
          ...fixed(11),
        });
        try {
          await timed('PG reverseGroup run', () => migrator.run());
          const flipped = await pool.query(
            `SELECT count(*)::int AS n FROM tenant_settings WHERE settings_key = 'webhooks_enabled' AND settings_value IN ('true', 'false')`,
          );
          expect(flipped.rows[0].n).toBeGreaterThan(40);
          expect(await pgSnapshot(pool)).not.toEqual(before);
          // A stale backup: a rollback from it would not be exact.
          await pool.query(`UPDATE mcp_backup_0199_flip_webhooks SET settings_value = 'stale'`);
          await timed('PG reverseGroup rollback', () => migrator.rollback());
          expect(await pgSnapshot(pool)).toEqual(before);
        } finally {
          await migrator.close();
        }
      } finally {
        await pool.end();
        await dbs.drop();
      }
    },
    300_000,
  );
});

/** The fields no migration touches, with their BSON types (read without promotion). */
const untouched = (d: Document) => ({
  _id: d._id,
  attempts: `${d.attempts?._bsontype}:${String(d.attempts)}`,
  score: `${d.score?._bsontype}:${String(d.score?.value)}`,
  small: `${d.small?._bsontype}:${String(d.small?.value)}`,
  created_at: (d.created_at as Date).toISOString(),
});

describe('transformer packs as data migrations on the real MongoDB-wire server', async () => {
  const enabled = await mongoEnabled();

  it.skipIf(!enabled)(
    'messageContent, messageStatus, messageMetadata (batches of 50): forward as expected, BSON types kept, rolled back to the same raw BSON',
    async () => {
      const client = await new MongoClient(process.env.MONGODB_URI!).connect();
      const name = databaseName('group_batches');
      const db: Db = client.db(name);
      try {
        await seedMongo(db, SIZES);
        const before = await mongoSnapshot(db);
        const typesBefore = (
          await db.collection('messages').find({}, { promoteValues: false }).sort({ _id: 1 }).toArray()
        ).map(untouched);
        const migrations = packMigrations({
          poolOf: () => ({ query: () => Promise.reject(new Error('unused')) }),
          keys: DEMO_KEYS,
        }).filter((m) => m.engine === 'mongodb');
        const migrator = createMigrator({
          engines: {
            mongodb: mongoEngine({ shards: [{ id: 'mg-0', uri: process.env.MONGODB_URI!, database: name }] }),
          },
          migrations,
          ...LOCK,
          ...fixed(50),
        });
        try {
          const report = await timed('Mongo run of 3 migrations', () => migrator.run());
          expect(report.totals).toMatchObject({ applied: 3, failed: 0 });
          const docs = await db.collection('messages').find({}).sort({ _id: 1 }).toArray();
          expect(docs).toHaveLength(SIZES.messages);
          for (const [i, d] of docs.entries()) {
            if (i % 4 === 3) expect(d.content).toMatchObject({ type: 'media' });
            else expect(d).toMatchObject({ content: { type: 'text', text: `hello ${i}` }, content_v: 2 });
            if (i % 7 === 6) expect('status' in d).toBe(false);
            else expect(d.status).toBe(['sent', 'delivered', 'read', 'failed', 'pending', null][i % 6]);
            expect(d.metadata).toEqual(i % 3 === 0 ? { user_id: i, x_request_id: `r-${i}` } : { user_id: i });
          }
          const typesAfter = (
            await db.collection('messages').find({}, { promoteValues: false }).sort({ _id: 1 }).toArray()
          ).map(untouched);
          expect(typesAfter).toEqual(typesBefore);
          await timed('Mongo rollback of 3 migrations', () => migrator.rollback({ steps: 3 }));
          expect(await mongoSnapshot(db)).toEqual(before);
        } finally {
          await migrator.close();
        }
      } finally {
        await db.dropDatabase().catch(() => undefined);
        await client.close();
      }
    },
    300_000,
  );
});
