import { runConformance } from './suite.js';
import { pgMemHarness } from './harnesses/pg-mem.js';

await runConformance(pgMemHarness);
