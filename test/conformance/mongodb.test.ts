import { ferretdbVersion } from '../support/servers.js';
import { runConformance } from './suite.js';
import { mongoHarness } from './harnesses/mongodb.js';

const ferretdb = await ferretdbVersion();

// Every case runs on MongoDB and on FerretDB. FerretDB v1.24 pushes no filter down to SQLite, so
// each per-document write scans the whole collection (~10 ms at a few thousand documents): the
// cases are the same, with longer timeouts.
await runConformance(mongoHarness, { timeoutScale: ferretdb ? 5 : 1 });
