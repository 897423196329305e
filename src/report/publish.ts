/**
 * Publishing a finished run with undici (issue 9 item 6):
 * - `--publish URL` POSTs summary.json, byte for byte as written, to a webhook;
 * - `--pushgateway URL` PUTs the run's figures to a Prometheus Pushgateway in the text exposition
 *   format 0.0.4, phase latencies as histograms with one fixed set of buckets, so the runs of
 *   several machines add up (`sum by (le) (…_bucket)`), which quantiles of summaries never do.
 *
 * Both retry network errors, 5xx and 429 with exponential backoff and jitter, never 4xx, within
 * one bounded total time; a failure is one line for a person, never a lost result (publishing runs
 * after the files are written). Credentials in a URL (`user:pass@`) go out as HTTP Basic
 * authentication (RFC 7617) and are never printed: messages show `displayUrl`, and never the
 * server's response body (it may echo the URL's token or the credentials).
 */
import { STATUS_CODES } from 'node:http';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { Agent, request } from 'undici';
import type { ProfileIssue } from '../errors.js';
import type { Histogram } from '../metrics/histogram.js';
import { MAX_DURATION_MS } from '../profile/limits.js';
import { maskUserinfo, printable } from '../redact.js';
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

/** Default total time of one publish, every try and wait included (`--publish-timeout`), ms. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

/**
 * Longest total time of one publish, ms: what a Node timer holds (`MAX_DURATION_MS`);
 * `AbortSignal.timeout` throws above 2^32 − 1 and `setTimeout` fires after 1 ms above 2^31 − 1.
 */
export const MAX_PUBLISH_TIMEOUT_MS = MAX_DURATION_MS;

/** A failed response's body is counted up to this many bytes, then the response is dropped. */
const BODY_COUNT_LIMIT = 64 * 1024;

/** At most this many tries per publish. */
export const MAX_TRIES = 4;

/** Backoff before try n+1: BASE·2^(n−1), times a random factor in [0.5, 1) ("equal jitter"). */
const BACKOFF_BASE_MS = 250;

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
  if (!(h instanceof hdr.JsHistogram)) throw new Error('latencyBuckets: expected a JS HdrHistogram (useWebAssembly: false)');
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
  family(out, 'smtpbench_generator_event_loop_delay_p99_seconds', 'gauge', 'Worst worker event-loop delay, 99th percentile.', one(g.eventLoopDelayP99Ms / 1000));
  family(out, 'smtpbench_generator_event_loop_delay_max_seconds', 'gauge', 'Worst worker event-loop delay, maximum.', one(g.eventLoopDelayMaxMs / 1000));
  family(out, 'smtpbench_generator_event_loop_utilization_ratio', 'gauge', 'Busiest worker event-loop utilization, 0..1.', one(g.eventLoopUtilizationMax));
  family(out, 'smtpbench_generator_schedule_lag_p99_seconds', 'gauge', 'Open models: start lag behind the intended time, 99th percentile.', one(g.scheduleLagP99Ms / 1000));
  family(out, 'smtpbench_generator_schedule_lag_max_seconds', 'gauge', 'Open models: start lag behind the intended time, maximum.', one(g.scheduleLagMaxMs / 1000));
  family(out, 'smtpbench_generator_saturated', 'gauge', '1 when the load generator could not keep its own clock (its latencies include its own delays).', one(g.saturated ? 1 : 0));
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
  family(out, 'smtpbench_phase_latency_seconds', 'histogram', `Latency of each SMTP phase (README "What is measured"; open models: transaction from the intended start).`, latency);
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

/**
 * A URL as it may be printed: no userinfo, and only the origin of what the user gave, since a
 * path or query may carry a token (Slack- and Discord-style webhooks): `https://hooks.example/…`.
 * `suffix` is a path smtpbench itself added (the Pushgateway's group), shown in full.
 */
export function displayUrl(userUrl: URL, suffix = ''): string {
  const hidden = userUrl.pathname.replace(/\/+$/, '') !== '' || userUrl.search !== '' || userUrl.hash !== '';
  return `${userUrl.protocol}//${userUrl.host}${hidden ? '/…' : ''}${suffix}`;
}

/**
 * Text that failed to parse as a URL, as it may be printed: what may be userinfo masked
 * (`maskUserinfo`: up to the last `@`, since a password may hold `/` or `@`), and, as
 * `displayUrl` does, no path or query (`hooks.example/services/T0/B0` → `hooks.example/…`).
 */
