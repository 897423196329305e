import { describe, expect, it } from 'vitest';
import { newHistogram, recordUs } from '../metrics/histogram.js';
import { compareRuns, judge } from './compare.js';
import { metricValue } from './compare-metrics.js';
import { markdownText, renderCompareMarkdown, renderCompareTable, verdictLine } from './compare-render.js';
import { holm, intervalSamples, testMetric, welchTest } from './compare-stats.js';
import { DEFAULT_TOLERANCES, parseTolerances, toleranceOf, type Tolerance } from './compare-tolerance.js';
import type { Interval, RunData } from './run-data.js';
import type { Summary } from './summary.js';
import type { Second } from './timeline.js';
import { Rng } from '../rng.js';

/** The project's seeded generator (mulberry32), so every sample below is the same on every run. */
const rng = (seed: number): (() => number) => {
  const g = new Rng(seed);
  return () => g.next();
};

/** n normal draws (Box-Muller) of mean `mu` and standard deviation `sd`. */
function normal(seed: number, n: number, mu: number, sd: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => mu + sd * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

/** Judges one metric alone (no other metric tested beside it: no Holm adjustment). */
const judgeOf = (metric: string, base: number | null, cur: number | null, samples: { baseline: number[]; current: number[] }, tol: Tolerance | null, alpha: number) =>
  judge(metric, base, cur, testMetric(metric, samples), tol, alpha);
const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const latency = toleranceOf(DEFAULT_TOLERANCES, 'transaction.p99');
const rate = toleranceOf(DEFAULT_TOLERANCES, 'messages.rate');

describe('welchTest', () => {
  it('needs two values a side', () => {
    expect(welchTest([1], [1, 2, 3])).toBeNull();
    expect(welchTest([1, 2], [])).toBeNull();
  });

  it('gives p = 1 for equal constants and p = 0 for different ones (no NaN from zero variance)', () => {
    expect(welchTest([3, 3, 3], [3, 3, 3, 3])).toEqual({ pValue: 1, meanDelta: 0 });
    expect(welchTest([3, 3, 3], [4, 4, 4])).toEqual({ pValue: 0, meanDelta: 1 });
  });

  it('works with zero variance on one side only', () => {
    const r = welchTest([5, 5, 5, 5, 5], [5.1, 5.3, 5.2, 5.4, 5.2])!;
    expect(r.pValue).toBeGreaterThan(0);
    expect(r.pValue).toBeLessThan(0.01);
    expect(r.meanDelta).toBeCloseTo(0.24, 10);
  });

  it('matches scipy.stats.ttest_ind(equal_var=False): t = −2.3905, df = 6.7586, p = 0.049382', () => {
    // Means 20 and 22, variances 2.5 and 1.0: t = −2/√0.7, Welch–Satterthwaite df = 0.49/0.0725.
    const r = welchTest([18, 19, 20, 21, 22], [21, 21, 22, 23, 23])!;
    expect(r.meanDelta).toBe(2);
    expect(r.pValue).toBeCloseTo(0.04938177532921596, 6);
  });

  it('is significant at alpha about alpha of the time on pure noise', () => {
    let significant = 0;
    const trials = 400;
    for (let seed = 1; seed <= trials; seed++) {
      if (welchTest(normal(seed, 8, 100, 10), normal(seed + 10_000, 8, 100, 10))!.pValue < 0.05) significant++;
    }
    expect(significant / trials).toBeGreaterThan(0.02);
    expect(significant / trials).toBeLessThan(0.09);
  });
});

describe('holm', () => {
  it("matches R's p.adjust(c(0.01, 0.04, 0.03), 'holm') = 0.03 0.06 0.06, and keeps 0 and 1", () => {
    expect(holm([0.01, 0.04, 0.03]).map((p) => Number(p.toFixed(10)))).toEqual([0.03, 0.06, 0.06]);
    expect(holm([0, 0.5, 0.9])).toEqual([0, 1, 1]);
    expect(holm([])).toEqual([]);
  });
});

describe('judge', () => {
  it('flags a 6 % latency shift with low noise, and a 6 % throughput drop', () => {
    // 100 ms ± 0.5 %: a 6 % shift is 6 ms, beyond the 1 ms floor too.
    const base = normal(1, 10, 100, 0.5);
    const cur = normal(2, 10, 106, 0.5);
    const up = judgeOf('transaction.p99', meanOf(base), meanOf(cur), { baseline: base, current: cur }, latency, 0.05);
    expect(up).toMatchObject({ verdict: 'regression', tested: true });
    expect(up.pValue).toBeLessThan(0.001);
    expect(up.deltaPct).toBeCloseTo(6, 0);
    const down = judgeOf('messages.rate', meanOf(cur) * 100, meanOf(base) * 100, { baseline: cur.map((x) => x * 100), current: base.map((x) => x * 100) }, rate, 0.05);
    expect(down.verdict).toBe('regression');
    // The other way round each is an improvement.
    expect(judgeOf('transaction.p99', meanOf(cur), meanOf(base), { baseline: cur, current: base }, latency, 0.05).verdict).toBe('improvement');
  });

  it('tests latencies on a log scale: one stalled second does not hide a shift every other second shows', () => {
    // Measured (test/compare.int.test.ts on a busy machine): a 5 ms slower server, and a first
    // second in which the whole machine stalled. On a linear scale p would be 0.2.
    const base = [8.607, 1.057, 1.07, 1.059, 1.265, 1.013, 1.06];
    const cur = [57.215, 9.823, 9.095, 9.575, 10.775, 10.623, 8.147];
    expect(welchTest(base, cur)!.pValue).toBeGreaterThan(0.05);
    const r = judgeOf('transaction.p50', 1.06, 9.6, { baseline: base, current: cur }, latency, 0.05);
    expect(r).toMatchObject({ verdict: 'regression', tested: true });
    expect(r.pValue).toBeLessThan(0.001);
  });

  it('leaves a significant 4 % shift alone: within the 5 % tolerance', () => {
    const base = normal(3, 10, 100, 0.5);
    const cur = normal(4, 10, 104, 0.5);
    const r = judgeOf('transaction.p99', meanOf(base), meanOf(cur), { baseline: base, current: cur }, latency, 0.05);
    expect(r.pValue).toBeLessThan(0.001);
    expect(r).toMatchObject({ verdict: 'unchanged', reason: 'within tolerance' });
  });

  it('does not flag pure noise, even when the whole-run values differ by more than the tolerance', () => {
    let flagged = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const base = normal(seed, 7, 10, 2);
      const cur = normal(seed + 5000, 7, 10, 2);
      // The whole-run p99 of a noisy run moves a lot: +20 % here, on the same distribution.
      const r = judgeOf('transaction.p99', 10, 12, { baseline: base, current: cur }, latency, 0.05);
      expect(Number.isNaN(r.pValue)).toBe(false);
      if (r.verdict === 'regression') flagged++;
    }
    // Only the seeds where noise alone was significant in the same direction: about alpha / 2.
    expect(flagged / 200).toBeLessThan(0.05);
  });

  it('needs the latency floor as well as the relative tolerance', () => {
    const base = [0.1, 0.1, 0.1, 0.1, 0.1];
    const cur = [0.2, 0.2, 0.2, 0.2, 0.2];
    // +100 % but only 0.1 ms: below the 1 ms floor.
    expect(judgeOf('body.p50', 0.1, 0.2, { baseline: base, current: cur }, latency, 0.05).verdict).toBe('unchanged');
    expect(judgeOf('body.p50', 0.1, 0.2, { baseline: base, current: cur }, { relative: 0.05, absolute: 0 }, 0.05)).toMatchObject({ verdict: 'regression', pValue: 0 });
  });

  it('never makes an untested latency or rate a regression: beyond tolerance, not counted (fewer than 5 seconds, one sample, none)', () => {
    const one = judgeOf('transaction.p50', 1, 3, { baseline: [1], current: [3] }, latency, 0.05);
    expect(one).toMatchObject({
      verdict: 'beyond tolerance',
      tested: false,
      pValue: null,
      reason: 'beyond tolerance; not tested (fewer than 5 measured seconds on a side): not counted as a regression',
    });
    const few = judgeOf('transaction.p50', 1, 1.01, { baseline: [1, 1, 1, 1], current: [1, 1, 1, 1] }, latency, 0.05);
    expect(few).toMatchObject({ verdict: 'unchanged', tested: false, pValue: null });
    const none = judgeOf('messages.rate', 100, 50, { baseline: [], current: [] }, rate, 0.05);
    expect(none).toMatchObject({ verdict: 'beyond tolerance', tested: false, reason: 'beyond tolerance; not tested (no per-second samples): not counted as a regression' });
    // The good direction likewise: not an improvement.
    expect(judgeOf('transaction.p50', 3, 1, { baseline: [3], current: [1] }, latency, 0.05).verdict).toBe('beyond tolerance');
  });

  it('does not judge a sparse metric: data in fewer than 5 of enough measured seconds', () => {
    const samples = { baseline: [1, 1.2, 0.9], current: [3, 2.5, 4, 3.1, 2.8, 3.3] };
    const sparse = judge('quit.p90', 1, 3, testMetric('quit.p90', samples, 5, { baseline: 7, current: 7 }), latency, 0.05);
    expect(sparse).toMatchObject({ verdict: 'not judged', tested: false, reason: 'data in fewer than 5 measured seconds on a side' });
    // A run of 3 measured seconds has no test at all: beyond tolerance, not counted.
    const short = judge('quit.p90', 1, 3, testMetric('quit.p90', samples, 5, { baseline: 3, current: 7 }), latency, 0.05);
    expect(short).toMatchObject({ verdict: 'beyond tolerance', tested: false });
  });

  it('judges shares, and a max with its own tolerance, by tolerance however many measured seconds the runs have', () => {
    // Runs of 7 measured seconds each: a share or a max never has per-second samples, and that is
    // not a sparse phase.
    const enough = { baseline: 7, current: 7 };
    const none = { baseline: [], current: [] };
    const ratio = toleranceOf(DEFAULT_TOLERANCES, 'errors.rate');
    for (const metric of ['errors.rate', 'replies.4xx.rate', 'replies.5xx.rate']) {
      const t = testMetric(metric, none, 5, enough);
      expect(t.sparse).toBe(false);
      expect(judge(metric, 0, 0.02, t, ratio, 0.05)).toMatchObject({ verdict: 'regression', tested: false, reason: 'beyond tolerance; judged by tolerance alone (a share has no per-second samples)' });
      expect(judge(metric, 0, 0.004, t, ratio, 0.05).verdict).toBe('unchanged');
    }
    const max = toleranceOf(parseTolerances(['transaction.max=10%']).settings, 'transaction.max');
    const t = testMetric('transaction.max', none, 5, enough);
    expect(judge('transaction.max', 10, 13, t, max, 0.05)).toMatchObject({ verdict: 'regression', reason: 'beyond tolerance; judged by tolerance alone (a max has no per-second samples)' });
    expect(judge('transaction.max', 13, 10, t, max, 0.05).verdict).toBe('improvement');
  });

  it('judges error shares in percentage points', () => {
    const ratio = toleranceOf(DEFAULT_TOLERANCES, 'errors.rate');
    const none = { baseline: [], current: [] };
    expect(judgeOf('errors.rate', 0, 0.004, none, ratio, 0.05).verdict).toBe('unchanged');
    expect(judgeOf('errors.rate', 0, 0.006, none, ratio, 0.05)).toMatchObject({ verdict: 'regression', deltaPct: null });
    expect(judgeOf('replies.4xx.rate', 0.02, 0.01, none, ratio, 0.05).verdict).toBe('improvement');
  });

  it('does not judge max and session without their own tolerance, nor missing sides', () => {
    expect(toleranceOf(DEFAULT_TOLERANCES, 'transaction.max')).toBeNull();
    expect(toleranceOf(DEFAULT_TOLERANCES, 'session.p50')).toBeNull();
    expect(toleranceOf(parseTolerances(['session.p50=10%']).settings, 'session.p50')).toEqual({ relative: 0.1, absolute: 1 });
    expect(judgeOf('transaction.max', 10, 50, { baseline: [], current: [] }, null, 0.05).verdict).toBe('not judged');
    expect(judgeOf('tls.p50', null, 3, { baseline: [], current: [] }, latency, 0.05)).toMatchObject({ verdict: 'not judged', reason: 'only in current', delta: null });
    const { settings } = parseTolerances(['transaction.max=20%']);
    expect(judgeOf('transaction.max', 10, 13, { baseline: [], current: [] }, toleranceOf(settings, 'transaction.max'), 0.05).verdict).toBe('regression');
  });
});

