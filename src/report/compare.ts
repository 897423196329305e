/**
 * `smtpbench compare`: two runs side by side, metric by metric, and a verdict that rests on
 * statistics rather than on one number per side, as autocannon-compare does: each run's
 * per-second values (run.hlog's interval histograms, timeline.ndjson's rates) are two samples,
 * and Welch's t-test (unequal variances; B. L. Welch, Biometrika 34, 1947) says whether their
 * means differ more than chance would explain.
 *
 * The rule: a latency or rate REGRESSED when the change is significant (two-sided p < alpha) and
 * beyond its tolerance in the bad direction (latency up, throughput down); an improvement likewise
 * in the good direction. A latency or rate that cannot be tested (a run too short, or without
 * run.hlog) is only shown as "beyond tolerance": one number a side is not evidence. Error and reply
 * shares, and a max given its own tolerance, have no per-second samples by nature: they are judged
 * by their tolerance alone.
 */
import Table from 'cli-table3';
import ttest from 'ttest';
import { SmtpBenchError } from '../errors.js';
import { PHASES } from '../metrics/phases.js';
import { printable } from '../redact.js';
import type { RunData } from './run-data.js';
import type { Summary } from './summary.js';
import { metricValue as catalogValue, resolveMetric, type MetricRun } from '../metrics/catalog.js';

// ─── Metric values ──────────────────────────────────────────────────────────────────────────────
/** Latency statistics compared per phase, ms. */
export const LATENCY_STATS = ['p50', 'p90', 'p99', 'max'] as const;
/** Accepted messages and recipients per second over the measured time. */
export const RATE_METRICS = ['messages.rate', 'recipients.rate'] as const;
/** Shares 0..1: messages not accepted, and 4xx / 5xx replies among all replies of every phase. */
export const RATIO_METRICS = ['errors.rate', 'replies.4xx.rate', 'replies.5xx.rate'] as const;

/** `latency` in ms (higher is worse), `rate` per second (lower is worse), `ratio` 0..1 (higher is worse). */
export type MetricKind = 'latency' | 'rate' | 'ratio';

/**
 * The kind of a metric name, or null when it is not one compare judges: from the unit the
 * threshold catalog gives it (src/report/thresholds.ts, the one reader of a run's figures).
 */
export function metricKind(metric: string): MetricKind | null {
  let unit: string;
  try {
    unit = resolveMetric(metric).unit;
  } catch {
    return null;
  }
  return unit === 'ms' ? 'latency' : unit === 'per-second' ? 'rate' : unit === 'ratio' ? 'ratio' : null;
}

/** A metric's value in a run, from the threshold catalog; null without data (or for a boolean). */
export function metricValue(run: MetricRun, metric: string): number | null {
  const v = catalogValue(metric, run);
  return typeof v === 'number' ? v : null;
}

/**
 * The rows of a comparison: every phase's statistics (phases in either run, in phase order), then
 * rates and ratios. A phase the catalog does not know (from a newer version, or a crafted file) has
 * no value to read and is left out: its name is never printed.
 */
export function comparedMetrics(a: Summary, b: Summary): string[] {
  const present = new Set([...Object.keys(a.phases), ...Object.keys(b.phases)]);
  const phases = PHASES.filter((p) => present.has(p));
  return [...phases.flatMap((p) => LATENCY_STATS.map((st) => `${p}.${st}`)), ...RATE_METRICS, ...RATIO_METRICS];
}

/** Whether a catalog name (`resolveMetric(x).name`) is one of the rows compare can show. */
export function comparesMetric(name: string): boolean {
  if ((RATE_METRICS as readonly string[]).includes(name) || (RATIO_METRICS as readonly string[]).includes(name)) return true;
  const dot = name.lastIndexOf('.');
  return (PHASES as readonly string[]).includes(name.slice(0, dot)) && (LATENCY_STATS as readonly string[]).includes(name.slice(dot + 1));
}

/**
 * Fewest measured seconds on each side for a t-test. Below it the test has too few degrees of
 * freedom to tell a shift from noise (with 5 + 5 seconds a Welch test needs |t| ≳ 2.3 at 0.05).
 */
export const MIN_INTERVALS = 5;
/** Per-second statistics of each phase that are tested (the max of a second is one message: not). */
export const TESTED_STATS = ['p50', 'p90', 'p99'] as const;

