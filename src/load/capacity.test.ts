import { describe, expect, it } from 'vitest';
import { brokenBadly, judgeStep, plannedStepMs, searchCapacity, STEP_START_MS, type SearchOptions, type StepMeasurement } from './capacity.js';

const OPTS: SearchOptions = { startRate: 50, factor: 2, maxRate: null, precision: 0.05, maxTimeMs: 300_000, stepTimeMs: 10_000 };

/** A fake target that keeps up to `capacity` msg/s; each step takes `stepMs` of a fake clock. */
function fakeTarget(capacity: number, opts: { stepMs?: number; saturateAbove?: number; dropAbove?: number; cutAt?: number } = {}) {
  let t = 0;
  const rates: number[] = [];
  const runStep = async (rate: number): Promise<StepMeasurement> => {
    rates.push(rate);
    t += opts.stepMs ?? 10_000;
    const ok = rate <= capacity;
    return {
      rate,
      achievedRate: Math.min(rate, capacity),
      slos: [{ metric: 'transaction.p99', ok }],
      saturated: opts.saturateAbove !== undefined && rate > opts.saturateAbove,
      dropped: opts.dropAbove !== undefined && rate > opts.dropAbove ? 3 : 0,
      late: 0,
      stoppedEarly: null,
      interrupted: opts.cutAt !== undefined && rate === opts.cutAt,
    };
  };
  return { runStep, now: () => t, rates };
}

