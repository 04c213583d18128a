/**
 * Loading migrations: from an array of definitions (the main way), or from a directory of .js/.mjs/.cjs
 * files (and .ts/.mts when the process runs under a TypeScript loader such as tsx). Each file exports
 * one definition as default, or several as named exports; files load in name order.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DefinitionError, ErrorCode } from '../errors/errors.js';
import { withSourceText } from './checksum.js';
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
    names = (await readdir(dir))
      .filter((n) => LOADABLE.has(extname(n)) && !n.endsWith('.d.ts') && !/\.(test|spec)\./.test(n))
      .sort();
  } catch (error) {
    throw new DefinitionError(`Cannot read migrations directory "${dir}": ${(error as Error).message}`, {
      code: ErrorCode.Config,
      field: 'migrations',
      cause: error,
    });
  }
  const importer = options.importer ?? ((url: string) => import(url) as Promise<Record<string, unknown>>);
  const out: Migration[] = [];
  for (const name of names) {
    let mod: Record<string, unknown>;
    try {
      mod = await importer(pathToFileURL(join(dir, name)).href);
    } catch (error) {
      throw new DefinitionError(`Cannot load migration file "${name}": ${(error as Error).message}`, {
        code: ErrorCode.Config,
        field: 'migrations',
        cause: error,
      });
    }
    const found = exportedValues(mod)
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter(isMigration);
    if (found.length === 0) {
      throw new DefinitionError(
        `Migration file "${name}" exports no migration (use defineMigration / defineDataMigration)`,
        { code: ErrorCode.Config, field: 'migrations' },
      );
    }
    // The checksum covers the file as written, not as compiled: tsx and tsc runs of the same file agree.
    const text = await sourceTextOf(join(dir, name));
    out.push(...[...new Set(found)].map((m) => withSourceText(m, text)));
  }
  return out;
}

/**
 * What a module exports. A CommonJS file imported from ESM (a `.ts` compiled to CommonJS, a `.cts`
 * under tsx) arrives as `{ default: module.exports }`, where `module.exports` holds
 * `exports.default` and the named exports that Node's export detection could not see: those count too.
 */
function exportedValues(mod: Record<string, unknown>): unknown[] {
  const values = Object.values(mod);
  const wrapped = mod.default;
  if (typeof wrapped === 'object' && wrapped !== null && !Array.isArray(wrapped) && !isMigration(wrapped)) {
    values.push(...Object.values(wrapped));
  }
  return values;
}

/**
 * The text of a migration file as its author wrote it: for a compiled file with a source map that
 * carries the source (`inlineSources`) or points to a readable source file, that source; else the
 * file itself. So a `.ts` file run under tsx and its `.js` compiled by tsc (any target) or a
 * bundler with source maps hash the same.
 */
async function sourceTextOf(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
  if (!url) return text;
  try {
    const map = JSON.parse(
      url.startsWith('data:')
        ? Buffer.from(url.slice(url.indexOf(',') + 1), url.includes(';base64,') ? 'base64' : 'utf8').toString('utf8')
        : await readFile(resolve(dirname(path), url), 'utf8'),
    ) as { sources?: unknown; sourcesContent?: unknown; sourceRoot?: unknown };
    const content = Array.isArray(map.sourcesContent) ? (map.sourcesContent as unknown[]) : [];
    if (content.length === 1 && typeof content[0] === 'string') return content[0];
    const sources = Array.isArray(map.sources) ? (map.sources as unknown[]) : [];
    if (sources.length === 1 && typeof sources[0] === 'string') {
      const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
      return await readFile(resolve(dirname(path), root, sources[0]), 'utf8');
    }
  } catch {
    // An unreadable or foreign source map: the compiled text is all there is.
  }
  return text;
}
