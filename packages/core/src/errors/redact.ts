/**
 * Redaction of connection strings and secrets. Every error message, event payload and log line
 * that can carry user-supplied text goes through {@link redact} before it leaves the SDK.
 */

// The userinfo runs to the LAST `@` of the URL's token (a password may hold unencoded `@`, `/`, `:`),
// so no tail of the password is left after the `***`.
// A user name has no `/` (so `https://host/path@v1` is left alone); the password may have anything.
const URL_CREDENTIALS =
  /([a-z][a-z0-9+.-]*:\/\/)(?:[^\s"'<>/:@]*:[^\s"'<>]*|[^\s"'<>/:@]+)@(?=[^\s"'<>@]*(?:[\s"'<>]|$))/gi;
// `PGPASSWORD=`, `sslpassword=`, `db_password:` too: any word that ends in a secret's name.
const KEY_VALUE_SECRET =
  /\b([A-Za-z_]*?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization))(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const QUERY_SECRET = /([?&](?:[A-Za-z_]*password|secret|token|api[_-]?key|authSource=\S*?&password)=)[^&\s]+/gi;

/** Replaces credentials in URLs (`scheme://user:pass@host` → `scheme://***@host`) and `key=value` / `"key": "value"` secrets. */
export function redact(text: string): string {
  return text
    .replace(URL_CREDENTIALS, (_m, scheme: string) => `${scheme}***@`)
    .replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ***`)
    .replace(QUERY_SECRET, (_m, prefix: string) => `${prefix}***`)
    .replace(KEY_VALUE_SECRET, (_m, key: string, sep: string) => `${key}${sep}***`);
}

/** Deeply redacts strings inside a JSON-like value; keys that name secrets lose their value entirely. */
export function redactValue<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value === 'string') return redact(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value as object)) return value;
  seen.add(value as object);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen)) as T;
  if (value instanceof Date || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && v != null ? '***' : redactValue(v, seen);
  }
  return out as T;
}

const SECRET_KEY =
  /^(password|passwd|secret|token|apiKey|api_key|connectionString|uri|url|encrypted_value|key_hash|password_hash)$/i;