describe('parseTolerances', () => {
  it('sets the relative tolerance, the latency floor, the ratio tolerance and per-metric values', () => {
    const { settings, problems } = parseTolerances(['10%', '1ms', '0.1pp', 'transaction.p99=20%', 'body.p50=0ms', 'errors.rate=1pp']);
    expect(problems).toEqual([]);
    expect(settings.latency).toEqual({ relative: 0.1, absolute: 1 });
    expect(settings.rate).toEqual({ relative: 0.1, absolute: 0 });
    expect(settings.ratio.absolute).toBeCloseTo(0.001, 12);
    expect(toleranceOf(settings, 'transaction.p99')).toEqual({ relative: 0.2, absolute: 1 });
    expect(toleranceOf(settings, 'body.p50')).toEqual({ relative: 0.1, absolute: 0 });
    expect(toleranceOf(settings, 'errors.rate')).toEqual({ relative: 0, absolute: 0.01 });
  });

  it('names every bad value', () => {
    const { problems } = parseTolerances(['5', 'nope.p99=5%', 'messages.rate=2ms', 'transaction.p50=1pp', 'errors.rate=5%']);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^"5": expected N%/);
    expect(problems[1]).toMatch(/unknown metric "nope.p99"; known: <phase>\.p50\|p90\|p99\|max/);
    expect(problems[2]).toMatch(/ms applies to latencies; messages.rate is a rate/);
    expect(problems[3]).toMatch(/pp \(percentage points\) applies/);
    expect(problems[4]).toMatch(/errors.rate is a share/);
  });

  it('stores a metric under its catalog name, so every spelling of a shown metric takes effect', () => {
    const { settings, problems } = parseTolerances(['transaction.p(99)=100000%', 'transaction.med=7%', 'body.p(50)=2ms', 'transaction.p90.0=9%']);
    expect(problems).toEqual([]);
    expect([...settings.perMetric.keys()]).toEqual(['transaction.p99', 'transaction.p50', 'body.p50', 'transaction.p90']);
    expect(toleranceOf(settings, 'transaction.p99')).toEqual({ relative: 1000, absolute: 1 });
    expect(toleranceOf(settings, 'transaction.p50')).toEqual({ relative: 0.07, absolute: 1 });
    expect(toleranceOf(settings, 'body.p50')).toEqual({ relative: 0.05, absolute: 2 });
  });

  it('refuses a metric compare does not show, naming it (and what it means)', () => {
    const specs = ['transaction.p999=5%', 'transaction.mean=5%', 'transaction.avg=5%', 'server.cmd.mail.p99=5%', 'transaction.count=5%', 'bytes.rate=5%', 'messages.accepted.rate=1pp'];
    const { settings, problems } = parseTolerances(specs);
    expect(problems).toHaveLength(specs.length);
    specs.forEach((spec, i) => expect(problems[i]).toMatch(new RegExp(`^"${spec.replace(/[.()]/g, '\\$&')}": compare does not show "${spec.split('=')[0].replace(/[.()]/g, '\\$&')}"`)));
    expect(problems[2]).toContain('"transaction.avg" (transaction.mean); it shows <phase>.p50|p90|p99|max (phases: connect,');
    expect(settings.perMetric.size).toBe(0);
  });

  it('prints a bad value without terminal controls', () => {
    const { problems } = parseTolerances(['\u009b31m\u202e\u001b[2J=5%']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
  });
});

