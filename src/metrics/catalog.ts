/**
 * The one metric catalog: every metric a threshold, `compare` or a capacity SLO can name
 * (`transaction.p99`, `errors.rate`, `server.cmd.mail.max`…), with its unit, the limit suffixes it
 * takes, and how it is read from a finished run (report/run-data.ts `RunData`) or from the running
 * totals of a run in progress (report/thresholds.ts `liveRun()`). The profile resolver checks
 * threshold expressions against it (profile/thresholds.ts), so it sits below the profile.
 */
import { statsPercentile, type Histogram, type PhaseStats } from './histogram.js';
import { PHASES } from './phases.js';
import type { EnhancedCounts, ErrorCounts, ReplyCounts } from './recorder.js';
import { enhancedCodeOf } from '../protocol/reply-parser.js';
import { SERVER_HISTOGRAMS } from './server-histograms.js';

/** The unit a metric is measured in and a threshold's limit compared in (docs/results.md "Thresholds"): ms, a 0..1 ratio, per second, a count, a boolean. */
export type MetricUnit = 'ms' | 'ratio' | 'per-second' | 'count' | 'bool';

/** Messages by outcome, as summary.json's `totals.messages` counts them (since the end of warm-up). */
export interface MessageTotals {
  readonly attempted: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly failed: number;
  readonly abandoned: number;
  readonly late: number;
  readonly dropped: number;
}

/** Recipients by outcome, as summary.json's `totals.recipients` counts them. */
export interface RecipientTotals {
  readonly attempted: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly failed: number;
  readonly deferred: number;
}

/**
 * What a metric is read from: a finished run (report/run-data.ts `RunData`, whose summary.json has
 * these fields) or the running totals of a run in progress (report/thresholds.ts `liveRun()`).
 * Histograms hold µs; counts are since the end of warm-up.
 */
export interface MetricRun {
  readonly summary: {
    /** Measured seconds (after warm-up): the denominator of every per-second rate. */
    readonly durationS: number;
    /** With `rates` (a finished run's summary), the per-second rates are read from it, so they match the table to the digit. */
    readonly totals: {
      readonly messages: MessageTotals;
      readonly recipients: RecipientTotals;
      readonly transactions: number;
      /** Accepted message octets. */
      readonly bytes: number;
      /** Accepted messages and recipients per second, MB (10^6 bytes) per second. */
      readonly rates?: { readonly msgsPerS: number; readonly rcptsPerS: number; readonly mbPerS: number };
    };
    readonly replies: ReplyCounts;
    /** Enhanced status codes per phase; absent in a summary written before they were counted. */
    readonly enhancedReplies?: EnhancedCounts;
    readonly errors: ErrorCounts;
    /**
     * A finished run's per-phase statistics (ms): what a latency metric reads when the run has no
     * histogram for the phase (a summary.json from before `encoded`, fetched without its run.hlog).
     */
    readonly phases?: Readonly<Record<string, PhaseStats>>;
    /** Null while the run goes: generator health is known only from the workers' final results. */
    readonly generator: { readonly saturated: boolean; readonly eventLoopDelayP99Ms: number; readonly scheduleLagP99Ms: number } | null;
  };
  /** Whole-run histogram of each phase (µs); a missing or empty one has no data. */
  readonly histograms: ReadonlyMap<string, Histogram>;
  /** The reference server's own histograms (µs) by name (`cmd.mail`); empty for an external target. */
  readonly serverHistograms: ReadonlyMap<string, Histogram>;
}

/** One metric of the catalog. */
export interface Metric {
  /** Canonical name: `transaction.p99`, `transaction.p999` (p99.9), `errors.rate`. */
  readonly name: string;
  readonly unit: MetricUnit;
  /** Limit suffixes accepted besides a bare number (lower case), each a function to the unit. */
  readonly suffixes: Readonly<Record<string, (x: number) => number>>;
  /**
   * The value in `unit`, or null when there is no data: a latency with no recorded value, a ratio
   * with a zero denominator, a rate over zero seconds, generator health during a run. Counts are
   * never null (zero is data).
   */
  read(run: MetricRun): number | boolean | null;
}

const MESSAGE_OUTCOMES = ['attempted', 'accepted', 'rejected', 'failed', 'abandoned', 'late', 'dropped'] as const;
const RECIPIENT_OUTCOMES = ['attempted', 'accepted', 'rejected', 'failed', 'deferred'] as const;
const REPLY_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

