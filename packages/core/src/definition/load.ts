/**
 * Loading migrations: from an array of definitions (the main way), or from a directory of .js/.mjs/.cjs
 * files (and .ts/.mts when the process runs under a TypeScript loader such as tsx). Each file exports
 * one definition as default, or several as named exports; files load in name order.
 */
import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DefinitionError, ErrorCode } from '../errors/errors.js';
import { isMigration, type Migration } from './migration.js';

const LOADABLE = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

export interface LoadOptions {
  /** Import function, for hosts with their own loader. Default: dynamic `import()`. */
  readonly importer?: (url: string) => Promise<Record<string, unknown>>;
}

export async function loadMigrations(directory: string, options: LoadOptions = {}): Promise<Migration[]> {
  const dir = resolve(directory);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => LOADABLE.has(extname(n)) && !n.endsWith('.d.ts') && !/\.(test|spec)\./.test(n)).sort();
  } catch (error) {
    throw new DefinitionError(`Cannot read migrations directory "${dir}": ${(error as Error).message}`, { code: ErrorCode.Config, field: 'migrations', cause: error });
  }
  const importer = options.importer ?? ((url: string) => import(url) as Promise<Record<string, unknown>>);
  const out: Migration[] = [];
  for (const name of names) {
    let mod: Record<string, unknown>;
    try {
      mod = await importer(pathToFileURL(join(dir, name)).href);
    } catch (error) {
      throw new DefinitionError(`Cannot load migration file "${name}": ${(error as Error).message}`, { code: ErrorCode.Config, field: 'migrations', cause: error });
    }
    const found = Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v])).filter(isMigration);
    if (found.length === 0) {
      throw new DefinitionError(`Migration file "${name}" exports no migration (use defineMigration / defineDataMigration)`, { code: ErrorCode.Config, field: 'migrations' });
    }
    out.push(...new Set(found));
  }
  return out;
}
