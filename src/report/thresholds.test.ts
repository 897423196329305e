import { describe, expect, it } from 'vitest';
import { newHistogram, statsOf, type Histogram } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import { Merged } from '../metrics/recorder.js';
import { knownMetrics, metricValue, percentileName, resolveMetric, type MetricRun } from '../metrics/catalog.js';
import { SERVER_HISTOGRAMS } from '../metrics/server-histograms.js';
import { parseThreshold } from '../profile/thresholds.js';
import type { RunData } from './run-data.js';
import { abortingThreshold, evaluate, formatValue, liveRun, renderVerdicts, verdictLine } from './thresholds.js';

// A run read back from disk is a MetricRun (checked by tsc): compare and report read metrics through this catalog.
export const runDataIsMetricRun = (r: RunData): MetricRun => r;

/** A histogram of the given µs values (below 2048 µs every value has a bucket of its own: exact). */
function hist(values: number[]): Histogram {
  const h = newHistogram();
  for (const v of values) h.recordValue(v);
  return h;
}

const oneToThousandUs = Array.from({ length: 1000 }, (_, i) => i + 1);

/** A run with round figures: 120 messages due (100 attempted, 15 dropped, 5 abandoned), 2 measured seconds. */
function run(over: { durationS?: number; generator?: MetricRun['summary']['generator']; histograms?: Map<string, Histogram>; rates?: boolean } = {}): MetricRun {
  return {
    summary: {
      durationS: over.durationS ?? 2,
      totals: {
        messages: { attempted: 100, accepted: 90, rejected: 6, failed: 4, abandoned: 5, late: 3, dropped: 15 },
        recipients: { attempted: 200, accepted: 180, rejected: 10, failed: 10, deferred: 7 },
        transactions: 110,
        bytes: 4_000_000,
        ...(over.rates ? { rates: { msgsPerS: 45.1, rcptsPerS: 90.1, mbPerS: 2.001 } } : {}),
      },
      replies: { mail: { '250': 100 }, rcpt: { '250': 190, '450': 8, '550': 2 }, data: { '354': 96 }, body: { '250': 90, '554': 6 } },
      errors: { 'rcpt-timeout': 3, 'socket-reset': 1 },
      generator: over.generator === undefined ? { saturated: false, eventLoopDelayP99Ms: 12.5, scheduleLagP99Ms: 0.75 } : over.generator,
    },
    histograms:
      over.histograms ??
      new Map([
        ['transaction', hist(oneToThousandUs)],
        ['mail', newHistogram()],
      ]),
    serverHistograms: new Map([['cmd.mail', hist([10, 20, 30])]]),
  };
}

