/**
 * The README's minimal example must run as written: extract its TypeScript block, run it with tsx
 * from inside the workspace, and check what it prints.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

it('README minimal example runs and applies 4 steps, then rolls back', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, 'README has a ```ts block').toBeTruthy();
  const dir = mkdtempSync(join(here, '.readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, block!);
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: here, encoding: 'utf8' });
    expect(out).toContain('applied: 4');
    expect(out).toContain('failed: 0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
