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
  /** Off until its legend entry is clicked (uPlot `show: false`): a line most readers need only second. */
  readonly hidden?: boolean;
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
  /**
   * Time charts: where the grey warm-up band ends, s since the start (absent: no warm-up). Every
   * point inside the band is a second counted during warm-up, every point right of it a measured one.
   */
  readonly warmupEndS?: number;
  /**
   * Spectra: the latency range (ms, whole decades) the chart opens with. Both spectra get the same
   * one, so their lines compare; a line switched on later may widen it.
   */
  readonly yRange?: readonly [number, number];
}

/** What report.html embeds as JSON: every chart, and the warm-up's length. */
export interface PageData {
  /** Seconds of warm-up at the start of every time chart (shaded), 0 when none. */
  readonly warmupS: number;
  readonly charts: readonly ChartSpec[];
}

/** Distinct colours for up to 12 lines (Tableau 10 and two more). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#ad494a'];

/**
 * Each line's colour, the same in every chart and every run. The lines a chart shows first
 * (`SPECTRUM_SHOWN`, `SERVER_SPECTRUM_SHOWN`) get four far-apart hues: red for `transaction`, the
 * figure people quote, blue (dashed) for `service`, green for `connect`, orange for `body`. A server
 * line takes the colour of the client phase it serves (`cmd.rcpt` as `rcpt`, `data-stream` as `body`).
 */
const PHASE_COLORS: Readonly<Record<string, string>> = {
  transaction: '#d62728',
  service: '#1f77b4',
  connect: '#2ca02c',
  body: '#ff7f0e',
  bdat: '#8c564b',
  tls: '#dbdb8d',
  greeting: '#bcbd22',
  ehlo: '#7f7f7f',
  auth: '#c49c94',
  mail: '#9467bd',
  rcpt: '#e377c2',
  data: '#17becf',
  rset: '#aec7e8',
  quit: '#98df8a',
  session: '#393b79',
  'cmd.mail': '#9467bd',
  'cmd.rcpt': '#e377c2',
  'cmd.data': '#17becf',
  'cmd.bdat': '#8c564b',
  'cmd.ehlo': '#7f7f7f',
  'cmd.quit': '#98df8a',
  'cmd.rset': '#aec7e8',
  'data-stream': '#ff7f0e',
  delivery: '#2ca02c',
};

/** Lines drawn dashed, to tell them apart where they run together (closed model: service = transaction). */
const DASHED = new Set(['service']);

/**
 * The client lines the percentile chart shows first: the message as a whole (`transaction`,
 * `service`), the end of data (`body`, or `bdat`), where the server does its work on a message,
 * and connection set-up (`connect`). The others are a click on their legend entry away: with
 * PIPELINING `mail`, `rcpt` and `data` run on top of each other, and `session` (seconds) would
 * stretch the axis over decades the messages never reach.
 */
export const SPECTRUM_SHOWN: readonly string[] = ['transaction', 'service', 'body', 'bdat', 'connect'];

/** The reference server lines shown first: its work per message (the per-message commands, the DATA stream, delivery). */
export const SERVER_SPECTRUM_SHOWN: readonly string[] = ['cmd.mail', 'cmd.rcpt', 'cmd.data', 'cmd.bdat', 'data-stream', 'delivery'];

/** The colour of line `name`; scenario steps (vrfy, noop, …) and other server commands share the palette by their place. */
export function phaseColor(name: string, i = 0): string {
  const p = (PHASES as readonly string[]).indexOf(name);
  return PHASE_COLORS[name] ?? PALETTE[(p < 0 ? i : p) % PALETTE.length];
}

/** Latency ms with µs precision, as the summary rounds them. */
const ms = (us: number): number => Math.round(us) / 1000;
const round1 = (x: number): number => Math.round(x * 10) / 10;
/** `n` counted in second `s`, per second of the time it was counted over (the last second is shorter). */
const per = (n: number, s: Second): number => round1(n / (s.intervalS > 0 ? s.intervalS : 1));

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

/** The histograms' resolution, ms: the lowest value a log axis draws (HdrHistogram's lowest discernible value, 1 µs). */
export const RESOLUTION_MS = 0.001;

/**
 * A spectrum chart of `histograms`, one series per name; null when none has data. Names in
 * `shown` are drawn first and the others start switched off (when none of `shown` has data,
 * every line is drawn). A value of 0 (under 1 µs: a server command answered from memory) cannot
 * sit on a log axis: it is drawn at `RESOLUTION_MS`, and the caption says so.
 */
