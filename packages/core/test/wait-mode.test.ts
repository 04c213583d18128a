import { afterEach, expect, it, vi } from 'vitest';
import { defineMigration } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import { memoryEngine } from '../src/testing/index.js';

afterEach(() => {
  vi.useRealTimers();
});

it("run({ mode: 'wait' }) gives up at once when the plan is refused, instead of polling until its timeout", async () => {
  const a = defineMigration({ id: 'a', engine: 'memory', dependsOn: ['b'], up: () => undefined });
  const b = defineMigration({ id: 'b', engine: 'memory', dependsOn: ['a'], up: () => undefined });
  const migrator = createMigrator({ engines: { memory: memoryEngine({ name: 'memory' }) }, migrations: [a, b] });
  // Fake clock: a waiter that polled until its 60 s timeout would need 60 s of simulated time; one
  // that gives up at once settles before the clock moves past its first poll.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const started = Date.now();
  let settled = false;
  const outcome = migrator
    .run({ mode: 'wait', timeoutMs: 60_000 })
    .then(
      () => new Error('resolved instead of refusing'),
      (e: unknown) => e as Error,
    )
    .finally(() => (settled = true));
  for (let i = 0; i < 600 && !settled; i++) await vi.advanceTimersByTimeAsync(100);
  const err = await outcome;
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(err.message).toContain('the plan is refused');
  expect(err.message).toContain('cycle');
  vi.useRealTimers();
  expect((await migrator.verify()).planError?.code).toBe('MIGRATE_CYCLE');
});
