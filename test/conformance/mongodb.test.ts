import { ferretdbVersion } from '../support/servers.js';
import { runConformance } from './suite.js';
import { mongoHarness } from './harnesses/mongodb.js';

const ferretdb = await ferretdbVersion();

// Every case runs on MongoDB and on FerretDB. FerretDB v1.24 pushes no filter down to SQLite, so
// each per-document write scans the whole collection (~10 ms at a few thousand documents): the
// cases are the same, with longer timeouts, and only the verification table is smaller there
// (the case's name says so).
await runConformance(mongoHarness, {
  timeoutScale: ferretdb ? 5 : 1,
  ...(ferretdb ? { verificationRows: { rows: 1_200, reason: `FerretDB ${ferretdb} pushes no filter down` } } : {}),
});
