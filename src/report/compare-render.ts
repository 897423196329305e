/**
 * The outputs of `smtpbench compare`: the terminal table and the Markdown for a PR comment, with
 * the rule in one sentence and the verdict line; the same verdict words as the JSON. Every string
 * from a run's files is `printable` (and escaped for Markdown).
 */
import Table from 'cli-table3';
import { printable } from '../redact.js';
import type { CompareResult, CompareSide, MetricComparison } from './compare.js';
import { metricKind, plural, type MetricKind } from './compare-metrics.js';
import type { Tolerance } from './compare-tolerance.js';

const fixed = (x: number, digits: number): string => String(Number(x.toFixed(digits)));

/** A value in its unit: `1.234 ms`, `300.2/s`, `0.067 %`. */
function value(kind: MetricKind, v: number | null): string {
  if (v === null) return '–';
  if (kind === 'latency') return `${fixed(v, 3)} ms`;
  if (kind === 'rate') return `${fixed(v, 1)}/s`;
  return `${fixed(v * 100, 3)} %`;
}

function delta(m: MetricComparison): string {
  if (m.delta === null) return '–';
  const sign = m.delta > 0 ? '+' : m.delta < 0 ? '−' : '±';
  const d = Math.abs(m.delta);
  if (m.kind === 'latency') return `${sign}${fixed(d, 3)} ms`;
  if (m.kind === 'rate') return `${sign}${fixed(d, 1)}/s`;
  return `${sign}${fixed(d * 100, 3)} pp`;
}

const pct = (m: MetricComparison): string => (m.deltaPct === null ? '–' : `${m.deltaPct > 0 ? '+' : m.deltaPct < 0 ? '−' : '±'}${fixed(Math.abs(m.deltaPct), 1)} %`);
const pValue = (m: MetricComparison): string => (m.pValue === null ? 'not tested' : m.pValue < 0.001 ? '<0.001' : fixed(m.pValue, 3));

const tol = (t: Tolerance, kind: MetricKind): string =>
  kind === 'ratio' ? `${fixed(t.absolute * 100, 3)} pp` : `${fixed(t.relative * 100, 2)} %${kind === 'latency' && t.absolute > 0 ? ` and ${t.absolute} ms` : ''}`;

/** The rule in one sentence, for every output. */
export function ruleText(r: CompareResult): string {
  const own = Object.entries(r.tolerances.perMetric).map(
    ([k, t]) =>
      `${k} ${t.relative !== undefined ? `${fixed(t.relative * 100, 2)} %` : ''}${t.relative !== undefined && t.absolute !== undefined ? ' and ' : ''}${t.absolute !== undefined ? (metricKind(k) === 'ratio' ? `${fixed(t.absolute * 100, 3)} pp` : `${t.absolute} ms`) : ''}`,
  );
  return (
    `${r.test} (at least ${plural(r.minIntervals, 'measured second')} per side), alpha ${r.alpha}; ` +
    `tolerance: latencies ${tol(r.tolerances.latency, 'latency')}, rates ${tol(r.tolerances.rate, 'rate')}, error and reply shares ${tol(r.tolerances.ratio, 'ratio')}` +
    `${own.length > 0 ? `; per metric: ${own.join(', ')}` : ''}; shares, and a max with its own tolerance, are judged by tolerance alone; ` +
    `an untested latency or rate is at most "beyond tolerance", not counted; max and session are not judged without their own tolerance, nor a phase with data in fewer than ${plural(r.minIntervals, 'measured second')}`
  );
}

/** The closing line: the verdict and the metrics that made it. */
export function verdictLine(r: CompareResult): string {
  const named = (names: readonly string[]): string =>
    names
      .map((n) => r.metrics.find((m) => m.metric === n)!)
      // A share moves in percentage points, as its tolerance: +200 % of a 1 % share says less.
      .map((m) => `${m.metric} ${m.deltaPct === null || m.kind === 'ratio' ? delta(m) : pct(m)}${m.tested ? ` (p ${pValue(m)})` : m.verdict === 'beyond tolerance' ? '' : ' (by tolerance)'}`)
      .join(', ');
  const improved = r.improvements.length > 0 ? `; improved: ${named(r.improvements)}` : '';
  const untested = r.beyondTolerance.length > 0 ? `; beyond tolerance but not tested (not counted): ${named(r.beyondTolerance)}` : '';
  return r.regression
    ? `compare: REGRESSION in ${r.regressions.length} of ${plural(r.metrics.length, 'metric')}: ${named(r.regressions)}${improved}${untested}`
    : `compare: no regression (${plural(r.metrics.length, 'metric')})${improved}${untested}`;
}

