/**
 * The runnable examples must keep running: each is started as a user would start it, and what it
 * prints at the end is checked.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = (example: string, env: Record<string, string> = {}) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: join(root, 'examples', example), encoding: 'utf8', env: { ...process.env, ...env } });

it('examples/data-migrations: resumes after an interruption, finds a corrupted row by key, rolls back exactly', () => {
  const out = run('data-migrations');
  expect(out).toMatch(/mg-0: failed, checkpoint after \["d-0-\d+"\]/);
  expect(out).toContain('resumed run: 2 applied');
  expect(out).toContain('"read":20000,"written":20000');
  expect(out).toContain('verify: ok');
  expect(out).toContain('first row ["d-1-000042"]: unexpected status "Sent"');
  expect(out).toContain('rollback exact: true');
}, 120_000);

it('examples/host-service: the first start applies everything, the second applies nothing', () => {
  const out = run('host-service', { DEMO_MESSAGES: '8000' });
  expect(out).toContain('report: 16 applied, 0 already applied, 0 failed, 0 not run');
  expect(out).toContain('report: 0 applied, 16 already applied, 0 failed, 0 not run');
  expect(out).toMatch(/mg-0\s+mongodb\s+up\s+2\s+0\s+0102-message-content-structured/);
}, 120_000);
