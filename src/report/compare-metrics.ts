/**
 * The metrics `smtpbench compare` shows and judges: each phase's p50, p90, p99 and max, the
 * accepted rates and the error and reply shares; their kinds (latency, rate, share: which way is
 * worse) and values, read through the one catalog (metrics/catalog.ts).
 */
import { metricValue as catalogValue, resolveMetric, type MetricRun } from '../metrics/catalog.js';
import { PHASES } from '../metrics/phases.js';
import type { Summary } from './summary.js';

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
 * metric catalog gives it (src/metrics/catalog.ts, the one reader of a run's figures).
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

/** A metric's value in a run, from the metric catalog; null without data (or for a boolean). */
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
