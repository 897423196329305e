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
import { SmtpBenchError } from '../errors.js';
import { printable } from '../redact.js';
import { comparedMetrics, metricKind, metricValue, perSecond, plural, type MetricKind } from './compare-metrics.js';
import { holm, intervalSamples, MIN_INTERVALS, testMetric, type IntervalSamples, type MetricTest } from './compare-stats.js';
import { toleranceOf, type Tolerance, type ToleranceSettings } from './compare-tolerance.js';
import type { RunData } from './run-data.js';
import type { Summary } from './summary.js';

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
