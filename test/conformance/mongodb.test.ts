import { afterEach, describe, expect, it } from 'vitest';
import { CONCURRENT_TRY_ACQUIRE, runConformance } from '@mcp/migrate-core/testing/conformance';
import { ferretdbVersion, recordSkip, shouldRun } from '@mcp/test-support';
import { mongoHarness } from './harnesses/mongodb.js';

const ferretdb = await ferretdbVersion();

// Every case runs on MongoDB and on FerretDB. FerretDB v1.24 pushes no filter down to SQLite, so
// each per-document write scans the whole collection (~10 ms at a few thousand documents): the
// cases are the same, with longer timeouts, and only the verification table is smaller there
// (the case's name says so).
// FerretDB v1.24 does not apply concurrent updates of one document atomically: of 20 racing
// `findOneAndUpdate`s with `$inc`, several "win" with the same token (lost updates), so the lease
// lock is not exclusive under such a race there. The race case runs on MongoDB only, until the
// lock takes leases by unique insert (the one write FerretDB keeps atomic).
await runConformance(mongoHarness, {
  runner: { describe, it, expect, afterEach },
  gate: shouldRun,
  onSkip: ({ reason }) => recordSkip('conformance: mongodb', reason),
  timeoutScale: ferretdb ? 5 : 1,
  ...(ferretdb
    ? {
        skip: {
          [CONCURRENT_TRY_ACQUIRE]: `FerretDB ${ferretdb} applies concurrent updates of one document non-atomically`,
        },
      }
    : {}),
  ...(ferretdb ? { verificationRows: { rows: 1_200, reason: `FerretDB ${ferretdb} pushes no filter down` } } : {}),
});
