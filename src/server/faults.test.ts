import { describe, expect, it } from 'vitest';
import { sampleDelay } from './faults.js';

describe('delay distributions', () => {
  it('samples uniform delays inside their bounds and lognormal delays around their median', () => {
    for (let i = 0; i < 1000; i++) {
      const u = sampleDelay({ dist: 'uniform', minMs: 5, maxMs: 9 });
      expect(u).toBeGreaterThanOrEqual(5);
      expect(u).toBeLessThanOrEqual(9);
    }
    const xs = Array.from({ length: 4001 }, () => sampleDelay({ dist: 'lognormal', medianMs: 10, sigma: 0.5 })).sort((a, b) => a - b);
    expect(xs[2000]).toBeGreaterThan(9);
    expect(xs[2000]).toBeLessThan(11);
    expect(xs.every((x) => x > 0)).toBe(true);
    expect(sampleDelay({ dist: 'fixed', ms: 20 })).toBe(20);
  });
});