describe('searchCapacity', () => {
  it('steps up geometrically, then bisects to the precision', async () => {
    const f = fakeTarget(300);
    const r = await searchCapacity(OPTS, f.runStep, f.now);
    // 50, 100, 200, 400 (fails), then 300 (passes), 350, 325, 312.5 → (312.5 − 300) / 300 ≤ 5 %.
    expect(f.rates).toEqual([50, 100, 200, 400, 300, 350, 325, 312.5]);
    expect(r.end).toBe('found');
    expect(r.sustained?.measurement.rate).toBe(300);
    expect(r.breaks?.measurement.rate).toBe(312.5);
    expect(r.breaks?.reason).toBe('transaction.p99');
    const g = r.sustained!.measurement.rate;
    expect((r.breaks!.measurement.rate - g) / g).toBeLessThanOrEqual(0.05);
  });

  it('never answers above the true capacity, whatever it is', async () => {
    for (const capacity of [57, 120, 199, 200, 201, 733, 4000]) {
      const f = fakeTarget(capacity);
      const r = await searchCapacity({ ...OPTS, maxTimeMs: 1e9 }, f.runStep, f.now);
      expect(r.end).toBe('found');
      const s = r.sustained!.measurement.rate;
      expect(s).toBeLessThanOrEqual(capacity);
      expect(r.breaks!.measurement.rate).toBeGreaterThan(capacity);
      expect((r.breaks!.measurement.rate - s) / s).toBeLessThanOrEqual(0.05);
    }
  });

  it('a finer precision takes more steps', async () => {
    const coarse = fakeTarget(300);
    const fine = fakeTarget(300);
    await searchCapacity({ ...OPTS, precision: 0.2 }, coarse.runStep, coarse.now);
    await searchCapacity({ ...OPTS, precision: 0.01 }, fine.runStep, fine.now);
    expect(fine.rates.length).toBeGreaterThan(coarse.rates.length);
  });

  it('fails at the lowest rate: no answer', async () => {
    const f = fakeTarget(10);
    const r = await searchCapacity(OPTS, f.runStep, f.now);
    expect(f.rates).toEqual([50]);
    expect(r.end).toBe('fails-at-start');
    expect(r.sustained).toBeNull();
    expect(r.breaks?.measurement.rate).toBe(50);
  });

  it('stops at an unreliable step (saturated generator) with the last pass as a lower bound', async () => {
    const f = fakeTarget(10_000, { saturateAbove: 150 });
    const r = await searchCapacity(OPTS, f.runStep, f.now);
    expect(f.rates).toEqual([50, 100, 200]);
    expect(r.end).toBe('generator');
    expect(r.sustained?.measurement.rate).toBe(100);
    expect(r.unreliable?.measurement.rate).toBe(200);
    expect(r.unreliable?.reason).toBe('generator saturated');
    expect(r.steps.every((s) => s.verdict !== 'pass' || s.reliable)).toBe(true);
  });

  it('a step with dropped starts whose SLOs held is unreliable, never a pass', async () => {
    const f = fakeTarget(10_000, { dropAbove: 150 });
    const r = await searchCapacity(OPTS, f.runStep, f.now);
    expect(r.end).toBe('generator');
    expect(r.sustained?.measurement.rate).toBe(100);
    expect(r.unreliable?.reason).toBe('3 starts dropped');
  });

  it('an unreliable step in the bisection also ends the search with a lower bound', async () => {
    const f = fakeTarget(300, { saturateAbove: 250 });
    const r = await searchCapacity(OPTS, f.runStep, f.now);
    // 400 fails as saturated → unreliable (not a failure of the target).
    expect(f.rates).toEqual([50, 100, 200, 400]);
    expect(r.end).toBe('generator');
    expect(r.sustained?.measurement.rate).toBe(200);
  });

  it('stops at --max-rate when nothing broke', async () => {
    const f = fakeTarget(10_000);
    const r = await searchCapacity({ ...OPTS, maxRate: 300 }, f.runStep, f.now);
    expect(f.rates).toEqual([50, 100, 200, 300]);
    expect(r.end).toBe('max-rate');
    expect(r.sustained?.measurement.rate).toBe(300);
    expect(r.breaks).toBeNull();
  });

  it('never starts a step that cannot finish within --max-time', async () => {
    const f = fakeTarget(10_000, { stepMs: 10_000 });
    const r = await searchCapacity({ ...OPTS, maxTimeMs: 35_000 }, f.runStep, f.now);
    // Three steps fit in 35 s; a fourth would end at 40 s.
    expect(f.rates).toEqual([50, 100, 200]);
    expect(r.end).toBe('max-time');
    expect(f.now()).toBeLessThanOrEqual(35_000);
  });

  it('plans with the longest step so far when steps run longer than planned', async () => {
    const f = fakeTarget(10_000, { stepMs: 20_000 });
    const r = await searchCapacity({ ...OPTS, maxTimeMs: 50_000, stepTimeMs: 5_000 }, f.runStep, f.now);
    // After the first 20 s step, one more fits (40 s); a third would end at 60 s.
    expect(f.rates).toEqual([50, 100]);
    expect(r.end).toBe('max-time');
  });

  it('a failed achieved rate fails the step', () => {
    const s = judgeStep({ rate: 100, achievedRate: 90, slos: [{ metric: 'transaction.p99', ok: true }], saturated: false, dropped: 0, late: 0, stoppedEarly: null, interrupted: false });
    expect(s.verdict).toBe('fail');
    expect(s.reason).toBe('achieved rate');
    expect(judgeStep({ ...s.measurement, achievedRate: 96 }).verdict).toBe('pass');
  });

  it('a broken SLO with dropped starts is a failure, shown as not reliable', () => {
    const s = judgeStep({ rate: 100, achievedRate: 50, slos: [{ metric: 'transaction.p99', ok: false }], saturated: false, dropped: 40, late: 900, stoppedEarly: null, interrupted: false });
    expect(s).toMatchObject({ verdict: 'fail', reliable: false, reason: 'transaction.p99' });
  });

  it('starts dropped by an early stop do not make a step unreliable', () => {
    const s = judgeStep({
      rate: 400,
      achievedRate: 140,
      slos: [{ metric: 'transaction.p99', ok: false }],
      saturated: false,
      dropped: 205,
      late: 300,
      stoppedEarly: 'transaction.p99',
      interrupted: false,
    });
    expect(s).toMatchObject({ verdict: 'fail', reliable: true });
  });

  it('stops before the next step when interrupted', async () => {
    const f = fakeTarget(300);
    let n = 0;
    const r = await searchCapacity(OPTS, f.runStep, f.now, () => ++n > 2);
    expect(f.rates).toEqual([50, 100]);
    expect(r.end).toBe('interrupted');
  });
});

