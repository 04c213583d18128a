/**
 * Exact secret scrubbing. Pattern redaction ({@link redact}) finds what looks like a credential; it
 * cannot see a password that a driver echoes as a literal (`invalid input syntax for type integer:
 * "<password>"`), that a transform puts in its error message, or that a migration logs. The SDK
 * knows every secret it was configured with (engines expose theirs through
 * `EngineAdapter.secrets()`, hosts add more with `createMigrator({ secrets })`), so the migrator
 * replaces each of them, in every form it may be written in, in every string that leaves it:
 * thrown errors (message, stack, cause chain, own fields, the report they carry), events, log
 * lines, ledger rows, reports and `status()`. The patterns still run afterwards.
 *
 * What is stored: a ledger row's `error` and `runnerId` (the runner id is host-chosen; the migrator
 * scrubs it once, so lock owners carry the same text) are scrubbed before they are written. A
 * checkpoint's key values are NOT: they are the table's own key data, and resume needs them exact
 * (a scrubbed key would restart or skip rows). Keys are data, never secrets; what leaves through
 * events, reports and `status()` is still scrubbed on the way out, the stored row keeps the key.
 */
import type { Fence, LedgerRecord, LedgerStore, ShardAdapter } from '../engine/spi.js';
import type { Logger } from './logger.js';
import { redact, redactValue } from '../errors/redact.js';

/** What a scrubbed secret is replaced with. */
export const SCRUBBED = '***';

/**
 * Secrets shorter than this are not scrubbed exactly: replacing every `ab` in every message would
 * destroy the messages, and a password that short is not worth hiding. The patterns still apply.
 */
export const MIN_SECRET_LENGTH = 4;

/** Every spelling of `secret` that may appear in text: as given, percent-decoded and -encoded (both hex cases, `+` for space), JSON-escaped. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>();
  const add = (s: string | undefined) => {
    if (s !== undefined && s.length >= MIN_SECRET_LENGTH) forms.add(s);
  };
  const base = [secret, safeDecode(secret)];
  for (const s of base) {
    if (s === undefined) continue;
    add(s);
    const encoded = encodeURIComponent(s);
    add(encoded);
    add(encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
    add(encoded.replace(/%20/g, '+'));
    // encodeURIComponent leaves !'()* alone; some encoders do not.
    add(encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
    add(encodeURI(s));
    const json = JSON.stringify(s).slice(1, -1);
    add(json);
    add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
  return [...forms];
}

function safeDecode(s: string): string | undefined {
  try {
    const decoded = decodeURIComponent(s.replace(/\+/g, '%20'));
    return decoded === s ? undefined : decoded;
  } catch {
    return undefined;
  }
}

/**
 * The passwords inside a connection string: the URL userinfo password (raw and decoded), and
 * `password` / `sslpassword` / `PGPASSWORD` parameters of URLs and `key=value` strings.
 */