const value = (name: string, r = run()) => metricValue(name, r);
const parseError = (text: string): string => {
  try {
    parseThreshold(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
};
const passes = (text: string, r = run()): boolean => evaluate([parseThreshold(text)], r)[0].ok;

describe('parseThreshold', () => {
  it('takes every operator, with or without spaces', () => {
    expect(parseThreshold('transaction.p99 < 250ms')).toEqual({
      expression: 'transaction.p99 < 250ms',
      metric: 'transaction.p99',
      op: '<',
      limit: 250,
      unit: 'ms',
      abortOnFail: false,
      delayAbortEvalMs: 0,
    });
    for (const op of ['<', '<=', '>', '>=', '==', '!='] as const) {
      expect(parseThreshold(`transaction.p50 ${op} 1`).op).toBe(op);
      expect(parseThreshold(`transaction.p50${op}1`).op).toBe(op);
    }
  });

  it('compares with each operator (p50 is 0.5 ms)', () => {
    expect([passes('transaction.p50 < 0.5'), passes('transaction.p50 < 0.501')]).toEqual([false, true]);
    expect([passes('transaction.p50 <= 0.5'), passes('transaction.p50 <= 0.499')]).toEqual([true, false]);
    expect([passes('transaction.p50 > 0.5'), passes('transaction.p50 > 0.499')]).toEqual([false, true]);
    expect([passes('transaction.p50 >= 0.5'), passes('transaction.p50 >= 0.501')]).toEqual([true, false]);
    expect([passes('transaction.p50 == 500us'), passes('transaction.p50 == 0.6')]).toEqual([true, false]);
    expect([passes('transaction.p50 != 500us'), passes('transaction.p50 != 0.6')]).toEqual([false, true]);
  });

  it('converts latency units to ms (a bare number is ms)', () => {
    const limit = (v: string) => parseThreshold(`transaction.p99 < ${v}`).limit;
    expect([limit('250'), limit('250ms'), limit('0.25s'), limit('500us'), limit('500µs'), limit('1.5 ms'), limit('2S'), limit('1e3')]).toEqual([250, 250, 250, 0.5, 0.5, 1.5, 2000, 1000]);
  });

  it('takes ratios as percent or bare 0..1, rates bare or per second, counts bare, booleans', () => {
    expect(parseThreshold('errors.rate < 0.1%')).toMatchObject({ limit: 0.001, unit: 'ratio' });
    expect(parseThreshold('errors.rate < 0.001').limit).toBe(0.001);
    expect(parseThreshold('replies.4xx.rate <= 100%').limit).toBe(1);
    expect(parseThreshold('messages.rate > 900')).toMatchObject({ limit: 900, unit: 'per-second' });
    expect(parseThreshold('recipients.rate > 900/s').limit).toBe(900);
    expect(parseThreshold('bytes.rate >= 12.5MB/s').limit).toBe(12.5);
    expect(parseThreshold('bytes.rate >= 12.5').limit).toBe(12.5);
    expect(parseThreshold('transactions.count >= 10')).toMatchObject({ limit: 10, unit: 'count' });
    expect(parseThreshold('generator.saturated == false')).toMatchObject({ limit: false, unit: 'bool' });
    expect(parseThreshold('generator.saturated != true').limit).toBe(true);
  });

  it("takes k6's aggregation spellings and canonical percentile names", () => {
    expect(parseThreshold('transaction.p(99) < 250').metric).toBe('transaction.p99');
    expect(parseThreshold('transaction.p(99.9) < 250').metric).toBe('transaction.p999');
    expect(parseThreshold('transaction.p99.9 < 250').metric).toBe('transaction.p999');
    expect(parseThreshold('transaction.p9999 < 250').metric).toBe('transaction.p9999');
    expect(parseThreshold('transaction.avg < 250').metric).toBe('transaction.mean');
    expect(parseThreshold('transaction.med < 250').metric).toBe('transaction.p50');
    expect(parseThreshold('transaction.p(12.5) < 250').metric).toBe('transaction.p12.5');
    expect(parseThreshold('server.cmd.mail.p(99.99) < 1').metric).toBe('server.cmd.mail.p9999');
    expect(parseThreshold('server.data-stream.p99.9 < 1').metric).toBe('server.data-stream.p999');
    expect(parseThreshold('  body.max>=0  ').expression).toBe('body.max>=0');
  });

  it('names what is wrong', () => {
    expect(parseError('transaction.p99')).toMatch(/expected "<metric> <op> <value>"/);
    expect(parseError('transaction.p99 => 5')).toMatch(/expected "<metric> <op> <value>"/);
    expect(parseError('transaction.p99 <')).toMatch(/missing value/);
    expect(parseError('transaction.p99 < -5')).toMatch(/cannot be negative/);
    expect(parseError('transaction.p99 < fast')).toMatch(/expected a number \(bare = ms, or with us, µs, μs, ms, s\), got "fast"/);
    expect(parseError('transaction.p99 < 5%')).toMatch(/unit "%" does not fit transaction\.p99, a latency in ms/);
    expect(parseError('transaction.p99 < 5 ms ms')).toMatch(/unit "ms ms" does not fit/);
    expect(parseError('errors.rate < 5')).toMatch(/ratio 0\.\.1: 5 would be 500 %; write 5% for percent/);
    expect(parseError('errors.rate < 101%')).toMatch(/more than 100 %/);
    expect(parseError('errors.rate < 1ms')).toMatch(/does not fit errors\.rate, a ratio/);
    expect(parseError('messages.rate > 5MB/s')).toMatch(/does not fit messages\.rate, a rate per second/);
    expect(parseError('transactions.count > 5/s')).toMatch(/does not fit transactions\.count, a count/);
    expect(parseError('generator.saturated < true')).toMatch(/compare it with == or !=/);
    expect(parseError('generator.saturated == no')).toMatch(/true or false, got "no"/);
    expect(parseError('transaction.p99 < true')).toMatch(/expected a number/);
    expect(parseError('transactoin.p99 < 5')).toBe('unknown metric "transactoin.p99"');
    expect(parseError('transaction.p101 < 5')).toMatch(/percentile "p101" is ambiguous: write it with a point \(p10\.1\)/);
    expect(parseError('transaction.p(100.1) < 5')).toMatch(/out of range 0\.\.100/);
    expect(parseError('server.cmd.nope.p99 < 5')).toMatch(/unknown metric/);
    expect(parseError('recipients.attempted.rate < 5%')).toMatch(/unknown metric/);
    expect(parseError('messages.bogus.count < 5')).toMatch(/unknown metric/);
    expect(parseError('replies.6xx.rate < 5%')).toMatch(/unknown metric/);
    expect(parseError('replies.25.count < 5')).toMatch(/unknown metric/);
    expect(parseError('errors.rcpt_timeout.count < 5')).toMatch(/unknown metric/);
    // A percentile finer than 6 decimals has no name to read back (p1e-7 crashed the evaluation).
    expect(parseError('transaction.p(0.0000001) < 1')).toMatch(/more than 6 decimals/);
    expect(parseError('transaction.p99 < 1e999')).toMatch(/too large/);
    expect(parseError('transactions.count == 1.5')).toMatch(/a count: expected a whole number/);
  });

  it('takes both micro signs (µ U+00B5, μ U+03BC) and the smallest named percentile', () => {
    expect(parseThreshold('transaction.p99 < 500\u00b5s').limit).toBe(0.5);
    expect(parseThreshold('transaction.p99 < 500\u03bcs').limit).toBe(0.5);
    expect(parseThreshold('transaction.p(0.000001) < 1').metric).toBe('transaction.p0.000001');
  });

  it('keeps the abortOnFail options', () => {
    expect(parseThreshold('errors.rate < 1%', { abortOnFail: true, delayAbortEvalMs: 10_000 })).toMatchObject({ abortOnFail: true, delayAbortEvalMs: 10_000 });
  });
});

describe('percentile names', () => {
  it('round-trip through the parser', () => {
    for (const q of [0, 5, 50, 90, 99, 99.5, 99.9, 99.99, 99.999, 100, 12.5, 0.1]) {
      const name = percentileName(q);
      expect(resolveMetric(`transaction.${name}`).name).toBe(`transaction.${name}`);
      expect(resolveMetric(`transaction.p(${q})`).name).toBe(`transaction.${name}`);
    }
    expect(percentileName(99.9)).toBe('p999');
    expect(percentileName(12.5)).toBe('p12.5');
  });
});

describe('metric catalog: values', () => {
  it('reads phase statistics in ms, as summary.json computes them', () => {
    const h = hist(oneToThousandUs);
    const r = run({ histograms: new Map([['transaction', h]]) });
    const s = statsOf(h);
    expect(value('transaction.p50', r)).toBe(0.5);
    expect(value('transaction.p99', r)).toBe(0.99);
    expect(value('transaction.p999', r)).toBe(0.999);
    expect(value('transaction.p(25)', r)).toBe(0.25);
    expect(value('transaction.min', r)).toBe(0.001);
    expect(value('transaction.max', r)).toBe(1);
    expect(value('transaction.mean', r)).toBe(0.501); // 500.5 µs, rounded to the µs as reports do
    expect(value('transaction.count', r)).toBe(1000);
    for (const k of ['min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max', 'count'] as const) expect(value(`transaction.${k}`, r)).toBe(s[k]);
  });

  it("reads the reference server's histograms", () => {
    expect(value('server.cmd.mail.p50')).toBe(0.02);
    expect(value('server.cmd.mail.max')).toBe(0.03);
    expect(value('server.cmd.mail.count')).toBe(3);
    expect(value('server.cmd.rcpt.count')).toBe(0);
    expect(value('server.cmd.rcpt.p99')).toBeNull();
  });

  it('reads rates per measured second (MB = 10^6 bytes), or the summary rates when given', () => {
    expect(value('messages.rate')).toBe(45);
    expect(value('recipients.rate')).toBe(90);
    expect(value('bytes.rate')).toBe(2);
    const withRates = run({ rates: true });
    expect([value('messages.rate', withRates), value('recipients.rate', withRates), value('bytes.rate', withRates)]).toEqual([45.1, 90.1, 2.001]);
  });

  it('reads message outcomes: shares of attempted, or of due for the never attempted', () => {
    expect(value('messages.attempted.count')).toBe(100);
    expect(value('messages.dropped.count')).toBe(15);
    expect(value('messages.accepted.rate')).toBe(0.9);
    expect(value('messages.rejected.rate')).toBe(0.06);
    expect(value('messages.failed.rate')).toBe(0.04);
    expect(value('messages.late.rate')).toBe(0.03);
    expect(value('messages.dropped.rate')).toBe(15 / 120);
    expect(value('messages.abandoned.rate')).toBe(5 / 120);
    expect(value('messages.attempted.rate')).toBe(100 / 120);
  });

  it('reads recipient outcomes as shares of attempted recipients', () => {
    expect(value('recipients.attempted.count')).toBe(200);
    expect(value('recipients.deferred.count')).toBe(7);
    expect(value('recipients.accepted.rate')).toBe(0.9);
    expect(value('recipients.rejected.rate')).toBe(0.05);
    expect(value('recipients.failed.rate')).toBe(0.05);
    expect(value('recipients.deferred.rate')).toBe(0.035);
  });

  it('reads errors: not accepted over due, counts by kind', () => {
    expect(value('errors.rate')).toBe((6 + 4 + 15 + 5) / 120);
    expect(value('errors.count')).toBe(4);
    expect(value('errors.rcpt-timeout.count')).toBe(3);
    expect(value('errors.never-seen.count')).toBe(0);
    // Own keys only: not Object.prototype's.
    expect(value('errors.constructor.count')).toBe(0);
    expect(value('errors.toString.count')).toBe(0);
  });

  it('reads replies by class and code over every phase', () => {
    const all = 100 + 190 + 8 + 2 + 96 + 90 + 6;
    expect(value('replies.2xx.count')).toBe(380);
    expect(value('replies.3xx.count')).toBe(96);
    expect(value('replies.4xx.count')).toBe(8);
    expect(value('replies.5xx.count')).toBe(8);
    expect(value('replies.2xx.rate')).toBe(380 / all);
    expect(value('replies.4xx.rate')).toBe(8 / all);
    expect(value('replies.250.count')).toBe(380);
    expect(value('replies.554.count')).toBe(6);
    expect(value('replies.554.rate')).toBe(6 / all);
    expect(value('replies.421.count')).toBe(0);
  });

  it('reads enhanced status codes over every phase, and has no data for a summary from before they were counted', () => {
    const all = 100 + 190 + 8 + 2 + 96 + 90 + 6;
    const r = run();
    const counted: MetricRun = { ...r, summary: { ...r.summary, enhancedReplies: { rcpt: { '2.1.5': 190, '4.2.2': 8 }, body: { '2.0.0': 90, '4.2.2': 2 } } } };
    expect(value('replies.enhanced.4.2.2.count', counted)).toBe(10);
    expect(value('replies.enhanced.4.02.2.count', counted)).toBe(10);
    expect(value('replies.enhanced.5.1.1.count', counted)).toBe(0);
    expect(value('replies.enhanced.4.2.2.rate', counted)).toBe(10 / all);
    expect(value('replies.enhanced.4.2.2.count')).toBeNull();
    expect(passes('replies.enhanced.4.2.2.count < 11', counted)).toBe(true);
    expect(parseError('replies.enhanced.3.0.0.count < 1')).toMatch(/unknown metric/);
    expect(parseError('replies.enhanced.4.2.count < 1')).toMatch(/unknown metric/);
  });

  it('reads generator health and transactions', () => {
    expect(value('generator.saturated')).toBe(false);
    expect(value('generator.eventLoopDelayP99')).toBe(12.5);
    expect(value('generator.scheduleLagP99')).toBe(0.75);
    expect(value('transactions.count')).toBe(110);
  });

  it('has no data for an empty phase, a zero denominator, zero seconds or unknown generator health; counts are zero, not null', () => {
    const empty: MetricRun = {
      summary: {
        durationS: 0,
        totals: {
          messages: { attempted: 0, accepted: 0, rejected: 0, failed: 0, abandoned: 0, late: 0, dropped: 0 },
          recipients: { attempted: 0, accepted: 0, rejected: 0, failed: 0, deferred: 0 },
          transactions: 0,
          bytes: 0,
        },
        replies: {},
        errors: {},
        generator: null,
      },
      histograms: new Map([['transaction', newHistogram()]]),
      serverHistograms: new Map(),
    };
    for (const name of [
      'transaction.p99',
      'body.mean',
      'server.cmd.mail.p50',
      'messages.rate',
      'bytes.rate',
      'messages.accepted.rate',
      'recipients.rejected.rate',
      'errors.rate',
      'replies.5xx.rate',
      'generator.saturated',
      'generator.eventLoopDelayP99',
    ]) {
      expect([name, value(name, empty)]).toEqual([name, null]);
    }
    for (const name of ['transaction.count', 'messages.accepted.count', 'errors.count', 'replies.4xx.count', 'transactions.count']) expect(value(name, empty)).toBe(0);
    expect(value('mail.p50')).toBeNull(); // a phase histogram with no value
    expect(value('messages.rate', run({ durationS: 0, rates: true }))).toBeNull();
  });

  it('lists every phase, server histogram and family in knownMetrics', () => {
    const text = knownMetrics().join('\n');
    for (const p of PHASES) expect(text).toContain(p);
    for (const n of SERVER_HISTOGRAMS) expect(text).toContain(n);
    for (const family of [
      'messages.rate',
      'recipients.rate',
      'bytes.rate',
      'errors.rate',
      'errors.<kind>.count',
      'replies.<class>.rate',
      'replies.enhanced.<code>.count',
      'generator.saturated',
      'transactions.count',
      'dropped',
      'deferred',
    ]) {
      expect(text).toContain(family);
    }
  });
});

describe('evaluate', () => {
  it('gives a verdict per threshold in order; no data fails', () => {
    const v = evaluate(
      ['transaction.p99 < 250ms', 'messages.rate > 1e9', 'bdat.p50 < 5', 'transaction.count > 0'].map((t) => parseThreshold(t)),
      run(),
    );
    expect(v.map((x) => [x.metric, x.ok, x.value])).toEqual([
      ['transaction.p99', true, 0.99],
      ['messages.rate', false, 45],
      ['bdat.p50', false, null],
      ['transaction.count', true, 1000],
    ]);
    expect(v[0]).toEqual({ expression: 'transaction.p99 < 250ms', metric: 'transaction.p99', op: '<', ok: true, value: 0.99, unit: 'ms', limit: 250, abortOnFail: false, abort: null });
  });

  it('fails the threshold that stopped the run, whatever its final value', () => {
    const t = [parseThreshold('errors.rate < 50%', { abortOnFail: true })];
    const [v] = evaluate(t, run(), { index: 0, atS: 3, value: 0.6 });
    expect(v).toMatchObject({ ok: false, value: 0.25, abort: { atS: 3, value: 0.6 } });
  });
});

describe('abortingThreshold', () => {
  const t = [parseThreshold('messages.rate > 1e9'), parseThreshold('errors.rate < 1%', { abortOnFail: true, delayAbortEvalMs: 5000 }), parseThreshold('bdat.p99 < 1', { abortOnFail: true })];

  it('checks only abortOnFail thresholds, after their delay, with data', () => {
    expect(abortingThreshold(t, run(), 4.999)).toBeNull(); // errors.rate within its delay; bdat has no data
    expect(abortingThreshold(t, run(), 5)).toEqual({ index: 1, atS: 5, value: 0.25 });
    expect(abortingThreshold([t[0]], run(), 100)).toBeNull(); // failing, but not abortOnFail
    expect(abortingThreshold([parseThreshold('errors.rate < 30%', { abortOnFail: true })], run(), 100)).toBeNull(); // passing
  });

  it('reads the running totals of a run in progress', () => {
    const m = new Merged();
    Object.assign(m.counters, { messagesAttempted: 10, messagesAccepted: 8, messagesRejected: 2, recipientsAttempted: 10, recipientsAccepted: 8, bytes: 1e6 });
    m.histograms.get('transaction')!.recordValue(1500);
    m.replies = { body: { '250': 8, '550': 2 } };
    const live = liveRun(m, 4);
    expect(value('messages.rate', live)).toBe(2);
    expect(value('errors.rate', live)).toBe(0.2);
    expect(value('transaction.p50', live)).toBe(1.5);
    expect(value('replies.5xx.rate', live)).toBe(0.2);
    expect(value('generator.saturated', live)).toBeNull();
    expect(abortingThreshold([parseThreshold('errors.rate < 10%', { abortOnFail: true })], live, 4)).toEqual({ index: 0, atS: 4, value: 0.2 });
  });
});

describe('formatting', () => {
  it('writes values with their unit', () => {
    expect(formatValue(3.2145, 'ms')).toBe('3.215 ms');
    expect(formatValue(0.0012346, 'ratio')).toBe('0.1235 %');
    expect(formatValue(4521.34, 'per-second', 'messages.rate')).toBe('4521.3/s');
    expect(formatValue(12.34567, 'per-second', 'bytes.rate')).toBe('12.346 MB/s');
    expect(formatValue(17, 'count')).toBe('17');
    expect(formatValue(false, 'bool')).toBe('false');
    expect(formatValue(null, 'ms')).toBe('no data');
  });

  it('prints pass/fail lines with the measured value', () => {
    const v = evaluate([parseThreshold('transaction.p99 < 250ms'), parseThreshold('bdat.p50 < 5')], run());
    expect(verdictLine(v[0])).toBe('PASS transaction.p99 < 250ms (transaction.p99 = 0.99 ms)');
    expect(renderVerdicts(v)).toBe('thresholds: 1 passed, 1 failed\n  PASS transaction.p99 < 250ms (transaction.p99 = 0.99 ms)\n  FAIL bdat.p50 < 5 (bdat.p50 = no data)');
    expect(renderVerdicts([])).toBe('');
  });
});
