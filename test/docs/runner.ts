/**
 * The doc samples' runner: writes each page's blocks into a scratch dir inside the test package (so
 * `@mcp/migrate-*`, pg, mongodb and pg-mem resolve through its node_modules), type-checks them all
 * in one TypeScript program, and executes one block with node (tsx for TypeScript) or vitest.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';
import { blockFileName, pageSlug, where, type DocBlock, type DocProblem } from './extract.js';

/** One TypeScript setup for the check and for tsx: what a user's strict `module: nodenext` project sees. */
export const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    moduleDetection: 'force',
    esModuleInterop: true,
    skipLibCheck: false,
  },
};

/** A block written to disk. */
export interface PlacedBlock {
  readonly block: DocBlock;
  /** Absolute path of the block's file. */
  readonly file: string;
  /** The page's scratch dir (the cwd of its executed blocks). */
  readonly dir: string;
}

/** Writes every block of every page under `scratch/<page slug>/`, plus the tsconfig tsx reads. */
export function writeScratch(scratch: string, blocks: readonly DocBlock[]): PlacedBlock[] {
  mkdirSync(scratch, { recursive: true });
  writeFileSync(join(scratch, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  return blocks.map((block) => {
    const dir = join(scratch, pageSlug(block.page));
    const file = join(dir, blockFileName(block));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, block.code);
    return { block, file, dir };
  });
}

/** Maps `<block file>:<line>` in a text to `<page>:<line in the page>`. */
export function toPageLines(text: string, placed: readonly PlacedBlock[]): string {
  let out = text;
  for (const { block, file } of placed) {
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(
      new RegExp(`(?:file://)?${escaped}:(\\d+)`, 'g'),
      (_, n: string) => `${block.page}:${block.line + Number(n)}`,
    );
  }
  return out;
}

/** Type-checks the blocks in one program; each diagnostic is reported at its page line. */
export function typeCheck(scratch: string, placed: readonly PlacedBlock[]): DocProblem[] {
  const config = ts.parseJsonConfigFileContent(TSCONFIG, ts.sys, scratch);
  const program = ts.createProgram({ rootNames: placed.map((p) => p.file), options: config.options });
  const byFile = new Map(placed.map((p) => [p.file.split(sep).join('/'), p]));
  const problems = ts.getPreEmitDiagnostics(program).map((d): DocProblem => {
    const message = `TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    if (!d.file) return { page: '(program)', line: 0, message };
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const owner = byFile.get(d.file.fileName);
    if (!owner) return { page: relative(scratch, d.file.fileName), line: line + 1, message };
    return { page: owner.block.page, line: owner.block.line + 1 + line, message: `(col ${character + 1}) ${message}` };
  });
  return problems.sort((a, b) => a.page.localeCompare(b.page) || a.line - b.line);
}

export interface Execution {
  readonly ok: boolean;
  readonly ms: number;
  /** stdout and stderr, file lines mapped to page lines. */
  readonly output: string;
  readonly timedOut: boolean;
}

const require = createRequire(import.meta.url);
const VITEST = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');

/** Runs one block in its page's dir; resolves (never rejects) with the outcome. */
export function execute(
  placed: PlacedBlock,
  all: readonly PlacedBlock[],
  options: { runner: 'node' | 'vitest'; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Execution> {
  const { block, file, dir } = placed;
  const typescript = !block.lang.endsWith('js');
  let args: string[];
  if (options.runner === 'vitest') {
    const config = join(dir, 'vitest.config.mjs');
    writeFileSync(config, "export default { test: { include: ['**/*.test.*'] } };\n");
    args = [VITEST, 'run', '--config', config, '--root', dir, relative(dir, file)];
  } else args = typescript ? ['--import', 'tsx', file] : [file];
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: dir,
        env: { ...options.env, TSX_TSCONFIG_PATH: join(dir, '..', 'tsconfig.json'), FORCE_COLOR: '0' },
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const timedOut = error !== null && (error as { killed?: boolean }).killed === true;
        resolve({
          ok: error === null,
          ms: Math.round(performance.now() - started),
          output: toPageLines(`${stdout}${stderr ? `\n${stderr}` : ''}`.trim(), all),
          timedOut,
        });
      },
    );
  });
}

/** What happened to one block. A file= module counts as executed when a block that imports it ran. */
export type Outcome =
  | { readonly kind: 'executed'; readonly ok: boolean; readonly ms: number }
  | { readonly kind: 'imported'; readonly by: string }
  | { readonly kind: 'skipped'; readonly reason: string };

/**
 * `doc samples: N blocks, N type-checked, N executed, N skipped (reasons…)`, then one line per block
 * not executed on its own (why, or which block ran it).
 */
export function summarize(
  blocks: readonly DocBlock[],
  typeChecked: number,
  outcomes: ReadonlyMap<DocBlock, Outcome>,
): { text: string; executed: number; skipped: number } {
  let executed = 0;
  const reasons = new Map<string, number>();
  const details: string[] = [];
  for (const block of blocks) {
    const o = outcomes.get(block);
    if (o === undefined) throw new Error(`no outcome for ${where(block)}`);
    if (o.kind === 'executed') executed++;
    else if (o.kind === 'imported') {
      executed++;
      details.push(`  ${where(block)} file=${block.path}: ran as a module of ${o.by}`);
    } else {
      const kind = o.reason.split(':')[0]!;
      reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
      details.push(`  ${where(block)} skipped: ${o.reason}`);
    }
  }
  const skipped = blocks.length - executed;
  const why = [...reasons].map(([k, n]) => `${n} ${k}`).join(', ');
  const head = `doc samples: ${blocks.length} blocks, ${typeChecked} type-checked, ${executed} executed, ${skipped} skipped${why ? ` (${why})` : ''}`;
  return { text: [head, ...details].join('\n'), executed, skipped };
}