export function displayBadUrl(text: string): string {
  const [, origin, rest] = /^((?:[a-z][a-z0-9+.-]*:)?[\\/]*[^\\/?#]*)(.*)$/is.exec(maskUserinfo(text))!;
  return rest.replace(/^[\\/]+$/, '') === '' ? origin : `${origin}/…`;
}

/**
 * Checks a `--publish`/`--pushgateway` value: an absolute http:// or https:// URL.
 * @returns the problem, naming the flag and the URL without userinfo, path or query, or null
 */
export function publishUrlIssue(flag: string, value: string | undefined): ProfileIssue | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { path: flag, message: `expected an http:// or https:// URL, got ${JSON.stringify(displayBadUrl(value))}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { path: flag, message: `expected an http:// or https:// URL, got a ${url.protocol}// URL (${displayUrl(url)})` };
  return null;
}

/** One publish: where, how, what. `url` may hold credentials; they are sent as Basic auth, never shown. */
export interface PublishRequest {
  /** What to call it in messages, e.g. `--publish`. */
  readonly name: string;
  readonly url: URL;
  /** The URL as messages show it (default `displayUrl(url)`). */
  readonly shown?: string;
  readonly method: 'POST' | 'PUT';
  readonly contentType: string;
  readonly body: string;
}

/** How a publish went. `message` is one line for a person, URL without secrets. */
export type PublishResult =
  | { readonly ok: true; readonly name: string; readonly status: number; readonly tries: number; readonly ms: number; readonly message: string }
  | { readonly ok: false; readonly name: string; readonly tries: number; readonly ms: number; readonly message: string };

/** Options of `publish`. */
export interface PublishOptions {
  /** Total time, every try and wait included, ms (`--publish-timeout`; default 10 s; 1 ms to `MAX_PUBLISH_TIMEOUT_MS`, a value outside is taken as the nearest bound). */
  readonly timeoutMs?: number;
  /** Aborts at once (a Ctrl-C while publishing). */
  readonly signal?: AbortSignal;
  /** At most this many tries (default `MAX_TRIES`). */
  readonly tries?: number;
}

/** An error's text for a person: undici and Node errors, AggregateError (several addresses) included. */
function describeError(err: unknown, perTryMs: number): string {
  const e = err as { message?: string; code?: string; errors?: unknown[] } | null;
  const s = `${perTryMs / 1000} s`;
  if (e?.code === 'UND_ERR_CONNECT_TIMEOUT') return `no connection within ${s}`;
  if (e?.code === 'UND_ERR_HEADERS_TIMEOUT') return `no response within ${s}`;
  if (e?.code === 'UND_ERR_BODY_TIMEOUT') return `the response stalled for ${s}`;
  if (e?.errors?.length && !e.message) return describeError(e.errors[0], perTryMs);
  const message = e?.message || e?.code || String(err);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** `decodeURIComponent`, or the text as it is when it holds a malformed escape (`%zz`). */
function percentDecoded(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * The bytes of a response body, counting at most `BODY_COUNT_LIMIT` (then the body is dropped):
 * the body itself is never shown, since a server may echo the request in it (Express answers an
 * unknown route with `Cannot POST /services/T0SECRET/…`, an auth proxy may echo the Authorization
 * header), and removing every encoding of every secret from it (percent-, base64-, HTML-, JSON-)
 * is not a thing to get right.
 */
async function bodyBytes(body: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n >= BODY_COUNT_LIMIT) break; // leaving the loop destroys the stream
  }
  return n;
}

/** `HTTP 404 Not Found (body: 152 bytes, not shown)`: the standard reason phrase, never the server's words. */
function statusText(status: number, bytes: number): string {
  const reason = STATUS_CODES[status];
  const body = bytes === 0 ? '' : ` (body: ${bytes >= BODY_COUNT_LIMIT ? `${BODY_COUNT_LIMIT} bytes or more` : `${bytes} bytes`}, not shown)`;
  return `HTTP ${status}${reason ? ` ${reason}` : ''}${body}`;
}

/** A Retry-After header (RFC 9110 §10.2.3: seconds or an HTTP date) in ms, or null. */
function retryAfterMs(header: string | string[] | undefined): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined) return null;
  const ms = /^\d+$/.test(v.trim()) ? Number(v) * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/**
 * Sends `req` with undici, retrying network errors (refused, reset, undici's connect, headers and
 * body timeouts), 5xx and 429 up to `tries` times with exponential backoff and equal jitter
 * (250 ms, 500 ms, 1 s, each ×0.5..1, after AWS's "Exponential Backoff And Jitter"; or the
 * server's Retry-After when it fits), all within `timeoutMs`: each try has undici connect,
 * headers and body timeouts of a third of it (at least 1 s), and an AbortSignal ends whatever
 * runs at the bound. 2xx is success; any other status (3xx: redirects are not followed; 4xx)
 * fails at once. undici's RetryAgent is not used: its default retry has no jitter and its wait
 * between tries is a timer the request's signal cannot cancel, so the bound would not hold.
 * A failure shows the status code and its standard reason phrase (RFC 9110 §15), and the size of
 * the body, never the body or the server's own reason phrase (see `bodyBytes`); every message is
 * `printable`. Never throws.
 */
export async function publish(req: PublishRequest, opts: PublishOptions = {}): Promise<PublishResult> {
  // Every timer below (the deadline, undici's per-try timeouts, the backoff waits, which stop short
  // of the deadline) is at most this, so within what Node's timers hold.
  const asked = opts.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  const timeoutMs = Number.isNaN(asked) ? DEFAULT_PUBLISH_TIMEOUT_MS : Math.min(MAX_PUBLISH_TIMEOUT_MS, Math.max(1, Math.ceil(asked)));
  const maxTries = opts.tries ?? MAX_TRIES;
  const started = performance.now();
  const deadline = AbortSignal.timeout(timeoutMs);
  const stop = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const perTryMs = Math.min(timeoutMs, Math.max(1000, Math.round(timeoutMs / 3)));
  const agent = new Agent({ connect: { timeout: perTryMs }, headersTimeout: perTryMs, bodyTimeout: perTryMs });
  const url = new URL(req.url.href);
  const headers: Record<string, string> = { 'content-type': req.contentType };
  if (url.username !== '' || url.password !== '') {
    // RFC 7617: user-id and password as given, percent-decoded (the URL keeps them encoded).
    const credentials = `${percentDecoded(url.username)}:${percentDecoded(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const where = `${req.name} ${req.shown ?? displayUrl(req.url)}`;
  const elapsed = (): number => Math.round(performance.now() - started);
  const failed = (tries: number, why: string): PublishResult => ({
    ok: false,
    name: req.name,
    tries,
    ms: elapsed(),
    message: printable(`${where}: not published (${tries} ${tries === 1 ? 'try' : 'tries'}, ${(elapsed() / 1000).toFixed(1)} s): ${why}`),
  });
  const stopped = (): string => (opts.signal?.aborted ? 'interrupted' : `no success within ${timeoutMs / 1000} s (--publish-timeout)`);
  try {
    let last = '';
    for (let tryNo = 1; tryNo <= maxTries; tryNo++) {
      let waitMs = BACKOFF_BASE_MS * 2 ** (tryNo - 1) * (0.5 + Math.random() / 2);
      try {
        const res = await request(url, {
          dispatcher: agent,
          method: req.method,
          headers,
          body: req.body,
          signal: stop,
        });
        const bytes = await bodyBytes(res.body);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          return { ok: true, name: req.name, status: res.statusCode, tries: tryNo, ms: elapsed(), message: printable(`${where}: published (HTTP ${res.statusCode})`) };
        }
        last = statusText(res.statusCode, bytes);
        if (res.statusCode !== 429 && res.statusCode < 500) return failed(tryNo, res.statusCode < 400 ? `${last} (redirects are not followed)` : last);
        waitMs = retryAfterMs(res.headers['retry-after']) ?? waitMs;
      } catch (err) {
        if (stop.aborted) return failed(tryNo, `${stopped()}${last ? `; last: ${last}` : ''}`);
        last = describeError(err, perTryMs);
      }
      if (tryNo === maxTries) return failed(tryNo, last);
      if (performance.now() - started + waitMs >= timeoutMs) return failed(tryNo, `${last}; no time left for another try within ${timeoutMs / 1000} s (--publish-timeout)`);
      try {
        await sleep(waitMs, undefined, { signal: stop });
      } catch {
        return failed(tryNo, `${stopped()}; last: ${last}`);
      }
    }
    return failed(maxTries, last);
  } finally {
    // Close kept-alive and hung sockets now, so the process can exit.
    await agent.destroy();
  }
}

/** Where to publish a run; either may be absent. */
export interface PublishTargets {
  /** `--publish`: the webhook that receives summary.json. */
  readonly webhook?: URL;
  /** `--pushgateway`: the Pushgateway's base URL. */
  readonly pushgateway?: URL;
  /** The Pushgateway `instance` label (default: the host name). */
  readonly instance?: string;
}

/**
 * Publishes a run to its targets at once (so the total time stays one `timeoutMs`):
 * `summaryJson`, the exact text of summary.json as written, POSTed as `application/json` to the
 * webhook; `runMetricsText` of it PUT to the Pushgateway group (PUT replaces the whole group, so a
 * metric the last run had and this one lacks, such as an error kind, does not linger; POST would
 * replace only the metric names pushed). Never throws.
 */
export async function publishRun(summaryJson: string, targets: PublishTargets, opts: PublishOptions = {}): Promise<PublishResult[]> {
  const jobs: Promise<PublishResult>[] = [];
  if (targets.webhook) {
    jobs.push(publish({ name: '--publish', url: targets.webhook, method: 'POST', contentType: 'application/json', body: summaryJson }, opts));
  }
  if (targets.pushgateway) {
    const instance = targets.instance ?? defaultInstance();
    const url = pushgatewayUrl(targets.pushgateway, instance);
    jobs.push(
      publish(
        {
          name: '--pushgateway',
          url,
          shown: displayUrl(targets.pushgateway, pushgatewayGroupPath(instance)),
          method: 'PUT',
          contentType: 'text/plain; version=0.0.4; charset=utf-8',
          body: runMetricsText(JSON.parse(summaryJson) as Summary),
        },
        opts,
      ),
    );
  }
  return Promise.all(jobs);
}
