/**
 * How a JS value a transform returned travels to a column: as JSON that the server turns into the
 * column's type with `json_populate_record`, i.e. through the column's own input function. Internal.
 *
 * - `json`/`jsonb` columns (and domains over them) get the value's JSON text as written, so a
 *   `json` column keeps the key order and number spelling the transform produced, and a `bigint`
 *   inside the document is written as a JSON number with all its digits.
 * - Other columns get the form node-postgres would bind: Dates as local time with offset, bytes as
 *   `\x` hex, bigints and non-finite numbers as text, float `-0` as `"-0"` (JSON has no negative
 *   zero), `toPostgres()` objects through it, arrays element-wise.
 */

/**
 * A column value as JSON that the column's input function reads back as the same value, the way
 * node-postgres would bind it (see the module comment). Objects other than the ones listed stay
 * JSON (composite columns).
 */
export function jsonValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      if (Object.is(value, -0)) return '-0';
      return Number.isFinite(value) ? value : String(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (value instanceof Date) return localTimestamp(value);
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(jsonValue);
  const custom = (value as { toPostgres?: unknown }).toPostgres;
  if (typeof custom === 'function') return (custom as () => unknown).call(value);
  return value;
}

/** The JSON text of one column value: the document itself for json/jsonb columns, else {@link jsonValue}. */
export function columnJson(value: unknown, json: boolean): string {
  if (value === undefined || value === null) return 'null';
  return json ? jsonText(value) : jsonText(jsonValue(value));
}

/**
 * `JSON.stringify` that writes a `bigint` as a JSON number with every digit and `-0` as `-0`, so a
 * document keeps numbers JS numbers cannot hold (when the transform gives them as bigints).
 */
export function jsonText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return jsonText((toJSON as () => unknown).call(value));
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : jsonText(v))).join(',')}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(k)}:${jsonText(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** A `Date` as node-postgres binds it: local time with its offset, millisecond precision. */
export function localTimestamp(d: Date): string {
  if (Number.isNaN(d.getTime())) return 'invalid';
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const offset = -d.getTimezoneOffset();
  const year = d.getFullYear();
  const y = year > 0 ? pad(year, 4) : pad(1 - year, 4);
  const text = `${y}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${offset >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return year > 0 ? text : `${text} BC`;
}

/** A value as a bound parameter: `bigint` as text (node-postgres handles Date, Buffer, arrays, objects). */
export function bindable(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
