import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { recordSkip } from '@mcp/test-support';
import { memoryHarness } from './harnesses/memory.js';

const runner = { describe, it, expect, afterEach };

// The memory engine as it comes (no compare-and-set, inspect, reads page by page with `scan`), with
// compare-and-set on and inspect off, with compare-and-set and batch writes, and with streaming
// reads (`openScan`, a snapshot cursor) alone and with compare-and-set and batch writes, so that the
// cases about each capability, or its absence, run somewhere in memory.
for (const harness of [
  memoryHarness(),
  memoryHarness({ compareAndSet: true, inspect: false }),
  memoryHarness({ compareAndSet: true, batchWrite: true }),
  memoryHarness({ openScan: true }),
  memoryHarness({ openScan: true, compareAndSet: true, batchWrite: true }),
])
  await runConformance(harness, { runner, onSkip: ({ reason }) => recordSkip(`conformance: ${harness.name}`, reason) });