// ─── Synthetic runs ───────────────────────────────────────────────────────────────────────────

/** A summary with just the fields compare reads. */
function summary(over: Partial<Record<string, unknown>> = {}): Summary {
  return {
    schema: 1,
    runId: 'r',
    startedAt: '2026-01-01T00:00:00.000Z',
    model: 'open',
    executor: 'open',
    warmupS: 1,
    durationS: 5,
    interrupted: false,
    environment: { gitSha: 'abc' },
    totals: {
      messages: { attempted: 1000, accepted: 990, rejected: 4, failed: 2, abandoned: 0, late: 0, dropped: 4 },
      recipients: { attempted: 1000, accepted: 990, rejected: 4, failed: 2, deferred: 0 },
      rates: { msgsPerS: 198, rcptsPerS: 198, mbPerS: 0 },
    },
    phases: { transaction: { count: 990, unit: 'ms', min: 1, mean: 2, p50: 2, p90: 3, p99: 4, p999: 5, max: 6 } },
    replies: { mail: { '250': 996, '451': 4 }, body: { '250': 990, '554': 6, '421': 4 } },
    errors: {},
    generator: { saturated: false },
    ...over,
  } as unknown as Summary;
}

/** An interval of `n` transactions around `ms` (one value each, 1 % spread), from `startS` for `lenS`. */
function interval(startS: number, lenS: number, ms: number, n = 100): Interval {
  const h = newHistogram();
  for (let i = 0; i < n; i++) recordUs(h, ms * 1000 * (0.995 + (0.01 * i) / n));
  return { startS, endS: startS + lenS, phases: new Map([['transaction', h]]) };
}

