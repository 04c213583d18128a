import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadMigrations } from '../src/definition/load.js';
import { defineMigration } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import { DefinitionError, ErrorCode } from '../src/errors/errors.js';
import { QUICK, memory, migrationFilesRoot, rejection } from './helpers.js';

// The files below define their migrations through globals, so they need no import of the SDK.
const root = migrationFilesRoot('mcp-migrate-load-');
let dirs = 0;
const dir = async (files: Record<string, string>) => {
  const d = join(root(), `d${++dirs}`);
  await mkdir(d);
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
  return d;
};

const schemaFile = (id: string, exportAs = 'export default') =>
  `${exportAs} globalThis.__defineMigration({ id: '${id}', engine: 'memory', up: async (h) => { h.schema.set('${id}', true); } });\n`;

describe('loadMigrations', () => {
  it('loads default and named exports, files in name order, ignoring other files', async () => {
    const d = await dir({
      '0002-named.mjs': `export const first = globalThis.__defineMigration({ id: '0002-x', engine: 'memory', up() {} });\nexport const second = globalThis.__defineDataMigration({ id: '0002-y', engine: 'memory', table: 't', transform: (r) => r });\nexport const notAMigration = 42;\n`,
      '0001-default.mjs': schemaFile('0001-a'),
      '0010-last.js': schemaFile('0010-z'),
      '0003-list.mjs': `export default [globalThis.__defineMigration({ id: '0003-p', engine: 'memory', up() {} }), globalThis.__defineMigration({ id: '0003-q', engine: 'memory', up() {} })];\n`,
      'README.md': '# not code',
      'helper.test.mjs': 'throw new Error("test files are not loaded")',
      'types.d.ts': 'export {};',
    });
    const ms = await loadMigrations(d);
    expect(ms.map((m) => m.id)).toEqual(['0001-a', '0002-x', '0002-y', '0003-p', '0003-q', '0010-z']);
    expect(ms.map((m) => m.kind)).toEqual(['schema', 'schema', 'data', 'schema', 'schema', 'schema']);
  });

  it('lists a migration exported both as default and by name once', async () => {
    const d = await dir({
      '0001.mjs': `export const m = globalThis.__defineMigration({ id: '0001-a', engine: 'memory', up() {} });\nexport default m;\n`,
    });
    expect((await loadMigrations(d)).map((m) => m.id)).toEqual(['0001-a']);
  });

  it('finds migrations inside module.exports, as Node imports a CommonJS file (a .ts compiled to CommonJS, a .cts under tsx)', async () => {
    const d = await dir({ '0001-compiled.cjs': '', '0002-dynamic.cjs': '' });
    const a = defineMigration({ id: '0001-a', engine: 'memory', up() {} });
    const b = defineMigration({ id: '0002-b', engine: 'memory', up() {} });
    // Node's namespace of a CommonJS file: `default` is module.exports; `exports.default` (what tsc
    // emits for `export default`) and exports Node's detection missed are only inside it. (Vitest's
    // own import unwraps these, so the namespace is given here as Node builds it.)
    const namespaces: Record<string, Record<string, unknown>> = {
      '0001-compiled.cjs': { default: { __esModule: true, default: a } },
      '0002-dynamic.cjs': { default: { b } },
    };
    const importer = async (url: string) => namespaces[url.slice(url.lastIndexOf('/') + 1)]!;
    expect((await loadMigrations(d, { importer })).map((m) => m.id)).toEqual(['0001-a', '0002-b']);
  });

  it('rejects a file that exports no migration, naming it', async () => {
    const d = await dir({
      '0001-ok.mjs': schemaFile('0001-a'),
      '0002-empty.mjs': 'export const x = { id: "0002", up() {} };\n',
    });
    const err = await rejection(loadMigrations(d));
    expect(err).toBeInstanceOf(DefinitionError);
    expect(err).toMatchObject({ code: ErrorCode.Config, field: 'migrations' });
    expect(err.message).toContain('0002-empty.mjs');
  });

  it('rejects a file that fails to load, naming it', async () => {
    const d = await dir({
      '0001-broken.mjs': 'export default globalThis.__defineMigration({ id: "bad id", engine: "memory", up() {} });\n',
    });
    const err = await rejection(loadMigrations(d));
    expect(err).toBeInstanceOf(DefinitionError);
    expect(err.message).toContain('0001-broken.mjs');
    expect(err.message).toContain('bad id');
  });

  it('rejects a missing directory', async () => {
    const err = await rejection(loadMigrations(join(root(), 'does-not-exist')));
    expect(err).toBeInstanceOf(DefinitionError);
    expect(err).toMatchObject({ code: ErrorCode.Config, field: 'migrations' });
    expect(err.message).toContain('does-not-exist');
  });

  it('accepts a custom importer', async () => {
    const d = await dir({ 'a.mjs': '', 'b.mjs': '' });
    const seen: string[] = [];
    const ms = await loadMigrations(d, {
      importer: async (url) => {
        seen.push(url.split('/').at(-1)!);
        return { default: defineMigration({ id: url.endsWith('a.mjs') ? 'A' : 'B', engine: 'memory', up() {} }) };
      },
    });
    expect(seen).toEqual(['a.mjs', 'b.mjs']);
    expect(ms.map((m) => m.id)).toEqual(['A', 'B']);
  });

  it('createMigrator loads a directory and runs it; a migration for an unconfigured engine is refused', async () => {
    const d = await dir({ '0001.mjs': schemaFile('0001-a'), '0002.mjs': schemaFile('0002-b') });
    const { engine, store, ids } = memory(2);
    const migrator = createMigrator({ engines: { memory: engine }, migrations: d, ...QUICK });
    const report = await migrator.run();
    expect(report.totals.applied).toBe(4);
    for (const id of ids) expect([...store.shard(id).schema.keys()].sort()).toEqual(['0001-a', '0002-b']);
    await migrator.close();

    const pg = await dir({
      '0001.mjs': `export default globalThis.__defineMigration({ id: '0001-pg', engine: 'postgres', up() {} });\n`,
    });
    const other = memory(1);
    const m2 = createMigrator({ engines: { memory: other.engine }, migrations: pg, ...QUICK });
    const err = await rejection(m2.run());
    expect(err).toBeInstanceOf(DefinitionError);
    expect(err).toMatchObject({ migrationId: '0001-pg', field: 'engine' });
    expect(other.store.shard(other.ids[0]!).ledger.size).toBe(0);
    await m2.close();
  });
});