describe('interrupted steps, rates and the time budget', () => {
  it('a step cut short by Ctrl-C is neither a pass nor a failure, and ends the search', async () => {
    // Whatever its SLOs and achieved rate said: the fake target would pass 100 and fail 400.
    for (const cutAt of [100, 400]) {
      const f = fakeTarget(300, { cutAt });
      const r = await searchCapacity(OPTS, f.runStep, f.now);
      const last = r.steps[r.steps.length - 1];
      expect(last).toMatchObject({ verdict: 'interrupted', reliable: false, reason: 'interrupted' });
      expect(r.end).toBe('interrupted');
      expect(r.breaks).toBeNull();
      expect(r.sustained?.measurement.rate).toBe(cutAt === 100 ? 50 : 200);
    }
  });

  it('a factor that rounds onto the same rate still steps up by 0.1 msg/s, never repeating a rate', async () => {
    const f = fakeTarget(50.35);
    const r = await searchCapacity({ ...OPTS, factor: 1.0001, maxTimeMs: 1e9 }, f.runStep, f.now);
    expect(f.rates).toEqual([50, 50.1, 50.2, 50.3, 50.4]);
    expect(r.end).toBe('found');
  });

  it('never runs a rate twice, whatever the capacity, factor and precision', async () => {
    for (const capacity of [0.3, 7.77, 51, 99.9, 1234.5])
      for (const factor of [1.01, 1.5, 2, 3])
        for (const precision of [0.001, 0.05]) {
          const f = fakeTarget(capacity);
          await searchCapacity({ ...OPTS, startRate: 0.2, factor, precision, maxTimeMs: 1e12 }, f.runStep, f.now);
          expect(new Set(f.rates).size, `${capacity} ×${factor} ${precision}`).toBe(f.rates.length);
        }
  });

  it('a --max-time of exactly one planned step runs that step', async () => {
    const planned = plannedStepMs(0, 1000, 0);
    let t = 5; // the clock has moved before the first step (setup)
    const rates: number[] = [];
    const r = await searchCapacity(
      { ...OPTS, maxTimeMs: planned, stepTimeMs: planned },
      async (rate) => {
        rates.push(rate);
        t += planned;
        return { rate, achievedRate: rate, slos: [{ metric: 'transaction.p99', ok: true }], saturated: false, dropped: 0, late: 0, stoppedEarly: null, interrupted: false };
      },
      () => t,
    );
    expect(rates).toEqual([50]);
    expect(r.end).toBe('max-time');
  });

  it('the planned step counts warm-up, the step, the start and gracefulStop', () => {
    expect(plannedStepMs(2000, 10_000, 2000)).toBe(2000 + 10_000 + STEP_START_MS + 2000);
  });
});

describe('brokenBadly (early stop)', () => {
  it('an upper limit is broken badly above 10× the limit', () => {
    expect(brokenBadly('<', 100, 999)).toBe(false);
    expect(brokenBadly('<', 100, 1001)).toBe(true);
    expect(brokenBadly('<=', 0.005, 0.06)).toBe(true);
  });
  it('a lower limit is broken badly below a tenth of the limit', () => {
    expect(brokenBadly('>', 900, 100)).toBe(false);
    expect(brokenBadly('>=', 900, 80)).toBe(true);
  });
  it('no data, booleans and equalities never stop a step', () => {
    expect(brokenBadly('<', 100, null)).toBe(false);
    expect(brokenBadly('==', false, true)).toBe(false);
    expect(brokenBadly('!=', 5, 5000)).toBe(false);
  });
});