export function connectionSecrets(text: string | undefined | null): string[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  const out: string[] = [];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (scheme) {
    const rest = text.slice(scheme[0].length);
    // The userinfo ends at the LAST `@` before the host, so a password holding `@` or `/` is taken
    // whole; when the query holds an `@` too, the candidate before the query is also kept.
    for (const end of new Set([rest.lastIndexOf('@'), rest.slice(0, rest.search(/[?#]|$/)).lastIndexOf('@')])) {
      if (end < 0) continue;
      const userinfo = rest.slice(0, end);
      const colon = userinfo.indexOf(':');
      if (colon >= 0) out.push(userinfo.slice(colon + 1));
    }
  }
  for (const p of text.matchAll(/(?:^|[?&;\s])(?:ssl)?(?:password|PGPASSWORD)=([^&;\s]*)/gi)) out.push(p[1]!);
  for (const p of text.matchAll(/(?:^|[\s;])(?:ssl)?password\s*=\s*'((?:[^'\\]|\\.)*)'/gi))
    out.push(p[1]!.replace(/\\(.)/g, '$1'));
  return out.filter((s) => s.length > 0);
}

/** Replaces a fixed set of secrets (in all their forms) in strings, values and errors. */
export class Scrubber {
  readonly #forms: readonly string[];

  constructor(secrets: Iterable<string | undefined | null>) {
    const forms = new Set<string>();
    for (const s of secrets) if (typeof s === 'string') for (const f of secretForms(s)) forms.add(f);
    // Longest first, so a secret that contains another is replaced whole.
    this.#forms = [...forms].sort((a, b) => b.length - a.length);
  }

  /** How many spellings are scrubbed (0: only the patterns run). */
  get size(): number {
    return this.#forms.length;
  }

  /** Exact secrets first (before a pattern could cut one in half), then the patterns. */
  text(text: string): string {
    let out = text;
    for (const f of this.#forms) if (out.includes(f)) out = out.split(f).join(SCRUBBED);
    return redact(out);
  }

  /** A scrubbed deep copy of a JSON-like value (plain objects and arrays are copied; other objects kept). */
  value<T>(value: T, seen = new WeakMap<object, unknown>()): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Error) return this.error(value) as T;
    if (seen.has(value)) return seen.get(value) as T;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const v of value) out.push(this.value(v, seen));
      return out as T;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = this.value(v, seen);
    return out as T;
  }

  /**
   * Scrubs an error in place and returns it: message, stack, every own string field (a driver's
   * `detail`, `query`, `where`), the `report` a `RunFailedError` carries, nested `errors`, and the
   * whole `cause` chain. In place, so that `instanceof`, `code` and identity survive.
   */
  error<E>(error: E, seen = new WeakSet<object>()): E {
    if (typeof error !== 'object' || error === null || seen.has(error)) return error;
    seen.add(error);
    const target = error as Record<string, unknown>;
    for (const key of new Set([...Object.getOwnPropertyNames(target), 'message', 'stack'])) {
      const v = safeGet(target, key);
      let next: unknown = v;
      if (typeof v === 'string') next = this.text(v);
      else if (v instanceof Error || key === 'cause' || key === 'errors')
        next = Array.isArray(v) ? v.map((e) => this.error(e, seen)) : this.error(v, seen);
      else if (v !== null && typeof v === 'object') next = this.value(v);
      if (next !== v) trySet(target, key, next);
    }
    const cause = safeGet(target, 'cause');
    if (cause !== undefined && !Object.getOwnPropertyNames(target).includes('cause')) this.error(cause, seen);
    return error;
  }
}

function safeGet(target: Record<string, unknown>, key: string): unknown {
  try {
    return target[key];
  } catch {
    return undefined;
  }
}

function trySet(target: Record<string, unknown>, key: string, value: unknown): void {
  try {
    const d = Object.getOwnPropertyDescriptor(target, key);
    if (d && !d.writable && !d.set) {
      if (d.configurable) Object.defineProperty(target, key, { ...d, value });
      return;
    }
    target[key] = value;
  } catch {
    // a frozen foreign error: nothing more can be done in place
  }
}

/** Like `redactingLogger`, but the exact secrets go first: message and fields are scrubbed, then the fixed fields added. */
export function scrubbingLogger(base: Logger, scrubber: Scrubber, fixed: Record<string, unknown> = {}): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void =>
      base[level](scrubber.text(message), redactValue(scrubber.value({ ...fixed, ...fields })));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

/**
 * Wraps the async methods `names` of `target` (own properties shadowing the prototype's) so that
 * what they return is a scrubbed copy and what they throw is scrubbed in place: the one boundary
 * every result and error of the public API passes.
 */
export function scrubMethods<T extends object>(
  target: T,
  names: readonly (keyof T & string)[],
  scrubber: Scrubber,
): void {
  for (const name of names) {
    const method = target[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(target, name, {
      configurable: true,
      writable: true,
      value: async (...args: unknown[]) => {
        try {
          return scrubber.value(await method.apply(target, args));
        } catch (error) {
          throw scrubber.error(error);
        }
      },
    });
  }
}

/**
 * A ledger whose records are scrubbed before they are written: the error a failed step stores and
 * the runner id. Never the checkpoint, whose key values resume needs exact (see the file comment).
 */
export function scrubbingLedger(ledger: LedgerStore, scrubber: Scrubber): LedgerStore {
  return new Proxy(ledger, {
    get(target, prop) {
      if (prop === 'put')
        return (record: LedgerRecord, fence: Fence) => target.put(scrubRecord(record, scrubber), fence);
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function scrubRecord(record: LedgerRecord, scrubber: Scrubber): LedgerRecord {
  const runnerId = record.runnerId === null ? null : scrubber.text(record.runnerId);
  const error = record.error ? scrubber.value(record.error) : record.error;
  return runnerId === record.runnerId && error === record.error ? record : { ...record, runnerId, error };
}

/** A shard adapter whose ledger scrubs (every other member is the adapter's own, bound to it). */
export function scrubbingShard<S extends ShardAdapter<any>>(shard: S, scrubber: Scrubber): S {
  if (scrubber.size === 0) return shard;
  const ledger = scrubbingLedger(shard.ledger, scrubber);
  return new Proxy(shard, {
    get(target, prop) {
      if (prop === 'ledger') return ledger;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
