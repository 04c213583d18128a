/**
 * Service discovery for suites that need a real server — the one place that decides whether
 * PostgreSQL (MCP_MIGRATE_PG_URL) or the MongoDB-wire server (MONGODB_URI) is there, for test/ and
 * for the packages' own tests alike.
 *
 * Absent service: the suite is skipped with a message, and the skip is recorded so that
 * scripts/test-summary.mjs can print it in a banner at the end of the run (a skip is easy to miss
 * in the middle of a log). Under MCP_MIGRATE_REQUIRE_SERVICES=1 (CI) absence is a failure instead.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { MongoClient } from 'mongodb';

export const REQUIRE_SERVICES = process.env.MCP_MIGRATE_REQUIRE_SERVICES === '1';

/** How long an availability probe waits for an answer. */
const PROBE_MS = 3_000;

/** Where skips are recorded for scripts/test-summary.mjs (one JSON object a line), under the repository's node_modules. */
export const SKIP_LOG =
  process.env.MCP_MIGRATE_SKIP_LOG ??
  join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    '..',
    '..',
    'node_modules',
    '.cache',
    'mcp-migrate',
    'skips.jsonl',
  );

export interface ServiceCheck {
  readonly name: string;
  /** `true` when usable, or the reason it is not. */
  readonly available: true | string;
}

/** Throws when a required service is absent; otherwise returns whether to run (recording a skip). */
export function shouldRun(check: ServiceCheck): boolean {
  if (check.available === true) return true;
  const message = `${check.name} is not available (${check.available}); start it with "bash scripts/services.sh start" and "source .services/env"`;
  if (REQUIRE_SERVICES) throw new Error(`MCP_MIGRATE_REQUIRE_SERVICES=1 but ${message}`);
  console.warn(`[skip] ${message}`);
  recordSkip(check.name, check.available);
  return false;
}

/** Records that the calling test file (the first `*.test.*` file on the stack) skips its `service` cases, with the reason. */
export function recordSkip(service: string, reason: string): void {
  const file = /\(?((?:\/|[A-Za-z]:\\)[^():]+\.test\.[cm]?[jt]s)/.exec(new Error().stack ?? '')?.[1] ?? 'unknown file';
  try {
    mkdirSync(dirname(SKIP_LOG), { recursive: true });
    appendFileSync(SKIP_LOG, `${JSON.stringify({ at: Date.now(), file, service, reason })}\n`);
  } catch {
    // The banner is a convenience: never fail a run because it could not be written.
  }
}

/** A connection string with its password hidden, for messages. */
const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

/** `true`, or why the PostgreSQL server at `url` cannot be used (unset, no answer). */
export async function postgresAvailable(url = process.env.MCP_MIGRATE_PG_URL): Promise<true | string> {
  if (!url) return 'MCP_MIGRATE_PG_URL is not set';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    return `PostgreSQL at ${redactUrl(url)} did not answer within ${PROBE_MS} ms: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `true`, or why the MongoDB-wire server at `uri` cannot be used (unset, no answer to ping). */
export async function mongoAvailable(uri = process.env.MONGODB_URI): Promise<true | string> {
  if (!uri) return 'MONGODB_URI is not set';
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: PROBE_MS, connectTimeoutMS: PROBE_MS });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch (error) {
    return `MongoDB-wire server at ${redactUrl(uri)} did not answer a ping within ${PROBE_MS} ms: ${(error as Error).message}`;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Whether to run the PostgreSQL cases of the calling file (skip recorded; throws when required). */
export async function postgresEnabled(): Promise<boolean> {
  return shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() });
}

/** Whether to run the MongoDB-wire cases of the calling file (skip recorded; throws when required). */
export async function mongoEnabled(): Promise<boolean> {
  return shouldRun({ name: 'MongoDB-wire server', available: await mongoAvailable() });
}