function second(t: number, intervalS: number, measuring: boolean, msgsPerS: number): Second {
  return { t, intervalS, measuring, rates: { msgsPerS, rcptsPerS: 2 * msgsPerS } } as Second;
}

function run(intervals: Interval[], timeline: Second[], over: Partial<Record<string, unknown>> = {}): RunData {
  return { source: 'mem', summary: summary(over), histograms: new Map(), serverHistograms: new Map(), intervals, timeline };
}

describe('metricValue', () => {
  it('reads latencies (from the summary when the run has no histogram), rates, the error share and reply shares of every phase', () => {
    const s = run([], []);
    expect(metricValue(s, 'transaction.p99')).toBe(4);
    expect(metricValue(s, 'transaction.max')).toBe(6);
    expect(metricValue(s, 'body.p50')).toBeNull();
    expect(metricValue(s, 'messages.rate')).toBe(198);
    // rejected 4 + failed 2 + dropped 4 + abandoned 0 over attempted 1000 + dropped 4 + abandoned 0.
    expect(metricValue(s, 'errors.rate')).toBeCloseTo(10 / 1004, 12);
    expect(metricValue(s, 'replies.4xx.rate')).toBeCloseTo(8 / 2000, 12);
    expect(metricValue(s, 'replies.5xx.rate')).toBeCloseTo(6 / 2000, 12);
  });
});

