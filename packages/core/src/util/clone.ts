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
  const from = value as Record<string, unknown>;
  // A loop over the keys, not `Object.entries`: no [key, value] pair allocated per field (rows are many).
  const keys = Object.keys(from);
  for (let i = 0; i < keys.length; i++) out[keys[i]!] = cloneValue(from[keys[i]!]);
  return out as T;
}
