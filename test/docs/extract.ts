/**
 * The doc samples' extractor: finds every fenced JS/TS block of the repository's Markdown pages, with
 * its attributes and the line of its opening fence, and says what the runner does with it. The
 * convention (attributes on the fence line after the language):
 *
 *   ```ts                          checked (strict) and executed, no services
 *   ```ts services=postgres        executed only with PostgreSQL (also mongodb, postgres,mongodb)
 *   ```ts file=migrations/0001.ts  written to that path of the page's scratch dir, checked, imported by later blocks
 *   ```ts no-run="reason"          type-checked only
 *   ```ts no-check="reason"        neither
 *
 * Pure functions (no file system) except `docFiles`, so the unit tests can feed it any text.
 */
import { readdirSync } from 'node:fs';
import { join, posix } from 'node:path';

/** The languages whose blocks are checked, with the extension each block file gets. */
export const LANGUAGES = { ts: '.ts', mts: '.mts', cts: '.cts', js: '.js', mjs: '.mjs', cjs: '.cjs' } as const;
export type BlockLang = keyof typeof LANGUAGES;

/** Spellings that would silently escape the check: refused, naming the one to use. */
const ALIASES: Record<string, BlockLang> = { typescript: 'ts', javascript: 'js', tsx: 'ts', jsx: 'js' };

export const SERVICES = ['postgres', 'mongodb'] as const;
export type Service = (typeof SERVICES)[number];

export interface DocBlock {
  /** The page, relative to the repository root, with `/` separators. */
  readonly page: string;
  /** 1-based line of the opening fence; the block's first code line is `line + 1`. */
  readonly line: number;
  readonly lang: BlockLang;
  readonly code: string;
  readonly services: readonly Service[];
  /** `file=`: the block's path in the page's scratch dir; it is a module for later blocks, not run on its own. */
  readonly path?: string;
  readonly noRun?: string;
  readonly noCheck?: string;
}

export interface DocProblem {
  readonly page: string;
  readonly line: number;
  readonly message: string;
}

/** `page:line` as editors and terminals link it. */
export const where = (b: { page: string; line: number }) => `${b.page}:${b.line}`;

/** What the runner does with a block, and why when it does not execute it. */
export type BlockMode =
  { kind: 'execute'; runner: 'node' | 'vitest' } | { kind: 'check'; reason: string } | { kind: 'skip'; reason: string };

export function blockMode(block: DocBlock): BlockMode {
  if (block.noCheck !== undefined) return { kind: 'skip', reason: `no-check: ${block.noCheck}` };
  if (block.path !== undefined) return { kind: 'check', reason: `file=${block.path} (a module of later blocks)` };
  if (block.noRun !== undefined) return { kind: 'check', reason: `no-run: ${block.noRun}` };
  return { kind: 'execute', runner: usesVitest(block.code) ? 'vitest' : 'node' };
}

