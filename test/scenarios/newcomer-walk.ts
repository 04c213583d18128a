/**
 * Following a docs page as a newcomer does, in a scratch npm project: the `npm install` lines of its
 * `sh` blocks, its `json file=…` blocks (a tsconfig.json), then its JS/TS blocks in page order, as the
 * docs extractor (../docs/extract.ts) reads them: `file=` blocks written where they say, every other
 * block saved and run with the project's own tsx, on one database for the whole page. Then `tsc` with
 * the page's tsconfig over all of it. What a block prints is compared with the page: a
 * `console.log(…); // text` line says `text` is what that call prints. Used by packed.test.ts for
 * docs/getting-started.md.
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { blockMode, extractBlocks, where, type DocBlock } from '../docs/extract.js';

const execFile = promisify(execFileCb);

/** The fences of a page the extractor leaves alone (`sh`, `json`, …): language, info string and body. */
function otherFences(markdown: string): { lang: string; info: string; code: string }[] {
  const fence = /^```([A-Za-z]+)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  return [...markdown.matchAll(fence)].map((m) => ({ lang: m[1]!, info: m[2]!.trim(), code: m[3]! }));
}

/** What the page's `npm install` lines name, split into dependencies and devDependencies. */
export function installArguments(markdown: string): { deps: string[]; dev: string[] } {
  const deps: string[] = [];
  const dev: string[] = [];
  for (const { code } of otherFences(markdown).filter((f) => f.lang === 'sh')) {
    for (const line of code.split('\n')) {
      const words = line.replace(/#.*/, '').trim().split(/\s+/);
      if (words[0] !== 'npm' || (words[1] !== 'install' && words[1] !== 'i')) continue;
      const isDev = words.includes('--save-dev') || words.includes('-D');
      (isDev ? dev : deps).push(...words.slice(2).filter((w) => !w.startsWith('-')));
    }
  }
  return { deps, dev };
}

/** The page's JS/TS blocks, as the docs runner reads them; a fence problem is an error here too. */
export function pageBlocks(markdown: string, page: string): DocBlock[] {
  const { blocks, problems } = extractBlocks(markdown, page);
  if (problems.length > 0) throw new Error(problems.map((p) => `${where(p)}: ${p.message}`).join('\n'));
  return blocks;
}

/** What the page says a block prints: the `// text` after each `console.log(…);` line, in order. */
export function expectedOutput(code: string): string[] {
  return [...code.matchAll(/^\s*console\.log\(.*\);[ \t]*\/\/ (.+)$/gm)].map((m) => m[1]!.trim());
}

export async function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await execFile(cmd, args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
      timeout: 120_000,
      env: { ...process.env, npm_config_update_notifier: 'false', ...env },
    });
    return stdout;
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${stdout}\n${stderr}`);
  }
}

export interface WalkStep {
  readonly block: DocBlock;
  /** Where the block was written, relative to the project. */
  readonly file: string;
  /** Its output, when it was run. */
  readonly stdout?: string;
}

export interface WalkOptions {
  /** The project: `package.json` (with its `type`) and `node_modules` in place. */
  readonly dir: string;
  readonly moduleType: 'commonjs' | 'module';
  /** Environment of every run (DATABASE_URL, MONGODB_URI, MONGODB_DB). */
  readonly env: Record<string, string>;
  /** Called after each block that ran, e.g. to read the database the page talks about. */
  readonly after?: (step: WalkStep) => Promise<void>;
}

/**
 * Writes the page's `json file=` blocks, then writes and runs its JS/TS blocks in order. An ESM
 * block (```ts) is saved as `.ts` in an ESM project and as `.mts` in a CommonJS one, as the page
 * tells CommonJS readers to; ```cts/```cjs/```mjs keep their extension. Throws when a block fails or
 * prints other than the page says.
 */
export async function walk(markdown: string, page: string, options: WalkOptions): Promise<WalkStep[]> {
  const { dir, moduleType, env } = options;
  for (const f of otherFences(markdown).filter((x) => x.lang === 'json')) {
    const file = /(?:^|\s)file=(\S+)/.exec(f.info)?.[1];
    if (file) writeFileSync(join(dir, file), f.code);
  }
  const tsx = join(dir, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const steps: WalkStep[] = [];
  for (const block of pageBlocks(markdown, page)) {
    const mode = blockMode(block);
    if (mode.kind === 'skip') continue;
    const ext = moduleType === 'commonjs' ? ({ ts: 'mts', js: 'mjs' }[block.lang as string] ?? block.lang) : block.lang;
    const file = block.path ?? `block-${block.line}.${ext}`;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), block.code);
    if (mode.kind !== 'execute') {
      steps.push({ block, file });
      continue;
    }
    const stdout = await sh(process.execPath, [tsx, file], dir, env);
    const printed = stdout.split('\n').map((l) => l.trim());
    let at = 0;
    for (const want of expectedOutput(block.code)) {
      const found = printed.indexOf(want, at);
      if (found < 0)
        throw new Error(
          `${moduleType} project, ${where(block)} (${file}): the page says it prints\n  ${want}\nbut it printed:\n${stdout}`,
        );
      at = found + 1;
    }
    const step = { block, file, stdout };
    steps.push(step);
    await options.after?.(step);
  }
  return steps;
}

/**
 * `tsc` over every file the walk wrote, with the project's `tsconfig.json` (the page's own, which
 * must be strict) and the project's own compiler.
 */
export async function typecheck(dir: string, steps: readonly WalkStep[]): Promise<string> {
  const own = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as {
    compilerOptions?: { strict?: boolean };
  };
  if (own.compilerOptions?.strict !== true) throw new Error(`${dir}/tsconfig.json is not strict`);
  const config = {
    extends: './tsconfig.json',
    compilerOptions: { noEmit: true },
    files: [...new Set(steps.map((s) => s.file))],
  };
  writeFileSync(join(dir, 'tsconfig.walk.json'), JSON.stringify(config, null, 2));
  return sh(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.walk.json'], dir);
}
