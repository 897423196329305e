/**
 * What `--pushgateway` sends to a Prometheus Pushgateway: the run's figures in the text exposition
 * format 0.0.4, phase latencies as histograms with one fixed set of buckets, so the runs of several
 * machines add up (`sum by (le) (…_bucket)`), which quantiles of summaries never do; and the path
 * of the run's group. The HTTP side (retries, timeouts, credentials) is `publish.ts`.
 */
import os from 'node:os';
import { JsHistogram, type Histogram } from '../metrics/histogram.js';
import { decodeAll } from './run-data.js';
import type { Summary } from './summary.js';

/**
 * Upper bounds (`le`) of `smtpbench_phase_latency_seconds`, in µs: 1-2-5 steps from 100 µs to
 * 20 s, then 30 s and 60 s (the client's default reply and body timeouts). Fixed, so that buckets
 * from every run and machine line up; changing them is a breaking change for dashboards.
 */
export const LATENCY_BUCKETS_US: readonly number[] = [
  100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 30_000_000, 60_000_000,
];

/** The Pushgateway job name (the first label of the grouping key). */
export const PUSHGATEWAY_JOB = 'smtpbench';

/** A histogram as Prometheus buckets: cumulative counts per `le`, the total count and the sum (µs). */
export interface BucketCounts {
  /** `cumulative[i]` = values counted at or below `bounds[i]` (see `latencyBuckets` for the rounding). */
  readonly cumulative: readonly number[];
  /** Every value: the `+Inf` bucket and `_count`. */
  readonly count: number;
  /** Sum of the values, µs, each taken as the middle of its HdrHistogram bucket (as `Histogram.mean`). */
  readonly sumUs: number;
}

/**
 * Cumulative bucket counts of a µs histogram for the given upper bounds.
 *
 * HdrHistogram keeps values in buckets of equivalent values (3 significant digits: every integer
 * below 2048 alone, above that a bucket spans at most 1/1024 of its values, e.g. 5000..5003 µs).
 * A value counts at `le` when the highest equivalent value of its bucket is ≤ le, which is how
 * HdrHistogram reports percentiles too: summary.json's pN ≤ le exactly when the count at le
 * reaches N % of the total. A bucket straddling `le` (lowest ≤ le < highest) counts in the next
 * `le`, so the count at `le` is the exact count of values ≤ le′ for some le′ in (le − le/1024, le];
 * bounds below 2048 µs are exact.
 * @throws Error for a histogram that is not a JS histogram (the project builds none other)
 */
export function latencyBuckets(h: Histogram, bounds: readonly number[] = LATENCY_BUCKETS_US): BucketCounts {
  if (!(h instanceof JsHistogram)) throw new Error('latencyBuckets: expected a JS HdrHistogram (useWebAssembly: false)');
  const counts = new Array<number>(bounds.length).fill(0);
  let sumUs = 0;
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    const n = v.countAddedInThisIterationStep;
    sumUs += h.medianEquivalentValue(v.valueIteratedTo) * n;
    // valueIteratedTo is the highest equivalent value of the HdrHistogram bucket.
    const i = bounds.findIndex((le) => v.valueIteratedTo <= le);
    if (i >= 0) counts[i] += n;
  }
  for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
  return { cumulative: counts, count: h.totalCount, sumUs };
}

/** A label value escaped for the text format 0.0.4: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value in the text format: Go float syntax, `+Inf`, `-Inf`, `NaN`. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

type Labels = Readonly<Record<string, string>>;
interface Sample {
  readonly labels?: Labels;
  readonly value: number;
  /** `_bucket`, `_sum`, `_count` for histograms. */
  readonly suffix?: string;
}

/** Appends one metric family; a family without samples is left out (a bare TYPE line adds nothing). */
function family(out: string[], name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: readonly Sample[]): void {
  if (samples.length === 0) return;
  // HELP text escapes backslash and line feed (not the double quote), per the format.
  out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  for (const s of samples) {
    const labels = Object.entries(s.labels ?? {});
    const text = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
    out.push(`${name}${s.suffix ?? ''}${text} ${formatValue(s.value)}`);
  }
}

const one = (value: number): Sample[] => [{ value }];
const byLabel = (label: string, counts: Readonly<Record<string, number>>): Sample[] => Object.entries(counts).map(([k, value]) => ({ labels: { [label]: k }, value }));

