/**
 * Docs that run: every fenced JS/TS block of README.md, docs/**\/*.md, packages/*\/README.md and
 * examples/**\/README.md is extracted with its attributes (test/docs/extract.ts), type-checked in one
 * strict `module: nodenext` program, and, unless marked otherwise, executed (node, tsx for
 * TypeScript; vitest for a block that imports vitest) within 60 s. The convention:
 *
 *   ```ts                          checked and executed, no services
 *   ```ts services=postgres        executed with DATABASE_URL / PG_SHARD_URLS (fresh databases), else skipped
 *   ```ts services=mongodb         executed with MONGODB_URI and MONGODB_DB (a fresh database name), else skipped
 *   ```ts file=migrations/0001.ts  checked; later blocks of the same page import it ('./migrations/0001.js')
 *   ```ts no-run="reason"          checked only
 *   ```ts no-check="reason"        neither
 *
 * A block whose service is absent is skipped with a message, and fails under
 * MCP_MIGRATE_REQUIRE_SERVICES=1. The runner drops every database it created.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseName, mongoEnabled, postgresEnabled, tempPgDatabases } from '@mcp/test-support';
import {
  blockMode,
  checkLocalImports,
  docFiles,
  extractBlocks,
  importersOf,
  where,
  type DocBlock,
  type DocProblem,
  type Service,
} from './extract.js';
import { execute, summarize, typeCheck, writeScratch, type Outcome, type PlacedBlock } from './runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const scratch = join(here, '.scratch');
const TIMEOUT_MS = 60_000;
/** Blocks executed at once (each is its own node process; CI machines are small). */
const PARALLEL = 2;

const pages = docFiles(root);
const extracted = pages.map((page) => extractBlocks(readFileSync(join(root, page), 'utf8'), page));
const blocks: DocBlock[] = extracted.flatMap((e) => e.blocks);
const problems: DocProblem[] = extracted.flatMap((e) => e.problems);

rmSync(scratch, { recursive: true, force: true });
const placed = writeScratch(scratch, blocks);
const checked = placed.filter((p) => blockMode(p.block).kind !== 'skip');
const runnable = placed.filter((p) => blockMode(p.block).kind === 'execute');

const needs = (service: Service) => runnable.some((p) => p.block.services.includes(service));
const available: Record<Service, boolean> = {
  postgres: needs('postgres') ? await postgresEnabled() : false,
  mongodb: needs('mongodb') ? await mongoEnabled() : false,
};

const format = (list: readonly DocProblem[]) => list.map((p) => `${where(p)}: ${p.message}`).join('\n');

/** What happened to each block, for the summary. */
const outcomes = new Map<DocBlock, Outcome>();

/** At most PARALLEL blocks at once. */
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next)
      next(); // the slot passes on
    else running--;
  }
}

/** The environment of a block: only the variables of the services it declares, on fresh databases. */
async function withEnvironment<T>(block: DocBlock, fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const env: NodeJS.ProcessEnv = {};
  const strip = /^(VITEST|TINYPOOL|DATABASE_URL$|PG_SHARD_URLS$|MONGODB_|MCP_MIGRATE_PG_|MCP_PG_SHARDS$)/;
  for (const [k, v] of Object.entries(process.env)) if (!strip.test(k)) env[k] = v;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    if (block.services.includes('postgres')) {
      const dbs = await tempPgDatabases(3, 'mcp_docs');
      cleanups.push(() => dbs.drop());
      env.DATABASE_URL = dbs.urls[0];
      env.PG_SHARD_URLS = dbs.urls.slice(1).join(',');
    }
    if (block.services.includes('mongodb')) {
      const uri = process.env.MONGODB_URI!;
      const name = databaseName('mcp_docs');
      env.MONGODB_URI = uri;
      env.MONGODB_DB = name;
      cleanups.push(() => dropMongoDatabases(uri, name));
    }
    return await fn(env);
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

/** Drops MONGODB_DB and every database whose name starts with it (`${MONGODB_DB}_0`, …). */
async function dropMongoDatabases(uri: string, prefix: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) if (name.startsWith(prefix)) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

let summary = '';
afterAll(() => {
  if (summary) console.log(summary);
  if (process.env.MCP_DOCS_KEEP_SCRATCH !== '1') rmSync(scratch, { recursive: true, force: true });
});

describe('doc samples', () => {
  it('every fence of a JS/TS block follows the convention (known attributes, reasons given)', () => {
    expect(pages).toContain('README.md');
    expect(blocks.length).toBeGreaterThan(20);
    expect(format([...problems, ...checkLocalImports(blocks)]), 'fence problems').toBe('');
  });

  it(`the ${checked.length} checked blocks type-check under strict, module nodenext`, () => {
    expect(format(typeCheck(scratch, checked)), 'type errors').toBe('');
  }, 120_000);

  it.concurrent.for(runnable.map((p): [string, PlacedBlock] => [where(p.block), p]))(
    '%s runs',
    { timeout: TIMEOUT_MS + 30_000 },
    async ([, p], ctx) => {
      const missing = p.block.services.filter((s) => !available[s]);
      if (missing.length > 0) {
        outcomes.set(p.block, { kind: 'skipped', reason: `services absent: ${missing.join(', ')}` });
        ctx.skip(`needs ${missing.join(' and ')}, which is not available`);
      }
      const mode = blockMode(p.block);
      const result = await slot(() =>
        withEnvironment(p.block, (env) =>
          execute(p, placed, { runner: mode.kind === 'execute' ? mode.runner : 'node', env, timeoutMs: TIMEOUT_MS }),
        ),
      );
      outcomes.set(p.block, { kind: 'executed', ok: result.ok, ms: result.ms });
      const what = result.timedOut ? `did not exit within ${TIMEOUT_MS / 1000} s` : 'failed';
      expect(result.ok, `${where(p.block)} ${what}:\n${result.output}`).toBe(true);
    },
  );

  it('the summary adds up', () => {
    // Registered last: vitest runs a file's tests in order, so every executable block has an outcome.
    // Importers sit below what they import: from the last block up, a file= module imported by a
    // block that ran, or by a module that ran as someone's import, ran too.
    for (const p of [...placed].sort((a, b) => b.block.line - a.block.line)) {
      const mode = blockMode(p.block);
      if (mode.kind === 'execute') continue;
      const by = importersOf(p.block, blocks).find((b) => {
        const o = outcomes.get(b);
        return (o?.kind === 'executed' && o.ok) || o?.kind === 'imported';
      });
      if (by) outcomes.set(p.block, { kind: 'imported', by: where(by) });
      else if (p.block.path !== undefined)
        outcomes.set(p.block, { kind: 'skipped', reason: `file= module: no block that ran imports it` });
      else outcomes.set(p.block, { kind: 'skipped', reason: mode.reason });
    }
    const result = summarize(blocks, checked.length, outcomes);
    summary = result.text;
    expect(result.executed + result.skipped).toBe(blocks.length);
    expect(checked.length + placed.filter((p) => blockMode(p.block).kind === 'skip').length).toBe(blocks.length);
    expect(result.text).toMatch(/^doc samples: \d+ blocks, \d+ type-checked, \d+ executed, \d+ skipped/);
  });
});
