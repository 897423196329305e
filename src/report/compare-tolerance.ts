/**
 * The tolerances of `smtpbench compare`: how large a change must be to count, by kind of metric
 * and per metric, with their defaults and the `--tolerance` grammar.
 */
import { resolveMetric } from '../metrics/catalog.js';
import { PHASES } from '../metrics/phases.js';
import { printable } from '../redact.js';
import { comparesMetric, LATENCY_STATS, metricKind, RATE_METRICS, RATIO_METRICS } from './compare-metrics.js';

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
