/**
 * report.html's percentile spectra (HdrHistogram plotter style): each phase's latency at every
 * percentile of the whole run, x = 1/(1-p) on a log axis, a line ending at its maximum; the client's
 * and the reference server's spectra open on one shared latency axis.
 */
import type { Histogram } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import type { ChartSpec, SeriesSpec } from './chart-spec.js';

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

/** Latency ms with µs precision, as the summary rounds them. */
const ms = (us: number): number => Math.round(us) / 1000;
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
