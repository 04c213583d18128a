import type { RowKey } from '../errors.js';

/**
 * The key of `row` for error messages: the first of `columns` that holds a string or a finite number, or
 * an id object with `toHexString()` (a MongoDB ObjectId). Only key columns are read, never other fields.
 */
export function rowKey(row: unknown, columns: readonly string[]): RowKey | undefined {
  if (typeof row !== 'object' || row === null) return undefined;
  const record = row as Record<string, unknown>;
  for (const column of columns) {
    const value = record[column];
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return { [column]: value };
    if (typeof value === 'bigint') return { [column]: value.toString() };
    if (typeof value === 'object' && value !== null) {
      const toHex = (value as { toHexString?: unknown }).toHexString;
      if (typeof toHex === 'function') {
        const hex: unknown = toHex.call(value);
        if (typeof hex === 'string') return { [column]: hex };
      }
    }
  }
  return undefined;
}
