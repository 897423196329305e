/**
 * The capacity curve (`smtpbench capacity`): `capacity.json` (schema 1), the answer line, the
 * terminal table, `report.md` and `report.html` (uPlot, self-contained, with html-page.ts's page CSS,
 * escaping and tables). The search itself is src/load/capacity.ts; each step's own results are
 * ordinary run directories under `steps/`.
 */
import Table from 'cli-table3';
import { PHASES } from '../metrics/phases.js';
import type { SearchEnd, StepVerdict } from '../load/capacity.js';
import type { Profile, Threshold } from '../profile/types.js';
import type { Environment } from './environment.js';
import { esc, pageHtml, tableHtml } from './html-page.js';
import type { SummaryTable } from './markdown.js';
import { formatValue, type Verdict } from './thresholds.js';

export const CAPACITY_SCHEMA = 1;

/** One step of the curve, as capacity.json records it. Latencies in ms, rates in messages per second. */
export interface CapacityStep {
  /** 1-based, in the order run. */
  readonly index: number;
  /** The step's run directory, relative to the capacity run's: `steps/1-50`. */
  readonly dir: string;
  /** Offered (scheduled) arrival rate. */
  readonly rate: number;
  /** Accepted messages per measured second. */
  readonly achievedRate: number;
  /** `interrupted`: cut short by Ctrl-C, neither a pass nor a failure. */
  readonly verdict: StepVerdict;
  /** False when the generator saturated, starts were dropped, or the step was interrupted. */
  readonly reliable: boolean;
  /** Why it failed or was unreliable (the broken SLO's metric, `achieved rate`, `generator saturated`, `N starts dropped`, `interrupted`), null for a pass. */
  readonly reason: string | null;
  /** The curve's phase (the first latency SLO's, else `transaction`) p50 and p99, ms; null with no data. */
  readonly p50: number | null;
  readonly p99: number | null;
  /** errors.rate: messages not accepted over messages due, 0..1; null with nothing due. */
  readonly errorRate: number | null;
  readonly late: number;
  /** Starts never made: messages still due when the step ended (no free session within gracefulStop). */
  readonly dropped: number;
  /** Messages accepted in the measured time. */
  readonly accepted: number;
  /** Client-side errors by kind (`connect-refused`, `greeting-timeout`, …), as summary.json's `errors`. */
  readonly errors: Readonly<Record<string, number>>;
  readonly saturated: boolean;
  /** Measured seconds (after the step's warm-up). */
  readonly durationS: number;
  /** The SLO verdicts of the step (as summary.json's `thresholds`). */
  readonly slos: readonly Verdict[];
  /** Stopped early: an SLO's running value was broken badly (10× its limit) `atS` measured seconds in. */
  readonly stoppedEarly: null | { readonly metric: string; readonly atS: number; readonly value: number | boolean };
}

/** The search's answer. */
export interface CapacityAnswer {
  readonly end: SearchEnd;
  /** The highest passing rate, or null. */
  readonly sustainedRate: number | null;
  /** The lowest failing rate above it (the first rate when it failed), or null. */
  readonly breaksAtRate: number | null;
  /** What broke there: an SLO's metric or `achieved rate`. */
  readonly breaksOn: string | null;
  /** The rate of the unreliable step the search stopped at, or null. */
  readonly unreliableRate: number | null;
  /** The rate of the step Ctrl-C cut short, or null. */
  readonly interruptedRate: number | null;
  /** The answer line. */
  readonly text: string;
}

/** `capacity.json`. */
export interface CapacityReport {
  readonly schema: 1;
  readonly kind: 'capacity';
  readonly runId: string;
  readonly startedAt: string;
  /** Seconds the whole search took. */
  readonly durationS: number;
  readonly target: string;
  readonly slos: readonly Threshold[];
  /** The curve's latency phase (p50/p99 columns). */
  readonly phase: string;
  readonly search: {
    readonly startRate: number;
    readonly factor: number;
    readonly maxRate: number | null;
    readonly precision: number;
    readonly stepDurationS: number;
    readonly warmupS: number;
    readonly maxTimeS: number;
    readonly achievedRateFloor: number;
    readonly brokenBadlyFactor: number;
    /** How sessions are used: each step opens its own (fresh connections), up to maxSessions. */
    readonly sessions: string;
  };
  readonly steps: readonly CapacityStep[];
  readonly answer: CapacityAnswer;
  /** The profile every step derives from (executor, rate, duration and warm-up set per step). */
  readonly profile: Profile;
  readonly environment: Environment;
}

