/**
 * The statistics of `smtpbench compare`: each run's per-second samples (run.hlog's interval
 * histograms, timeline.ndjson's rates), Welch's t-test on them (B. L. Welch, Biometrika 34, 1947;
 * latencies on a log scale), and Holm's adjustment of the p-values tested together.
 */
import ttest from 'ttest';
import { metricKind, perSecond, TESTED_STATS, type MetricKind } from './compare-metrics.js';
import type { RunData } from './run-data.js';

/**
 * Fewest measured seconds on each side for a t-test. Below it the test has too few degrees of
 * freedom to tell a shift from noise (with 5 + 5 seconds a Welch test needs |t| ≳ 2.3 at 0.05).
 */
export const MIN_INTERVALS = 5;
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