/** A block that imports vitest is a test file: the runner runs it with vitest instead of node. */
export function usesVitest(code: string): boolean {
  return /^\s*import\s[^;]*?\sfrom\s+['"]vitest['"]/m.test(code);
}

/** The block's file name inside its page's scratch dir. */
export function blockFileName(block: DocBlock): string {
  if (block.path !== undefined) return block.path;
  const ext = LANGUAGES[block.lang];
  return `block-${block.line}${usesVitest(block.code) && blockMode(block).kind === 'execute' ? '.test' : ''}${ext}`;
}

/** The scratch dir name of a page: its path with `/` as `__`, without `.md`. */
export function pageSlug(page: string): string {
  return page.replace(/\.md$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '__');
}

interface Fence {
  readonly indent: number;
  readonly char: '`' | '~';
  readonly length: number;
  readonly info: string;
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;

function openingFence(line: string): Fence | null {
  const m = FENCE.exec(line);
  if (!m) return null;
  const char = m[2]![0] as '`' | '~';
  if (char === '`' && m[3]!.includes('`')) return null; // not a fence (CommonMark)
  return { indent: m[1]!.length, char, length: m[2]!.length, info: m[3]!.trim() };
}

function closes(line: string, fence: Fence): boolean {
  const m = /^ *(`{3,}|~{3,})\s*$/.exec(line);
  return m !== null && m[1]![0] === fence.char && m[1]!.length >= fence.length;
}

/** Strips up to the fence's indentation from a content line (a fence inside a list item). */
function unindent(line: string, indent: number): string {
  let i = 0;
  while (i < indent && line[i] === ' ') i++;
  return line.slice(i);
}

/** Every fenced JS/TS block of a page, and every problem with a fence line (each naming page:line). */
export function extractBlocks(markdown: string, page: string): { blocks: DocBlock[]; problems: DocProblem[] } {
  const lines = markdown.split(/\r?\n/);
  const blocks: DocBlock[] = [];
  const problems: DocProblem[] = [];
  const paths = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const fence = openingFence(lines[i]!);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !closes(lines[i]!, fence); i++) body.push(unindent(lines[i]!, fence.indent));
    const line = start + 1;
    if (i >= lines.length) {
      problems.push({ page, line, message: 'code fence is never closed' });
      break;
    }
    const [word = '', ...rest] = fence.info.split(/\s+/);
    const lang = word.toLowerCase();
    if (lang in ALIASES) {
      problems.push({
        page,
        line,
        message: `write \`\`\`${ALIASES[lang]} instead of \`\`\`${word}, so the sample is checked`,
      });
      continue;
    }
    if (!(lang in LANGUAGES)) continue; // sh, text, json…: not a sample the runner checks
    const parsed = parseBlockAttributes(rest.join(' '), lang as BlockLang);
    for (const message of parsed.problems) problems.push({ page, line, message });
    if (parsed.problems.length > 0) continue;
    const { path } = parsed.attrs;
    if (path !== undefined) {
      const earlier = paths.get(path);
      if (earlier !== undefined) {
        problems.push({ page, line, message: `file=${path} is already the block at line ${earlier}` });
        continue;
      }
      paths.set(path, line);
    }
    blocks.push({ page, line, lang: lang as BlockLang, code: `${body.join('\n')}\n`, ...parsed.attrs });
  }
  return { blocks, problems };
}

type Attrs = Pick<DocBlock, 'services' | 'path' | 'noRun' | 'noCheck'>;

