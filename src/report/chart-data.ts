/**
 * The data behind report.html's charts, as plain arrays uPlot draws (one shared x array, one y
 * array per series, null where a series has no value). Pure functions of a run read back from
 * disk (`RunData`); no HTML here (that is `html.ts`), so the numbers can be unit-tested.
 *
 * Latencies are µs in the histograms and ms in every chart (DESIGN §8).
 */
import type { Histogram } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import type { Interval, RunData } from './run-data.js';
import { targetRateAt, type Second } from './timeline.js';

/** One line of a chart. */
export interface SeriesSpec {
  readonly label: string;
  /** CSS colour of the line (and of its points). */
  readonly color: string;
  /** One value per x; null: no value there (a gap). */
  readonly values: readonly (number | null)[];
  /** A dashed line (the target rate). */
  readonly dash?: boolean;
  /** Points only, no line (late and dropped starts: events, not a level). */
  readonly pointsOnly?: boolean;
  /** Drawn against the right-hand axis (`ChartSpec.y2Label`). */
  readonly right?: boolean;
}

/** One set of series a chart can show; a chart with several views offers a selector. */
export interface ChartView {
  readonly name: string;
  readonly series: readonly SeriesSpec[];
}

/** One chart of report.html. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  /** One sentence under the chart saying what it shows, for a reader who never saw smtpbench. */
  readonly caption: string;
  /**
   * `spectrum`: x is 1/(1-p) on a log scale, ticks labelled as percentiles;
   * `time`: x is seconds since the start of the run (warm-up included, shaded).
   */
  readonly kind: 'spectrum' | 'time';
  /** `log`: latencies spanning decades; `asinh`: counts that may be 0 (log-like above 1, linear near 0). */
  readonly yScale: 'linear' | 'log' | 'asinh';
  readonly yLabel: string;
  readonly y2Label?: string;
  readonly x: readonly number[];
  /** The first view is shown first; the selector lists the views by name when there are several. */
  readonly views: readonly ChartView[];
  /** The selector's label (`phase`). */
  readonly viewLabel?: string;
}

/** What report.html embeds as JSON: every chart, and where warm-up ends. */
export interface PageData {
  /** Seconds of warm-up at the start of every time chart (shaded), 0 when none. */
  readonly warmupS: number;
  readonly charts: readonly ChartSpec[];
}

/** Distinct colours for up to 12 lines (Tableau 10 and two more). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#ad494a'];

/**
 * Each phase's colour, the same in every chart and every run: distinct for the phases of one
 * ordinary run, and the strongest (red) for `transaction`, the figure people quote.
 */
const PHASE_COLORS: Readonly<Record<string, string>> = {
  connect: '#1f77b4',
  tls: '#17becf',
  greeting: '#2ca02c',
  ehlo: '#bcbd22',
  auth: '#8c564b',
  mail: '#9467bd',
  rcpt: '#e377c2',
  data: '#7f7f7f',
  body: '#ff7f0e',
  bdat: '#ffbb78',
  rset: '#aec7e8',
  quit: '#98df8a',
  transaction: '#d62728',
  service: '#393b79',
  session: '#843c39',
};

