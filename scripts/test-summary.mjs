// Prints the closing summary line of a vitest JSON report in the plain form
// "N passed, N failed, N skipped", so that any CI log reader can count the run.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-report.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`[test] no test report at ${file}: ${error.message}`);
  process.exit(1);
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const failedSuites = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
if (failedSuites) console.log(`[test] ${failedSuites} test file(s) failed to load`);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + failedSuites} failed, ${skipped} skipped`);