const ATTRIBUTE = /\s*([A-Za-z][A-Za-z0-9_-]*)(?:=(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?/y;

/** Splits `a=1 b="two words" c` into pairs; `null` when some text is not an attribute. */
export function splitAttributes(text: string): [string, string | undefined][] | null {
  const out: [string, string | undefined][] = [];
  ATTRIBUTE.lastIndex = 0;
  let at = 0;
  const trimmed = text.trimEnd();
  while (at < trimmed.length) {
    ATTRIBUTE.lastIndex = at;
    const m = ATTRIBUTE.exec(trimmed);
    if (!m || (m.index + m[0].length < trimmed.length && !/\s/.test(trimmed[m.index + m[0].length]!))) return null;
    out.push([m[1]!, m[2] ?? m[3] ?? m[4]]);
    at = m.index + m[0].length;
  }
  return out;
}

/** The attributes of a fence line after its language, validated against the convention. */
export function parseBlockAttributes(text: string, lang: BlockLang): { attrs: Attrs; problems: string[] } {
  const problems: string[] = [];
  const pairs = splitAttributes(text);
  const attrs: { services: Service[]; path?: string; noRun?: string; noCheck?: string } = { services: [] };
  if (pairs === null) return { attrs, problems: [`cannot read the fence attributes "${text.trim()}"`] };
  const seen = new Set<string>();
  for (const [name, value] of pairs) {
    if (seen.has(name)) problems.push(`attribute ${name} is given twice`);
    seen.add(name);
    switch (name) {
      case 'services': {
        const list = (value ?? '').split(',').filter(Boolean);
        const unknown = list.filter((s) => !(SERVICES as readonly string[]).includes(s));
        if (list.length === 0) problems.push('services= needs postgres, mongodb or postgres,mongodb');
        else if (unknown.length > 0)
          problems.push(`unknown service ${unknown.join(', ')} in services= (known: ${SERVICES.join(', ')})`);
        else attrs.services = [...new Set(list as Service[])];
        break;
      }
      case 'file': {
        const problem = value === undefined ? 'file= needs a path' : badPath(value, lang);
        if (problem) problems.push(problem);
        else attrs.path = value;
        break;
      }
      case 'no-run':
      case 'no-check': {
        const reason = value?.trim();
        if (!reason) problems.push(`${name} needs a reason: ${name}="why"`);
        else if (name === 'no-run') attrs.noRun = reason;
        else attrs.noCheck = reason;
        break;
      }
      default:
        problems.push(`unknown attribute "${name}" (known: services, file, no-run, no-check)`);
    }
  }
  if (problems.length > 0) return { attrs, problems };
  if (attrs.noCheck !== undefined && (attrs.services.length > 0 || attrs.path || attrs.noRun))
    problems.push('no-check blocks are neither checked nor run: drop its other attributes');
  else if (attrs.path !== undefined && (attrs.services.length > 0 || attrs.noRun))
    problems.push('file= blocks are never executed on their own: drop services=/no-run');
  else if (attrs.noRun !== undefined && attrs.services.length > 0)
    problems.push('a no-run block needs no services: drop services=');
  return { attrs, problems };
}

function badPath(path: string, lang: BlockLang): string | undefined {
  const normal = posix.normalize(path);
  if (path.startsWith('/') || normal.startsWith('..') || normal !== path || path.includes('\\'))
    return `file=${path} must be a relative path inside the page's scratch dir (no "..", no "./")`;
  if (!path.endsWith(LANGUAGES[lang])) return `file=${path} of a \`\`\`${lang} block must end with ${LANGUAGES[lang]}`;
  if (/^block-\d+/.test(posix.basename(path))) return `file=${path}: names block-<n> are the runner's own`;
  return undefined;
}

/** The pages the runner reads: README.md, docs/**\/*.md, packages/*\/README.md, examples/**\/README.md. */
export function docFiles(root: string): string[] {
  const walk = (dir: string, keep: (name: string) => boolean): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.'))
      .flatMap((e) =>
        e.isDirectory() ? walk(posix.join(dir, e.name), keep) : keep(e.name) ? [posix.join(dir, e.name)] : [],
      );
  const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `packages/${e.name}/README.md`)
    .filter((p) => readdirSync(join(root, posix.dirname(p))).includes('README.md'));
  return [
    'README.md',
    ...walk('docs', (n) => n.endsWith('.md')),
    ...packages,
    ...walk('examples', (n) => n === 'README.md'),
  ].sort();
}

/** The relative modules a block imports (`./migrations/0001.js`), as scratch paths of file= blocks (`migrations/0001.ts`). */
export function localImports(code: string): string[] {
  const out = new Set<string>();
  for (const m of code.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.\.?\/[^'"]+)['"]/g,
  )) {
    const path = posix.normalize(m[1]!);
    out.add(path.replace(/\.(m|c)?js$/, (_, k: string | undefined) => `.${k ?? ''}ts`));
    out.add(path);
  }
  return [...out];
}

/** Problems with imports between the blocks of a page: a block may import only a file= block above it. */
export function checkLocalImports(blocks: readonly DocBlock[]): DocProblem[] {
  const problems: DocProblem[] = [];
  for (const block of blocks) {
    const local = localImports(block.code);
    if (local.length === 0) continue;
    const modules = blocks.filter((b) => b.page === block.page && b.path !== undefined);
    for (const m of modules)
      if (local.includes(m.path!) && m.line > block.line)
        problems.push({
          page: block.page,
          line: block.line,
          message: `imports file=${m.path}, which is defined below it (line ${m.line}): a block imports only modules above it`,
        });
  }
  return problems;
}

/** The blocks of the same page, below `module`, that import it. */
export function importersOf(module: DocBlock, blocks: readonly DocBlock[]): DocBlock[] {
  if (module.path === undefined) return [];
  // A file= block's own imports are relative to its directory (`migrations/index.ts` imports `./0001.js`).
  const resolved = (b: DocBlock) =>
    localImports(b.code).map((p) => posix.normalize(posix.join(posix.dirname(b.path ?? '.'), p)));
  return blocks.filter((b) => b.page === module.page && b.line > module.line && resolved(b).includes(module.path!));
}
