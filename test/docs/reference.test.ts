/**
 * docs/reference/{configuration,events,reports,errors}.md are generated from the code by
 * scripts/gen-reference.ts. This suite fails when a checked-in page differs from what the code
 * gives (run `pnpm run docs:reference`), and checks that the generator's sources cannot lie:
 * every code→class pair of errors.md is what constructing that class gives, and a default or an
 * option that disagrees between the code, its doc and its schema stops the generator.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMigrateError } from '../../packages/core/src/index.js';
import { callSchemas } from '../../packages/core/src/run/options.js';
import { configSchema } from '../../packages/core/src/run/config.js';
import { CALL_DEFAULTS, MIGRATOR_DEFAULTS } from '../../packages/core/src/run/defaults.js';
import {
  errorClasses,
  generateReference,
  PAGES,
  REFERENCE_DIR,
  REGENERATE,
  stalePages,
  staleMessage,
  type Reference,
} from '../../scripts/gen-reference.js';
import { configurationPage, splitDefault, type JsonSchema } from '../../scripts/reference/configuration.js';
import { construct } from '../../scripts/reference/error-sites.js';

let ref: Reference;
const scratch = mkdtempSync(join(tmpdir(), 'mcp-reference-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(() => {
  ref = generateReference();
}, 180_000);

const json = (s: { toJSONSchema(o: object): unknown }) =>
  s.toJSONSchema({ unrepresentable: 'any', io: 'input' }) as JsonSchema;
const sources = () => ({
  migratorDefaults: MIGRATOR_DEFAULTS,
  callDefaults: CALL_DEFAULTS,
  configSchema: json(configSchema),
  callSchemas: Object.fromEntries(Object.entries(callSchemas).map(([k, s]) => [k, json(s)])),
});

describe('docs/reference is generated from the code', () => {
  it('the checked-in pages are the generated ones', () => {
    const stale = stalePages(ref.pages);
    expect(stale, staleMessage(stale)).toEqual([]);
  });

  it('--check names a page that drifted and says how to regenerate it', () => {
    cpSync(REFERENCE_DIR, scratch, { recursive: true });
    writeFileSync(join(scratch, 'events.md'), `${ref.pages['events.md']}edited by hand\n`);
    const stale = stalePages(ref.pages, scratch);
    expect(stale).toEqual(['events.md']);
    expect(staleMessage(stale)).toContain(`Run \`${REGENERATE}\``);
    expect(PAGES).toHaveLength(4);
  });

  it('every code→class pair on errors.md is what constructing that class gives', () => {
    const classes = errorClasses();
    let pairs = 0;
    for (const [code, carriers] of ref.sites) {
      for (const carrier of carriers.values()) {
        const error = construct(classes[carrier.className]!, carrier, code);
        expect(isMigrateError(error), `${carrier.className} is a MigrateError`).toBe(true);
        expect(error.name, carrier.sites[0]).toBe(carrier.className);
        expect(error.code, `${carrier.className} at ${carrier.sites[0]}`).toBe(code);
        pairs++;
      }
    }
    expect(pairs).toBeGreaterThan(30);
  });

  it('reads the classes from the construction sites, adapters included', () => {
    const classesOf = (code: string) => [...(ref.sites.get(code)?.keys() ?? [])].sort();
    // The pairs the hand-written page had wrong.
    expect(classesOf('MIGRATE_CONFIG')).toEqual(['DefinitionError', 'PlanError']);
    expect(classesOf('MIGRATE_ROLLBACK')).toEqual(['PlanError', 'RollbackError']);
    expect(classesOf('MIGRATE_MIGRATION_FAILED')).toEqual(['MigrateError', 'MigrationFailedError']);
    expect([...ref.sites.get('MIGRATE_MIGRATION_FAILED')!.get('MigrateError')!.packages]).toEqual(['mongodb']);
    expect(classesOf('MIGRATE_UNEXPECTED')).toEqual([]);
    expect(ref.pages['errors.md']).toMatch(/\| `MIGRATE_UNEXPECTED` \| — \(never thrown\) \|/);
    expect(ref.pages['errors.md']).toMatch(/\| `MIGRATE_CONFIG` \| `DefinitionError`, `PlanError` \|/);
  });

  it('every event and every createMigrator option is on its page', () => {
    const events = ref.pages['events.md'].match(/^### `[^`]+`$/gm) ?? [];
    expect(events).toHaveLength(17);
    for (const option of ['logger', 'name', 'runnerId', 'retry.retries', 'lock.ttlMs', 'lock.waitMs', 'control.lock'])
      expect(ref.pages['configuration.md']).toContain(`| \`${option}\` |`);
    expect(ref.pages['configuration.md']).toContain('| `concurrency` | `number` (integer, 1–256) | `4` |');
    expect(ref.pages['configuration.md']).toContain('| `timeoutMs` |');
    for (const shape of ['RunReport', 'StepReport', 'MigratorStatus', 'VerifyReport', 'RepairChange'])
      expect(ref.pages['reports.md']).toContain(`### ${shape}\n`);
  });

  it('a default that differs from its doc stops the generator', () => {
    const lying = { ...sources(), migratorDefaults: { ...MIGRATOR_DEFAULTS, concurrency: 5 } };
    expect(() => configurationPage(ref.program, lying)).toThrow(/"concurrency": its doc must say Default `5`/);
  });

  it('an option the schema refuses, or a default no option has, stops the generator', () => {
    const src = sources();
    const { timeoutMs: _dropped, ...run } = src.callSchemas.run!.properties!;
    const withoutTimeout = {
      ...src,
      callSchemas: { ...src.callSchemas, run: { ...src.callSchemas.run, properties: run } },
    };
    expect(() => configurationPage(ref.program, withoutTimeout)).toThrow(/"timeoutMs" is not in the schema/);
    const orphan = { ...src, migratorDefaults: { ...MIGRATOR_DEFAULTS, batchSize: 10 } };
    expect(() => configurationPage(ref.program, orphan)).toThrow(/defaults name "batchSize", which is no option/);
  });

  it('splits the Default sentence off a doc', () => {
    expect(splitDefault('Shards migrated at once. Default `4`.')).toEqual({
      rest: 'Shards migrated at once.',
      stated: { literal: '4' },
    });
    expect(splitDefault('Receives lines. Default: none (nothing is printed).')).toEqual({
      rest: 'Receives lines.',
      stated: { text: 'none (nothing is printed)' },
    });
  });
});
