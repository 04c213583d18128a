import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '@mcp/migrate-core/testing/conformance';
import { ferretdbVersion, recordSkip, shouldRun } from '@mcp/test-support';
import { mongoHarness } from './harnesses/mongodb.js';

const ferretdb = await ferretdbVersion();

// Every case runs on MongoDB and on FerretDB. FerretDB v1.24 pushes no filter down to SQLite, so
// each per-document write scans the whole collection (~10 ms at a few thousand documents): the
// cases are the same, with longer timeouts, and only the verification table is smaller there
// (the case's name says so).
// FerretDB v1.24 does not apply concurrent updates of one document atomically: of 20 racing
// `findOneAndUpdate`s with `$inc`, several "win" with the same token. The lease lock claims each
// take by a unique insert (the one write FerretDB keeps atomic), so the race case runs there too.
await runConformance(mongoHarness, {
  runner: { describe, it, expect, afterEach },
  gate: shouldRun,
  onSkip: ({ reason }) => recordSkip('conformance: mongodb', reason),
  timeoutScale: ferretdb ? 5 : 1,
  ...(ferretdb ? { verificationRows: { rows: 1_200, reason: `FerretDB ${ferretdb} pushes no filter down` } } : {}),
});