/** `<prefix>.<stat>`: the shortest prefix whose rest is a statistic (`server.cmd.mail.p99.9` → `server.cmd.mail`, `p99.9`). */
const LATENCY = /^(.+?)\.(?:p\((\d+(?:\.\d+)?)\)|p(\d+(?:\.\d+)?)|(min|mean|avg|med|max|count))$/;

/**
 * The known metric names and patterns, one line each, for error messages and `--help` text.
 */
export function knownMetrics(): string[] {
  return [
    `<phase>.<stat> (ms), phase: ${PHASES.join(', ')}`,
    `server.<name>.<stat> (ms; the embedded reference server), name: ${SERVER_HISTOGRAMS.join(', ')}`,
    '  <stat>: pN (p50, p90, p99, p100; p999 = p99.9, p9999 = p99.99; p12.5; k6: p(99.9)), min, mean (avg), max, med (= p50), count',
    'messages.rate, recipients.rate (accepted per second), bytes.rate (MB/s)',
    `messages.<outcome>.count | .rate (ratio), outcome: ${MESSAGE_OUTCOMES.join(', ')}`,
    `recipients.<outcome>.count, outcome: ${RECIPIENT_OUTCOMES.join(', ')}; recipients.<outcome>.rate (ratio of attempted) for all but attempted`,
    'errors.rate (ratio of messages due), errors.count, errors.<kind>.count',
    'replies.<class>.rate (ratio of all replies) | .count, class 2xx, 3xx, 4xx, 5xx or a code (replies.452.count)',
    'replies.enhanced.<code>.count | .rate (ratio of all replies), code an RFC 3463 enhanced status code (replies.enhanced.4.2.2.count)',
    'generator.saturated (true | false), generator.eventLoopDelayP99, generator.scheduleLagP99 (ms)',
    'transactions.count',
  ];
}

/**
 * The percentile of `p(99.9)` (k6) or `p99.9`, or of bare digits: one or two digits or `100` as
 * they are (`p5`, `p50`, `p100`); `99` followed by more digits is 99 point those digits (`p999` =
 * 99.9, `p9999` = 99.99, `p995` = 99.5: the names summary.json and wrk use). Other bare digits
 * (`p101`, `p125`) are refused rather than guessed: write `p12.5`.
 * @throws Error on a bare form that is none of these, or a percentile above 100
 */
function percentileOf(paren: string | undefined, bare: string | undefined): number {
  const t = paren ?? bare!;
  let q: number;
  if (paren !== undefined || t.includes('.') || t.length <= 2 || t === '100') q = Number(t);
  else if (t.startsWith('99')) q = Number(`99.${t.slice(2)}`);
  else throw new Error(`percentile "p${t}" is ambiguous: write it with a point (p${t.slice(0, 2)}.${t.slice(2)}) or as p(N)`);
  if (!(q <= 100)) throw new Error(`percentile ${t} is out of range 0..100`);
  // Finer than a millionth of a percent means nothing at 3 significant digits, and has no name.
  if (Math.abs(q * 1e6 - Math.round(q * 1e6)) > 1e-6) throw new Error(`percentile ${t} has more than 6 decimals`);
  return q;
}

/** The canonical name of percentile `q`: `p99`, `p999` (99.9), `p9999` (99.99), `p99.5` → `p995`; others keep the point (`p12.5`). */
export function percentileName(q: number): string {
  if (Number.isInteger(q)) return `p${q}`;
  if (q > 99 && q < 100) return `p${String(q).replace('.', '')}`;
  return `p${q}`;
}

const msOf = (us: number): number => Math.round(us) / 1000;
const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);
/** `n` per measured second; `given`, summary.json's rounded rate, when the run has one. */
const perSecond = (n: number, run: MetricRun, given: number | undefined): number | null => (run.summary.durationS > 0 ? (given ?? n / run.summary.durationS) : null);

// Limit suffixes by unit. Latencies: a bare number is ms.
// Both micro signs: U+00B5 (µ, the keyboard's) and U+03BC (μ, Greek mu).
const MS_SUFFIXES = { us: (x: number) => x / 1000, µs: (x: number) => x / 1000, μs: (x: number) => x / 1000, ms: (x: number) => x, s: (x: number) => x * 1000 };
const RATIO_SUFFIXES = { '%': (x: number) => x / 100 };
const PER_SECOND_SUFFIXES = { '/s': (x: number) => x };