/** The phase whose p50/p99 the curve shows: the first latency SLO's, else `transaction`. */
export function curvePhase(slos: readonly Threshold[]): string {
  for (const s of slos) {
    const prefix = s.metric.slice(0, s.metric.lastIndexOf('.'));
    if (s.unit === 'ms' && (PHASES as readonly string[]).includes(prefix)) return prefix;
  }
  return 'transaction';
}

/** Error kinds that mean the target was never reached: no connection, no greeting. */
const UNREACHED = /^(connect|greeting)-/;

/** "connect-refused ×50, greeting-timeout ×3" when a step accepted nothing and every error is of a kind that never reached the target, else null. */
export function unreachedErrors(s: CapacityStep): string | null {
  const kinds = Object.entries(s.errors).filter(([, n]) => n > 0);
  if (s.accepted > 0 || kinds.length === 0 || !kinds.every(([k]) => UNREACHED.test(k))) return null;
  return kinds.map(([k, n]) => `${k} ×${n}`).join(', ');
}

/**
 * The answer line, e.g. "sustains 190 msg/s (transaction.p99 12.3 ms at that rate); breaks at 200
 * msg/s on transaction.p99". The value shown at the sustained rate is the breaking SLO's (the
 * first SLO's when the achieved rate broke, or nothing broke). Only completed steps count: an
 * `interrupted` step is named ("interrupted at R msg/s") and never judged. A first step that
 * reached nothing (`unreachedErrors`) says the target could not be reached. `cutRate`: the rate
 * of a step cut short that is not in `steps` (a second Ctrl-C aborts before it ends).
 */
export function answerOf(end: SearchEnd, steps: readonly CapacityStep[], slos: readonly Threshold[], precision: number, cutRate: number | null = null): CapacityAnswer {
  // The step Ctrl-C cut short: in `steps`, or (a second Ctrl-C, before it ended) only its rate.
  const cutRateOf = steps.find((s) => s.verdict === 'interrupted')?.rate ?? cutRate;
  const passes = steps.filter((s) => s.verdict === 'pass');
  const sustained = passes.length === 0 ? null : passes.reduce((a, b) => (b.rate > a.rate ? b : a));
  const fails = steps.filter((s) => s.verdict === 'fail' && (sustained === null || s.rate > sustained.rate));
  const breaks = fails.length === 0 ? null : fails.reduce((a, b) => (b.rate < a.rate ? b : a));
  const unreliable = end === 'generator' ? steps[steps.length - 1] : null;
  const shownSlo = slos.find((t) => t.metric === breaks?.reason) ?? slos[0];
  const valueAt = (s: CapacityStep): string => {
    const v = s.slos.find((x) => x.metric === shownSlo.metric);
    return `${shownSlo.metric} ${formatValue(v?.value ?? null, shownSlo.unit, shownSlo.metric)} at that rate`;
  };
  const r = (x: number): string => `${x} msg/s`;
  const breakText = breaks ? `breaks at ${r(breaks.rate)} on ${breaks.reason}` : '';
  let text: string;
  // A first step that reached nothing says so, failed or unreliable: a generator spinning on
  // refused connections is flagged saturated, but the cause is the target (nothing listening).
  const firstBad = breaks ?? unreliable;
  const unreached = firstBad && sustained === null ? unreachedErrors(firstBad) : null;
  if (sustained === null && unreached !== null) {
    text = `the target could not be reached at ${r(firstBad!.rate)}: no message was accepted (${unreached}); check --target and that the MTA is up`;
  } else if (sustained === null) {
    text = breaks
      ? `the target failed the SLOs at the lowest rate tried, ${r(breaks.rate)} (${breaks.reason}; ${valueAt(breaks).replace(' at that rate', '')}): lower --start-rate`
      : unreliable
        ? `no answer: the first step (${r(unreliable.rate)}) was unreliable (${unreliable.reason}); this machine could not offer that rate`
        : cutRateOf !== null
          ? 'no answer: interrupted before a step completed'
          : 'no answer: no step ran';
  } else if (end === 'generator') {
    text = `the target sustained at least ${r(sustained.rate)} (${valueAt(sustained)}); this machine could not offer more (${r(unreliable!.rate)} was unreliable: ${unreliable!.reason})${breaks ? `; ${breakText}` : ''}`;
  } else if (breaks) {
    const coarse = (breaks.rate - sustained.rate) / sustained.rate > precision ? ` (the search stopped (${end}) before the ${precision * 100} % precision)` : '';
    text = `sustains ${r(sustained.rate)} (${valueAt(sustained)}); ${breakText}${coarse}`;
  } else if (end === 'max-rate') {
    text = `the target sustained at least ${r(sustained.rate)} (${valueAt(sustained)}), the --max-rate; no SLO broke`;
  } else {
    text = `the target sustained at least ${r(sustained.rate)} (${valueAt(sustained)}); the search stopped (${end}) before an SLO broke`;
  }
  if (cutRateOf !== null) text = `${text}; interrupted at ${r(cutRateOf)} (that step is not judged)`;
  return {
    end,
    sustainedRate: sustained?.rate ?? null,
    breaksAtRate: breaks?.rate ?? null,
    breaksOn: breaks?.reason ?? null,
    unreliableRate: unreliable?.rate ?? null,
    interruptedRate: cutRateOf,
    text,
  };
}

