import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { shouldRun } from '../support/services.js';
import { postgresHarness } from './harnesses/postgres.js';

await runConformance(postgresHarness, { runner: { describe, it, expect, afterEach }, gate: shouldRun });
