/**
 * Equality of stored values as a data migration must see it: a value the transform did not change
 * is never written back, so the comparison must not call two different stored values equal (float
 * `-0` and `0`, a `Long` and a number, `"1.50"` and `1.5`), and must call a value equal to its own
 * copy (Dates, byte arrays, driver value objects, nested documents in any key order).
 */
import type { Row } from '../engine/spi.js';

/** True when `a` and `b` are the same value, types included (see the module comment). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date)
    return a.getTime() === (b as Date).getTime() || (Number.isNaN(a.getTime()) && Number.isNaN((b as Date).getTime()));
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0;
  if (a instanceof RegExp) return a.source === (b as RegExp).source && a.flags === (b as RegExp).flags;
  const proto = Object.getPrototypeOf(a) as object | null;
  if (proto !== Object.prototype && proto !== null) return sameDriverValue(a, b);
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as Row)[k], (b as Row)[k]));
}

/**
 * Driver value objects (ObjectId, Long, Decimal128, Binary, Timestamp, …) of the same class:
 * BSON values compare by their tag and serialised form, others by their own `equals`, else by
 * their enumerable fields.
 */
function sameDriverValue(a: object, b: object): boolean {
  const tag = (a as { _bsontype?: unknown })._bsontype;
  if (typeof tag === 'string') {
    if (tag !== (b as { _bsontype?: unknown })._bsontype) return false;
    if (tag === 'Double') return Object.is((a as { value: number }).value, (b as { value: number }).value);
    const text = (v: object) =>
      typeof (v as { toJSON?: unknown }).toJSON === 'function' ? JSON.stringify(v) : String(v);
    if (tag === 'Binary') {
      const x = a as { sub_type?: number; buffer?: Uint8Array };
      const y = b as { sub_type?: number; buffer?: Uint8Array };
      return x.sub_type === y.sub_type && !!x.buffer && !!y.buffer && Buffer.compare(x.buffer, y.buffer) === 0;
    }
    return text(a) === text(b);
  }
  const equals = (a as { equals?: unknown }).equals;
  if (typeof equals === 'function') return Boolean((equals as (o: unknown) => unknown).call(a, b));
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => sameValue((a as Row)[k], (b as Row)[k]));
}

/** What a transform changed in one row: fields with a different value, and fields it dropped. */
export interface RowDiff {
  readonly set: Row;
  readonly unset: string[];
}

/** The top-level fields of `after` that differ from `before`, and those `before` had and `after` lacks. */
export function diffRow(before: Row, after: Row): RowDiff {
  const set: Row = {};
  const has = Object.prototype.hasOwnProperty;
  // Loops over the keys rather than entries/filter: this runs once per row a transform returns.
  const keys = Object.keys(after);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = after[k];
    if (v === undefined) continue;
    if (!has.call(before, k) || !sameValue(before[k], v)) set[k] = v;
  }
  const unset: string[] = [];
  const old = Object.keys(before);
  for (let i = 0; i < old.length; i++) {
    const k = old[i]!;
    if (before[k] !== undefined && (!has.call(after, k) || after[k] === undefined)) unset.push(k);
  }
  return { set, unset };
}
