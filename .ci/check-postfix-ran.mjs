#!/usr/bin/env node
// Fails (exit 1) unless vitest's JSON report shows that the tests needing real components
// actually ran and passed: the real-MTA tests in test/postfix.int.test.ts, and the check of
// run.hlog by the reference Java HdrHistogram tools in test/hlog.int.test.ts. A skipIf() that
// silently skipped them (SMTPBENCH_POSTFIX unset, no Java jar), a missing file, or a file with
// no tests all fail.
//
// Usage: node .ci/check-postfix-ran.mjs [report.json]   (default .ci/vitest-report.json)
import { readFileSync } from 'node:fs';

const REPORT = process.argv[2] ?? '.ci/vitest-report.json';
// Each file and how many tests it has at least; fewer means one was lost.
const REQUIRED = [
  { suffix: 'test/postfix.int.test.ts', min: 2 },
  { suffix: 'test/hlog.int.test.ts', min: 2 },
];

function fail(msg) {
  console.error(`check-postfix-ran: FAIL: ${msg}`);
  process.exit(1);
}

let report;
try {
  report = JSON.parse(readFileSync(REPORT, 'utf8'));
} catch (err) {
  fail(`cannot read vitest JSON report ${REPORT}: ${err.message}`);
}
if (!Array.isArray(report.testResults)) fail(`${REPORT} has no testResults array`);

let total = 0;
for (const { suffix: FILE_SUFFIX, min: MIN_TESTS } of REQUIRED) {
  const files = report.testResults.filter((f) =>
    String(f.name ?? '').replaceAll('\\', '/').endsWith(FILE_SUFFIX),
  );
  if (files.length === 0) fail(`${FILE_SUFFIX} is absent from ${REPORT}`);

  const tests = files.flatMap((f) => f.assertionResults ?? []);
  for (const f of files) {
    if (f.status !== 'passed' && f.message) console.error(`check-postfix-ran: ${f.name}: ${f.message}`);
  }
  if (tests.length < MIN_TESTS) {
    fail(`${FILE_SUFFIX} reported ${tests.length} test(s), expected at least ${MIN_TESTS}`);
  }

  let bad = 0;
  for (const t of tests) {
    const line = `${t.status.padEnd(7)} ${t.fullName}`;
    if (t.status === 'passed') {
      console.log(`check-postfix-ran: ${line}`);
    } else {
      bad++;
      console.error(`check-postfix-ran: ${line}`);
    }
  }
  if (bad > 0) {
    fail(
      `${bad} of ${tests.length} test(s) in ${FILE_SUFFIX} did not pass (skipped/pending/todo/failed); ` +
        'is SMTPBENCH_POSTFIX set and the private Postfix running, and is libhdrhistogram-java installed?',
    );
  }
  total += tests.length;
}
console.log(`check-postfix-ran: OK: ${total} test(s) needing Postfix or Java HdrHistogram passed`);
