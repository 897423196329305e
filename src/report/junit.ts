/**
 * Threshold verdicts as JUnit XML, for CI test tabs (`--junit FILE`): one `<testsuite name="smtpbench
 * thresholds">`, one `<testcase>` per threshold, a `<failure>` with the measured value for each
 * failed one. The de-facto schema CI systems read (Jenkins' and GitLab's JUnit reports):
 * `testsuites > testsuite[name, tests, failures, errors, skipped, time, timestamp] > testcase[name,
 * classname, time] > failure[message, type]`.
 */
import { formatValue, verdictLine, type Verdict } from './thresholds.js';

/** Text safe in XML 1.0 content and attribute values: the five special characters escaped, characters XML forbids dropped. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/**
 * The JUnit XML document of `verdicts` (written even when every threshold passed, or none was given).
 * @param run the run's id, start time (ISO 8601) and measured seconds, for the suite's attributes
 */
export function junitXml(verdicts: readonly Verdict[], run: { readonly runId: string; readonly startedAt: string; readonly durationS: number }): string {
  const failures = verdicts.filter((v) => !v.ok).length;
  const attrs = `name="smtpbench thresholds" tests="${verdicts.length}" failures="${failures}" errors="0" skipped="0" time="${run.durationS}" timestamp="${xmlEscape(run.startedAt)}"`;
  const cases = verdicts.map((v) => {
    const head = `    <testcase name="${xmlEscape(v.expression)}" classname="smtpbench.thresholds" time="0">`;
    if (v.ok) return `${head}</testcase>`;
    const message = `${v.metric} = ${formatValue(v.value, v.unit, v.metric)}`;
    return [head, `      <failure message="${xmlEscape(message)}" type="threshold">${xmlEscape(verdictLine(v))}</failure>`, '    </testcase>'].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="smtpbench" tests="${verdicts.length}" failures="${failures}">`,
    `  <testsuite ${attrs}>`,
    `    <properties><property name="runId" value="${xmlEscape(run.runId)}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
