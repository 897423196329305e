import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../profile/defaults.js';
import { answerOf, curvePhase, curveTable, renderCapacityHtml, renderCapacityMarkdown, type CapacityReport, type CapacityStep } from './capacity.js';
import { parseThreshold } from '../profile/thresholds.js';
import { evaluate } from './thresholds.js';

const SLOS = [parseThreshold('transaction.p99 < 100ms'), parseThreshold('errors.rate < 0.5%')];

function step(index: number, rate: number, verdict: CapacityStep['verdict'], p99: number, reason: string | null = verdict === 'fail' ? 'transaction.p99' : null): CapacityStep {
  const run = {
    summary: {
      durationS: 3,
      totals: {
        messages: { attempted: 10, accepted: 10, rejected: 0, failed: 0, abandoned: 0, late: 0, dropped: 0 },
        recipients: { attempted: 10, accepted: 10, rejected: 0, failed: 0, deferred: 0 },
        transactions: 10,
        bytes: 0,
      },
      replies: {},
      errors: {},
      phases: { transaction: { count: 10, unit: 'ms', min: 1, mean: 2, p50: p99 / 2, p90: p99, p99, p999: p99, max: p99 } },
      generator: null,
    },
    histograms: new Map(),
    serverHistograms: new Map(),
  } as never;
  return {
    index,
    dir: `steps/${index}-${rate}`,
    rate,
    achievedRate: rate,
    verdict,
    reliable: verdict !== 'unreliable',
    reason,
    p50: p99 / 2,
    p99,
    errorRate: 0,
    late: 0,
    dropped: 0,
    accepted: 10,
    errors: {},
    saturated: verdict === 'unreliable',
    durationS: 3,
    slos: evaluate(SLOS, run),
    stoppedEarly: null,
  };
}

describe('answerOf', () => {
  it('found: sustains N (the breaking SLO at N); breaks at M on it', () => {
    const steps = [
      step(1, 50, 'pass', 10),
      step(2, 100, 'pass', 20),
      step(3, 200, 'fail', 300),
      step(4, 150, 'pass', 40),
      step(5, 175, 'fail', 150),
      step(6, 162.5, 'fail', 120),
      step(7, 156.3, 'pass', 60),
    ];
    const a = answerOf('found', steps, SLOS, 0.05);
    expect(a).toMatchObject({ sustainedRate: 156.3, breaksAtRate: 162.5, breaksOn: 'transaction.p99' });
    expect(a.text).toBe('sustains 156.3 msg/s (transaction.p99 60 ms at that rate); breaks at 162.5 msg/s on transaction.p99');
  });
  it('an unreliable step: a lower bound, and the machine could not offer more', () => {
    const a = answerOf('generator', [step(1, 50, 'pass', 10), step(2, 100, 'unreliable', 10, 'generator saturated')], SLOS, 0.05);
    expect(a.sustainedRate).toBe(50);
    expect(a.text).toMatch(/^the target sustained at least 50 msg\/s \(.*\); this machine could not offer more \(100 msg\/s was unreliable: generator saturated\)$/);
  });
  it('fails at the lowest rate: no sustained rate', () => {
    const a = answerOf('fails-at-start', [step(1, 50, 'fail', 500)], SLOS, 0.05);
    expect(a).toMatchObject({ sustainedRate: null, breaksAtRate: 50 });
    expect(a.text).toContain('failed the SLOs at the lowest rate tried, 50 msg/s');
  });
  it('max-rate and max-time without a failure say so; a coarse answer names the precision', () => {
    expect(answerOf('max-rate', [step(1, 50, 'pass', 10)], SLOS, 0.05).text).toContain('the --max-rate; no SLO broke');
    expect(answerOf('max-time', [step(1, 50, 'pass', 10)], SLOS, 0.05).text).toContain('stopped (max-time) before an SLO broke');
    expect(answerOf('max-time', [step(1, 50, 'pass', 10), step(2, 100, 'fail', 500)], SLOS, 0.05).text).toContain('before the 5 % precision');
  });
});