function metric(name: string, unit: MetricUnit, read: Metric['read'], suffixes: Metric['suffixes'] = {}): Metric {
  const own = unit === 'ms' ? MS_SUFFIXES : unit === 'ratio' ? RATIO_SUFFIXES : unit === 'per-second' ? PER_SECOND_SUFFIXES : {};
  return { name, unit, suffixes: { ...own, ...suffixes }, read };
}

/** A statistic of a µs histogram, in ms (`count`: a count); as summary.json's `statsOf` computes it. */
function histogramMetric(prefix: string, m: RegExpExecArray, pick: (run: MetricRun) => Histogram | undefined, pickStats: (run: MetricRun) => PhaseStats | undefined = () => undefined): Metric {
  const [, , paren, bare, word] = m;
  if (word === 'count') return metric(`${prefix}.count`, 'count', (run) => pick(run)?.totalCount || pickStats(run)?.count || 0);
  let stat: string;
  let value: (h: Histogram) => number;
  // Without a histogram, the summary's statistics: its fixed fields, or its configured percentiles.
  let fromStats: (s: PhaseStats) => number | undefined;
  if (word === undefined || word === 'med') {
    const q = word === 'med' ? 50 : percentileOf(paren, bare);
    stat = percentileName(q);
    value = (h) => msOf(h.getValueAtPercentile(q));
    fromStats = (s) => statsPercentile(s, q);
  } else if (word === 'min') {
    stat = 'min';
    value = (h) => msOf(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.getValueAtPercentile(0));
    fromStats = (s) => s.min;
  } else if (word === 'max') {
    stat = 'max';
    value = (h) => msOf(h.maxValue);
    fromStats = (s) => s.max;
  } else {
    stat = 'mean';
    value = (h) => msOf(h.mean);
    fromStats = (s) => s.mean;
  }
  return metric(`${prefix}.${stat}`, 'ms', (run) => {
    const h = pick(run);
    if (h !== undefined && h.totalCount > 0) return value(h);
    const s = pickStats(run);
    return s === undefined || s.count === 0 ? null : (fromStats(s) ?? null);
  });
}

/** Replies of every phase with enhanced status code `code`; null for a summary from before they were counted. */
function enhancedWhere(run: MetricRun, code: string): number | null {
  const byPhase = run.summary.enhancedReplies;
  if (byPhase === undefined) return null;
  let n = 0;
  for (const codes of Object.values(byPhase)) n += codes[code] ?? 0;
  return n;
}

/** Sum of replies over every phase whose code matches. */
function repliesWhere(run: MetricRun, match: (code: string) => boolean): number {
  let n = 0;
  for (const codes of Object.values(run.summary.replies)) for (const [code, count] of Object.entries(codes)) if (match(code)) n += count;
  return n;
}

/**
 * Looks a metric up in the catalog by any accepted spelling (`transaction.p(99)`, `transaction.avg`).
 *
 * Ratio denominators: `messages.<outcome>.rate` is a share of the attempted messages for attempted
 * outcomes (accepted, rejected, failed, late) and a share of the messages due (attempted + dropped +
 * abandoned) for those never attempted (dropped, abandoned) and for attempted itself;
 * `recipients.<outcome>.rate` a share of the attempted recipients; `errors.rate` is the messages
 * not accepted (rejected + failed + dropped + abandoned) over the messages due; `replies.<class>.rate`
 * and `replies.enhanced.<code>.rate` a share of every reply of every phase.
 *
 * @throws Error naming the metric when it is not in the catalog, or a percentile outside 0..100
 */
