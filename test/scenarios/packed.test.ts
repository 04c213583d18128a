/**
 * The packages as a user gets them: `pnpm pack` every publishable package (so `workspace:` ranges
 * become real ones, as on publish), install the tarballs with npm into a scratch project outside the
 * workspace, beside the peers a host installs (pg, mongodb, pg-mem, @types/pg, @types/node at the
 * versions the workspace tests with), and use them only through their published entry points:
 * - core's README example runs unchanged as ESM (.mjs) and, with its imports as `require`, as CommonJS (.cjs);
 * - the PostgreSQL README example runs on pg-mem (its connection string swapped for a pg-mem pool);
 * - `tsc --strict` (no skipLibCheck, so the shipped .d.ts/.d.cts are checked too) accepts the READMEs'
 *   TypeScript and a file using every entry point, under `moduleResolution` node16 (ESM and CJS files)
 *   and bundler;
 * - @arethetypeswrong/cli finds no problem in any tarball: every `exports` entry (., ./engine,
 *   ./testing, ./testing/conformance) resolves for import and require, with types of the right module kind.
 * - a newcomer follows docs/getting-started.md step by step (./newcomer-walk.ts): a fresh `npm init -y`
 *   project (CommonJS) installs what the page's Install section says (the SDK from these tarballs), an
 *   ESM project (`"type": "module"`) shares that install, and each runs the page's blocks in order on
 *   the real services (fresh databases, dropped afterwards), prints what the page says, and passes
 *   `tsc --strict`.
 * Needs the packages built (`pnpm exec turbo run build`) and the npm registry (`--prefer-offline`
 * uses npm's cache first, so a second run fetches nothing).
 */
import { execFile as execFileCb } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractBlocks } from '../docs/extract.js';
import pg from 'pg';
import { MongoClient } from 'mongodb';
import { databaseName, mongoAvailable, postgresAvailable, shouldRun, tempPgDatabases } from '@mcp/test-support';
import { installArguments, pageBlocks, typecheck, walk, type WalkStep } from './newcomer-walk.js';

const execFile = promisify(execFileCb);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, unknown>;
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: readJson<Manifest>(join(root, 'packages', dir, 'package.json')),
  }))
  .filter((p) => p.manifest.private !== true);

/** The version of a package as installed for the test workspace, so the scratch project matches it. */
function workspaceVersion(name: string): string {
  return readJson<Manifest>(join(realpathSync(join(here, '..', 'node_modules', name)), 'package.json')).version;
}

/** The first fenced block of `lang` in a package's README (whatever its fence attributes, e.g. `services=`). */
function readmeBlock(pkg: string, lang: 'js' | 'ts'): string {
  const page = `packages/${pkg}/README.md`;
  const block = extractBlocks(readFileSync(join(root, page), 'utf8'), page).blocks.find((b) => b.lang === lang)?.code;
  if (!block) throw new Error(`packages/${pkg}/README.md has no \`\`\`${lang} block`);
  return block;
}

/** ESM to CommonJS for a README example: named imports become `require`, the rest runs in an async function. */
function toCommonJs(esm: string): string {
  const imports: string[] = [];
  const body = esm.replace(/^import \{([^}]*)\} from '([^']+)';\n/gm, (_, names: string, from: string) => {
    imports.push(`const {${names}} = require('${from}');`);
    return '';
  });
  if (/^import /m.test(body)) throw new Error('toCommonJs: an import form it does not know');
  return `'use strict';\n${imports.join('\n')}\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
}

let work = '';
let app = '';
const tarballs = new Map<string, string>();

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await execFile(cmd, args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    return stdout + stderr;
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${stdout}\n${stderr}`);
  }
}