describe('answerOf: interrupted and unreachable', () => {
  it('an interrupted step is not judged: the answer rests on the completed steps and names it', () => {
    const steps = [step(1, 50, 'pass', 10), step(2, 100, 'pass', 20), step(3, 200, 'interrupted', 900, 'interrupted')];
    const a = answerOf('interrupted', steps, SLOS, 0.05);
    expect(a).toMatchObject({ sustainedRate: 100, breaksAtRate: null, interruptedRate: 200 });
    expect(a.text).toMatch(/^the target sustained at least 100 msg\/s .*; interrupted at 200 msg\/s/);
  });
  it('a second Ctrl-C before the step ended: its rate only', () => {
    const a = answerOf('interrupted', [step(1, 50, 'pass', 10)], SLOS, 0.05, 100);
    expect(a).toMatchObject({ sustainedRate: 50, interruptedRate: 100 });
    expect(a.text).toContain('interrupted at 100 msg/s');
    expect(answerOf('interrupted', [], SLOS, 0.05, 50).text).toBe('no answer: interrupted before a step completed; interrupted at 50 msg/s (that step is not judged)');
  });
  it('a first step that reached nothing says the target could not be reached, naming the errors', () => {
    const s = { ...step(1, 50, 'fail', 0, 'achieved rate'), accepted: 0, achievedRate: 0, errors: { 'connect-refused': 48, 'greeting-timeout': 2 } };
    const a = answerOf('fails-at-start', [s], SLOS, 0.05);
    expect(a.text).toContain('could not be reached at 50 msg/s');
    expect(a.text).toContain('connect-refused ×48, greeting-timeout ×2');
    expect(a.text).not.toContain('--start-rate');
    // Rejected by SMTP replies: reached, so the usual advice stands.
    const rejected = { ...s, errors: { 'connect-refused': 1, 'unexpected-reply': 3 } };
    expect(answerOf('fails-at-start', [rejected], SLOS, 0.05).text).toContain('lower --start-rate');
    // Unreliable (the generator flagged saturated) but nothing reached: the target is the cause (fresh-user trial of issue 15).
    const saturated = { ...s, verdict: 'unreliable' as const, reason: 'generator saturated' };
    expect(answerOf('generator', [saturated], SLOS, 0.05).text).toContain('could not be reached at 50 msg/s');
  });
  it('the table marks an interrupted step', () => {
    const steps = [step(1, 50, 'pass', 10), step(2, 100, 'interrupted', 900, 'interrupted')];
    const rows = curveTable({ phase: 'transaction', steps } as unknown as CapacityReport).rows;
    expect(rows[1][6]).toBe('interrupted');
  });
});

describe('the curve', () => {
  const steps = [step(1, 50, 'pass', 10), step(2, 100, 'pass', 20), step(3, 200, 'fail', 300), step(4, 150, 'pass', 40)];
  const report: CapacityReport = {
    schema: 1,
    kind: 'capacity',
    runId: 'r<1>',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationS: 20,
    target: 'smtp://127.0.0.1:2525',
    slos: SLOS,
    phase: curvePhase(SLOS),
    search: { startRate: 50, factor: 2, maxRate: null, precision: 0.05, stepDurationS: 3, warmupS: 1, maxTimeS: 300, achievedRateFloor: 0.95, brokenBadlyFactor: 10, sessions: 'fresh' },
    steps,
    answer: answerOf('max-time', steps, SLOS, 0.05),
    profile: DEFAULTS,
    environment: { node: 'v20', cpu: 'cpu', cores: 2, os: 'linux', gitSha: null },
  };
  it('rows by offered rate', () => {
    expect(curveTable(report).rows.map((r) => r[1])).toEqual(['50', '100', '150', '200']);
  });
  it('report.md carries the answer and one row per step', () => {
    const md = renderCapacityMarkdown(report);
    expect(md).toContain(report.answer.text);
    expect(md.split('\n').filter((l) => l.startsWith('| ')).length).toBe(2 + steps.length);
  });
  it('report.html escapes, embeds the curve sorted by rate and the SLO limit', () => {
    const html = renderCapacityHtml(report);
    expect(html).toContain('r&#60;1&#62;');
    const data = JSON.parse(/<script type="application\/json" id="capacity-data">(.*?)<\/script>/s.exec(html)![1]);
    expect(data.x).toEqual([50, 100, 150, 200]);
    expect(data.limits).toEqual([{ label: 'SLO transaction.p99 < 100ms', value: 100 }]);
  });
  it("the curve phase is the first latency SLO's", () => {
    expect(curvePhase([parseThreshold('errors.rate < 1%'), parseThreshold('body.p99 < 5ms')])).toBe('body');
    expect(curvePhase([parseThreshold('errors.rate < 1%')])).toBe('transaction');
  });
});