/**
 * Whether a metric has per-second samples by nature, and so can be tested: a phase's p50, p90 and
 * p99 (run.hlog's interval histograms) and the rates (timeline.ndjson). Error and reply shares
 * and a phase's max have none: they are judged by their tolerance alone, however long the runs.
 */
export function perSecond(metric: string): boolean {
  const kind = metricKind(metric);
  if (kind === 'rate') return true;
  return kind === 'latency' && (TESTED_STATS as readonly string[]).includes(metric.slice(metric.lastIndexOf('.') + 1));
}

/** `1 measured second`, `7 measured seconds`. */
export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * A second of run.hlog or timeline.ndjson is a sample when it began after warm-up ended and lasted
 * at least half a second. The second during which warm-up ends is dropped even when the workers
 * report it as measuring: its counts hold only what followed the reset. Workers tick a few ms after
 * the log's start time, hence the slack. The last second of a run is usually short: a shorter one
 * would give a per-second rate from a sliver of time.
 */
const WARMUP_SLACK_S = 0.05;
const MIN_SECOND_S = 0.5;

/** Per-second samples of one run, by metric name (`transaction.p99`, `messages.rate`, …). */
export interface IntervalSamples {
  readonly values: ReadonlyMap<string, readonly number[]>;
  /** Measured seconds in run.hlog (0: no run.hlog). */
  readonly seconds: number;
  /** Where the throughput samples came from: timeline.ndjson, run.hlog's transaction counts, or nowhere. */
  readonly throughput: 'timeline' | 'run.hlog' | null;
}

/**
 * Per-second samples of a run: each phase's p50/p90/p99 (ms) from run.hlog's interval histograms,
 * in the seconds where the phase has data; `messages.rate` and `recipients.rate` per second from
 * timeline.ndjson, or without it `messages.rate` from run.hlog's transaction count per second.
 * Warm-up seconds are excluded (run.hlog holds them: the coordinator logs every second).
 */
export function intervalSamples(run: RunData): IntervalSamples {
  const values = new Map<string, number[]>();
  const push = (metric: string, v: number): void => {
    let list = values.get(metric);
    if (!list) values.set(metric, (list = []));
    list.push(v);
  };
  const from = run.summary.warmupS - WARMUP_SLACK_S;
  const measured = run.intervals.filter((iv) => iv.startS >= from && iv.endS - iv.startS >= MIN_SECOND_S);
  for (const iv of measured) {
    for (const [phase, h] of iv.phases) {
      if (h.totalCount === 0) continue;
      for (const st of TESTED_STATS) push(`${phase}.${st}`, h.getValueAtPercentile(Number(st.slice(1))) / 1000);
    }
  }
  let throughput: IntervalSamples['throughput'] = null;
  const seconds = run.timeline.filter((s) => s.measuring && s.t - s.intervalS >= from && s.intervalS >= MIN_SECOND_S);
  if (seconds.length > 0) {
    throughput = 'timeline';
    for (const s of seconds) {
      push('messages.rate', s.rates.msgsPerS);
      push('recipients.rate', s.rates.rcptsPerS);
    }
  } else if (measured.length > 0) {
    throughput = 'run.hlog';
    // A second with no transaction line is a second without transactions: its rate is 0.
    for (const iv of measured) push('messages.rate', (iv.phases.get('transaction')?.totalCount ?? 0) / (iv.endS - iv.startS));
  }
  return { values, seconds: measured.length, throughput };
}

