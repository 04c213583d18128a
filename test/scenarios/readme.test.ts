/**
 * The README's minimal example must run as written: extract its TypeScript block, run it with tsx
 * from inside the workspace, and check what it prints and what it did to the data. The example
 * seeds nothing, so the test adds messages to its memory engine before the run and prints the
 * stored messages after the run and after the rollback (three small hooks at anchors the test
 * requires to be in the block; the example's own lines run unchanged).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Runs before the example's own code (imports are hoisted, these statements run first). */
const HOOKS = `
const __snapshot = (engine: any) => JSON.stringify(Object.fromEntries(engine.shards.map((s: { id: string }) => [s.id, engine.store.shard(s.id).collection('messages', ['_id']).rows()])));
(globalThis as any).__readmeSeed = (engine: any) => {
  for (const [i, s] of engine.shards.entries()) {
    engine.store.shard(s.id).collection('messages', ['_id']).upsert([
      { _id: \`m\${i}-1\`, tenant_id: \`t\${i}\`, content: 'hello', n: 1.5, meta: { tags: ['a', 'b'], at: null } },
      { _id: \`m\${i}-2\`, tenant_id: \`t\${i}\`, content: { type: 'image', url: 'https://cdn.example/x.png' }, n: -3 },
      { _id: \`m\${i}-3\`, tenant_id: \`t\${i}\`, content: 'ünïcode ✓', n: 0 },
    ]);
  }
  (globalThis as any).__readmeEngine = engine;
  console.log('before ' + __snapshot(engine));
  return engine;
};
(globalThis as any).__readmeSnap = (label: string) => console.log(label + ' ' + __snapshot((globalThis as any).__readmeEngine));
`;

/** The example with the hooks applied at its anchors; throws naming an anchor that is missing. */
function instrument(block: string): string {
  const anchors: [RegExp, string][] = [
    [/memoryEngine\(/, '(globalThis as any).__readmeSeed(memoryEngine('],
    [/(memoryEngine\(\{[^}]*\}\))/, '$1)'],
    [/(const report = await migrator\.run\(\);)/, "$1 (globalThis as any).__readmeSnap('after-run');"],
    [/(await migrator\.rollback\(\{ steps: 1 \}\);)/, "$1 (globalThis as any).__readmeSnap('after-rollback');"],
  ];
  let out = block;
  for (const [pattern, replacement] of anchors) {
    if (!pattern.test(out))
      throw new Error(`README example no longer matches ${pattern}: update test/scenarios/readme.test.ts`);
    out = out.replace(pattern, replacement);
  }
  return HOOKS + out;
}

it('README minimal example runs and applies 4 steps, structures the string contents, then rolls back to the exact messages', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, 'README has a ```ts block').toBeTruthy();
  const dir = mkdtempSync(join(here, '.readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, instrument(block!));
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: here, encoding: 'utf8' });
    expect(out).toContain('applied: 4');
    expect(out).toContain('failed: 0');
    const state = (label: string) => {
      const line = out.split('\n').find((l) => l.startsWith(`${label} `));
      expect(line, `the example printed "${label}"`).toBeDefined();
      return JSON.parse(line!.slice(label.length + 1)) as Record<string, Record<string, unknown>[]>;
    };
    const before = state('before');
    expect(Object.values(before).flat()).toHaveLength(6);
    // Forward: string contents became { type: 'text', text }, everything else is as it was.
    const expected = Object.fromEntries(
      Object.entries(before).map(([shard, docs]) => [
        shard,
        docs.map((d) => (typeof d.content === 'string' ? { ...d, content: { type: 'text', text: d.content } } : d)),
      ]),
    );
    expect(state('after-run')).toEqual(expected);
    expect(state('after-rollback')).toEqual(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