describe('intervalSamples', () => {
  it('skips warm-up seconds and short ones, and takes throughput from the timeline', () => {
    const ivs = [interval(0.002, 1, 50), interval(1.004, 1, 2), interval(2.004, 1, 2.1), interval(3.005, 0.3, 9)];
    const tl = [second(1.02, 1, true, 3), second(2.02, 1, true, 200), second(3.02, 1, true, 201), second(3.3, 0.28, true, 20)];
    const s = intervalSamples(run(ivs, tl));
    expect(s.seconds).toBe(2);
    expect(s.throughput).toBe('timeline');
    expect(s.values.get('transaction.p50')!.map((v) => Math.round(v * 10) / 10)).toEqual([2, 2.1]);
    // The first line says measuring (warm-up ended just before its tick) but began at 0.02 s: skipped.
    expect(s.values.get('messages.rate')).toEqual([200, 201]);
    expect(s.values.get('recipients.rate')).toEqual([400, 402]);
  });

  it('without a timeline counts run.hlog transactions per second', () => {
    const s = intervalSamples(run([interval(1.004, 1, 2, 300), interval(2.004, 0.5, 2, 100)], []));
    expect(s.throughput).toBe('run.hlog');
    expect(s.values.get('messages.rate')).toEqual([300, 200]);
    expect(s.values.has('recipients.rate')).toBe(false);
  });
});

