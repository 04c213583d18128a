/**
 * What a host service (MCP, Chat, Adaptor) does at startup: build a migrator over its shards, wire
 * the events to its logger, and `await migrator.run()` before it takes traffic. Every replica runs
 * this; one applies, the others wait for it and return.
 */
import {
  createMigrator,
  hashRouter,
  isMigrateError,
  RunFailedError,
  type EngineAdapter,
  type RunReport,
} from '@mcp/migrate-core';
import { migrations } from './migrations.js';
import { ProgressPrinter } from './progress.js';

export interface ServiceOptions {
  readonly engines: { readonly postgres: EngineAdapter; readonly mongodb: EngineAdapter };
  readonly out?: NodeJS.WritableStream;
}

export async function startService(options: ServiceOptions): Promise<RunReport> {
  const migrator = createMigrator({
    engines: options.engines,
    router: hashRouter({ key: 'tenant_id' }),
    migrations,
    concurrency: 4,
    strategy: 'canary',
    onFailure: 'halt',
  });
  const progress = new ProgressPrinter(options.out ?? process.stdout);
  progress.attach(migrator);
  try {
    return await migrator.run({ mode: 'apply' });
  } catch (error) {
    if (error instanceof RunFailedError) progress.line(`run failed: ${error.message}`);
    else if (isMigrateError(error)) progress.line(`migrations refused (${error.code}): ${error.message}`);
    throw error;
  } finally {
    progress.stop();
  }
}

export { migrations };
