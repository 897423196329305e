/**
 * report.html's per-second charts: latency percentiles, throughput against the target rate,
 * replies by class and errors by kind, each second drawn at its end, with the warm-up shaded.
 * Pure functions of run.hlog's intervals and timeline.ndjson's seconds.
 */
import { PHASES } from '../metrics/phases.js';
import { PALETTE, type ChartSpec, type SeriesSpec } from './chart-spec.js';
import type { Interval } from './run-data.js';
import type { Second } from './timeline.js';

/** Latency ms with µs precision, as the summary rounds them. */
const ms = (us: number): number => Math.round(us) / 1000;
const round1 = (x: number): number => Math.round(x * 10) / 10;
/** `n` counted in second `s`, per second of the time it was counted over (the last second is shorter). */
const per = (n: number, s: Second): number => round1(n / (s.intervalS > 0 ? s.intervalS : 1));

/**
 * The seconds a per-second chart draws. Some intervals are cut short: the last of a run where it
 * ended (often a few ms holding only the closing QUITs), and one at the end of warm-up, when the
 * counters restart (a few ms, often without a single reply). Divided by its length such a sliver
 * would draw a spurious plunge or spike, so an interval under half a second is left out, unless
 * it is the only one. (The totals in captions count every interval.)
 */
export function drawnSeconds<T>(list: readonly T[], lengthS: (item: T) => number): readonly T[] {
  return list.length > 1 ? list.filter((item) => lengthS(item) >= 0.5) : list;
}

/**
 * A run.hlog interval starting this much before the end of warm-up still counts as measured: the
 * coordinator restarts the histograms at the end of warm-up, a few ms after the log's start time
 * (the rule `compare` uses, `intervalSamples`).
 */
const WARMUP_SLACK_S = 0.05;

/** A run.hlog interval counted during warm-up. */
const warmInterval = (iv: Interval, warmupS: number): boolean => iv.startS < warmupS - WARMUP_SLACK_S;

/**
 * Where a time chart's grey warm-up band ends: `warmupS`, or the x of the last point counted
 * during warm-up when that is later. Each point is drawn at the end of its second, and the seconds
 * are the coordinator's ticks, not aligned with the end of warm-up: the last warm-up second ends a
 * few ms after it. The band reaches that point, so every point in the band is a warm-up second and
 * every point right of it a measured one. Undefined without warm-up.
 */
export function warmupBandEnd(warmupS: number, lastWarmX: number | undefined): number | undefined {
  if (!(warmupS > 0)) return undefined;
  return Math.max(warmupS, lastWarmX ?? 0);
}

/** The band end of a chart drawn from timeline seconds (`measuring: false` in warm-up). */
const bandOfSeconds = (seconds: readonly Second[], warmupS: number): { warmupEndS?: number } => {
  const end = warmupBandEnd(warmupS, seconds.filter((s) => !s.measuring).at(-1)?.t);
  return end === undefined ? {} : { warmupEndS: end };
};

/** The band end of a chart drawn from run.hlog intervals at their ends. */
const bandOfIntervals = (intervals: readonly Interval[], warmupS: number): { warmupEndS?: number } => {
  const end = warmupBandEnd(warmupS, intervals.filter((iv) => warmInterval(iv, warmupS)).at(-1)?.endS);
  return end === undefined ? {} : { warmupEndS: end };
};

/** The three percentiles drawn over time. */
const OVER_TIME = [
  { key: 'p50', label: 'p50', color: '#2ca02c', percentile: 50 },
  { key: 'p90', label: 'p90', color: '#ff7f0e', percentile: 90 },
  { key: 'p99', label: 'p99', color: '#d62728', percentile: 99 },
] as const;

/**
 * p50, p90 and p99 of each phase per second, one view per phase (`transaction` first): from
 * run.hlog's intervals, or from timeline.ndjson's per-second percentiles when there is no log.
 * Null for a second in which the phase had no sample. `warmupS`: the run's warm-up, s (shaded).
 */
