import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { recordSkip, shouldRun } from '@mcp/test-support';
import { postgresHarness } from './harnesses/postgres.js';

await runConformance(postgresHarness, {
  runner: { describe, it, expect, afterEach },
  gate: shouldRun,
  onSkip: ({ reason }) => recordSkip('conformance: postgres', reason),
});
