/**
 * The control store on real servers (issue 9): the tenant directory lives in a table
 * (`mcp_tenant_directory`) on PostgreSQL and a collection on MongoDB/FerretDB, survives the
 * migrator and the engine that wrote it, reads as empty before the first write, and is what the
 * router follows when a later migrator plans a tenant-scoped migration. MongoDB's server sort order
 * of mixed-type keys is the adapter's (and the SDK's) `compareKeys`.
 */
import { describe, expect, it } from 'vitest';
import { ObjectId } from 'mongodb';
import pg from 'pg';
import { createMigrator, defineMigration, hashRouter, type EngineAdapter, type Migrator } from '@mcp/migrate-core';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import { mongoAvailable, postgresAvailable, shouldRun, tempPgDatabases, withMongoDatabase } from '@mcp/test-support';

/** A tenant the hash router puts on `not`, so a placement on `not` is visible as an override. */
function tenantAwayFrom(engine: string, ids: readonly string[], not: string): string {
  const router = hashRouter({ key: 'tenant_id' });
  for (let i = 0; ; i++) if (router.route(`t${i}`, engine, ids) !== not) return `t${i}`;
}

/** Writes, reads back through a second engine and migrator, and plans by the directory. */
async function exerciseDirectory(engineName: string, make: () => EngineAdapter<any>): Promise<void> {
  const open: Migrator[] = [];
  const migrator = (migrations = [] as ReturnType<typeof defineMigration>[]) => {
    const m = createMigrator({
      engines: { [engineName]: make() },
      migrations,
      router: hashRouter({ key: 'tenant_id' }),
    });
    open.push(m);
    return m;
  };
  try {
    const first = migrator();
    const ids = first.shards.map((s) => s.id);
    expect(await first.directory.list()).toEqual({});
    expect(await first.directory.get(engineName, 'nobody')).toBeUndefined();
    expect(await first.directory.delete(engineName, 'nobody')).toBe(false);
    const tenant = tenantAwayFrom(engineName, ids, ids[1]!);
    await first.directory.set(engineName, tenant, ids[1]!);
    await first.directory.set(engineName, 'gone', ids[0]!);
    await first.directory.set(engineName, 'gone', ids[1]!); // replaces
    expect(await first.directory.delete(engineName, 'gone')).toBe(true);
    await first.close();

    // A new engine and migrator read what the first one wrote, and route by it.
    const m = defineMigration({
      id: '0001-tenant',
      engine: engineName,
      scope: { tenants: [tenant] },
      up: () => undefined,
    });
    const second = migrator([m]);
    expect(await second.directory.list()).toEqual({ [engineName]: { [tenant]: ids[1] } });
    expect(await second.directory.get(engineName, tenant)).toBe(ids[1]);
    const plan = await second.plan();
    expect(plan.shards.filter((s) => s.steps.length).map((s) => s.shardId)).toEqual([ids[1]]);
  } finally {
    await Promise.all(open.map((m) => m.close()));
  }
}

describe('control store on PostgreSQL', async () => {
  const enabled = shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });

  it.skipIf(!enabled)(
    'the tenant directory is the table mcp_tenant_directory of the first shard: empty before the first write, persistent, followed by the router',
    async () => {
      const dbs = await tempPgDatabases(2, 'mcp_ctl');
      try {
        await exerciseDirectory('postgres', () =>
          postgresEngine({ shards: dbs.urls.map((url, i) => ({ id: `pg-ctl-${i}`, connectionString: url })) }),
        );
        const pool = new pg.Pool({ connectionString: dbs.urls[0] });
        try {
          const { rows } = await pool.query<{ engine: string; shard_id: string }>(
            `SELECT engine, shard_id FROM public.mcp_tenant_directory`,
          );
          expect(rows).toEqual([{ engine: 'postgres', shard_id: 'pg-ctl-1' }]);
        } finally {
          await pool.end();
        }
        const other = new pg.Pool({ connectionString: dbs.urls[1] });
        try {
          const { rows } = await other.query(`SELECT to_regclass('public.mcp_tenant_directory') AS t`);
          expect(rows[0].t).toBeNull(); // only the control shard has it
        } finally {
          await other.end();
        }
      } finally {
        await dbs.drop();
      }
    },
    120_000,
  );
});

describe('control store on MongoDB / FerretDB', async () => {
  const enabled = shouldRun({ name: 'MongoDB', available: await mongoAvailable() });

  it.skipIf(!enabled)(
    'the tenant directory is the collection mcp_tenant_directory of the first shard: empty before the first write, persistent, followed by the router',
    async () => {
      await withMongoDatabase('mcp_ctl_a', async ({ client, db, name }) => {
        await withMongoDatabase('mcp_ctl_b', async ({ name: nameB }) => {
          await exerciseDirectory('mongodb', () =>
            mongoEngine({
              shards: [
                { id: 'mg-ctl-0', client, database: name },
                { id: 'mg-ctl-1', client, database: nameB },
              ],
            }),
          );
          const docs = await db
            .collection('mcp_tenant_directory')
            .find({}, { projection: { _id: 0, engine: 1, shardId: 1 } })
            .toArray();
          expect(docs).toEqual([{ engine: 'mongodb', shardId: 'mg-ctl-1' }]);
        });
      });
    },
    120_000,
  );

  it.skipIf(!enabled)(
    "the server's sort of mixed-type _ids is the adapter's compareKeys (the SDK's one key order)",
    async () => {
      await withMongoDatabase('mcp_ctl_order', async ({ client, db, name }) => {
        const ids: unknown[] = [
          'b',
          'a',
          '',
          'é',
          '\uE000',
          '😀',
          10,
          -3,
          2.5,
          2 ** 40,
          new Date(2),
          new Date(1),
          true,
          false,
          new ObjectId('000000000000000000000002'),
          new ObjectId('000000000000000000000001'),
          { a: 1 },
          { a: 'x' },
          { b: 0 },
        ];
        // One insert per document, in an order unrelated to the sort.
        for (const _id of ids) await db.collection('keys').insertOne({ _id: _id as never });
        const engine = mongoEngine({ shards: [{ id: 'mg-order', client, database: name }] });
        try {
          const sorted = (await db.collection('keys').find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id]);
          const ours = [...sorted].sort((a, b) => engine.compareKeys(a, b));
          expect(ours.map((k) => String(k[0]))).toEqual(sorted.map((k) => String(k[0])));
        } finally {
          await engine.close();
        }
      });
    },
    60_000,
  );
});
