import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { recordSkip } from '@mcp/test-support';
import { memoryHarness } from './harnesses/memory.js';

const runner = { describe, it, expect, afterEach };

// The memory engine as it comes (no compare-and-set, inspect), and with compare-and-set on and
// inspect off, so that the cases about either capability, or its absence, run somewhere in memory.
for (const harness of [memoryHarness(), memoryHarness({ compareAndSet: true, inspect: false })])
  await runConformance(harness, { runner, onSkip: ({ reason }) => recordSkip(`conformance: ${harness.name}`, reason) });
