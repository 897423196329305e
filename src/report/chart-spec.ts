/**
 * What report.html's charts are, as data: plain arrays uPlot draws (one shared x array, one y array
 * per series, null where a series has no value), and the colour of each line, the same in every
 * chart and every run. The charts themselves are made in `chart-spectrum.ts` and `chart-time.ts`,
 * the page's set in `chart-data.ts`; no HTML here (that is `html.ts`).
 *
 * Latencies are µs in the histograms and ms in every chart (DESIGN §8).
 */
import { PHASES } from '../metrics/phases.js';

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

/** A moment marked on every time chart: a vertical line with a short label (a change at the sink). */
export interface TimeMark {
  /** Seconds since the start of the run. */
  readonly atS: number;
  /** A few words drawn beside the line (`faults changed`); the whole change is in the page's table. */
  readonly label: string;
}

/** What report.html embeds as JSON: every chart, the warm-up's length and the marked moments. */
export interface PageData {
  /** Seconds of warm-up at the start of every time chart (shaded), 0 when none. */
  readonly warmupS: number;
  readonly charts: readonly ChartSpec[];
  /** Drawn on every time chart (the sink's run-time changes, `delivery.changes`); [] when none. */
  readonly marks: readonly TimeMark[];
}

/** Distinct colours for up to 12 lines (Tableau 10 and two more). */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#ad494a'];

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

/** The colour of line `name`; scenario steps (vrfy, noop, …) and other server commands share the palette by their place. */
export function phaseColor(name: string, i = 0): string {
  const p = (PHASES as readonly string[]).indexOf(name);
  return PHASE_COLORS[name] ?? PALETTE[(p < 0 ? i : p) % PALETTE.length];
}