const fmt = (x: number | null, digits = 1): string => (x === null ? '–' : String(Number(x.toFixed(digits))));
const pct = (x: number | null): string => (x === null ? '–' : `${Number((x * 100).toPrecision(3))} %`);

/** The curve as a table: one row per step, ordered by offered rate (the order run is the `#` column). */
export function curveTable(r: CapacityReport): SummaryTable {
  const rows = [...r.steps]
    .sort((a, b) => a.rate - b.rate || a.index - b.index)
    .map((s) => [
      String(s.index),
      fmt(s.rate),
      fmt(s.achievedRate),
      fmt(s.p50, 3),
      fmt(s.p99, 3),
      pct(s.errorRate),
      `${s.verdict}${s.reason && s.reason !== s.verdict ? ` (${s.reason})` : ''}${s.stoppedEarly ? `, stopped at ${s.stoppedEarly.atS} s` : ''}`,
      s.verdict === 'interrupted' ? '–' : s.reliable ? 'yes' : `no${s.saturated ? ' (saturated)' : s.dropped > 0 ? ` (${s.dropped} dropped)` : ''}`,
    ]);
  return { head: ['#', 'offered (msg/s)', 'achieved (msg/s)', `${r.phase} p50 (ms)`, `${r.phase} p99 (ms)`, 'errors', 'verdict', 'reliable'], rows };
}

const look = {
  style: { head: [], border: [] },
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
};

/** The terminal output: the curve table and the answer line. */
export function renderCapacityConsole(r: CapacityReport): string {
  const t = curveTable(r);
  const table = new Table({ head: [...t.head], ...look });
  table.push(...t.rows.map((row) => [...row]));
  return [
    `capacity of ${r.target} · SLOs: ${r.slos.map((s) => s.expression).join(', ')} · ${r.search.stepDurationS} s steps after ${r.search.warmupS} s warm-up`,
    table.toString(),
    r.answer.text,
  ].join('\n');
}

/** The reliability and pass rules, one paragraph for report.md and report.html. */
function rulesNote(r: CapacityReport): string {
  const s = r.search;
  return `Each step is an open-model run at the offered arrival rate for ${s.stepDurationS} s after its own ${s.warmupS} s warm-up, on its own fresh sessions (up to maxSessions ${r.profile.maxSessions}). A step passes when every SLO holds and the achieved (accepted) rate is at least ${s.achievedRateFloor * 100} % of the offered rate. A step whose generator saturated, or that dropped starts while its SLOs held, is unreliable and never a pass (dropped starts are messages still due when the step ended, no session having come free within gracefulStop); a step cut short by Ctrl-C is interrupted, neither a pass nor a failure; a step is stopped early when an SLO's running value is ${s.brokenBadlyFactor}× beyond its limit. Search: ×${s.factor} from ${s.startRate} msg/s${s.maxRate === null ? '' : ` up to ${s.maxRate} msg/s`}, then bisection to ${s.precision * 100} %, within ${s.maxTimeS} s.`;
}

/** report.md: the answer, the curve table, the rules and the environment (fits a CI step summary). */
export function renderCapacityMarkdown(r: CapacityReport): string {
  const t = curveTable(r);
  const line = (cells: readonly (string | number)[]): string => `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
  const e = r.environment;
  return [
    `# smtpbench capacity ${r.runId}`,
    '',
    `**${r.answer.text}**`,
    '',
    `Target ${r.target}; SLOs: ${r.slos.map((s) => `\`${s.expression}\``).join(', ')}; started ${r.startedAt}; the search took ${r.durationS} s.`,
    '',
    line(t.head),
    line(t.head.map((_, i) => (i === 6 || i === 7 ? '---' : '---:'))),
    ...t.rows.map(line),
    '',
    rulesNote(r),
    '',
    `Each step's own results (summary.json, run.hlog, report.md, report.html) are under \`steps/<n>-<rate>/\`.`,
    '',
    `Environment: Node ${e.node}, ${e.cpu} (${e.cores} cores), ${e.os}, git ${e.gitSha ?? 'unknown'}.`,
    '',
  ].join('\n');
}

