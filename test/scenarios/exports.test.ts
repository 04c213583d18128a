/**
 * The published shape: every entry point of every package loads through `import` and `require`,
 * with the same names, and the public API the design promises is there (node-postgres' pg-esm-test,
 * drizzle's exports test).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

const ENTRIES: Record<string, readonly string[]> = {
  '@mcp/migrate-core': [
    'createMigrator',
    'defineMigration',
    'defineDataMigration',
    'hashRouter',
    'rangeRouter',
    'StatusTracker',
    'isMigrateError',
    'compareData',
    'redact',
    'loadMigrations',
    'plan',
    'VetoError',
    'MIGRATOR_DEFAULTS',
  ],
  '@mcp/migrate-core/engine': [
    'EngineAdapterBase',
    'engineAdapterDefaults',
    'verifyEngineAdapter',
    'errorClass',
    'canonicalEncode',
    'typedEncode',
    'RowSetHash',
    'compareKeys',
    'sameValue',
    'diffRow',
    'Scrubber',
    'secretForms',
    'connectionSecrets',
    'isConnectionLoss',
    'ShardUnavailableError',
    'acquireLock',
    'fenceOf',
  ],
  '@mcp/migrate-core/testing': ['memoryEngine', 'createMemoryStore', 'MemoryShard'],
  '@mcp/migrate-core/testing/conformance': ['runConformance', 'conformanceCases', 'CONCURRENT_TRY_ACQUIRE'],
  '@mcp/migrate-postgres': ['postgresEngine'],
  '@mcp/migrate-mongodb': ['mongoEngine'],
};
// @mcp/migrate-transformers is checked once, name for name, by packages/transformers/test/exports.test.ts.

describe.each(Object.entries(ENTRIES))('%s', (name, expected) => {
  it('loads with import and require, with the same names, including the promised API', async () => {
    const esm = (await import(name)) as Record<string, unknown>;
    const cjs = require(name) as Record<string, unknown>;
    const esmNames = Object.keys(esm)
      .filter((k) => k !== 'default' && k !== 'module.exports')
      .sort();
    expect(
      Object.keys(cjs)
        .filter((k) => k !== 'default')
        .sort(),
    ).toEqual(esmNames);
    for (const n of expected) expect(esm[n], `${name} exports ${n}`).toBeDefined();
  });
});

describe('@mcp/migrate-core root', () => {
  it('is the host API: the adapter SPI and the utilities of adapter authors are at @mcp/migrate-core/engine only', async () => {
    const root = (await import('@mcp/migrate-core')) as Record<string, unknown>;
    const spiOnly = [
      'EngineAdapterBase',
      'engineAdapterDefaults',
      'verifyEngineAdapter',
      'canonicalEncode',
      'typedEncode',
      'RowSetHash',
      'compareKeys',
      'sameValue',
      'diffRow',
      'Scrubber',
      'secretForms',
      'isConnectionLoss',
      'stepFailure',
      'acquireLock',
      'fenceOf',
    ];
    for (const n of spiOnly) expect(root[n], `the root does not export ${n}`).toBeUndefined();
  });
});