describe('compareRuns and its outputs', () => {
  const seconds = (ms: (i: number) => number): Interval[] => Array.from({ length: 8 }, (_, i) => interval(1 + i, 1, ms(i)));
  const wobble = (i: number): number => [0, 0.02, -0.01, 0.015, -0.02, 0.01, -0.005, 0.005][i];

  it('passes the same run against itself and flags a slower one with the metric named', () => {
    const base = run(
      seconds((i) => 2 + wobble(i)),
      [],
    );
    const same = compareRuns(base, base, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES });
    expect(same.regression).toBe(false);
    expect(verdictLine(same)).toBe('compare: no regression (9 metrics)');
    const slow = run(
      seconds((i) => 7 + wobble(i)),
      [],
      { phases: { transaction: { count: 990, unit: 'ms', min: 6, mean: 7, p50: 7, p90: 8, p99: 9, p999: 10, max: 11 } } },
    );
    const r = compareRuns(base, slow, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES });
    expect(r.regressions).toEqual(['transaction.p50', 'transaction.p90', 'transaction.p99']);
    expect(verdictLine(r)).toMatch(/^compare: REGRESSION in 3 of 9 metrics: transaction\.p50 \+250 % \(p <0\.001\)/);
    for (const text of [renderCompareTable(r), renderCompareMarkdown(r), JSON.stringify(r)]) expect(text).not.toMatch(/NaN|Infinity|undefined/);
    expect(renderCompareMarkdown(r)).toMatch(/^## smtpbench compare: \*\*REGRESSION\*\* in 3 of 9 metrics/);
  });

  it('adjusts the p-values of the metrics tested together (Holm): a lone p = 0.036 is not enough', () => {
    const b = [8.0, 9.2, 7.2, 8.4, 9.6, 7.6, 8.8, 8.0];
    const c = [9.2, 10.4, 8.0, 10.0, 8.8, 11.2, 9.6, 8.4];
    const base = run(
      seconds((i) => b[i]),
      [],
    );
    const cur = run(
      seconds((i) => c[i]),
      [],
      { phases: { transaction: { count: 990, unit: 'ms', min: 1, mean: 10, p50: 10, p90: 14, p99: 18, p999: 20, max: 24 } } },
    );
    // Alone, transaction.p50 (+25 %, 2 ms) would be a regression: scipy's ttest_ind(log c, log b, equal_var=False) p = 0.0358.
    const samples = { baseline: intervalSamples(base).values.get('transaction.p50')!, current: intervalSamples(cur).values.get('transaction.p50')! };
    const alone = judge('transaction.p50', 8, 10, testMetric('transaction.p50', samples), latency, 0.05);
    expect(alone.pRaw).toBeCloseTo(0.0358, 3);
    expect(alone.verdict).toBe('regression');
    // Tested with p90, p99 and the throughput, it is adjusted above alpha.
    const r = compareRuns(base, cur, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES });
    const p50 = r.metrics.find((m) => m.metric === 'transaction.p50')!;
    expect(p50.pRaw).toBeCloseTo(0.0358, 3);
    expect(p50.pValue).toBeGreaterThan(0.05);
    expect(p50).toMatchObject({ verdict: 'unchanged', reason: 'beyond tolerance but not significant' });
    expect(r.regression).toBe(false);
  });

  it('says when a side has no run.hlog, and then counts no latency or rate as a regression', () => {
    const slow = { phases: { transaction: { count: 990, unit: 'ms', min: 6, mean: 7, p50: 7, p90: 8, p99: 9, p999: 10, max: 11 } } };
    const r = compareRuns(
      run([], []),
      run(
        seconds(() => 7),
        [],
        slow,
      ),
      { alpha: 0.05, tolerances: DEFAULT_TOLERANCES },
    );
    expect(r.notes[0]).toBe('baseline has no run.hlog: latencies and rates cannot be tested; a change beyond tolerance is shown as "beyond tolerance", not counted as a regression');
    expect(r.metrics.every((m) => !m.tested)).toBe(true);
    expect(r.beyondTolerance).toEqual(['transaction.p50', 'transaction.p90', 'transaction.p99']);
    expect(r.regression).toBe(false);
  });

  it('flags an error share 2 pp up between runs with enough measured seconds: exit-worthy, named', () => {
    const base = run(
      seconds((i) => 2 + wobble(i)),
      [],
    );
    // 2 % of messages rejected (a 450 to RCPT), latencies alike.
    const totals = {
      messages: { attempted: 1000, accepted: 970, rejected: 24, failed: 2, abandoned: 0, late: 0, dropped: 4 },
      recipients: { attempted: 1000, accepted: 970, rejected: 24, failed: 2, deferred: 0 },
      rates: { msgsPerS: 194, rcptsPerS: 194, mbPerS: 0 },
    };
    const cur = run(
      seconds((i) => 2 - wobble(i)),
      [],
      { totals },
    );
    const r = compareRuns(base, cur, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES });
    expect(r.baseline.seconds).toBe(8);
    const errors = r.metrics.find((m) => m.metric === 'errors.rate')!;
    expect(errors).toMatchObject({ verdict: 'regression', tested: false });
    expect(errors.delta).toBeCloseTo(0.02, 3);
    expect(r.regressions).toEqual(['errors.rate']);
    expect(r.regression).toBe(true);
    expect(verdictLine(r)).toBe('compare: REGRESSION in 1 of 9 metrics: errors.rate +1.992 pp (by tolerance)');
  });

  it('counts no untested change in runs of 1 measured second, and says so in one line', () => {
    const base = run([interval(1.004, 1, 2)], [second(2.02, 1, true, 200)]);
    const cur = run([interval(1.004, 1, 7)], [second(2.02, 1, true, 200)], { phases: { transaction: { count: 990, unit: 'ms', min: 6, mean: 7, p50: 7, p90: 8, p99: 9, p999: 10, max: 11 } } });
    const r = compareRuns(base, cur, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES });
    expect(r.regression).toBe(false);
    expect(r.regressions).toEqual([]);
    expect(r.beyondTolerance).toEqual(['transaction.p50', 'transaction.p90', 'transaction.p99']);
    expect(r.notes).toEqual([
      'baseline has 1 measured second, current 1: too short to test latencies and rates (the t-test needs 5 a side); a change beyond tolerance is shown as "beyond tolerance", not counted as a regression. Run at least 5 s after warm-up (--duration counts the warm-up)',
    ]);
    expect(verdictLine(r)).toBe('compare: no regression (9 metrics); beyond tolerance but not tested (not counted): transaction.p50 +250 %, transaction.p90 +166.7 %, transaction.p99 +125 %');
    const table = renderCompareTable(r);
    expect(table).toContain('(run r, open model, git abc; 1 measured second)');
    // A share still counts in a short run: it is never tested, whatever the length.
    const rejected = run([interval(1.004, 1, 2)], [second(2.02, 1, true, 200)], { replies: { mail: { '250': 900, '451': 100 } } });
    expect(compareRuns(base, rejected, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES }).regressions).toEqual(['replies.4xx.rate']);
  });

  it('says when a side is one shard of a run, and when the load models differ', () => {
    const shard = { index: 1, count: 3, host: 'h', startAt: null, lateMs: null, clock: { offsetMs: null, errorMs: null, source: null }, idle: false };
    const base = run([interval(1.004, 1, 2)], [second(2.02, 1, true, 200)], { shard, model: 'closed' });
    const cur = run([interval(1.004, 1, 2)], [second(2.02, 1, true, 200)]);
    const notes = compareRuns(base, cur, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES }).notes;
    expect(notes).toContain('baseline is shard 1 of 3: its counts and rates are that share of the load (merge the shards to compare whole runs)');
    expect(notes).toContain('baseline is a closed-model run, current an open-model one: transaction latencies do not mean the same thing');
  });

  it('uses one set of verdict words in the table, the Markdown and the JSON', () => {
    const base = run([interval(1.004, 1, 2)], []);
    const phases = { transaction: { count: 990, unit: 'ms', min: 6, mean: 7, p50: 7, p90: 8, p99: 9, p999: 10, max: 11 } };
    const cur = run(
      seconds((i) => 7 + wobble(i)),
      [],
      { phases, replies: { mail: { '250': 900, '451': 100 } } },
    );
    const r = compareRuns(base, cur, { alpha: 0.05, tolerances: DEFAULT_TOLERANCES });
    // replies.4xx.rate, messages.rate, transaction.p50, transaction.max.
    expect(new Set(r.metrics.map((m) => m.verdict))).toEqual(new Set(['regression', 'unchanged', 'beyond tolerance', 'not judged']));
    const table = renderCompareTable(r).split('\n');
    const md = renderCompareMarkdown(r).split('\n');
    for (const m of r.metrics) {
      const row = table.find((l) => l.startsWith(`│ ${m.metric} `))!;
      expect(row.split('│').at(-2)!.trim()).toBe(m.verdict);
      const mdRow = md.filter((l) => l.startsWith(`| ${m.metric} |`)).at(-1)!;
      expect(mdRow.split(' | ').at(-1)).toBe(`${m.verdict} |`);
    }
    expect(renderCompareTable(r)).not.toMatch(/│ (ok|n\/a|REGRESSION) +│/);
  });

  it("prints a crafted run's strings without terminal controls, leaves out phases the catalog does not know, and escapes Markdown", () => {
    const forged = '\n\u001b[2K\rcompare: no regression\u001b]0;pwned\u0007\u009b31m\u202e';
    const phases = { transaction: summary().phases.transaction, [`evil\u001b[31m${forged}`]: summary().phases.transaction };
    const crafted = {
      ...run(
        seconds((i) => 2 + wobble(i)),
        [],
        { runId: `r1<b>|\`x\`${forged}`, executor: `open${forged}`, environment: { gitSha: `\u009b31m${forged}` }, phases },
      ),
      source: `dir${forged}`,
    };
    const r = compareRuns(
      run(
        seconds((i) => 2 + wobble(i)),
        [],
      ),
      crafted,
      { alpha: 0.05, tolerances: DEFAULT_TOLERANCES },
    );
    expect(r.current).toMatchObject({
      source: 'dir [2K compare: no regression]0;pwned31m',
      runId: 'r1<b>|`x` [2K compare: no regression]0;pwned31m',
      executor: 'open [2K compare: no regression]0;pwned31m',
      gitSha: '31m [2K compare: no regression]0;pwned31m',
    });
    expect(r.metrics.map((m) => m.metric).filter((m) => !m.startsWith('transaction.'))).toEqual(['messages.rate', 'recipients.rate', 'errors.rate', 'replies.4xx.rate', 'replies.5xx.rate']);
    const controls = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
    const md = renderCompareMarkdown(r);
    for (const text of [renderCompareTable(r), md, JSON.stringify(r)]) {
      expect(text).not.toMatch(controls);
      expect(text).not.toContain('evil');
      expect(text.split('\n').filter((l) => l.startsWith('compare:'))).toHaveLength(text === md || text.startsWith('{') ? 0 : 1);
    }
    expect(md).toContain('current dir \\[2K compare: no regression\\]0;pwned31m (run r1\\<b\\>\\|\\`x\\` \\[2K');
    expect(md).not.toMatch(/(^|[^\\])<b>/m);
  });

  it('markdownText escapes what opens markup, and nothing else', () => {
    expect(markdownText('a|b<c>d`e`[f](g)*h*_i_~j~&amp;\\k')).toBe('a\\|b\\<c\\>d\\`e\\`\\[f\\](g)\\*h\\*\\_i\\_\\~j\\~\\&amp;\\\\k');
    expect(markdownText('results/main-run 2026-01-01T00:00:00Z')).toBe('results/main-run 2026-01-01T00:00:00Z');
    expect(markdownText('x\ny\u001b[31m')).toBe('x y\\[31m');
  });

  it('refuses an alpha outside (0, 1)', () => {
    expect(() => compareRuns(run([], []), run([], []), { alpha: 1, tolerances: DEFAULT_TOLERANCES })).toThrow(/alpha must be between 0 and 1/);
  });
});
