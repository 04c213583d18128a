/** The MongoDB-wire server of MONGODB_URI for one describe block: a client, fresh databases, engines on them. */
import { afterAll, beforeAll } from 'vitest';
import { MongoClient } from 'mongodb';
import { databaseName } from './databases.js';

/**
 * A client (connected before the block's cases, closed after), fresh databases and engines `mg-<i>`
 * on them; every engine is closed and every database dropped after the cases. `defaults` go into
 * every engine `engine()` builds. The factory is passed in, so the adapter's tests use its source.
 */
export function mongoServerFixture<
  O extends { readonly shards: readonly unknown[] },
  E extends { close(): Promise<void> },
>(factory: (options: O) => E, defaults: Partial<O> = {}) {
  const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27018/';
  const client = new MongoClient(uri);
  const databases: string[] = [];
  const engines: E[] = [];
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await Promise.allSettled(engines.map((e) => e.close()));
    await Promise.allSettled(databases.map((d) => client.db(d).dropDatabase()));
    await client.close();
  });
  /** Closes `e` after the cases. */
  const track = (e: E) => {
    engines.push(e);
    return e;
  };
  return {
    uri,
    client,
    track,
    /** A fresh database name, dropped after the cases. */
    fresh(prefix?: string) {
      const name = databaseName(prefix);
      databases.push(name);
      return name;
    },
    /** An engine with shard `mg-<i>` on each of `dbs`. */
    engine: (dbs: readonly string[], extra: Partial<O> = {}) =>
      track(
        factory({
          shards: dbs.map((database, i) => ({ id: `mg-${i}`, uri, database })),
          ...defaults,
          ...extra,
        } as unknown as O),
      ),
  };
}