beforeAll(async () => {
  for (const p of packages) {
    if (!existsSync(join(p.dir, 'dist')))
      throw new Error(`${p.manifest.name} is not built: run \`pnpm exec turbo run build\` first`);
  }
  work = mkdtempSync(join(tmpdir(), 'mcp-packed-'));
  const packs = join(work, 'tarballs');
  app = join(work, 'app');
  mkdirSync(packs);
  mkdirSync(app);
  for (const p of packages) {
    const before = new Set(readdirSync(packs));
    await run('pnpm', ['pack', '--pack-destination', packs], p.dir);
    const made = readdirSync(packs).filter((f) => !before.has(f));
    expect(made, `pnpm pack of ${p.manifest.name} made one tarball`).toHaveLength(1);
    tarballs.set(p.manifest.name, join(packs, made[0]!));
  }
  const peers = ['pg', 'mongodb', 'pg-mem', '@types/pg', '@types/node'];
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'scratch-host',
        private: true,
        version: '0.0.0',
        dependencies: {
          ...Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`])),
          ...Object.fromEntries(peers.map((name) => [name, workspaceVersion(name)])),
        },
      },
      null,
      2,
    ),
  );
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    app,
  );
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed packages, installed with npm into a scratch project', () => {
  it('installs core once: the adapters take it as a peer, not a copy of their own', () => {
    for (const adapter of ['@mcp/migrate-postgres', '@mcp/migrate-mongodb']) {
      expect(
        existsSync(join(app, 'node_modules', adapter, 'node_modules', '@mcp', 'migrate-core')),
        `${adapter} has no nested core`,
      ).toBe(false);
      const manifest = readJson<{ peerDependencies?: Record<string, string>; dependencies?: Record<string, string> }>(
        join(app, 'node_modules', adapter, 'package.json'),
      );
      expect(manifest.peerDependencies?.['@mcp/migrate-core']).toMatch(/^\^\d/);
      expect(manifest.dependencies?.['@mcp/migrate-core']).toBeUndefined();
    }
    for (const p of packages)
      expect(
        existsSync(join(app, 'node_modules', p.manifest.name, 'README.md')),
        `${p.manifest.name} ships its README`,
      ).toBe(true);
  });

  const readme = () => readmeBlock('core', 'js');
  const expectReadmeOutput = (out: string) => {
    expect(out).toContain('{ applied: 4, skipped: 0, failed: 0, notRun: 0 }');
    expect(out).toContain("[ { id: 'mem-0-1', content: { type: 'text', text: 'hello' } } ]");
  };

  it("core's README example runs as ESM (import, .mjs)", async () => {
    writeFileSync(join(app, 'readme.mjs'), readme());
    expectReadmeOutput(await run(process.execPath, ['readme.mjs'], app));
  });

  it("core's README example runs as CommonJS (require, .cjs)", async () => {
    const cjs = toCommonJs(readme());
    expect(cjs).toContain("require('@mcp/migrate-core/testing')");
    writeFileSync(join(app, 'readme.cjs'), cjs);
    expectReadmeOutput(await run(process.execPath, ['readme.cjs'], app));
  });

  it('the PostgreSQL README example runs on pg-mem, as ESM and as CommonJS', async () => {
    const example = readmeBlock('postgres', 'ts');
    const shard = "{ id: 'pg-0', connectionString: process.env.DATABASE_URL! }";
    expect(example, 'the README example has the shard line this test swaps').toContain(shard);
    const onPgMem = `import { newDb } from 'pg-mem';\n${example.replace(shard, "{ id: 'pg-0', pool: new (newDb().adapters.createPg().Pool)() }")}`;
    const js = ts.transpileModule(onPgMem, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(app, 'postgres.mjs'), js);
    writeFileSync(join(app, 'postgres.cjs'), toCommonJs(js));
    for (const file of ['postgres.mjs', 'postgres.cjs']) {
      expect(await run(process.execPath, [file], app), file).toContain(
        '{ applied: 1, skipped: 0, failed: 0, notRun: 0 }',
      );
    }
  }, 120_000);

  /** Uses every entry point's public types, so a type that is missing or wrong in one module kind fails. */
  const USES = `
import { createMigrator, defineMigration, isMigrateError, type Migration, type RunReport } from '@mcp/migrate-core';
import type { EngineAdapter, ShardAdapter } from '@mcp/migrate-core/engine';
import { memoryEngine, type MemoryShard } from '@mcp/migrate-core/testing';
import { runConformance, type Harness } from '@mcp/migrate-core/testing/conformance';
import { postgresEngine } from '@mcp/migrate-postgres';
import { mongoEngine } from '@mcp/migrate-mongodb';
import { messageContent, type Transformer } from '@mcp/migrate-transformers';
import type { PoolClient } from 'pg';

const m: Migration = defineMigration<MemoryShard>({ id: '0001-a', engine: 'memory', up: (db) => void db.collection('a') });
const p = defineMigration<PoolClient>({ id: '0001-p', engine: 'postgres', up: async (c) => { await c.query('SELECT 1'); } });
// Typed by the engine name through the adapters' EngineHandles augmentation in their .d.ts/.d.cts.
const typedPg = defineMigration({ id: '0001-tp', engine: 'postgres', up: async (c) => { const client: PoolClient = c; await client.query('SELECT 1'); } });
const typedMongo = defineMigration({ id: '0001-tm', engine: 'mongodb', up: async (db) => { await db.collection('x').findOne({}); } });
// @ts-expect-error a PoolClient has no collection(): fails if the handle were any
defineMigration({ id: '0001-bad', engine: 'postgres', up: (c) => void c.collection('x') });
const engines: Record<string, EngineAdapter> = {
  memory: memoryEngine(),
  postgres: postgresEngine({ shards: [{ id: 'pg-0', connectionString: 'postgres://localhost/x' }] }),
  mongodb: mongoEngine({ shards: [{ id: 'mg-0', uri: 'mongodb://localhost', database: 'x' }] }),
};
const t: Transformer<Record<string, unknown>, Record<string, unknown>> = messageContent;
export const uses = { m, p, typedPg, typedMongo, engines, t, createMigrator, isMigrateError, runConformance };
export type Uses = [RunReport['totals']['applied'], ShardAdapter['id'], Harness['name']];
`;

  it('tsc --strict accepts the READMEs and every entry point, with moduleResolution node16 (ESM and CJS) and bundler', async () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const dir = join(app, 'typecheck');
    mkdirSync(dir, { recursive: true });
    const readmes = {
      core: readme(),
      postgres: readmeBlock('postgres', 'ts'),
      mongodb: readmeBlock('mongodb', 'ts'),
      transformers: readmeBlock('transformers', 'ts'),
    };
    for (const [name, code] of Object.entries(readmes)) {
      writeFileSync(join(dir, `readme-${name}.mts`), code);
      writeFileSync(join(dir, `readme-${name}.ts`), code);
    }
    writeFileSync(join(dir, 'uses.mts'), USES);
    writeFileSync(join(dir, 'uses.cts'), USES);
    writeFileSync(join(dir, 'uses.ts'), USES);
    const base = {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: 'ES2022',
      lib: ['ES2023'],
      types: ['node'],
      noUncheckedIndexedAccess: true,
    };
    const configs = {
      'tsconfig.node16.json': {
        compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' },
        files: [...Object.keys(readmes).map((n) => `readme-${n}.mts`), 'uses.mts', 'uses.cts'],
      },
      'tsconfig.bundler.json': {
        compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler' },
        files: [...Object.keys(readmes).map((n) => `readme-${n}.ts`), 'uses.ts'],
      },
    };
    for (const [file, config] of Object.entries(configs)) {
      writeFileSync(join(dir, file), JSON.stringify(config, null, 2));
      await run(process.execPath, [tsc, '-p', file], dir);
    }
  }, 300_000);

  it('@arethetypeswrong/cli finds no problem in any tarball (node16 from ESM and CJS, bundler)', async () => {
    const attw = join(dirname(require.resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js');
    for (const [name, tarball] of tarballs) {
      const out = await run(
        process.execPath,
        [attw, tarball, '--profile', 'node16', '--format', 'ascii', '--no-color'],
        app,
      ).catch((e: Error) => {
        throw new Error(`attw reports problems in ${name}: ${e.message}`);
      });
      // attw exits non-zero on a problem; node10 (no `exports` support) is outside the profile.
      const judged = out.split('\n').filter((line) => !line.includes('ignored'));
      expect(
        judged.filter((line) => /💀|❌|🐛|⚠️|🥴|🎭|👺/u.test(line)),
        name,
      ).toEqual([]);
      expect(
        judged.filter((line) => line.includes('🟢')).length,
        `${name}: attw judged its entry points`,
      ).toBeGreaterThanOrEqual(6);
    }
  }, 240_000);
});

describe('docs/getting-started.md, followed by a newcomer in a CommonJS and an ESM project', async () => {
  const enabled =
    shouldRun({ name: 'PostgreSQL', available: await postgresAvailable() }) &&
    shouldRun({ name: 'MongoDB-wire server', available: await mongoAvailable() });
  const PAGE = 'docs/getting-started.md';
  const markdown = readFileSync(join(root, PAGE), 'utf8');

  it('the page installs the SDK, its peers and @types/pg, and shows an ESM and a CommonJS entry point', () => {
    const { deps, dev } = installArguments(markdown);
    expect(deps).toEqual(
      expect.arrayContaining(['@mcp/migrate-core', '@mcp/migrate-postgres', 'pg', '@mcp/migrate-mongodb', 'mongodb']),
    );
    expect(dev).toEqual(expect.arrayContaining(['typescript', 'tsx', '@types/pg', '@types/node']));
    const blocks = pageBlocks(markdown, PAGE);
    expect(blocks.filter((b) => b.lang === 'cts' && b.path === undefined)).toHaveLength(1);
    expect(blocks.filter((b) => b.lang === 'ts' && b.services.includes('postgres')).length).toBeGreaterThanOrEqual(6);
  });

  it.skipIf(!enabled)(
    'every block runs in order on the real services and prints what the page says; tsc --strict accepts them',
    async () => {
      const cjs = join(work, 'getting-started-cjs');
      const esm = join(work, 'getting-started-esm');
      for (const dir of [cjs, esm]) {
        mkdirSync(dir);
        await run('npm', ['init', '-y'], dir);
      }
      await run('npm', ['pkg', 'set', 'type=module'], esm);
      expect(readJson<{ type?: string }>(join(cjs, 'package.json')).type ?? 'commonjs').toBe('commonjs');
      // The Install section as written: the SDK from the tarballs, the rest at the workspace's versions.
      const spec = (name: string) => tarballs.get(name) ?? `${name}@${workspaceVersion(name)}`;
      const { deps, dev } = installArguments(markdown);
      const npmInstall = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
      const installStarted = Date.now();
      await run('npm', [...npmInstall, ...deps.map(spec)], cjs);
      await run('npm', [...npmInstall, '--save-dev', ...dev.map(spec)], cjs);
      const installMs = Date.now() - installStarted;
      symlinkSync(join(cjs, 'node_modules'), join(esm, 'node_modules'), 'dir'); // the same install, another module type

      const pgDbs = await tempPgDatabases(2, 'newcomer');
      const mongoDbs = [databaseName('newcomer'), databaseName('newcomer')];
      const mongo = new MongoClient(process.env.MONGODB_URI!);
      try {
        const projects = [
          { dir: cjs, moduleType: 'commonjs' as const, i: 0 },
          { dir: esm, moduleType: 'module' as const, i: 1 },
        ];
        const started = Date.now();
        const walks = await Promise.all(
          projects.map(async ({ dir, moduleType, i }) => {
            const url = pgDbs.urls[i]!;
            const env = { DATABASE_URL: url, MONGODB_URI: process.env.MONGODB_URI!, MONGODB_DB: mongoDbs[i]! };
            const after = async (step: WalkStep) => {
              // Rollback restores, as the page says: read from the server, not from what the block printed.
              if (step.block.code.includes('.rollback({ steps: 1 })')) await expectPostgres(url, 'rolled back');
            };
            const steps = await walk(markdown, PAGE, { dir, moduleType, env, after });
            await typecheck(dir, steps);
            return steps;
          }),
        );
        const walkMs = Date.now() - started;
        for (const [i, steps] of walks.entries()) {
          expect(steps.find((s) => s.file.endsWith('.cts'))?.stdout, 'the CommonJS entry point ran').toBeDefined();
          await expectPostgres(pgDbs.urls[i]!, 'applied');
          await expectMongo(mongo, mongoDbs[i]!);
        }
        const ran = walks[0]!.filter((s) => s.stdout !== undefined).length;
        console.log(
          `[getting-started] ${walks[0]!.length} blocks, ${ran} run per project (CommonJS and ESM), ` +
            `install ${installMs} ms, both walks + tsc ${walkMs} ms`,
        );
      } finally {
        await pgDbs.drop();
        for (const name of mongoDbs)
          await mongo
            .db(name)
            .dropDatabase()
            .catch(() => undefined);
        await mongo.close();
      }
    },
    240_000,
  );
});

/** The ledger and the rows of the walk's PostgreSQL database, once 0002 is applied or rolled back. */
async function expectPostgres(url: string, data: 'applied' | 'rolled back'): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const ledger = await client.query<{ id: string }>(
      `SELECT id FROM mcp_migrations WHERE state = 'applied' ORDER BY id`,
    );
    const plans = await client.query<{ plans: string }>(
      `SELECT string_agg(id || '=' || plan, ' ' ORDER BY id) AS plans FROM tenants`,
    );
    if (data === 'applied') {
      expect(ledger.rows.map((r) => r.id)).toEqual(['0001-create-tenants', '0002-tenant-plans-lowercase']);
      expect(plans.rows[0]!.plans).toBe('t1=free t2=pro t3=free');
    } else {
      expect(ledger.rows.map((r) => r.id)).toEqual(['0001-create-tenants']);
      expect(plans.rows[0]!.plans).toBe('t1=FREE t2=PRO t3=free');
    }
  } finally {
    await client.end();
  }
}

/** The MongoDB step of the page: applied in the shard's ledger, its index there. */
async function expectMongo(mongo: MongoClient, name: string): Promise<void> {
  const db = mongo.db(name);
  expect(
    await db
      .collection('mcp_migrations')
      .find({}, { projection: { _id: 1, state: 1 } })
      .toArray(),
  ).toEqual([{ _id: '0003-create-messages', state: 'applied' }]);
  expect((await db.collection('messages').indexes()).map((i) => i.name)).toContain('messages_tenant_created');
}