export function resolveMetric(name: string): Metric {
  const lat = LATENCY.exec(name);
  if (lat) {
    const prefix = lat[1];
    if ((PHASES as readonly string[]).includes(prefix))
      return histogramMetric(
        prefix,
        lat,
        (run) => run.histograms.get(prefix),
        (run) => run.summary.phases?.[prefix],
      );
    const server = prefix.startsWith('server.') ? prefix.slice('server.'.length) : null;
    if (server !== null && SERVER_HISTOGRAMS.includes(server)) return histogramMetric(prefix, lat, (run) => run.serverHistograms.get(server));
  }
  const m = (run: MetricRun) => run.summary.totals.messages;
  const due = (run: MetricRun): number => m(run).attempted + m(run).dropped + m(run).abandoned;
  switch (name) {
    case 'messages.rate':
      return metric(name, 'per-second', (run) => perSecond(m(run).accepted, run, run.summary.totals.rates?.msgsPerS));
    case 'recipients.rate':
      return metric(name, 'per-second', (run) => perSecond(run.summary.totals.recipients.accepted, run, run.summary.totals.rates?.rcptsPerS));
    case 'bytes.rate':
      // MB = 10^6 bytes (DESIGN §8).
      return metric(name, 'per-second', (run) => perSecond(run.summary.totals.bytes / 1e6, run, run.summary.totals.rates?.mbPerS), { 'mb/s': (x) => x });
    case 'errors.rate':
      return metric(name, 'ratio', (run) => ratio(m(run).rejected + m(run).failed + m(run).dropped + m(run).abandoned, due(run)));
    case 'errors.count':
      return metric(name, 'count', (run) => Object.values(run.summary.errors).reduce((a, n) => a + n, 0));
    case 'transactions.count':
      return metric(name, 'count', (run) => run.summary.totals.transactions);
    case 'generator.saturated':
      return metric(name, 'bool', (run) => run.summary.generator?.saturated ?? null);
    case 'generator.eventLoopDelayP99':
      return metric(name, 'ms', (run) => run.summary.generator?.eventLoopDelayP99Ms ?? null);
    case 'generator.scheduleLagP99':
      return metric(name, 'ms', (run) => run.summary.generator?.scheduleLagP99Ms ?? null);
  }
  // An RFC 3463 code has dots of its own: `replies.enhanced.4.2.2.count`.
  const enhanced = /^replies\.enhanced\.(\d{1,3}\.\d{1,3}\.\d{1,3})\.(count|rate)$/.exec(name);
  const code = enhanced === null ? null : enhancedCodeOf(enhanced[1]);
  if (enhanced !== null && code !== null) {
    const count = (run: MetricRun): number | null => enhancedWhere(run, code);
    if (enhanced[2] === 'count') return metric(name, 'count', count);
    return metric(name, 'ratio', (run) => {
      const n = count(run);
      return n === null
        ? null
        : ratio(
            n,
            repliesWhere(run, () => true),
          );
    });
  }
  const parts = name.split('.');
  if (parts.length === 3 && (parts[2] === 'count' || parts[2] === 'rate')) {
    const [family, key, agg] = parts;
    if (family === 'messages' && (MESSAGE_OUTCOMES as readonly string[]).includes(key)) {
      const o = key as (typeof MESSAGE_OUTCOMES)[number];
      if (agg === 'count') return metric(name, 'count', (run) => m(run)[o]);
      // Dropped and abandoned messages were never attempted: their share is of the messages due.
      const overDue = o === 'dropped' || o === 'abandoned' || o === 'attempted';
      return metric(name, 'ratio', (run) => ratio(m(run)[o], overDue ? due(run) : m(run).attempted));
    }
    if (family === 'recipients' && (RECIPIENT_OUTCOMES as readonly string[]).includes(key) && !(key === 'attempted' && agg === 'rate')) {
      const o = key as (typeof RECIPIENT_OUTCOMES)[number];
      const r = (run: MetricRun) => run.summary.totals.recipients;
      if (agg === 'count') return metric(name, 'count', (run) => r(run)[o]);
      return metric(name, 'ratio', (run) => ratio(r(run)[o], r(run).attempted));
    }
    if (family === 'replies' && (/^[2-5]\d\d$/.test(key) || (REPLY_CLASSES as readonly string[]).includes(key))) {
      const match = key.endsWith('xx') ? (code: string) => code[0] === key[0] : (code: string) => code === key;
      if (agg === 'count') return metric(name, 'count', (run) => repliesWhere(run, match));
      return metric(name, 'ratio', (run) =>
        ratio(
          repliesWhere(run, match),
          repliesWhere(run, () => true),
        ),
      );
    }
    // Error kinds are open-ended (`rcpt-timeout`, `greeting-refused`…): a kind never seen counts 0.
    // Own keys only: `errors.constructor.count` must not read Object.prototype.constructor.
    if (family === 'errors' && agg === 'count' && /^[a-z0-9][a-z0-9-]*$/i.test(key)) return metric(name, 'count', (run) => (Object.hasOwn(run.summary.errors, key) ? run.summary.errors[key] : 0));
  }
  throw new Error(`unknown metric ${JSON.stringify(name)}`);
}

/** The value of metric `name` in `run` (see `resolveMetric`). @throws Error on an unknown metric */
export function metricValue(name: string, run: MetricRun): number | boolean | null {
  return resolveMetric(name).read(run);
}
