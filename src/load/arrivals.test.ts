import { describe, expect, it } from 'vitest';
import { laneOf, WHOLE } from '../profile/shard.js';
import { ArrivalClock, arrivalOffsetUs } from './arrivals.js';
import { sessionTarget } from './ramping-sessions.js';

describe('arrivalOffsetUs', () => {
  it('spaces a constant rate evenly from t = 0', () => {
    const stages = [{ durationMs: 10_000, target: 200 }];
    expect([0, 1, 2, 199, 200].map((n) => arrivalOffsetUs(n, 200, stages))).toEqual([0, 5000, 10_000, 995_000, 1_000_000]);
    expect(arrivalOffsetUs(2000, 200, stages)).toBe(Infinity); // 10 s × 200/s = arrivals 0..1999
  });

  it('inverts a linear ramp: N(t) = r1·t²/(2D) from 0', () => {
    // 0 → 100 msg/s over 10 s: 500 arrivals; arrival n at t = sqrt(2·D·n / r1) = sqrt(n/5) s.
    const stages = [{ durationMs: 10_000, target: 100 }];
    for (const n of [0, 5, 20, 125, 499]) expect(arrivalOffsetUs(n, 0, stages)).toBe(Math.round(Math.sqrt(n / 5) * 1e6));
    expect(arrivalOffsetUs(500, 0, stages)).toBe(Infinity);
  });

  it('continues across stages and skips zero-rate stages', () => {
    const stages = [
      { durationMs: 1000, target: 10 }, // 10/s flat after a start of 10: 10 arrivals in [0,1)
      { durationMs: 1000, target: 0 }, // 10 → 0: 5 arrivals
      { durationMs: 1000, target: 0 }, // none
      { durationMs: 1000, target: 10 }, // 0 → 10: 5 arrivals
    ];
    expect(arrivalOffsetUs(9, 10, stages)).toBe(900_000);
    expect(arrivalOffsetUs(10, 10, stages)).toBe(1_000_000);
    const last = arrivalOffsetUs(15, 10, stages); // first of the last stage
    expect(last).toBe(3_000_000);
    expect(arrivalOffsetUs(20, 10, stages)).toBe(Infinity);
  });
});

describe('ArrivalClock', () => {
  it('stripes arrivals across workers so that together they are the whole schedule', () => {
    const stages = [{ durationMs: 1000, target: 30 }];
    const seen: number[] = [];
    for (let w = 0; w < 4; w++) {
      const c = new ArrivalClock(laneOf({ shard: WHOLE, worker: { index: w, count: 4 } }), 30, stages, 29);
      for (let t = c.peek(); t !== Infinity; c.take(), t = c.peek()) seen.push(t);
    }
    const whole = Array.from({ length: 29 }, (_, n) => arrivalOffsetUs(n, 30, stages));
    expect(seen.sort((a, b) => a - b)).toEqual(whole);
  });

  it('stripes across shards whose machines have different worker counts, arrival for arrival', () => {
    // A ramp with a message bound: 3 shards on machines of 2, 1 and 5 workers.
    const stages = [
      { durationMs: 2000, target: 400 },
      { durationMs: 1000, target: 100 },
    ];
    const seen: number[] = [];
    for (const [i, W] of [
      [0, 2],
      [1, 1],
      [2, 5],
    ]) {
      for (let w = 0; w < W; w++) {
        const c = new ArrivalClock(laneOf({ shard: { index: i, count: 3 }, worker: { index: w, count: W } }), 50, stages, 517);
        for (let t = c.peek(); t !== Infinity; c.take(), t = c.peek()) seen.push(t);
      }
    }
    const whole = Array.from({ length: 517 }, (_, n) => arrivalOffsetUs(n, 50, stages));
    expect(seen.sort((a, b) => a - b)).toEqual(whole);
  });
});

describe('sessionTarget', () => {
  it('interpolates session counts from 0 and ends after the last stage', () => {
    const stages = [
      { durationMs: 1000, target: 10 },
      { durationMs: 1000, target: 10 },
      { durationMs: 500, target: 0 },
    ];
    expect([0, 500, 999, 1000, 1999, 2250].map((ms) => sessionTarget(ms, stages))).toEqual([0, 5, 10, 10, 10, 5]);
    expect(sessionTarget(2500, stages)).toBeNull();
  });

  it('starts from startSessions (k6 startVUs) and moves from there through the first stage', () => {
    const stages = [{ durationMs: 1000, target: 0 }];
    expect([0, 250, 500, 999].map((ms) => sessionTarget(ms, stages, 8))).toEqual([8, 6, 4, 0]);
    expect(sessionTarget(1000, stages, 8)).toBeNull();
  });
});