export function latencyOverTime(allIntervals: readonly Interval[], allSeconds: readonly Second[], warmupS = 0): ChartSpec | null {
  const intervals = drawnSeconds(allIntervals, (iv) => iv.endS - iv.startS);
  const timeline = drawnSeconds(allSeconds, (s) => s.intervalS);
  const fromLog = intervals.length > 0;
  const x = fromLog ? intervals.map((iv) => iv.endS) : timeline.map((s) => s.t);
  const names = new Set<string>();
  if (fromLog) for (const iv of intervals) for (const [p, h] of iv.phases) if (h.totalCount > 0) names.add(p);
  if (!fromLog) for (const s of timeline) for (const p of Object.keys(s.phases)) names.add(p);
  if (names.size === 0) return null;
  const phases = [...names].sort((a, b) => (a === 'transaction' ? -1 : b === 'transaction' ? 1 : (PHASES as readonly string[]).indexOf(a) - (PHASES as readonly string[]).indexOf(b)));
  const views = phases.map((phase) => ({
    name: phase,
    series: OVER_TIME.map((q) => ({
      label: q.label,
      color: q.color,
      values: fromLog
        ? intervals.map((iv) => {
            const h = iv.phases.get(phase);
            return h && h.totalCount > 0 ? ms(h.getValueAtPercentile(q.percentile)) : null;
          })
        : timeline.map((s) => s.phases[phase]?.[q.key] ?? null),
    })),
  }));
  return {
    id: 'latency-over-time',
    title: 'Latency per second',
    caption: `The 50th, 90th and 99th percentile latency of the chosen phase in each one-second interval (from ${fromLog ? 'run.hlog' : 'timeline.ndjson'}; log scale): a rising p99 line shows when the server started to queue.`,
    kind: 'time',
    yScale: 'log',
    yLabel: 'latency (ms)',
    x,
    views,
    viewLabel: 'phase',
    ...(fromLog ? bandOfIntervals(intervals, warmupS) : bandOfSeconds(timeline, warmupS)),
  };
}

/** What the throughput chart takes from summary.json: the warm-up, and the run's own counts of late and dropped starts. */
export interface ThroughputContext {
  /** The intended arrival rate at `tS` s after the start (open models), to average over each second. */
  readonly targetAt?: (tS: number) => number | null;
  readonly warmupS?: number;
  /** summary.json's `totals.messages.late` and `.dropped` (measured seconds only), the figures the tables show. */
  readonly late?: number;
  readonly dropped?: number;
}

/**
 * Achieved messages/s and recipients/s per second, the target arrival rate (open and ramping-rate
 * models) and late/dropped starts per second (right axis, as points), from timeline.ndjson; with no
 * timeline, transactions per second counted in run.hlog's `transaction` intervals. The caption's
 * totals of late and dropped starts are the measured ones (summary.json's, when given; else the
 * sum over `measuring` seconds), with the warm-up's own told apart.
 */
export function throughputChart(allSeconds: readonly Second[], intervals: readonly Interval[], ctx: ThroughputContext = {}): ChartSpec | null {
  const title = 'Throughput per second';
  const warmupS = ctx.warmupS ?? 0;
  const timeline = drawnSeconds(allSeconds, (s) => s.intervalS);
  if (timeline.length === 0) {
    const withTx = drawnSeconds(
      intervals.filter((iv) => iv.phases.has('transaction')),
      (iv) => iv.endS - iv.startS,
    );
    if (withTx.length === 0) return null;
    const values = withTx.map((iv) => round1(iv.phases.get('transaction')!.totalCount / Math.max(iv.endS - iv.startS, 1e-3)));
    return {
      id: 'throughput',
      title,
      caption: 'Transactions completed per second, counted in run.hlog (this run has no timeline.ndjson, so accepted and rejected messages are not told apart).',
      kind: 'time',
      yScale: 'linear',
      yLabel: 'per second',
      x: withTx.map((iv) => iv.endS),
      views: [{ name: 'all', series: [{ label: 'transactions/s', color: '#1f77b4', values }] }],
      ...bandOfIntervals(withTx, warmupS),
    };
  }
  const series: SeriesSpec[] = [
    { label: 'messages/s accepted', color: '#1f77b4', values: timeline.map((s) => s.rates.msgsPerS) },
    { label: 'recipients/s accepted', color: '#2ca02c', values: timeline.map((s) => s.rates.rcptsPerS) },
  ];
  const open = timeline.some((s) => s.targetRate !== null);
  if (open) series.push({ label: 'target arrival rate', color: '#9467bd', dash: true, values: timeline.map((s) => (ctx.targetAt ? meanTarget(ctx.targetAt, s) : s.targetRate)) });
  // Every second of the timeline, not only the drawn ones: the caption's totals are the run's.
  const sum = (key: 'late' | 'dropped', measuring: boolean): number => allSeconds.reduce((a, s) => a + (s.measuring === measuring ? s.messages[key] : 0), 0);
  const count = (key: 'late' | 'dropped') => ({ measured: ctx[key] ?? sum(key, true), warm: sum(key, false) });
  const late = count('late');
  const dropped = count('dropped');
  // Only seconds that had late or dropped starts get a point: the marks are events, not a level.
  // Warm-up seconds keep theirs: they sit inside the grey band.
  if (late.measured + late.warm > 0)
    series.push({ label: 'late starts/s', color: '#ff7f0e', pointsOnly: true, right: true, values: timeline.map((s) => (s.messages.late > 0 ? per(s.messages.late, s) : null)) });
  if (dropped.measured + dropped.warm > 0)
    series.push({ label: 'dropped starts/s', color: '#d62728', pointsOnly: true, right: true, values: timeline.map((s) => (s.messages.dropped > 0 ? per(s.messages.dropped, s) : null)) });
  const warmed = warmupS > 0 || late.warm + dropped.warm > 0;
  const tell = (what: string, c: { measured: number; warm: number }): string =>
    `${what}: ${c.measured}${warmed ? ' after warm-up' : ' in all'}${c.warm > 0 ? `, and ${c.warm} during it (the points in the grey band)` : ''}`;
  const events = [
    ...(late.measured + late.warm > 0 ? [tell('late starts (more than 10 ms behind schedule)', late)] : []),
    ...(dropped.measured + dropped.warm > 0 ? [tell('dropped starts (never sent: no free session)', dropped)] : []),
  ];
  const marks = open
    ? ` The dashed line is the intended arrival rate, averaged over each second; ${events.length === 0 ? 'no message started late or was dropped.' : `points on the right axis mark the seconds with ${events.join('; ')}.`}`
    : ' Closed model: sessions send back to back, so there is no target rate.';
  return {
    id: 'throughput',
    title,
    caption: `Messages and recipients the server accepted in each second.${marks}`,
    kind: 'time',
    yScale: 'linear',
    yLabel: 'per second',
    ...(late.measured + late.warm + dropped.measured + dropped.warm > 0 ? { y2Label: 'starts/s' } : {}),
    x: timeline.map((s) => s.t),
    views: [{ name: 'all', series }],
    ...bandOfSeconds(timeline, warmupS),
  };
}

