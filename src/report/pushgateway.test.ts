import { describe, expect, it } from 'vitest';
import type * as hdr from 'hdr-histogram-js';
import { newHistogram, recordUs, type Histogram } from '../metrics/histogram.js';
import { Merged } from '../metrics/recorder.js';
import { resolveProfile } from '../profile/index.js';
import type { RunOutcome } from '../load/coordinator.js';
import { escapeLabelValue, LATENCY_BUCKETS_US, latencyBuckets, pushgatewayUrl, runMetricsText } from './pushgateway.js';
import { buildSummary, type Summary } from './summary.js';
import type { Verdict } from './thresholds.js';
import { Rng } from '../rng.js';

/** The project's seeded generator (mulberry32), so every sample below is the same on every run. */
const random = (seed: number): (() => number) => {
  const g = new Rng(seed);
  return () => g.next();
};

/** `n` integer µs values, log-uniform from 1 µs to 100 s (past the last finite bucket). */
function values(n: number, seed: number): number[] {
  const r = random(seed);
  return Array.from({ length: n }, () => Math.round(Math.exp(r() * Math.log(1e8))));
}

const histogramOf = (vs: readonly number[]): Histogram => {
  const h = newHistogram();
  for (const v of vs) recordUs(h, v);
  return h;
};

/** A real summary (buildSummary) of a made-up run with the given phase histograms. */
function summaryWith(phases: Record<string, number[]>, extra: { errors?: Record<string, number>; users?: Record<string, string> } = {}): Summary {
  const merged = new Merged();
  for (const [phase, vs] of Object.entries(phases)) merged.histograms.get(phase as never)!.add(histogramOf(vs) as never);
  merged.counters.messagesAttempted = 10;
  merged.counters.messagesAccepted = 8;
  merged.counters.messagesRejected = 1;
  merged.counters.messagesFailed = 1;
  merged.counters.recipientsAttempted = 20;
  merged.counters.recipientsAccepted = 16;
  merged.counters.recipientsRejected = 3;
  merged.counters.recipientsFailed = 1;
  merged.counters.bytes = 12_345;
  merged.counters.connections = 3;
  merged.replies = { rcpt: { '250': 16, '550': 3 }, body: { '250': 8 } };
  merged.errors = extra.errors ?? { 'body-timeout': 1 };
  const profile = resolveProfile({ server: { auth: { users: extra.users ?? { alice: 'hunter2-secret' } } } });
  const outcome: RunOutcome = {
    merged,
    server: null,
    target: { host: '127.0.0.1', port: 2525, embedded: true },
    startedAt: new Date('2026-01-02T03:04:05.678Z'),
    barrierAtMs: Date.parse('2026-01-02T03:04:05.900Z'),
    durationS: 2,
    warmupCompleted: true,
    sessionsPeak: 0,
    interrupted: false,
    workers: 2,
    health: [{ eventLoopDelayP99Ms: 12.5, eventLoopDelayMaxMs: 30, eventLoopUtilization: 0.4 }],
  };
  return buildSummary('2026-01-02T03-04-05.678Z-smoke-abcdef', profile, outcome, { node: 'v20.19.0', cpu: 'x', cores: 2, os: 'linux', gitSha: 'deadbeef' });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the text exposition format 0.0.4, line by line: `# HELP name text`,
 * `# TYPE name counter|gauge|histogram`, then that family's samples
 * `name[_bucket|_sum|_count]{label="value",...} value`. Throws on anything else.
 */
function parseExposition(text: string): { types: Map<string, string>; help: Map<string, string>; samples: Sample[] } {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  let current = '';
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      expect(help.has(m[1]), `HELP twice for ${m[1]}`).toBe(false);
      help.set(
        m[1],
        m[2].replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')),
      );
      current = m[1];
      continue;
    }
    if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      expect(m[1]).toBe(current);
      expect(types.has(m[1]), `TYPE twice for ${m[1]}`).toBe(false);
      types.set(m[1], m[2]);
      continue;
    }
    m = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)$`).exec(line);
    if (!m) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const [, name, , labelText, valueText] = m;
    const type = types.get(current);
    const allowed = type === 'histogram' ? [`${current}_bucket`, `${current}_sum`, `${current}_count`] : [current];
    expect(allowed, `sample ${name} outside its family ${current}`).toContain(name);
    const labels: Record<string, string> = {};
    if (labelText !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let end = 0;
      for (let lm = re.exec(labelText); lm; lm = re.exec(labelText)) {
        expect(labels[lm[1]], `label ${lm[1]} twice`).toBeUndefined();
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c: string) => {
          if (c === 'n') return '\n';
          if (c === '\\' || c === '"') return c;
          throw new Error(`bad escape \\${c} in ${line}`);
        });
        end = re.lastIndex;
        if (lm[3] === '') break;
      }
      expect(end, `labels of ${line}`).toBe(labelText.length);
    }
    expect(valueText).toMatch(/^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$/);
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  return { types, help, samples };
}

describe('latencyBuckets', () => {
  const vs = values(20_000, 7);
  const h = histogramOf(vs);
  const b = latencyBuckets(h);
  const jh = h as unknown as hdr.JsHistogram;

  it('counts exactly the values ≤ le for values away from HdrHistogram bucket edges', () => {
    // Leave out values in the one HdrHistogram bucket that straddles each le: their side of le is
    // what the histogram cannot tell (see latencyBuckets).
    const straddling = (v: number) => LATENCY_BUCKETS_US.some((le) => jh.lowestEquivalentValue(le) <= v && v <= jh.highestEquivalentValue(le));
    const clean = vs.filter((v) => !straddling(v));
    expect(vs.length - clean.length).toBeLessThan(vs.length / 100); // the filter leaves nearly everything
    const hc = histogramOf(clean);
    const bc = latencyBuckets(hc);
    LATENCY_BUCKETS_US.forEach((le, i) => expect(bc.cumulative[i], `le ${le} µs`).toBe(clean.filter((v) => v <= le).length));
    expect(bc.count).toBe(clean.length);
  });

  it('is cumulative, ends at the total, and agrees with HdrHistogram’s percentiles at every le', () => {
    for (let i = 1; i < b.cumulative.length; i++) expect(b.cumulative[i]).toBeGreaterThanOrEqual(b.cumulative[i - 1]);
    expect(b.count).toBe(vs.length);
    expect(b.cumulative.at(-1)).toBeLessThan(vs.length); // values past 60 s count in +Inf only
    for (const p of [50, 90, 99, 99.9]) {
      const need = Math.ceil((p / 100) * vs.length);
      const atP = h.getValueAtPercentile(p);
      LATENCY_BUCKETS_US.forEach((le, i) => expect(b.cumulative[i] >= need, `p${p}=${atP} µs vs le ${le}`).toBe(atP <= le));
    }
  });

  it('rounds a value in a bucket straddling le up to the next le (5000 µs lives in 5000..5003)', () => {
    expect(jh.lowestEquivalentValue(5000)).toBe(5000);
    expect(jh.highestEquivalentValue(5000)).toBe(5003);
    const i5ms = LATENCY_BUCKETS_US.indexOf(5_000);
    const at = (v: number) => latencyBuckets(histogramOf([v])).cumulative;
    expect(at(4999)[i5ms]).toBe(1); // 4996..4999: wholly ≤ 5 ms
    expect(at(5000)[i5ms]).toBe(0); // counted at the next le, 10 ms
    expect(at(5000)[i5ms + 1]).toBe(1);
    // Below 2048 µs every integer has its own bucket: 2000 µs is exactly at le 2 ms.
    expect(at(2000)[LATENCY_BUCKETS_US.indexOf(2_000)]).toBe(1);
    expect(at(2001)[LATENCY_BUCKETS_US.indexOf(2_000)]).toBe(0);
  });

  it('adds across machines: the buckets of merged histograms are the sums of their buckets', () => {
    const a = values(4_000, 21);
    const c = values(6_000, 22).map((v) => v * 3);
    const merged = histogramOf(a);
    merged.add(histogramOf(c));
    const [ba, bc, bm] = [latencyBuckets(histogramOf(a)), latencyBuckets(histogramOf(c)), latencyBuckets(merged)];
    expect(bm.cumulative).toEqual(ba.cumulative.map((n, i) => n + bc.cumulative[i]));
    expect(bm.count).toBe(ba.count + bc.count);
    expect(bm.sumUs).toBe(ba.sumUs + bc.sumUs);
  });

  it('sums to within HdrHistogram’s resolution of the true sum (≤ 1/2048 per value)', () => {
    const exact = vs.reduce((a, v) => a + v, 0);
    expect(Math.abs(b.sumUs - exact) / exact).toBeLessThan(1 / 2048);
    expect(b.sumUs).toBeCloseTo(h.mean * h.totalCount, 0);
  });
});

describe('runMetricsText', () => {
  const txn = values(5_000, 11);
  const rcpt = values(3_000, 12).map((v) => Math.min(v, 50_000));
  const summary = summaryWith({ transaction: txn, rcpt }, { errors: { 'body-timeout': 1, 'odd"kind\\with\nnewline': 2 } });
  const text = runMetricsText(summary);
  const parsed = parseExposition(text);
  const find = (name: string, labels: Record<string, string> = {}) => parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

  it('writes phase latencies as histograms with the fixed buckets, in seconds', () => {
    expect(parsed.types.get('smtpbench_phase_latency_seconds')).toBe('histogram');
    expect(parsed.types.has('smtpbench_phase_latency_seconds_bucket')).toBe(false);
    for (const [phase, vs] of [
      ['transaction', txn],
      ['rcpt', rcpt],
    ] as const) {
      const buckets = find('smtpbench_phase_latency_seconds_bucket', { phase });
      expect(buckets.map((s) => s.labels.le)).toEqual([...LATENCY_BUCKETS_US.map((us) => String(us / 1e6)), '+Inf']);
      expect(buckets[0].labels.le).toBe('0.0001');
      expect(buckets.at(-2)!.labels.le).toBe('60');
      const h = histogramOf(vs);
      const b = latencyBuckets(h);
      buckets.slice(0, -1).forEach((s, i) => expect(s.value).toBe(b.cumulative[i]));
      expect(buckets.at(-1)!.value).toBe(vs.length);
      expect(find('smtpbench_phase_latency_seconds_count', { phase })[0].value).toBe(vs.length);
      const sum = find('smtpbench_phase_latency_seconds_sum', { phase })[0].value;
      expect(sum).toBeCloseTo(b.sumUs / 1e6, 9);
      // Seconds, not µs or ms: the true sum of the raw values, within HdrHistogram's resolution.
      const exactS = vs.reduce((a, v) => a + v, 0) / 1e6;
      expect(Math.abs(sum - exactS) / exactS).toBeLessThan(1 / 2048);
    }
    // Only phases with data.
    expect(find('smtpbench_phase_latency_seconds_count', { phase: 'mail' })).toEqual([]);
  });

  it('carries counters and gauges from the summary', () => {
    expect(find('smtpbench_messages_total', { outcome: 'accepted' })[0].value).toBe(8);
    expect(find('smtpbench_messages_total', { outcome: 'failed' })[0].value).toBe(1);
    expect(find('smtpbench_recipients_total', { outcome: 'rejected' })[0].value).toBe(3);
    expect(find('smtpbench_replies_total', { phase: 'rcpt', code: '550' })[0].value).toBe(3);
    expect(find('smtpbench_message_bytes_total')[0].value).toBe(12_345);
    expect(find('smtpbench_accepted_messages_per_second')[0].value).toBe(4);
    expect(find('smtpbench_run_duration_seconds')[0].value).toBe(2);
    expect(find('smtpbench_generator_event_loop_delay_p99_seconds')[0].value).toBe(0.0125);
    expect(find('smtpbench_run_start_time_seconds')[0].value).toBe(Date.parse('2026-01-02T03:04:05.678Z') / 1000);
    expect(find('smtpbench_run_info')[0]).toEqual({
      name: 'smtpbench_run_info',
      value: 1,
      labels: { run_id: summary.runId, executor: 'closed', model: 'closed', target: 'smtp://127.0.0.1:2525', embedded: 'true', git_sha: 'deadbeef', node: 'v20.19.0' },
    });
    for (const name of parsed.types.keys()) {
      expect(name).toMatch(/^smtpbench_[a-z0-9_]+$/);
      if (parsed.types.get(name) === 'counter') expect(name).toMatch(/_total$/);
    }
  });

  it('escapes label values so they read back unchanged', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(text).toContain('kind="odd\\"kind\\\\with\\nnewline"');
    expect(find('smtpbench_errors_total', { kind: 'odd"kind\\with\nnewline' })[0].value).toBe(2);
  });

  it('leaves secrets out: the profile’s reference-server accounts are neither pushed nor kept in the summary', () => {
    expect(summary.profile.server.auth.users).toEqual({ alice: '<redacted>' }); // the fixture's profile had a password
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('alice');
  });

  it('writes a threshold expression given twice as one series, failed when any copy failed', () => {
    const verdict = (expression: string, ok: boolean, abortOnFail = false): Verdict => ({
      expression,
      metric: 'errors.rate',
      op: '<',
      ok,
      value: ok ? 0 : 0.5,
      unit: 'ratio',
      limit: 0.01,
      abortOnFail,
      abort: null,
    });
    // The same expression from the profile and two flags; a copy with abortOnFail failed.
    const thresholds = [
      verdict('errors.rate < 1%', true),
      verdict('errors.rate < 1%', true),
      verdict('errors.rate < 1%', true),
      verdict('transaction.p99 < 1s', true),
      verdict('transaction.p99 < 1s', false, true),
    ];
    const dup = parseExposition(runMetricsText({ ...summary, thresholds })); // throws on a duplicate series
    const passed = dup.samples.filter((x) => x.name === 'smtpbench_threshold_passed');
    expect(passed).toEqual([
      { name: 'smtpbench_threshold_passed', labels: { threshold: 'errors.rate < 1%' }, value: 1 },
      { name: 'smtpbench_threshold_passed', labels: { threshold: 'transaction.p99 < 1s' }, value: 0 },
    ]);
  });

  it('leaves out families without samples (no errors, no thresholds)', () => {
    const quiet = parseExposition(runMetricsText(summaryWith({ transaction: [100] }, { errors: {} })));
    expect(quiet.types.has('smtpbench_errors_total')).toBe(false);
    expect(quiet.types.has('smtpbench_threshold_passed')).toBe(false);
  });
});

describe('the group URL', () => {
  it('puts the group after the Pushgateway base, route prefix kept; odd instances in base64url', () => {
    expect(pushgatewayUrl(new URL('http://pg:9091'), 'host-1.example').href).toBe('http://pg:9091/metrics/job/smtpbench/instance/host-1.example');
    expect(pushgatewayUrl(new URL('http://pg:9091/prefix/'), 'h').pathname).toBe('/prefix/metrics/job/smtpbench/instance/h');
    expect(pushgatewayUrl(new URL('http://pg:9091'), 'a/b').pathname).toBe(`/metrics/job/smtpbench/instance@base64/${Buffer.from('a/b').toString('base64url')}`);
  });
});