/** The browser side: two uPlot charts from the embedded JSON (x: offered rate). */
const CLIENT = `
(function () {
  'use strict';
  var d = JSON.parse(document.getElementById('capacity-data').textContent);
  function draw(id, yLabel, series, columns) {
    var fig = document.getElementById(id);
    var plot = fig.querySelector('.plot');
    var opts = {
      width: Math.max(plot.clientWidth, 300),
      height: 320,
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [{ label: 'offered rate (msg/s)' }, { label: yLabel, size: 60 }],
      series: [{ label: 'offered (msg/s)' }].concat(series.map(function (s) {
        return { label: s.label, stroke: s.color, width: 2, dash: s.dash ? [8, 5] : undefined, points: { show: !s.dash, size: 7, stroke: s.color, fill: s.color } };
      })),
    };
    var u = new uPlot(opts, [d.x].concat(columns), plot);
    fig.uplot = u;
    window.addEventListener('resize', function () { u.setSize({ width: Math.max(plot.clientWidth, 300), height: 320 }); });
  }
  draw('chart-rate', 'msg/s', [
    { label: 'achieved (msg/s)', color: '#1f77b4' },
    { label: 'offered = achieved', color: '#999', dash: true },
  ], [d.achieved, d.x]);
  var lat = [{ label: d.phase + ' p50 (ms)', color: '#2ca02c' }, { label: d.phase + ' p99 (ms)', color: '#d62728' }];
  var cols = [d.p50, d.p99];
  d.limits.forEach(function (l) { lat.push({ label: l.label, color: '#ff7f0e', dash: true }); cols.push(d.x.map(function () { return l.value; })); });
  draw('chart-latency', 'ms', lat, cols);
  document.body.setAttribute('data-charts-drawn', '2');
})();
`;

/** report.html: the answer, two charts (offered vs achieved rate; p50/p99 vs offered rate with the SLO limits), the curve table. @throws when uplot cannot be read */
export function renderCapacityHtml(r: CapacityReport): string {
  const steps = [...r.steps].sort((a, b) => a.rate - b.rate || a.index - b.index);
  // The SLO limits drawn on the latency chart: those of the curve's phase, in ms.
  const limits = r.slos.filter((s) => s.unit === 'ms' && s.metric.startsWith(`${r.phase}.`) && typeof s.limit === 'number').map((s) => ({ label: `SLO ${s.expression}`, value: s.limit as number }));
  const data = { phase: r.phase, x: steps.map((s) => s.rate), achieved: steps.map((s) => s.achievedRate), p50: steps.map((s) => s.p50), p99: steps.map((s) => s.p99), limits };
  const e = r.environment;
  const env: SummaryTable = {
    head: ['', ''],
    rows: [
      ['run id', r.runId],
      ['started at', r.startedAt],
      ['target', r.target],
      ['Node', e.node],
      ['CPU', `${e.cpu} (${e.cores} cores)`],
      ['OS', e.os],
      ['git', e.gitSha ?? 'unknown'],
    ],
  };
  const ok = r.answer.sustainedRate !== null;
  return pageHtml(
    `smtpbench capacity ${r.runId}`,
    `<p class="lead">${esc(`Target ${r.target}; SLOs: ${r.slos.map((s) => s.expression).join(', ')}; ${r.steps.length} steps in ${r.durationS} s; started ${r.startedAt}.`)}</p>
<p class="${ok ? 'pass' : 'fail'}" id="answer">${esc(r.answer.text)}</p>
<section>
<h2>The curve</h2>
<div class="charts">
<figure class="chart" id="chart-rate"><h3>Achieved against offered rate</h3><div class="plot"></div><figcaption>Accepted messages per second at each offered arrival rate; the dashed line is where achieved equals offered. A target that keeps up stays on it.</figcaption></figure>
<figure class="chart" id="chart-latency"><h3>${esc(r.phase)} latency against offered rate</h3><div class="plot"></div><figcaption>${esc(`${r.phase} p50 and p99 of each step (ms, from each message's intended start), with each SLO limit on this phase as a dashed line.`)}</figcaption></figure>
</div>
${tableHtml(curveTable(r), 'curve', (i) => (i >= 6 ? 'text' : ''))}
<p class="small">${esc(rulesNote(r))} Each step's own report is under <code>steps/&lt;n&gt;-&lt;rate&gt;/report.html</code>.</p>
</section>
<section>
<h2>Environment</h2>
${tableHtml(env, 'environment', () => 'text')}
<details><summary>Profile of every step</summary><pre>${esc(JSON.stringify(r.profile, null, 2))}</pre></details>
</section>`,
    'capacity-data',
    data,
    CLIENT,
  );
}
