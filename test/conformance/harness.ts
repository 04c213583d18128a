/**
 * What an engine adapter supplies to run the conformance suite: fresh isolated shards, a way to
 * build more adapters over the same shards (other "replicas"), and a few native operations the
 * suite's migrations use, so that the same test migrations run on every engine.
 */
import type { EngineAdapter, Row } from '@mcp/migrate-core';

export interface NativeOps {
  /** Creates table/collection `name` with a key column `id` (integer on SQL engines) and a jsonb/any `doc` column or free fields. */
  createTable(handle: unknown, name: string): Promise<void>;
  dropTable(handle: unknown, name: string): Promise<void>;
  /** Inserts a row `{ id, ...fields }` (SQL: columns id integer, name text, n integer, note text). */
  insert(handle: unknown, table: string, row: Row): Promise<void>;
}

export interface Fixture {
  /** Engine name the suite's migrations target (e.g. `postgres`, `mongodb`). */
  readonly engineName: string;
  readonly shardIds: readonly string[];
  /** A NEW adapter instance over the same shards: each call is another runner. */
  engine(): EngineAdapter;
  readonly ops: NativeOps;
  /**
   * Creates table `name` on every shard with the suite's row shape: SQL columns
   * `id integer primary key, name text, n integer, note text`; documents with `_id` = id.
   */
  createRowsTable(name: string): Promise<void>;
  /** Inserts rows `{ id, name, n, note }` on a shard. */
  seed(shardId: string, table: string, rows: readonly SuiteRow[]): Promise<void>;
  /** All rows of a table on a shard, as `{ id, name, n, note }`, ascending by id. */
  rows(shardId: string, table: string): Promise<SuiteRow[]>;
  /** Key field of the suite's table for data migrations (`id`, or `_id` on MongoDB). */
  readonly keyField: string;
  teardown(): Promise<void>;
}

export interface SuiteRow {
  readonly id: number;
  readonly name: string | null;
  readonly n: number | null;
  readonly note: string | null;
}

export interface Harness {
  readonly name: string;
  /** `true`, or why the service is missing. */
  available(): Promise<true | string>;
  /** Fresh, empty, isolated shards. */
  setup(shardCount: number): Promise<Fixture>;
}
