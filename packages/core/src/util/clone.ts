/**
 * Deep copy of a row or document that keeps driver types intact: plain objects and arrays are
 * copied, Dates and byte arrays duplicated, and other class instances (ObjectId, Decimal128, Long,
 * …) kept as they are, as immutable values. `structuredClone` would turn those into plain objects.
 */
export function cloneValue<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => cloneValue(v)) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return (Buffer.isBuffer(value) ? Buffer.from(value) : value.slice()) as T;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = cloneValue(v);
  return out as T;
}
