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
  execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(root, 'examples', example),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

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

it('examples/hooks: a peak-hours veto applies nothing, a step vetoed at the peak resumes off-peak, a queue drains before its step', () => {
  const out = run('hooks');
  expect(out).toContain(
    '10:00 run refused (MIGRATE_VETOED): beforeRun hook vetoed the run: peak hours 9:00-18:00 UTC (now 10:00); nothing was applied',
  );
  expect(out).toContain('after the refused run: pg-0: -; pg-1: -');
  expect(out).toContain('08:57 run stopped at the peak: 2 applied, 1 vetoed, 3 not run');
  expect(out).toContain('after the stopped run: pg-0: 0001-webhooks, 0002-webhook-events; pg-1: -');
  expect(out).toContain('22:00 run: 4 applied, 2 already applied');
  for (const shard of ['pg-0', 'pg-1'])
    expect(out).toContain(`drained 5 queued deliveries on ${shard} before 0004-delivery-payload-v2`);
  expect(out).toContain('queue empty when 0004 ran: pg-0=true, pg-1=true');
  expect(out).toContain('drain run: 2 applied');
}, 120_000);
