/** Assertions of the secrets tests: every spelling of a secret, and every text a consumer could see. */
import { expect } from 'vitest';

/** A secret as given, percent-encoded (upper- and lower-case hex) and JSON-escaped. */
export function spellings(...secrets: string[]): string[] {
  return secrets.flatMap((s) => [
    s,
    encodeURIComponent(s),
    encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    JSON.stringify(s).slice(1, -1),
  ]);
}

/** Fails naming where and which spelling when `text` holds one of `secrets`. */
export function expectClean(label: string, text: string, secrets: readonly string[]): void {
  for (const s of secrets)
    expect(text.includes(s), `${label} contains the secret spelled ${JSON.stringify(s)}: ${text.slice(0, 400)}`).toBe(
      false,
    );
}

/** An error as every consumer could see it: message, stack, JSON, own string fields, the whole cause chain. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (
    let e: unknown = error;
    typeof e === 'object' && e !== null && !seen.has(e);
    e = (e as { cause?: unknown }).cause
  ) {
    seen.add(e);
    const err = e as Error & Record<string, unknown>;
    parts.push(
      String(err.message),
      String(err.stack),
      JSON.stringify(err, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    );
    for (const k of Object.getOwnPropertyNames(err)) if (typeof err[k] === 'string') parts.push(err[k]);
  }
  if (parts.length === 0) parts.push(String(error));
  return parts.join('\n');
}

/** A logger that keeps every line (message and fields) as text. */
export function capturingLogger(lines: string[]) {
  const capture = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
  return { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
}

/** Collects every event of a migrator as JSON text. */
export function captureEvents(emitter: { on(name: string, fn: (e: unknown) => void): unknown }, into: string[]): void {
  const names = [
    'run:start',
    'run:done',
    'plan',
    'lock:wait',
    'lock:acquired',
    'lock:released',
    'migration:start',
    'shard:start',
    'batch',
    'shard:retry',
    'shard:done',
    'shard:failed',
    'migration:done',
    'rollback:start',
    'rollback:shard',
    'rollback:done',
  ];
  for (const name of names) emitter.on(name, (e) => void into.push(`${name} ${JSON.stringify(e)}`));
}

/** The rejection of `p` (fails when it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
