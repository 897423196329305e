#!/usr/bin/env node
// Fails (exit 1) unless vitest's JSON report shows that the tests needing real components
// actually ran and passed: the real-MTA tests in test/postfix.int.test.ts and
// test/postfix-client.int.test.ts, delivery through a Postfix relay in test/delivery.int.test.ts, and the check of run.hlog by the reference Java HdrHistogram
// tools in test/hlog.int.test.ts, and report.html drawn in headless Chromium in
// test/report-html.int.test.ts. A skipIf() that silently skipped them (SMTPBENCH_POSTFIX unset,
// no Java jar, no Chromium), a missing file, or a file with no tests all fail.
//
// Usage: node .ci/check-postfix-ran.mjs [report.json]   (default .ci/vitest-report.json)
import { readFileSync } from 'node:fs';

const REPORT = process.argv[2] ?? '.ci/vitest-report.json';
// Each file with its number of tests (postfix.int: fanout and smoke; postfix-client.int: 452
// continuation, overshoot 421, recipient cap, STARTTLS, resumption, failed verification, BDAT, XCLIENT, PROXY v1 and v2, source
// addresses); fewer means one was lost.
const FILES = [
  { suffix: 'test/postfix.int.test.ts', min: 2 },
  { suffix: 'test/postfix-client.int.test.ts', min: 11 },
  // Delivery through a private Postfix relaying to a smtpbench serve sink (run --sink), plus the
  // four sink tests that need no MTA.
  { suffix: 'test/delivery.int.test.ts', min: 5 },
  // run.hlog read back by hdr-histogram-js and by Java's HistogramLogProcessor.
  { suffix: 'test/hlog.int.test.ts', min: 2 },
  // report.html drawn in headless Chromium (Debian's chromium package).
  { suffix: 'test/report-html.int.test.ts', min: 6 },
  { suffix: 'test/capacity-html.int.test.ts', min: 1 },
  // The README's CI workflow, run step by step (thresholds, baseline, compare exit 3).
  { suffix: 'test/ci-workflow.int.test.ts', min: 1 },
  // The Kubernetes Job's and the CI matrix's command lines run as local shards, then merged (they skip
  // when the built CLI lacks the shard flags or merge), and the Dockerfile's runtime stage replayed.
  { suffix: 'test/deploy.int.test.ts', min: 13 },
  // 3 shards as 3 processes, merged: exact counts and histograms, the open-model schedule and rate.
  { suffix: 'test/shards.int.test.ts', min: 4 },
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

const tests = [];
for (const { suffix, min } of FILES) {
  const files = report.testResults.filter((f) =>
    String(f.name ?? '')
      .replaceAll('\\', '/')
      .endsWith(suffix),
  );
  if (files.length === 0) fail(`${suffix} is absent from ${REPORT}`);
  const own = files.flatMap((f) => f.assertionResults ?? []);
  for (const f of files) {
    if (f.status !== 'passed' && f.message) console.error(`check-postfix-ran: ${f.name}: ${f.message}`);
  }
  if (own.length < min) fail(`${suffix} reported ${own.length} test(s), expected at least ${min}`);
  tests.push(...own);
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
  fail(`${bad} of ${tests.length} test(s) needing Postfix, Java or Chromium did not pass (skipped/pending/todo/failed); ` + 'is SMTPBENCH_POSTFIX set and the private Postfix running?');
}
console.log(`check-postfix-ran: OK: ${tests.length} test(s) needing Postfix, Java HdrHistogram or Chromium passed`);
