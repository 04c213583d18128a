import { runConformance } from './suite.js';
import { postgresHarness } from './harnesses/postgres.js';

await runConformance(postgresHarness);
