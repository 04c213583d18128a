/** The doc samples' runner: imports between blocks, page lines in output, the summary line. */
import { describe, expect, it } from 'vitest';
import { checkLocalImports, extractBlocks, importersOf, localImports } from './extract.js';
import { summarize, toPageLines, type Outcome, type PlacedBlock } from './runner.js';

const fence = '```';
const md = [
  `${fence}ts file=migrations/0001-a.ts`,
  'export default 1;',
  fence,
  `${fence}ts`,
  "import a from './migrations/0001-a.js';",
  'console.log(a);',
  fence,
  `${fence}ts no-run="needs a KMS"`,
  'kms();',
  fence,
  `${fence}ts file=late.ts`,
  'export {};',
  fence,
].join('\n');
const { blocks } = extractBlocks(md, 'docs/p.md');
const [module, user, kms, late] = blocks as [
  (typeof blocks)[0],
  (typeof blocks)[0],
  (typeof blocks)[0],
  (typeof blocks)[0],
];

describe('imports between blocks', () => {
  it('reads the local modules of import, dynamic import and require, mapping .js to .ts', () => {
    expect(
      localImports("import a from './m/x.js';\nconst b = await import('./y.mjs');\nconst c = require('./z.cjs');"),
    ).toEqual(['m/x.ts', 'm/x.js', 'y.mts', 'y.mjs', 'z.cts', 'z.cjs']);
    expect(localImports("import pg from 'pg';\nimport { a } from '@mcp/migrate-core';")).toEqual([]);
  });

  it('knows which blocks import a file= module, and refuses an import of a module defined below', () => {
    expect(importersOf(module, blocks)).toEqual([user]);
    expect(importersOf(user, blocks)).toEqual([]);
    expect(checkLocalImports(blocks)).toEqual([]);
    const early = extractBlocks(`${fence}ts\nimport './late.js';\n${fence}\n${md}`, 'docs/p.md').blocks;
    expect(checkLocalImports(early)).toEqual([
      {
        page: 'docs/p.md',
        line: 1,
        message: 'imports file=late.ts, which is defined below it (line 14): a block imports only modules above it',
      },
    ]);
  });
  it("resolves a file= module's own imports from its directory", () => {
    const nested = extractBlocks(
      [
        `${fence}ts file=migrations/0001.ts`,
        'export default 1;',
        fence,
        `${fence}ts file=migrations/index.ts`,
        "export { default } from './0001.js';",
        fence,
      ].join('\n'),
      'docs/q.md',
    ).blocks;
    expect(importersOf(nested[0]!, nested)).toEqual([nested[1]]);
  });
});

describe('toPageLines', () => {
  it('maps a block file position in a stack trace to the page line', () => {
    const placed: PlacedBlock[] = [{ block: user, file: '/s/docs__p/block-4.ts', dir: '/s/docs__p' }];
    expect(toPageLines('at f (file:///s/docs__p/block-4.ts:2:5)\n/s/docs__p/block-4.ts:1', placed)).toBe(
      'at f (docs/p.md:6:5)\ndocs/p.md:5',
    );
  });
});

describe('summarize', () => {
  it('counts modules that ran through an importer as executed, and groups the reasons of the rest', () => {
    const outcomes = new Map<(typeof blocks)[0], Outcome>([
      [module, { kind: 'imported', by: 'docs/p.md:4' }],
      [user, { kind: 'executed', ok: true, ms: 10 }],
      [kms, { kind: 'skipped', reason: 'no-run: needs a KMS' }],
      [late, { kind: 'skipped', reason: 'file= module: no block that ran imports it' }],
    ]);
    const s = summarize(blocks, 4, outcomes);
    expect(s).toMatchObject({ executed: 2, skipped: 2 });
    expect(s.text.split('\n')).toEqual([
      'doc samples: 4 blocks, 4 type-checked, 2 executed, 2 skipped (1 no-run, 1 file= module)',
      '  docs/p.md:1 file=migrations/0001-a.ts: ran as a module of docs/p.md:4',
      '  docs/p.md:8 skipped: no-run: needs a KMS',
      '  docs/p.md:11 skipped: file= module: no block that ran imports it',
    ]);
    expect(() => summarize(blocks, 4, new Map())).toThrow('no outcome for docs/p.md:1');
  });
});