/**
 * The run's figures in the Prometheus text exposition format 0.0.4 (names snake_case with base
 * units, as `smtpbench serve`'s /metrics): phase latencies as histograms (`LATENCY_BUCKETS_US`
 * in seconds), messages and recipients by outcome, bytes, connections, replies by phase and code,
 * errors by kind, rates, generator health, duration, threshold verdicts and `smtpbench_run_info`.
 * No `job`/`instance` labels (the Pushgateway's grouping key sets them) and no timestamps (the
 * Pushgateway refuses them); no series twice (the Pushgateway refuses that too: a threshold
 * expression given twice is one series). Nothing secret: the profile (reference-server accounts)
 * is not read.
 * @param histograms each phase's whole-run histogram (µs); default: decoded from `summary.encoded`
 */
export function runMetricsText(summary: Summary, histograms: ReadonlyMap<string, Histogram> = decodeAll(summary.encoded?.phases)): string {
  const out: string[] = [];
  const t = summary.totals;
  const g = summary.generator;
  const m = t.messages;
  const r = t.recipients;
  family(out, 'smtpbench_run_info', 'gauge', 'Always 1: the run this group describes.', [
    {
      labels: {
        run_id: summary.runId,
        executor: summary.executor,
        model: summary.model,
        target: summary.target.url,
        embedded: String(summary.target.embedded),
        git_sha: summary.environment.gitSha ?? '',
        node: summary.environment.node,
      },
      value: 1,
    },
  ]);
  family(out, 'smtpbench_run_start_time_seconds', 'gauge', 'When the run started, Unix time.', one(Date.parse(summary.startedAt) / 1000));
  family(out, 'smtpbench_run_duration_seconds', 'gauge', 'Measured time of the run, warm-up excluded.', one(summary.durationS));
  family(out, 'smtpbench_run_interrupted', 'gauge', '1 when the run was stopped early (Ctrl-C or SIGTERM).', one(summary.interrupted ? 1 : 0));
  family(out, 'smtpbench_workers', 'gauge', 'Load worker threads.', one(summary.workers));
  family(out, 'smtpbench_sessions', 'gauge', 'Concurrent SMTP sessions (closed models) as configured.', one(summary.sessions));
  family(
    out,
    'smtpbench_messages_total',
    'counter',
    'Messages by outcome: accepted, rejected (final 4xx/5xx), failed (no final reply), abandoned (never tried), dropped (open models: never started).',
    byLabel('outcome', { accepted: m.accepted, rejected: m.rejected, failed: m.failed, abandoned: m.abandoned, dropped: m.dropped }),
  );
  family(out, 'smtpbench_messages_attempted_total', 'counter', 'Messages attempted (accepted + rejected + failed).', one(m.attempted));
  family(out, 'smtpbench_messages_late_total', 'counter', 'Open models: messages started more than 10 ms after their intended time.', one(m.late));
  family(
    out,
    'smtpbench_recipients_total',
    'counter',
    'Recipients by outcome (accepted + rejected + failed = attempted).',
    byLabel('outcome', { accepted: r.accepted, rejected: r.rejected, failed: r.failed }),
  );
  family(out, 'smtpbench_recipients_deferred_total', 'counter', 'Recipients answered 452 and carried to a further transaction (an event, not an outcome).', one(r.deferred));
  family(out, 'smtpbench_transactions_total', 'counter', 'SMTP transactions.', one(t.transactions));
  family(out, 'smtpbench_steps_total', 'counter', 'Scenario steps (VRFY, NOOP, ...) sent instead of messages.', one(t.steps));
  family(out, 'smtpbench_message_bytes_total', 'counter', 'Message octets sent in DATA/BDAT in transactions whose end of data was accepted.', one(t.bytes));
  family(out, 'smtpbench_connections_total', 'counter', 'Connections opened.', one(t.connections));
  family(out, 'smtpbench_tls_handshakes_total', 'counter', 'TLS handshakes completed.', one(t.tls.handshakes));
  family(out, 'smtpbench_tls_resumed_total', 'counter', 'TLS handshakes that resumed an earlier session.', one(t.tls.resumed));
  const replies: Sample[] = [];
  for (const [phase, codes] of Object.entries(summary.replies)) for (const [code, value] of Object.entries(codes)) replies.push({ labels: { phase, code }, value });
  family(out, 'smtpbench_replies_total', 'counter', 'Replies by phase and reply code.', replies);
  family(out, 'smtpbench_errors_total', 'counter', 'Errors by kind (timeouts, socket errors, refusals).', byLabel('kind', summary.errors));
  family(out, 'smtpbench_accepted_messages_per_second', 'gauge', 'Accepted messages per second over the run.', one(t.rates.msgsPerS));
  family(out, 'smtpbench_accepted_recipients_per_second', 'gauge', 'Accepted recipients per second over the run.', one(t.rates.rcptsPerS));
  family(out, 'smtpbench_accepted_bytes_per_second', 'gauge', 'Accepted message octets per second over the run.', one(Math.round(t.rates.mbPerS * 1e6)));
  family(out, 'smtpbench_generator_event_loop_delay_p99_seconds', 'gauge', 'Worst worker event-loop delay, 99th percentile.', g ? one(g.eventLoopDelayP99Ms / 1000) : []);
  family(out, 'smtpbench_generator_event_loop_delay_max_seconds', 'gauge', 'Worst worker event-loop delay, maximum.', g ? one(g.eventLoopDelayMaxMs / 1000) : []);
  family(
    out,
    'smtpbench_generator_event_loop_utilization_ratio',
    'gauge',
    'Busiest worker event-loop utilization, 0..1.',
    g && g.eventLoopUtilizationMax !== null ? one(g.eventLoopUtilizationMax) : [],
  );
  family(out, 'smtpbench_generator_schedule_lag_p99_seconds', 'gauge', 'Open models: start lag behind the intended time, 99th percentile.', g ? one(g.scheduleLagP99Ms / 1000) : []);
  family(out, 'smtpbench_generator_schedule_lag_max_seconds', 'gauge', 'Open models: start lag behind the intended time, maximum.', g ? one(g.scheduleLagMaxMs / 1000) : []);
  family(out, 'smtpbench_generator_saturated', 'gauge', '1 when the load generator could not keep its own clock (its latencies include its own delays).', g ? one(g.saturated ? 1 : 0) : []);
  // One series per expression, not per verdict: the Pushgateway refuses a push that holds one series
  // twice, and the same expression from the profile and a flag asks one question. A label such as
  // `index` would keep them apart, but would move a threshold to a new series whenever one is added
  // before it. A copy failed means the expression failed (an abortOnFail copy can fail on the
  // running totals where its twin, judged at the end, passed).
  const passed = new Map<string, boolean>();
  for (const v of summary.thresholds ?? []) passed.set(v.expression, (passed.get(v.expression) ?? true) && v.ok);
  family(
    out,
    'smtpbench_threshold_passed',
    'gauge',
    'Threshold verdicts by expression: 1 passed, 0 failed (any copy of it).',
    [...passed].map(([threshold, ok]) => ({ labels: { threshold }, value: ok ? 1 : 0 })),
  );
  const latency: Sample[] = [];
  for (const [phase, h] of histograms) {
    if (h.totalCount === 0) continue;
    const b = latencyBuckets(h);
    LATENCY_BUCKETS_US.forEach((le, i) => latency.push({ suffix: '_bucket', labels: { phase, le: String(le / 1e6) }, value: b.cumulative[i] }));
    latency.push({ suffix: '_bucket', labels: { phase, le: '+Inf' }, value: b.count });
    latency.push({ suffix: '_sum', labels: { phase }, value: b.sumUs / 1e6 });
    latency.push({ suffix: '_count', labels: { phase }, value: b.count });
  }
  family(out, 'smtpbench_phase_latency_seconds', 'histogram', `Latency of each SMTP phase (docs/results.md "What is measured"; open models: transaction from the intended start).`, latency);
  return `${out.join('\n')}\n`;
}

/**
 * The path of this run's Pushgateway group: `/metrics/job/smtpbench/instance/<instance>`. An
 * instance with characters outside `[A-Za-z0-9._-]` goes base64url-encoded as
 * `instance@base64/…`, as the Pushgateway API requires for `/` and allows for anything else.
 */
export function pushgatewayGroupPath(instance: string): string {
  const segment = /^[A-Za-z0-9._-]+$/.test(instance) ? `instance/${instance}` : `instance@base64/${Buffer.from(instance).toString('base64url') || '='}`;
  return `/metrics/job/${PUSHGATEWAY_JOB}/${segment}`;
}

/** `base` (a route prefix in its path is kept) with the group path of `instance` appended. */
export function pushgatewayUrl(base: URL, instance: string): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${pushgatewayGroupPath(instance)}`;
  return url;
}

/** The default instance label: this machine's host name (stable across its runs). */
export const defaultInstance = (): string => os.hostname();
