import { expect, it } from 'vitest';
import { defineMigration } from '../src/definition/migration.js';
import { createMigrator } from '../src/run/migrator.js';
import { memoryEngine } from '../src/testing/index.js';

it("run({ mode: 'wait' }) gives up at once when the plan is refused, instead of polling until its timeout", async () => {
  const a = defineMigration({ id: 'a', engine: 'memory', dependsOn: ['b'], up: () => undefined });
  const b = defineMigration({ id: 'b', engine: 'memory', dependsOn: ['a'], up: () => undefined });
  const migrator = createMigrator({ engines: { memory: memoryEngine({ name: 'memory' }) }, migrations: [a, b] });
  const started = Date.now();
  const err = (await migrator.run({ mode: 'wait', timeoutMs: 60_000 }).catch((e: unknown) => e)) as Error;
  expect(err.message).toContain('the plan is refused');
  expect(err.message).toContain('cycle');
  expect(Date.now() - started).toBeLessThan(30_000);
  expect((await migrator.verify()).planError?.code).toBe('MIGRATE_CYCLE');
});
