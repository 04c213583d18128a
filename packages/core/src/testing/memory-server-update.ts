/**
 * `MemoryServerUpdate`: the `serverUpdate` capability of a memory shard, for host tests of
 * server-side data migrations. It runs a small subset of MongoDB's update operators on top-level
 * fields — `$set` of literal values, `$unset`, `$inc` of numbers — and refuses anything else
 * (`sql`, pipelines, other operators, dotted paths) with a `DefinitionError` naming the field,
 * before anything is written. Each range is applied at once (a memory shard has no concurrency
 * inside one operation), with the backup's rules: originals of a re-done range written back first,
 * first copies saved, copies of rows the update left unchanged dropped.
 */
import type { DataTarget, KeyValue, Row, ServerRange, ServerStatement, ServerUpdate } from '../engine/spi.js';
import { DefinitionError } from '../errors/errors.js';
import { sameValue } from '../util/same-value.js';
import type { MemoryCollection } from './memory-collection.js';

/** What it needs of a memory shard (the data store's `MemoryCollections`) and its I/O wrapper. */
interface MemoryCollections {
  readonly id: string;
  collection(name: string, key?: readonly string[]): MemoryCollection;
}
type MemoryIo = <T>(op: () => T) => Promise<T>;

const OPERATORS = new Set(['$set', '$unset', '$inc']);

export class MemoryServerUpdate implements ServerUpdate {
  readonly #shard: () => MemoryCollections;
  readonly #io: MemoryIo;

  constructor(shard: () => MemoryCollections, io: MemoryIo) {
    this.#shard = shard;
    this.#io = io;
  }

  async check(target: DataTarget, statement: ServerStatement): Promise<void> {
    const field = statement.sql !== undefined ? 'sql' : 'update';
    const why =
      statement.sql !== undefined
        ? 'memoryEngine runs no SQL (test a "sql" migration on PostgreSQL)'
        : refusal(statement.update);
    if (why)
      throw new DefinitionError(
        `Data migration "${target.migrationId ?? target.name}" on shard "${this.#shard().id}": field "${field}": ${why}; nothing was applied`,
        { migrationId: target.migrationId, shardId: this.#shard().id, field },
      );
  }

  nextRange(target: DataTarget, after: KeyValue | undefined, limit: number, upTo?: KeyValue) {
    return this.#io(() => {
      const c = this.#shard().collection(target.name, target.key);
      const rows = c.rows({ after, upTo }, target.filter, limit);
      return rows.length ? { upTo: c.keyOf(rows.at(-1)!), rows: rows.length } : undefined;
    });
  }

  apply(target: DataTarget, range: ServerRange, statement: ServerStatement, backup: DataTarget | undefined) {
    return this.#io(() => {
      const shard = this.#shard();
      const c = shard.collection(target.name, target.key);
      const b = backup ? shard.collection(backup.name, backup.key) : undefined;
      // A re-done range: its saved originals go back first, so the update runs on them, not on its own output.
      for (const original of b?.rows(range) ?? []) if (c.get(c.keyOf(original))) c.upsert([original]);
      const rows = c.rows(range, target.filter);
      b?.insertMissing(rows);
      let affected = 0;
      const unchanged: KeyValue[] = [];
      for (const row of rows) {
        const next = applyUpdate(row, statement.update as Readonly<Record<string, Row>>);
        if (sameValue(next, row)) unchanged.push(c.keyOf(row));
        else {
          c.upsert([next]);
          affected++;
        }
      }
      b?.delete(unchanged);
      return { affected };
    });
  }
}

/** Why the memory engine cannot run `update`, or `undefined`. */
function refusal(update: unknown): string | undefined {
  if (Array.isArray(update)) return 'memoryEngine runs no update pipelines (only $set, $unset, $inc)';
  for (const [op, fields] of Object.entries(update as Record<string, unknown>)) {
    if (!OPERATORS.has(op)) return `memoryEngine runs only $set, $unset and $inc, not ${op}`;
    for (const [f, v] of Object.entries(fields as Record<string, unknown>)) {
      if (f.includes('.') || f.startsWith('$')) return `memoryEngine updates top-level fields only, not "${f}"`;
      if (op === '$inc' && typeof v !== 'number') return `$inc of "${f}" must be a number`;
      if (op === '$set' && typeof v === 'string' && v.startsWith('$'))
        return `memoryEngine $set takes literal values, not the field path "${v}"`;
    }
  }
  return undefined;
}

function applyUpdate(row: Row, update: Readonly<Record<string, Row>>): Row {
  const next: Row = { ...row };
  for (const [f, v] of Object.entries(update.$set ?? {})) next[f] = structuredClone(v);
  for (const f of Object.keys(update.$unset ?? {})) delete next[f];
  for (const [f, v] of Object.entries(update.$inc ?? {})) {
    const now = next[f] ?? 0;
    if (typeof now !== 'number') throw new TypeError(`$inc of "${f}": the stored value is not a number`);
    next[f] = now + (v as number);
  }
  return next;
}
