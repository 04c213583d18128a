/** The doc samples' extractor: fences, attributes and the problems it must report by page:line. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockFileName, blockMode, docFiles, extractBlocks, pageSlug, splitAttributes, usesVitest } from './extract.js';

const fence = '```';
const page = (...lines: string[]) => lines.join('\n');

describe('extractBlocks', () => {
  it('finds JS/TS blocks with their fence line, language and code; ignores other languages', () => {
    const md = page(
      '# T',
      `${fence}sh`,
      'pnpm build',
      fence,
      `${fence}ts`,
      "import x from 'y';",
      'x();',
      fence,
      'text',
      `${fence}cjs`,
      "const a = require('a');",
      fence,
      fence,
      'output',
      fence,
    );
    const { blocks, problems } = extractBlocks(md, 'docs/a.md');
    expect(problems).toEqual([]);
    expect(blocks.map((b) => [b.line, b.lang, b.code])).toEqual([
      [5, 'ts', "import x from 'y';\nx();\n"],
      [10, 'cjs', "const a = require('a');\n"],
    ]);
    expect(blockMode(blocks[0]!)).toEqual({ kind: 'execute', runner: 'node' });
  });

  it('reads every attribute of the convention', () => {
    const md = page(
      `${fence}ts services=postgres,mongodb`,
      'a;',
      fence,
      `${fence}ts file=migrations/0001-x.ts`,
      'b;',
      fence,
      `${fence}mjs no-run="needs a KMS"`,
      'c;',
      fence,
      `${fence}js no-check='a deliberately wrong example'`,
      'd;',
      fence,
    );
    const { blocks, problems } = extractBlocks(md, 'p.md');
    expect(problems).toEqual([]);
    expect(blocks[0]!.services).toEqual(['postgres', 'mongodb']);
    expect(blocks[1]!.path).toBe('migrations/0001-x.ts');
    expect(blockMode(blocks[1]!)).toEqual({
      kind: 'check',
      reason: 'file=migrations/0001-x.ts (a module of later blocks)',
    });
    expect(blockMode(blocks[2]!)).toEqual({ kind: 'check', reason: 'no-run: needs a KMS' });
    expect(blockMode(blocks[3]!)).toEqual({ kind: 'skip', reason: 'no-check: a deliberately wrong example' });
  });

  it('reports an unknown attribute, a missing reason, a bad service or path, naming the fence line', () => {
    const cases: [string, RegExp][] = [
      ['ts nocheck', /unknown attribute "nocheck"/],
      ['ts no-run', /no-run needs a reason/],
      ['ts no-run=""', /no-run needs a reason/],
      ['ts no-check="   "', /no-check needs a reason/],
      ['ts services=mysql', /unknown service mysql/],
      ['ts services=', /cannot read the fence attributes/],
      ['ts file=../x.ts', /must be a relative path/],
      ['ts file=/abs.ts', /must be a relative path/],
      ['ts file=./x.ts', /must be a relative path/],
      ['ts file=x.js', /must end with \.ts/],
      ['ts file=block-3.ts', /runner's own/],
      ['ts no-run="x" no-run="y"', /given twice/],
      ['ts no-run="x" services=postgres', /drop services=/],
      ['ts file=a.ts no-run="x"', /never executed on their own/],
      ['ts no-check="x" file=a.ts', /neither checked nor run/],
      ['ts no-run="unclosed', /cannot read the fence attributes/],
      ['typescript', /write ```ts instead of ```typescript/],
    ];
    for (const [info, expected] of cases) {
      const { blocks, problems } = extractBlocks(page('intro', '', `${fence}${info}`, 'x;', fence), 'docs/p.md');
      expect(blocks, info).toEqual([]);
      expect(problems, info).toHaveLength(1);
      expect(problems[0], info).toMatchObject({ page: 'docs/p.md', line: 3 });
      expect(problems[0]!.message, info).toMatch(expected);
    }
  });

  it('refuses two blocks of one page with the same file=', () => {
    const md = page(`${fence}ts file=a.ts`, 'a;', fence, `${fence}ts file=a.ts`, 'b;', fence);
    expect(extractBlocks(md, 'p.md').problems).toEqual([
      { page: 'p.md', line: 4, message: 'file=a.ts is already the block at line 1' },
    ]);
  });

  it('reads an indented fence (in a list item) without its indentation, and a longer fence around backticks', () => {
    const md = page(
      '- item',
      '',
      '  ```ts',
      '  const a = 1;',
      '    nested;',
      '  ```',
      '````js',
      'const t = `x`;',
      '```',
      '````',
    );
    const { blocks } = extractBlocks(md, 'p.md');
    expect(blocks.map((b) => b.code)).toEqual(['const a = 1;\n  nested;\n', 'const t = `x`;\n```\n']);
  });

  it('reports a fence that is never closed', () => {
    expect(extractBlocks(page('a', `${fence}ts`, 'x;'), 'p.md').problems).toEqual([
      { page: 'p.md', line: 2, message: 'code fence is never closed' },
    ]);
  });
});

describe('helpers', () => {
  it('splits attributes with quoted values, and refuses text that is not one', () => {
    expect(splitAttributes(' a=1  b="two words" c d=\'x y\'')).toEqual([
      ['a', '1'],
      ['b', 'two words'],
      ['c', undefined],
      ['d', 'x y'],
    ]);
    expect(splitAttributes('')).toEqual([]);
    expect(splitAttributes('a="x"b')).toBeNull();
    expect(splitAttributes('=x')).toBeNull();
  });

  it('names block files by line, test files by .test, file= blocks by their path', () => {
    const [plain, test, module] = extractBlocks(
      page(
        `${fence}ts`,
        'a;',
        fence,
        `${fence}ts`,
        "import { it } from 'vitest';",
        fence,
        `${fence}ts file=m/0001.ts`,
        "import { it } from 'vitest';",
        fence,
      ),
      'p.md',
    ).blocks;
    expect(blockFileName(plain!)).toBe('block-1.ts');
    expect(usesVitest(test!.code)).toBe(true);
    expect(blockMode(test!)).toEqual({ kind: 'execute', runner: 'vitest' });
    expect(blockFileName(test!)).toBe('block-4.test.ts');
    expect(blockFileName(module!)).toBe('m/0001.ts');
    expect(pageSlug('docs/guides/postgres.md')).toBe('docs__guides__postgres');
  });

  it('lists README.md, docs/**, packages/*/README.md and examples/**/README.md, skipping node_modules', () => {
    const root = mkdtempSync(join(tmpdir(), 'docs-extract-'));
    try {
      const files = [
        'README.md',
        'docs/a.md',
        'docs/guides/b.md',
        'docs/notes.txt',
        'packages/core/README.md',
        'packages/core/CHANGELOG.md',
        'packages/bare/index.ts',
        'examples/x/README.md',
        'examples/x/other.md',
        'examples/x/node_modules/dep/README.md',
      ];
      for (const f of files) {
        mkdirSync(join(root, f, '..'), { recursive: true });
        writeFileSync(join(root, f), '');
      }
      expect(docFiles(root)).toEqual([
        'README.md',
        'docs/a.md',
        'docs/guides/b.md',
        'examples/x/README.md',
        'packages/core/README.md',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