export function spectrumChart(
  id: string,
  title: string,
  caption: string,
  histograms: ReadonlyMap<string, Histogram>,
  color: (name: string, i: number) => string,
  shown: readonly string[] = [],
): ChartSpec | null {
  const list = ordered(histograms);
  if (list.length === 0) return null;
  const x = spectrumXs(list.map(([, h]) => h.totalCount));
  const anyShown = list.some(([name]) => shown.includes(name));
  let clamped = false;
  const series = list.map(([name, h], i): SeriesSpec => {
    const values = spectrumValues(h, x).map((v) => {
      if (v === null || v >= RESOLUTION_MS) return v;
      clamped = true;
      return RESOLUTION_MS;
    });
    return { label: name, color: color(name, i), values, ...(DASHED.has(name) ? { dash: true } : {}), ...(anyShown && !shown.includes(name) ? { hidden: true } : {}) };
  });
  const zero = clamped ? ` Values under 1 µs (0 in the tables) are drawn at ${RESOLUTION_MS} ms, the histograms' resolution.` : '';
  return { id, title, caption: `${caption}${zero}`, kind: 'spectrum', yScale: 'log', yLabel: 'latency (ms)', x, views: [{ name: 'all', series }] };
}

/**
 * The range (ms, whole decades) that holds every value of the lines shown first in `charts`:
 * the one y axis both spectra open with. Null when no line has a value.
 */
export function sharedDecades(charts: readonly (ChartSpec | null)[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of charts) {
    for (const s of c?.views[0].series ?? []) {
      if (s.hidden) continue;
      for (const v of s.values) {
        if (v === null || v <= 0) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (lo === Infinity) return null;
  // toPrecision: log10 of 1000 may come out a hair under 3 on some inputs; a decade is a decade.
  const decade = (v: number, round: (x: number) => number): number => 10 ** round(Number(Math.log10(v).toPrecision(12)));
  const top = decade(hi, Math.ceil);
  return [decade(lo, Math.floor), top > decade(lo, Math.floor) ? top : top * 10];
}

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

/** Every chart of report.html that has data, in page order. */
export function pageDataOf(run: RunData): PageData {
  const s = run.summary;
  const warmupS = s.warmupS ?? 0;
  const client = spectrumChart(
    'spectrum',
    'Latency by percentile, client side',
    `Each phase's latency (log scale) at every percentile of the whole run: read 99 % on the x axis to see what the slowest 1 % of ${s.model === 'open' ? 'transactions waited (from their intended start)' : 'commands took'}; a line ends at its maximum. Shown first: the whole message (transaction; service dashed), the end of data (body) and connection set-up (connect); the other phases are in the legend.`,
    run.histograms,
    phaseColor,
    SPECTRUM_SHOWN,
  );
  const server = spectrumChart(
    'server-spectrum',
    'Latency by percentile, reference server side',
    `The embedded reference server's own time by percentile: per command from the parsed line to its queued reply (cmd.*), per message from the 354 to the end of data (data-stream), and send-to-arrival (delivery). A server line has the colour of the client phase it serves (cmd.rcpt as rcpt); the per-session commands start hidden.${warmupS > 0 ? ` Its figures restart when the ${warmupS} s warm-up ends, as the client's do.` : ''}`,
    run.serverHistograms,
    phaseColor,
    SERVER_SPECTRUM_SHOWN,
  );
  // One y axis for both spectra, so the server's time reads against the client's at a glance.
  const shared = client && server ? sharedDecades([client, server]) : null;
  const withRange = (c: ChartSpec | null, note: string): ChartSpec | null => (c && shared ? { ...c, yRange: shared, caption: `${c.caption} ${note}` } : c);
  const sameAxis = `Both percentile charts open on one latency axis (${shared?.[0]} to ${shared?.[1]} ms)`;
  const charts = [
    withRange(client, `${sameAxis}, so a line compares with the server's.`),
    withRange(server, `${sameAxis}: the gap between a client line and the server line of its colour is time outside the server's command handling (network, queues, the client).`),
    latencyOverTime(run.intervals, run.timeline, warmupS),
    throughputChart(run.timeline, run.intervals, { targetAt: (tS) => targetRateAt(s.profile, tS), warmupS, late: s.totals?.messages?.late, dropped: s.totals?.messages?.dropped }),
    repliesChart(run.timeline, warmupS),
    errorsChart(run.timeline, warmupS),
  ];
  return { warmupS, charts: charts.filter((c): c is ChartSpec => c !== null) };
}