const HEAD = ['metric', 'baseline', 'current', 'delta', 'delta %', 'p', 'verdict'];

function sideLine(name: string, s: CompareSide): string {
  return printable(
    `${name}: ${s.source} (run ${s.runId}, ${s.executor} model${s.gitSha ? `, git ${s.gitSha.slice(0, 12)}` : ''}; ${s.seconds > 0 ? plural(s.seconds, 'measured second') : 'no per-second data'})`,
  );
}

/** The terminal form: the two sides, the table, notes, the rule and the verdict line. */
export function renderCompareTable(r: CompareResult): string {
  // No colours (they garble logs and CI output) and no rule between rows, as the run tables.
  const table = new Table({ head: HEAD, style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const m of r.metrics) table.push([m.metric, value(m.kind, m.baseline), value(m.kind, m.current), delta(m), pct(m), pValue(m), m.verdict]);
  return [sideLine('baseline', r.baseline), sideLine('current', r.current), table.toString(), ...r.notes.map((n) => `note: ${n}`), `rule: ${ruleText(r)}`, verdictLine(r)].join('\n');
}

/**
 * Text for Markdown, as plain text: one printable line, with a backslash before each character
 * that could start markup (CommonMark §2.4 lets any ASCII punctuation be escaped so): `|` would
 * split a table cell (GFM tables), `<` `>` open raw HTML, a backtick a code span, `[` `]` a link,
 * `*` `_` `~` emphasis, `&` an entity, `\\` an escape of its own. A run's id or path could
 * otherwise forge a verdict line or inject HTML into a PR comment.
 */
export const markdownText = (s: string): string => printable(s).replace(/[\\`*_~[\]<>|&]/g, '\\$&');

/** Markdown for a PR comment: a headline verdict, the table, the test, alpha and tolerances. */
export function renderCompareMarkdown(r: CompareResult): string {
  const row = (cells: string[]): string => `| ${cells.map(markdownText).join(' | ')} |`;
  const side = (s: CompareSide): string => `${markdownText(s.source)} (run ${markdownText(s.runId)}${s.gitSha ? `, git ${markdownText(s.gitSha.slice(0, 12))}` : ''})`;
  const changed = r.metrics.filter((m) => m.verdict === 'regression' || m.verdict === 'improvement' || m.verdict === 'beyond tolerance');
  return [
    `## smtpbench compare: ${r.regression ? `**REGRESSION** in ${r.regressions.length} of ${plural(r.metrics.length, 'metric')}` : `**no regression** (${plural(r.metrics.length, 'metric')})`}`,
    '',
    `Baseline ${side(r.baseline)} → current ${side(r.current)}.`,
    ...r.notes.map((n) => `\n> **Note:** ${markdownText(n)}.`),
    '',
    ...(changed.length > 0
      ? [
          'Changed:',
          '',
          row(HEAD),
          row(['---', '---:', '---:', '---:', '---:', '---:', '---']),
          ...changed.map((m) => row([m.metric, value(m.kind, m.baseline), value(m.kind, m.current), delta(m), pct(m), pValue(m), m.verdict])),
          '',
        ]
      : []),
    '<details><summary>All metrics</summary>',
    '',
    row(HEAD),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---']),
    ...r.metrics.map((m) => row([m.metric, value(m.kind, m.baseline), value(m.kind, m.current), delta(m), pct(m), pValue(m), m.verdict])),
    '',
    '</details>',
    '',
    `Rule: a latency or rate regressed when its change is significant (p < alpha) and beyond its tolerance in the bad direction (latency up, throughput down); an error or reply share, or a max with its own tolerance, when it is beyond its tolerance upwards. ${ruleText(r)}.`,
    '',
    'Verdicts: **regression** / **improvement** beyond tolerance and significant (shares and a max with its own tolerance: beyond tolerance); **unchanged** within tolerance or not significant; **beyond tolerance** a latency or rate that could not be tested, not counted; **not judged** no value on a side, no tolerance, or too sparse.',
    '',
  ].join('\n');
}