/** The colour of phase `name`; scenario steps (vrfy, noop, …) share the palette by their place in PHASES. */
export function phaseColor(name: string): string {
  const i = (PHASES as readonly string[]).indexOf(name);
  return PHASE_COLORS[name] ?? PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

/** Latency ms with µs precision, as the summary rounds them. */
const ms = (us: number): number => Math.round(us) / 1000;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The percentile (0..100) at x = 1/(1-p) on a spectrum's axis. */
export const percentileOfX = (x: number): number => 100 * (1 - 1 / x);

/**
 * The x values of a percentile spectrum: `perDecade` log-spaced points from 1 (p = 0) up to the
 * largest count (the finest percentile that count resolves: 1 - 1/count), plus 2 (p = 50 %) and
 * each count itself, where its series ends at its maximum. Sorted, without duplicates.
 */
export function spectrumXs(counts: readonly number[], perDecade = 20): number[] {
  const top = Math.max(1, ...counts);
  const xs = new Set<number>([1, 2]);
  for (let k = 1; 10 ** (k / perDecade) < top; k++) xs.add(Number((10 ** (k / perDecade)).toPrecision(6)));
  for (const n of counts) if (n >= 1) xs.add(n);
  return [...xs].filter((x) => x <= top).sort((a, b) => a - b);
}

/**
 * One phase's line on a spectrum (HdrHistogram plotter style): at each x, the latency (ms) at
 * percentile 100·(1 - 1/x); at x = count, the maximum; null beyond count, where one more sample
 * would be needed to tell the percentile apart from the maximum.
 */
export function spectrumValues(h: Histogram, xs: readonly number[]): (number | null)[] {
  const n = h.totalCount;
  return xs.map((x) => (n === 0 || x > n ? null : x === n ? ms(h.maxValue) : ms(h.getValueAtPercentile(percentileOfX(x)))));
}

/** Histograms in PHASES order (then any other name), without empty ones. */
function ordered(histograms: ReadonlyMap<string, Histogram>): [string, Histogram][] {
  const rank = (name: string): number => {
    const i = (PHASES as readonly string[]).indexOf(name);
    return i < 0 ? PHASES.length : i;
  };
  return [...histograms].filter(([, h]) => h.totalCount > 0).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A spectrum chart of `histograms`, one series per name; null when none has data. */
export function spectrumChart(id: string, title: string, caption: string, histograms: ReadonlyMap<string, Histogram>, color: (name: string, i: number) => string): ChartSpec | null {
  const list = ordered(histograms);
  if (list.length === 0) return null;
  const x = spectrumXs(list.map(([, h]) => h.totalCount));
  const series = list.map(([name, h], i) => ({ label: name, color: color(name, i), values: spectrumValues(h, x) }));
  return { id, title, caption, kind: 'spectrum', yScale: 'log', yLabel: 'latency (ms)', x, views: [{ name: 'all', series }] };
}

/**
 * The seconds a per-second chart draws. The last interval of a run is cut short where the run
 * ended (often a few ms holding only the closing QUITs); divided by its length it would draw a
 * spurious plunge or spike, so below half a second it is left out, unless it is the only one.
 */
export function drawnSeconds<T>(list: readonly T[], lengthS: (item: T) => number): readonly T[] {
  return list.length > 1 && lengthS(list[list.length - 1]) < 0.5 ? list.slice(0, -1) : list;
}

/** The three percentiles drawn over time. */
const OVER_TIME = [
  { key: 'p50', label: 'p50', color: '#2ca02c', percentile: 50 },
  { key: 'p90', label: 'p90', color: '#ff7f0e', percentile: 90 },
  { key: 'p99', label: 'p99', color: '#d62728', percentile: 99 },
] as const;

/**
 * p50, p90 and p99 of each phase per second, one view per phase (`transaction` first): from
 * run.hlog's intervals, or from timeline.ndjson's per-second percentiles when there is no log.
 * Null for a second in which the phase had no sample.
 */
export function latencyOverTime(allIntervals: readonly Interval[], allSeconds: readonly Second[]): ChartSpec | null {
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
  };
}

/**
 * Achieved messages/s and recipients/s per second, the target arrival rate (open and ramping-rate
 * models) and late/dropped starts per second (right axis, as points), from timeline.ndjson; with no
 * timeline, transactions per second counted in run.hlog's `transaction` intervals.
 */
export function throughputChart(allSeconds: readonly Second[], intervals: readonly Interval[], targetAt?: (tS: number) => number | null): ChartSpec | null {
  const title = 'Throughput per second';
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
    };
  }
  const per = (n: number, s: Second): number => round1(n / (s.intervalS > 0 ? s.intervalS : 1));
  const series: SeriesSpec[] = [
    { label: 'messages/s accepted', color: '#1f77b4', values: timeline.map((s) => s.rates.msgsPerS) },
    { label: 'recipients/s accepted', color: '#2ca02c', values: timeline.map((s) => s.rates.rcptsPerS) },
  ];
  const open = timeline.some((s) => s.targetRate !== null);
  if (open) series.push({ label: 'target arrival rate', color: '#9467bd', dash: true, values: timeline.map((s) => (targetAt ? meanTarget(targetAt, s) : s.targetRate)) });
  const late = timeline.reduce((a, s) => a + s.messages.late, 0);
  const dropped = timeline.reduce((a, s) => a + s.messages.dropped, 0);
  // Only seconds that had late or dropped starts get a point: the marks are events, not a level.
  if (late > 0) series.push({ label: 'late starts/s', color: '#ff7f0e', pointsOnly: true, right: true, values: timeline.map((s) => (s.messages.late > 0 ? per(s.messages.late, s) : null)) });
  if (dropped > 0) series.push({ label: 'dropped starts/s', color: '#d62728', pointsOnly: true, right: true, values: timeline.map((s) => (s.messages.dropped > 0 ? per(s.messages.dropped, s) : null)) });
  const events = [
    ...(late > 0 ? [`late starts (more than 10 ms behind schedule; ${late} in all)`] : []),
    ...(dropped > 0 ? [`dropped starts (never sent: no free session; ${dropped} in all)`] : []),
  ];
  const marks = open
    ? ` The dashed line is the intended arrival rate, averaged over each second; ${events.length === 0 ? 'no message started late or was dropped.' : `points on the right axis mark seconds with ${events.join(' or ')}.`}`
    : ' Closed model: sessions send back to back, so there is no target rate.';
  return {
    id: 'throughput',
    title,
    caption: `Messages and recipients the server accepted in each second.${marks}`,
    kind: 'time',
    yScale: 'linear',
    yLabel: 'per second',
    ...(late + dropped > 0 ? { y2Label: 'starts/s' } : {}),
    x: timeline.map((s) => s.t),
    views: [{ name: 'all', series }],
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

/** The reply classes drawn (3xx, the 354 go-ahead for DATA, is an intermediate reply, not an outcome). */
const REPLY_SERIES = [
  { cls: '2xx', color: '#2ca02c' },
  { cls: '4xx', color: '#ff7f0e' },
  { cls: '5xx', color: '#d62728' },
] as const;

/** Replies per second by class (all phases), from timeline.ndjson. */
export function repliesChart(allSeconds: readonly Second[]): ChartSpec | null {
  const timeline = drawnSeconds(allSeconds, (s) => s.intervalS);
  if (timeline.length === 0) return null;
  const series = REPLY_SERIES.map(({ cls, color }) => ({
    label: `${cls} replies/s`,
    color,
    values: timeline.map((s) => round1(s.replies[cls] / (s.intervalS > 0 ? s.intervalS : 1))),
  }));
  return {
    id: 'replies',
    title: 'Replies per second by class',
    caption: 'Server replies of every command in each second by class: 2xx success, 4xx temporary failure (try again later), 5xx permanent failure (RFC 5321 §4.2.1); asinh scale, so a few 4xx show beside thousands of 2xx.',
    kind: 'time',
    yScale: 'asinh',
    yLabel: 'replies/s',
    x: timeline.map((s) => s.t),
    views: [{ name: 'all', series }],
  };
}

/** Errors per second by kind, from timeline.ndjson; null when the run had none. */
export function errorsChart(allSeconds: readonly Second[]): ChartSpec | null {
  const timeline = drawnSeconds(allSeconds, (s) => s.intervalS);
  const kinds = [...new Set(timeline.flatMap((s) => Object.keys(s.errors)))].sort();
  if (kinds.length === 0) return null;
  const series = kinds.map((kind, i) => ({ label: kind, color: PALETTE[(i + 3) % PALETTE.length], values: timeline.map((s) => round1((s.errors[kind] ?? 0) / (s.intervalS > 0 ? s.intervalS : 1))) }));
  return {
    id: 'errors',
    title: 'Errors per second by kind',
    caption: 'Timeouts, closed or reset connections, protocol errors and other failures counted in each second, one line per kind (the kinds are listed in the README, "What is measured"); asinh scale.',
    kind: 'time',
    yScale: 'asinh',
    yLabel: 'errors/s',
    x: timeline.map((s) => s.t),
    views: [{ name: 'all', series }],
  };
}

/** Every chart of report.html that has data, in page order. */
export function pageDataOf(run: RunData): PageData {
  const charts = [
    spectrumChart(
      'spectrum',
      'Latency by percentile, client side',
      `Each phase's latency (log scale) at every percentile of the whole run: read 99 % on the x axis to see what the slowest 1 % of ${run.summary.model === 'open' ? 'transactions waited (from their intended start)' : 'commands took'}; a line ends at its maximum.`,
      run.histograms,
      phaseColor,
    ),
    spectrumChart(
      'server-spectrum',
      'Latency by percentile, reference server side',
      "The embedded reference server's own time by percentile: per command from the parsed line to its queued reply (cmd.*), per message from the 354 to the end of data (data-stream), and send-to-arrival time (delivery); compare with the client's lines to see how much of its latency the server spent.",
      run.serverHistograms,
      (_, i) => PALETTE[i % PALETTE.length],
    ),
    latencyOverTime(run.intervals, run.timeline),
    throughputChart(run.timeline, run.intervals, (tS) => targetRateAt(run.summary.profile, tS)),
    repliesChart(run.timeline),
    errorsChart(run.timeline),
  ];
  return { warmupS: run.summary.warmupS, charts: charts.filter((c): c is ChartSpec => c !== null) };
}
