/** A non-null, non-array object whose prototype is `Object.prototype` or `null` (a JSON/BSON-style document). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short, non-secret description of a value's type, for error messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Build an object from entries with own data properties only, so keys such as `__proto__` are kept as
 * ordinary keys instead of changing the prototype (`Object.fromEntries` uses CreateDataProperty).
 */
export function objectFromEntries<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  return Object.fromEntries(entries) as Record<string, V>;
}

/** Own enumerable property, safe for keys like `__proto__` and `hasOwnProperty`. */
export function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}