/**
 * The intended arrival rate averaged over second `s` (midpoint rule, 20 samples), to compare
 * with the messages accepted in that second: on a ramp the rate at the second's end (the
 * timeline's `targetRate`) runs ahead of what was meant to start within it.
 */
export function meanTarget(targetAt: (tS: number) => number | null, s: Second): number | null {
  if (s.targetRate === null) return null;
  const n = 20;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += targetAt(s.t - s.intervalS + ((i + 0.5) * s.intervalS) / n) ?? 0;
  return round1(sum / n);
}

/** The reply classes drawn: every class of RFC 5321 §4.2.1 that a client receives. */
const REPLY_SERIES = [
  { cls: '2xx', color: '#2ca02c' },
  { cls: '3xx', color: '#1f77b4' },
  { cls: '4xx', color: '#ff7f0e' },
  { cls: '5xx', color: '#d62728' },
] as const;

/** Replies per second by class (all phases), from timeline.ndjson. `warmupS`: the run's warm-up, s (shaded). */
export function repliesChart(allSeconds: readonly Second[], warmupS = 0): ChartSpec | null {
  const timeline = drawnSeconds(allSeconds, (s) => s.intervalS);
  if (timeline.length === 0) return null;
  const series = REPLY_SERIES.map(({ cls, color }) => ({
    label: `${cls} replies/s`,
    color,
    values: timeline.map((s) => per(s.replies[cls], s)),
  }));
  return {
    id: 'replies',
    title: 'Replies per second by class',
    caption:
      'Server replies of every command in each second by class (RFC 5321 §4.2.1): 2xx success, 3xx go ahead (the 354 answering DATA: one per message sent with DATA), 4xx temporary failure (try again later), 5xx permanent failure; asinh scale, so a few 4xx show beside thousands of 2xx.',
    kind: 'time',
    yScale: 'asinh',
    yLabel: 'replies/s',
    x: timeline.map((s) => s.t),
    views: [{ name: 'all', series }],
    ...bandOfSeconds(timeline, warmupS),
  };
}

/** Errors per second by kind, from timeline.ndjson; null when the run had none. `warmupS`: the run's warm-up, s (shaded). */
export function errorsChart(allSeconds: readonly Second[], warmupS = 0): ChartSpec | null {
  const timeline = drawnSeconds(allSeconds, (s) => s.intervalS);
  const kinds = [...new Set(timeline.flatMap((s) => Object.keys(s.errors)))].sort();
  if (kinds.length === 0) return null;
  const series = kinds.map((kind, i) => ({ label: kind, color: PALETTE[(i + 3) % PALETTE.length], values: timeline.map((s) => per(s.errors[kind] ?? 0, s)) }));
  return {
    id: 'errors',
    title: 'Errors per second by kind',
    caption:
      'Timeouts, closed or reset connections, protocol errors and other failures counted in each second, one line per kind; the table "Errors by kind" below says what each kind means. Asinh scale.',
    kind: 'time',
    yScale: 'asinh',
    yLabel: 'errors/s',
    x: timeline.map((s) => s.t),
    views: [{ name: 'all', series }],
    ...bandOfSeconds(timeline, warmupS),
  };
}
