import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { memoryHarness } from './harnesses/memory.js';

const runner = { describe, it, expect, afterEach };

// The memory engine as it comes (no compare-and-set, inspect), and with compare-and-set on and
// inspect off, so that the cases about either capability, or its absence, run somewhere in memory.
await runConformance(memoryHarness(), { runner });
await runConformance(memoryHarness({ compareAndSet: true, inspect: false }), { runner });
