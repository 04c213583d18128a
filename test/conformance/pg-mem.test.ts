import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { pgMemHarness } from './harnesses/pg-mem.js';

await runConformance(pgMemHarness, { runner: { describe, it, expect, afterEach } });
