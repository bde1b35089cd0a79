// Turns vitest's JSON report into the one line CI reads: `tests: N passed, M failed`.
// Exits non-zero when a test failed, the test command failed, lint failed, or no report exists.
import { existsSync, readFileSync } from 'node:fs';

const [reportPath = '.reports/vitest.json', testStatus = '0', lintStatus = '0'] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that failed to load (syntax error, failing import) has no tests but is a failure.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed++;
  }
} else {
  console.error(`no vitest report at ${reportPath}: the build or the test run failed before vitest wrote it`);
  failed = Math.max(1, failed);
}
if (Number(testStatus) !== 0 && failed === 0) {
  console.error(`the test command exited ${testStatus} although no test failed`);
  failed = 1;
}
if (Number(lintStatus) !== 0) console.error(`pnpm lint exited ${lintStatus}`);
if (skipped > 0) console.error(`${skipped} test(s) skipped`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || Number(lintStatus) !== 0 || passed === 0 ? 1 : 0);