/** The outcome of a two-sided Welch's t-test. */
export interface WelchResult {
  /** Two-sided p-value, 0..1 (never NaN). */
  readonly pValue: number;
  /** Mean of the current samples minus mean of the baseline samples. */
  readonly meanDelta: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const constant = (xs: readonly number[]): boolean => xs.every((x) => x === xs[0]);

/**
 * Welch's two-sided t-test of `current` against `baseline` (the `ttest` package, as
 * autocannon-compare uses it). Null when a side has fewer than 2 values (no variance to estimate).
 * With zero variance on both sides the t statistic is undefined (0/0 or x/0); then the samples
 * are constants, so p = 1 when they are equal and 0 when they differ.
 */
export function welchTest(baseline: readonly number[], current: readonly number[]): WelchResult | null {
  if (baseline.length < 2 || current.length < 2) return null;
  const meanDelta = mean(current) - mean(baseline);
  if (constant(baseline) && constant(current)) return { pValue: meanDelta === 0 ? 1 : 0, meanDelta };
  const p = ttest([...current], [...baseline], { varEqual: false, alternative: 'not equal' }).pValue();
  return { pValue: Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 1, meanDelta };
}

/**
 * How large a change must be to count, in either direction: more than `relative` × |baseline|
 * and more than `absolute` (ms for latencies, per second for rates, a 0..1 share for ratios).
 */
export interface Tolerance {
  /** A fraction of the baseline value: 0.05 is 5 %. */
  readonly relative: number;
  /** In the metric's unit; 0: none. */
  readonly absolute: number;
}

/** Tolerances by kind of metric, and per metric. `.max` and `session.*` are judged only with their own entry. */
export interface ToleranceSettings {
  readonly latency: Tolerance;
  readonly rate: Tolerance;
  readonly ratio: Tolerance;
  readonly perMetric: ReadonlyMap<string, Partial<Tolerance>>;
}

/**
 * Defaults: 5 % for latencies and rates (the issue's default). Latencies also need a change of
 * more than 1 ms. The t-test sees the variation between the seconds of each run, not between
 * runs, and a run as a whole can be treated worse by the machine than another: two runs of the
 * same build at the same time against the same server, on two cores shared with other work,
 * measured service.p90 0.34 → 1.18 ms and body.p99 0.26 → 1.25 ms, steady in every second.
 * Error and reply shares are judged in absolute terms, 0.5 percentage points: relative to a share
 * near zero, any single error would be an infinite change.
 */
export const DEFAULT_TOLERANCES: ToleranceSettings = {
  latency: { relative: 0.05, absolute: 1 },
  rate: { relative: 0.05, absolute: 0 },
  ratio: { relative: 0, absolute: 0.005 },
  perMetric: new Map(),
};

/** The metrics compare shows, for messages. */
const SHOWN = `<phase>.${LATENCY_STATS.join('|')} (phases: ${PHASES.join(', ')}), ${[...RATE_METRICS, ...RATIO_METRICS].join(', ')}`;

/**
 * Parses `--tolerance` values on top of the defaults: `5%` (relative, latencies and rates),
 * `1ms` (the latency floor), `0.5pp` (ratios, percentage points), or `METRIC=VALUE` for one
 * metric (`transaction.p99=10%`, `body.p50=1ms`, `errors.rate=0.1pp`, `transaction.max=20%`).
 * A metric is named as thresholds name it and stored under its catalog name (`resolveMetric`):
 * `transaction.p(99)` is `transaction.p99`, `transaction.med` is `transaction.p50`. A metric
 * compare does not show (`transaction.p999`, `transaction.mean`, `server.cmd.mail.p99`) is a
 * problem: a tolerance that could match no row would be ignored without a word.
 * @returns the settings, or the problems, one per bad value, each naming it
 */
export function parseTolerances(specs: readonly string[]): { settings: ToleranceSettings; problems: string[] } {
  let latency = DEFAULT_TOLERANCES.latency;
  let rate = DEFAULT_TOLERANCES.rate;
  let ratio = DEFAULT_TOLERANCES.ratio;
  const perMetric = new Map<string, Partial<Tolerance>>();
  const problems: string[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const given = eq < 0 ? null : spec.slice(0, eq).trim();
    const m = /^(\d+(?:\.\d+)?)\s*(%|ms|pp)$/.exec((eq < 0 ? spec : spec.slice(eq + 1)).trim());
    // JSON.stringify escapes C0 controls, printable() removes the C1 ones it leaves.
    const bad = (why: string): void => void problems.push(printable(`${JSON.stringify(spec)}: ${why}`));
    if (!m) {
      bad('expected N% (relative), Nms (latencies), Npp (error and reply shares), or METRIC=one of those');
      continue;
    }
    const n = Number(m[1]);
    const unit = m[2];
    if (given === null) {
      if (unit === '%') {
        latency = { ...latency, relative: n / 100 };
        rate = { ...rate, relative: n / 100 };
      } else if (unit === 'ms') latency = { ...latency, absolute: n };
      else ratio = { ...ratio, absolute: n / 100 };
      continue;
    }
    let metric: string;
    try {
      metric = resolveMetric(given).name;
    } catch {
      bad(`unknown metric ${JSON.stringify(given)}; known: ${SHOWN}`);
      continue;
    }
    const kind = metricKind(metric);
    if (kind === null || !comparesMetric(metric)) {
      bad(`compare does not show ${JSON.stringify(given)}${metric === given ? '' : ` (${metric})`}; it shows ${SHOWN}`);
      continue;
    }
    if (unit === 'ms' && kind !== 'latency') bad(`ms applies to latencies; ${metric} is a ${kind}`);
    else if (unit === 'pp' && kind !== 'ratio') bad(`pp (percentage points) applies to error and reply shares; ${metric} is a ${kind}`);
    else if (unit === '%' && kind === 'ratio') bad(`${metric} is a share: give percentage points, e.g. ${metric}=0.5pp`);
    else perMetric.set(metric, { ...perMetric.get(metric), ...(unit === '%' ? { relative: n / 100 } : { absolute: unit === 'pp' ? n / 100 : n }) });
  }
  return { settings: { latency, rate, ratio, perMetric }, problems };
}

/**
 * The tolerance of one metric, or null when it is not judged: a `.max` or `session.*` metric
 * without its own tolerance.
 */
export function toleranceOf(settings: ToleranceSettings, metric: string): Tolerance | null {
  const kind = metricKind(metric);
  const own = settings.perMetric.get(metric);
  if (kind === null) return null;
  // The max is one message, the slowest: it moves by a large fraction between identical runs.
  // A session's length is how many messages it carried and, in the open models, the idle time
  // between arrivals: a faster server needs fewer, longer sessions, so longer is not worse.
  if (own === undefined && (metric.endsWith('.max') || metric.startsWith('session.'))) return null;
  return { ...settings[kind], ...own };
}

/**
 * What a comparison says about one metric; the same words in the table, Markdown and JSON.
 * - `regression` / `improvement`: beyond tolerance in the bad / good direction, and significant
 *   (or, for a share or a max with its own tolerance, beyond tolerance: they are never tested);
 *   a regression makes the exit code 3.
 * - `unchanged`: within tolerance, or beyond it but not significant.
 * - `beyond tolerance`: a latency or rate beyond tolerance (either direction) that could not be
 *   tested (a run with fewer than MIN_INTERVALS measured seconds, or without run.hlog): shown,
 *   not counted.
 * - `not judged`: no value on a side, no tolerance (max, session), or a sparse phase.
 */
export type MetricVerdict = 'regression' | 'improvement' | 'unchanged' | 'beyond tolerance' | 'not judged';

/** One row of a comparison. Values in the metric's unit (ms, per second, 0..1 share). */
export interface MetricComparison {
  readonly metric: string;
  readonly kind: MetricKind;
  readonly baseline: number | null;
  readonly current: number | null;
  /** current − baseline; null when either is missing. */
  readonly delta: number | null;
  /** 100 × delta / baseline; null when either is missing or the baseline is 0. */
  readonly deltaPct: number | null;
  /** True when Welch's t-test ran on per-second samples of both sides. */
  readonly tested: boolean;
  /** The p-value the verdict used: the test's, adjusted for the number of metrics tested (Holm); null when not tested. */
  readonly pValue: number | null;
  /** The test's own two-sided p-value, before the adjustment; null when not tested. */
  readonly pRaw: number | null;
  /** Per-second samples on each side (0 without). */
  readonly samples: { readonly baseline: number; readonly current: number };
  readonly tolerance: Tolerance | null;
  readonly verdict: MetricVerdict;
  /** Why, in a few words. */
  readonly reason: string;
}

/**
 * Latencies are tested on a log scale. Per-second percentiles are right-skewed: one second in
 * which the machine stalled can be 10× the others, and on a linear scale that one value swamps the
 * variance and hides a shift every other second shows. On a log scale the test is one of ratios,
 * as the relative tolerance is. Values are floored at 1 µs (the histograms' resolution), so a 0
 * cannot give −∞.
 */
function onTestScale(kind: MetricKind, xs: readonly number[]): readonly number[] {
  return kind === 'latency' ? xs.map((x) => Math.log(Math.max(x, 0.001))) : xs;
}

/** The statistical side of one metric: how many per-second samples, and the test on them. */
export interface MetricTest {
  readonly samples: { readonly baseline: number; readonly current: number };
  readonly minIntervals: number;
  /** Welch's test of the per-second samples (latencies on a log scale); null with fewer than `minIntervals` on a side. */
  readonly welch: WelchResult | null;
  /** The p-value the verdict uses: Welch's, or adjusted for the other metrics tested (`holm`). */
  readonly pValue: number | null;
  /**
   * A metric with per-second samples by nature (`perSecond`) whose runs both have enough measured
   * seconds, but which has data in fewer than `minIntervals` of them on a side (QUIT or connect
   * when sessions are long): a few values, too sparse to judge. Never true for a share or a max.
   */
  readonly sparse: boolean;
}

/**
 * Tests one metric's per-second samples (empty arrays when a side has none). `seconds` are the
 * measured seconds of each run (`IntervalSamples.seconds`), to tell a sparse metric from a run
 * without per-second data; without it no metric is sparse.
 */
export function testMetric(
  metric: string,
  samples: { readonly baseline: readonly number[]; readonly current: readonly number[] },
  minIntervals = MIN_INTERVALS,
  seconds?: { readonly baseline: number; readonly current: number },
): MetricTest {
  const kind = metricKind(metric) ?? 'latency';
  const n = { baseline: samples.baseline.length, current: samples.current.length };
  const enough = n.baseline >= minIntervals && n.current >= minIntervals;
  const welch = enough ? welchTest(onTestScale(kind, samples.baseline), onTestScale(kind, samples.current)) : null;
  const sparse = perSecond(metric) && !enough && seconds !== undefined && seconds.baseline >= minIntervals && seconds.current >= minIntervals;
  return { samples: n, minIntervals, welch, pValue: welch?.pValue ?? null, sparse };
}

/**
 * Holm's step-down adjustment of p-values tested together (S. Holm, "A simple sequentially
 * rejective multiple test procedure", Scand. J. Statist. 6, 1979; R's `p.adjust(p, "holm")`).
 * A comparison tests some 40 metrics at once: at alpha 0.05 each, two runs of the same build
 * would show about two "significant" changes by chance. Adjusted, the chance that any of them is
 * significant by chance alone stays at most alpha, whatever their dependence.
 */
export function holm(ps: readonly number[]): number[] {
  const order = ps.map((_, i) => i).sort((a, b) => ps[a] - ps[b]);
  const out = new Array<number>(ps.length);
  let running = 0;
  order.forEach((i, rank) => {
    // The smallest p is multiplied by m, the next by m − 1, …; kept monotone in rank.
    running = Math.max(running, Math.min(1, (ps.length - rank) * ps[i]));
    out[i] = running;
  });
  return out;
}

/**
 * Judges one metric from its whole-run values and its test (MetricVerdict). Beyond `tolerance` a
 * latency or rate is a regression or an improvement when the test is significant (p < `alpha`,
 * the per-second means moving the same way as the whole-run values); when it could not be tested
 * (too few measured seconds) it is only `beyond tolerance`: issue 9 asks compare to decide with
 * statistics, not one number. A share or a max (no per-second samples by nature) is judged by its
 * tolerance alone. A sparse metric is not judged.
 */
export function judge(metric: string, baseline: number | null, current: number | null, test: MetricTest, tolerance: Tolerance | null, alpha: number): MetricComparison {
  const kind = metricKind(metric) ?? 'latency';
  const n = test.samples;
  const row = { metric, kind, baseline, current, samples: n, tolerance };
  if (baseline === null || current === null) {
    return {
      ...row,
      delta: null,
      deltaPct: null,
      tested: false,
      pValue: null,
      pRaw: null,
      verdict: 'not judged',
      reason: baseline === null ? (current === null ? 'no data' : 'only in current') : 'only in baseline',
    };
  }
  const delta = current - baseline;
  const deltaPct = baseline === 0 ? null : (100 * delta) / Math.abs(baseline);
  const { welch } = test;
  const out = { ...row, delta, deltaPct, tested: welch !== null, pValue: test.pValue, pRaw: welch?.pValue ?? null };
  if (tolerance === null) return { ...out, verdict: 'not judged', reason: 'no tolerance of its own (max, session)' };
  if (test.sparse) return { ...out, verdict: 'not judged', reason: `data in fewer than ${plural(test.minIntervals, 'measured second')} on a side` };
  const allowed = Math.max(tolerance.relative * Math.abs(baseline), tolerance.absolute);
  if (Math.abs(delta) <= allowed) return { ...out, verdict: 'unchanged', reason: 'within tolerance' };
  const worse = kind === 'rate' ? delta < 0 : delta > 0;
  const change: MetricVerdict = worse ? 'regression' : 'improvement';
  if (!perSecond(metric)) return { ...out, verdict: change, reason: `beyond tolerance; judged by tolerance alone (a ${kind === 'ratio' ? 'share' : 'max'} has no per-second samples)` };
  if (welch === null || test.pValue === null) {
    const why = n.baseline + n.current === 0 ? 'no per-second samples' : `fewer than ${plural(test.minIntervals, 'measured second')} on a side`;
    return { ...out, verdict: 'beyond tolerance', reason: `beyond tolerance; not tested (${why}): not counted as a regression` };
  }
  if (test.pValue >= alpha) return { ...out, verdict: 'unchanged', reason: 'beyond tolerance but not significant' };
  if (Math.sign(welch.meanDelta) !== Math.sign(delta)) return { ...out, verdict: 'unchanged', reason: 'per-second means moved the other way' };
  return { ...out, verdict: change, reason: 'significant and beyond tolerance' };
}

/** Settings of a comparison. */
export interface CompareOptions {
  /** Significance level of the t-test, 0 < alpha < 1 (default 0.05). */
  readonly alpha: number;
  readonly tolerances: ToleranceSettings;
  readonly minIntervals?: number;
}

/**
 * One side of a comparison, as the outputs name it. Its strings come from the run's files, which
 * may have been crafted: each is `printable` (no terminal controls, one line).
 */
export interface CompareSide {
  readonly source: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly model: Summary['model'];
  /** The executor's name as the file gives it (summary.json is read field by field, not by value). */
  readonly executor: string;
  readonly gitSha: string | null;
  /** Measured seconds of run.hlog used as samples (0: no run.hlog). */
  readonly seconds: number;
  readonly throughputFrom: IntervalSamples['throughput'];
}

/** The result of `smtpbench compare`, as `--json` prints it. */
export interface CompareResult {
  readonly baseline: CompareSide;
  readonly current: CompareSide;
  readonly test: string;
  readonly alpha: number;
  readonly minIntervals: number;
  readonly tolerances: { readonly latency: Tolerance; readonly rate: Tolerance; readonly ratio: Tolerance; readonly perMetric: Record<string, Partial<Tolerance>> };
  readonly metrics: readonly MetricComparison[];
  readonly regressions: readonly string[];
  readonly improvements: readonly string[];
  /** Latencies and rates beyond tolerance that could not be tested: not counted either way. */
  readonly beyondTolerance: readonly string[];
  /** Things a reader must know to trust the verdict (missing run.hlog, different models, a saturated generator). */
  readonly notes: readonly string[];
  readonly regression: boolean;
}

export const TEST_NAME = "Welch's t-test (two-sided, unequal variances) on per-second values, latencies on a log scale, p-values adjusted for the number of metrics tested (Holm)";

/**
 * Compares `current` against `baseline`, metric by metric.
 * @throws SmtpBenchError SB_USAGE when alpha is not in (0, 1)
 */
export function compareRuns(baseline: RunData, current: RunData, options: CompareOptions): CompareResult {
  const { alpha, tolerances } = options;
  const minIntervals = options.minIntervals ?? MIN_INTERVALS;
  if (!(alpha > 0 && alpha < 1)) throw new SmtpBenchError('SB_USAGE', `alpha must be between 0 and 1, got ${alpha}`);
  const sb = intervalSamples(baseline);
  const sc = intervalSamples(current);
  const names = comparedMetrics(baseline.summary, current.summary);
  const seconds = { baseline: sb.seconds, current: sc.seconds };
  const tests = names.map((metric) => testMetric(metric, { baseline: sb.values.get(metric) ?? [], current: sc.values.get(metric) ?? [] }, minIntervals, seconds));
  // The family adjusted together: the metrics that were tested and can get a verdict.
  const family = names.map((metric, i) => (tests[i].welch !== null && toleranceOf(tolerances, metric) !== null ? i : -1)).filter((i) => i >= 0);
  const adjusted = holm(family.map((i) => tests[i].welch!.pValue));
  family.forEach((i, k) => (tests[i] = { ...tests[i], pValue: adjusted[k] }));
  const metrics = names.map((metric, i) => judge(metric, metricValue(baseline, metric), metricValue(current, metric), tests[i], toleranceOf(tolerances, metric), alpha));
  const side = (r: RunData, s: IntervalSamples): CompareSide => ({
    source: printable(r.source),
    runId: printable(r.summary.runId),
    startedAt: printable(r.summary.startedAt),
    model: r.summary.model,
    executor: printable(r.summary.executor),
    gitSha: r.summary.environment?.gitSha ? printable(r.summary.environment.gitSha) : null,
    seconds: s.seconds,
    throughputFrom: s.throughput,
  });
  const notes = untestedNotes(
    [
      ['baseline', baseline, sb],
      ['current', current, sc],
    ],
    minIntervals,
  );
  for (const [name, r, s] of [
    ['baseline', baseline, sb],
    ['current', current, sc],
  ] as const) {
    if (r.intervals.length > 0 && s.seconds >= minIntervals && s.throughput === 'run.hlog') {
      notes.push(`${name} has no timeline.ndjson: its per-second throughput is run.hlog's transaction count; recipients.rate not judged`);
    }
    if (r.summary.generator?.saturated) notes.push(`${name}'s load generator was saturated: its latencies include the generator's own delays`);
    if (r.summary.interrupted) notes.push(`${name} was interrupted`);
    // A shard is a share of its run: its counts and rates are that share's, not the profile's.
    const sh = r.summary.shard;
    if (sh && sh.count > 1) notes.push(`${name} is shard ${sh.index} of ${sh.count}: its counts and rates are that share of the load (merge the shards to compare whole runs)`);
  }
  if (baseline.summary.model !== current.summary.model) {
    const a = (model: string): string => (model === 'open' ? 'an' : 'a');
    notes.push(
      `baseline is ${a(baseline.summary.model)} ${baseline.summary.model}-model run, current ${a(current.summary.model)} ${current.summary.model}-model one: transaction latencies do not mean the same thing`,
    );
  }
  const regressions = metrics.filter((m) => m.verdict === 'regression').map((m) => m.metric);
  return {
    baseline: side(baseline, sb),
    current: side(current, sc),
    test: TEST_NAME,
    alpha,
    minIntervals,
    tolerances: { latency: tolerances.latency, rate: tolerances.rate, ratio: tolerances.ratio, perMetric: Object.fromEntries(tolerances.perMetric) },
    metrics,
    regressions,
    improvements: metrics.filter((m) => m.verdict === 'improvement').map((m) => m.metric),
    beyondTolerance: metrics.filter((m) => m.verdict === 'beyond tolerance').map((m) => m.metric),
    notes,
    regression: regressions.length > 0,
  };
}

/**
 * The notes on runs whose latencies and rates cannot be tested: one line for the sides without
 * run.hlog, one for the sides with too few measured seconds (a `npm start` smoke run has about one).
 */
function untestedNotes(sides: ReadonlyArray<readonly [string, RunData, IntervalSamples]>, minIntervals: number): string[] {
  const consequence = 'a change beyond tolerance is shown as "beyond tolerance", not counted as a regression';
  const noLog = sides.filter(([, r]) => r.intervals.length === 0);
  const short = sides.filter(([, r, s]) => r.intervals.length > 0 && s.seconds < minIntervals);
  const notes: string[] = [];
  if (noLog.length > 0) {
    // Without run.hlog the rates may still have samples, from timeline.ndjson.
    const what = noLog.some(([, , s]) => s.throughput === null) ? 'latencies and rates' : 'latencies';
    notes.push(`${noLog.map(([name]) => name).join(' and ')} ${noLog.length === 1 ? 'has' : 'have'} no run.hlog: ${what} cannot be tested; ${consequence}`);
  }
  if (short.length > 0) {
    const counts = short.map(([name, , s], i) => (i === 0 ? `${name} has ${plural(s.seconds, 'measured second')}` : `${name} ${s.seconds}`)).join(', ');
    notes.push(
      `${counts}: too short to test latencies and rates (the t-test needs ${minIntervals} a side); ${consequence}. Run at least ${minIntervals} s after warm-up (--duration counts the warm-up)`,
    );
  }
  return notes;
}

// ─── Outputs ────────────────────────────────────────────────────────────────────────────────────

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
