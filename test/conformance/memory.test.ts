import { runConformance } from './suite.js';
import { memoryHarness } from './harnesses/memory.js';

await runConformance(memoryHarness);
