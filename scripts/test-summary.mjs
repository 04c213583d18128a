// Prints the closing summary line of a vitest JSON report in the plain form
// "N passed, N failed, N skipped", so that any CI log reader can count the run.
//
// Before it, when cases were skipped, a banner says how many, in which files, and why: outside CI
// (MCP_MIGRATE_REQUIRE_SERVICES unset) the real-server suites skip when their server is absent, and
// a green run that never touched a database must not look like one that did. The reasons come from
// the skip log @mcp/test-support writes (packages/test-support/src/services.ts; entries older than this
// run are ignored), for test/ and the packages' own tests alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = process.argv[2] ?? '.vitest-report.json';
const skipLog = process.env.MCP_MIGRATE_SKIP_LOG ?? join(root, 'node_modules', '.cache', 'mcp-migrate', 'skips.jsonl');

let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`[test] no test report at ${file}: ${error.message}`);
  process.exit(1);
}

/** Skipped cases per test file (relative to the repository), from the report. */
function skippedByFile() {
  const out = new Map();
  for (const r of report.testResults ?? []) {
    const n = (r.assertionResults ?? []).filter(
      (a) => a.status === 'pending' || a.status === 'skipped' || a.status === 'todo',
    ).length;
    if (n) out.set(relative(root, r.name), n);
  }
  return out;
}

/** Reasons recorded by the test helpers during this run, per file: `service: reason`. */
function skipReasons() {
  const out = new Map();
  if (!existsSync(skipLog)) return out;
  const since = (report.startTime ?? 0) - 60_000;
  for (const line of readFileSync(skipLog, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.at < since) continue;
    const key = relative(root, entry.file);
    const reasons = out.get(key) ?? new Set();
    reasons.add(`${entry.service}: ${entry.reason}`);
    out.set(key, reasons);
  }
  return out;
}

function banner(skipped) {
  const reasons = skipReasons();
  const total = [...skipped.values()].reduce((a, b) => a + b, 0);
  const serverFiles = [...skipped.keys()].filter((f) => reasons.has(f));
  const serverCases = serverFiles.reduce((n, f) => n + skipped.get(f), 0);
  const line = '!'.repeat(78);
  console.log(`\n${line}`);
  console.log(
    `!! ${total} TEST CASE(S) SKIPPED: this run did NOT test them${serverCases ? ` (${serverCases} have a recorded reason: a real server absent, or a server or shard without a feature or capability; reasons below)` : ''}`,
  );
  if (process.env.MCP_MIGRATE_REQUIRE_SERVICES !== '1') {
    console.log(
      '!! MCP_MIGRATE_REQUIRE_SERVICES is not set: an absent server skips its suites instead of failing them.',
    );
    console.log('!! Start the servers with: bash scripts/services.sh start; source .services/env');
  }
  for (const [f, n] of [...skipped].sort()) {
    console.log(`!!   ${String(n).padStart(3)} skipped in ${f}`);
    for (const reason of reasons.get(f) ?? ['(no reason recorded: a skip outside @mcp/test-support)'])
      console.log(`!!         ${reason}`);
  }
  console.log(`${line}\n`);
}

const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const byFile = skippedByFile();
if (byFile.size) banner(byFile);
const failedSuites = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
).length;
if (failedSuites) console.log(`[test] ${failedSuites} test file(s) failed to load`);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + failedSuites} failed, ${skipped} skipped`);
