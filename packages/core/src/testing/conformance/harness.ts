/**
 * What an engine adapter supplies to run the conformance suite: fresh isolated shards, a way to
 * build more adapters over the same shards (other "replicas"), and a few native operations the
 * suite's migrations use, so that the same test migrations run on every engine.
 */
import type { EngineAdapter, Row } from '../../engine/index.js';

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
  /** Inserts rows `{ id, name, n, note }` on a shard (replacing a row with the same id). */
  seed(shardId: string, table: string, rows: readonly SuiteRow[]): Promise<void>;
  /** All rows of a table on a shard, as `{ id, name, n, note }`, ascending by id. */
  rows(shardId: string, table: string): Promise<SuiteRow[]>;
  /** Key field of the suite's table for data migrations (`id`, or `_id` on MongoDB). */
  readonly keyField: string;
  /**
   * The objects (tables, collections, indexes) the engine created on a shard, seen through a
   * migration's handle, as comparable definitions with their names left out (so that two indexes
   * on the same columns show up as a duplicate). Absent when the engine keeps nothing that could
   * be duplicated (memory: maps keyed by name): the concurrent-init case then checks the records only.
   */
  catalog?(handle: unknown): Promise<string[]>;
  /**
   * A table with a two-field key, for the grouped-batch cases (`groupBy` is a prefix of the key).
   * Optional: where it is absent those cases are skipped, with the reason in their name.
   */
  readonly grouped?: GroupedTable | undefined;
  teardown(): Promise<void>;
}

/** A row of the grouped-batch cases' table: key `(g, k)`, one value `v`. */
export interface GroupedRow {
  readonly g: number;
  readonly k: string;
  readonly v: number;
}

/** The grouped-batch cases' table on every shard: key `(g, k)` in that order, so `groupBy: 'g'` is its prefix. */
export interface GroupedTable {
  /**
   * Creates table `name` on every shard, keyed by `(g, k)` and nothing else: SQL `g integer, k text,
   * v integer, PRIMARY KEY (g, k)`; documents with a unique index on `{ g: 1, k: 1 }` (and any `_id`).
   */
  create(name: string): Promise<void>;
  /** Inserts rows `{ g, k, v }` on a shard (replacing a row with the same key). */
  seed(shardId: string, name: string, rows: readonly GroupedRow[]): Promise<void>;
  /** All rows of the table on a shard as `{ g, k, v }` (no other field), in any order. */
  rows(shardId: string, name: string): Promise<GroupedRow[]>;
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

/** The matchers the suite uses (vitest's and Jest's `expect` have them). */
export interface Matchers<R> {
  toBe(expected: unknown): R;
  toEqual(expected: unknown): R;
  toMatchObject(expected: object): R;
  toHaveLength(length: number): R;
  toBeGreaterThan(n: number): R;
  toBeGreaterThanOrEqual(n: number): R;
  toBeLessThanOrEqual(n: number): R;
  toBeNull(): R;
  toContain(item: unknown): R;
  toBeInstanceOf(expected: unknown): R;
}

export interface Assertion extends Matchers<void> {
  readonly not: Matchers<void>;
  readonly rejects: Matchers<Promise<void>>;
}

/**
 * The test runner's functions the suite registers its cases with: pass vitest's
 * (`import { afterEach, describe, expect, it } from 'vitest'`). They are passed in, not imported,
 * so that `@mcp/migrate-core/testing` loads without vitest and under `require` as well (vitest's
 * CommonJS entry throws), and the suite follows the runner the adapter's own tests use.
 */
export interface TestRunner {
  describe(name: string, fn: () => void): void;
  readonly it: {
    (name: string, fn: () => Promise<void>, timeoutMs?: number): void;
    skip(name: string, fn: () => Promise<void>): void;
  };
  afterEach(fn: () => Promise<void>): void;
  /** `expect(actual, message?)`: the message names what failed (vitest). */
  expect(actual: unknown, message?: string): Assertion;
}
