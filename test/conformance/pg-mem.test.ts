import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { recordSkip } from '@mcp/test-support';
import { pgMemHarness } from './harnesses/pg-mem.js';

await runConformance(pgMemHarness, {
  runner: { describe, it, expect, afterEach },
  onSkip: ({ reason }) => recordSkip('conformance: pg-mem', reason),
});
