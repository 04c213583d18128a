/**
 * The size of a row as read, for the batch engine's byte bound (`throttle.maxBatchBytes`): what the
 * adapter attached (MongoDB: the raw BSON length), else an estimate from the JS values.
 */

const ROW_SIZE = Symbol.for('@mcp/migrate.rowSize');

/**
 * Records the size in bytes of `row` as the server sent it (e.g. its raw BSON), so that the batch
 * engine's byte bound counts what was really read. Non-enumerable: copies and transforms never see it.
 */
export function attachRowSize<T extends object>(row: T, bytes: number): T {
  Object.defineProperty(row, ROW_SIZE, { value: bytes, enumerable: false, configurable: true });
  return row;
}

/** The size its adapter attached to `row`, else an estimate of its JS values (strings by length, numbers 8 bytes). */
export function rowSizeOf(row: object): number {
  const attached = (row as { [ROW_SIZE]?: unknown })[ROW_SIZE];
  return typeof attached === 'number' ? attached : estimate(row, 0);
}

/** Nesting deeper than this is counted flat (a cycle or an absurd document must not recurse forever). */
const MAX_DEPTH = 32;

function estimate(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return 5 + value.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object':
      break;
    default:
      return 1;
  }
  if (value === null) return 1;
  if (value instanceof Uint8Array) return 5 + value.byteLength;
  if (value instanceof Date || depth >= MAX_DEPTH) return 8;
  if ('_bsontype' in value) {
    const buffer = (value as { buffer?: unknown }).buffer;
    return buffer instanceof Uint8Array ? 5 + buffer.byteLength : 16;
  }
  let total = 5;
  if (Array.isArray(value)) for (const item of value) total += 2 + estimate(item, depth + 1);
  else for (const [k, v] of Object.entries(value)) total += 2 + k.length + estimate(v, depth + 1);
  return total;
}
