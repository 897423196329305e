import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram, FastHistogram, meanOf, newHistogram, recordUs, statsOf } from './histogram.js';

describe('FastHistogram', () => {
  it('gives exactly the histogram that direct recording gives, small values and large', () => {
    const direct = newHistogram();
    const r = new FastHistogram(newHistogram());
    const values = [0, 0.4, 0.6, 1, 2.5, 17, 999, 1023, 1023.4, 1024, 1500, 2047, 2048, 123_456, 3_600_000_000, 5e9, -3];
    for (let i = 0; i < 50; i++)
      for (const v of values) {
        recordUs(direct, v);
        r.record(v);
      }
    expect(encodeHistogram(r.histogram())).toBe(encodeHistogram(direct));
    // Reading twice adds nothing twice.
    expect(r.histogram().totalCount).toBe(50 * values.length);
    // reset() forgets pending small values too.
    r.record(5);
    r.reset();
    expect(r.histogram().totalCount).toBe(0);
  });
});

describe('decodeHistogram', () => {
  it('gives back what encodeHistogram encoded, in the one configuration', () => {
    const h = newHistogram();
    for (const v of [1, 7, 1500, 250_000, 3_600_000_000]) recordUs(h, v);
    const back = decodeHistogram(encodeHistogram(h));
    expect(back.totalCount).toBe(5);
    expect(back.getValueAtPercentile(50)).toBe(h.getValueAtPercentile(50));
    expect(encodeHistogram(back)).toBe(encodeHistogram(h));
    expect(() => decodeHistogram('not a histogram')).toThrow();
  });
});

describe('statsOf', () => {
  it('never reports a percentile above the max, on a live histogram as on a decoded one (hostile review F19)', () => {
    const h = newHistogram();
    // Raw values inside one bucket at the top: the raw max sits below that bucket's top.
    for (let i = 0; i < 1000; i++) recordUs(h, 1000 + (i % 50));
    recordUs(h, 3312);
    for (const stats of [statsOf(h, [50, 99, 99.9, 99.99]), statsOf(decodeHistogram(encodeHistogram(h)), [50, 99, 99.9, 99.99])]) {
      for (const p of Object.values(stats.percentiles)) expect(p).toBeLessThanOrEqual(stats.max);
      expect(stats.p999).toBeLessThanOrEqual(stats.max);
      expect(stats.max).toBeGreaterThanOrEqual(3.312);
      expect(stats.max).toBeLessThan(3.32);
    }
    expect(statsOf(h).max).toBe(statsOf(decodeHistogram(encodeHistogram(h))).max);
  });
});

describe('meanOf', () => {
  it("equals the library's mean exactly, empty, one value, and spread over every magnitude", () => {
    const h = newHistogram();
    expect(meanOf(h)).toBe(0);
    recordUs(h, 1234);
    expect(meanOf(h)).toBe(h.mean);
    let x = 0x9e3779b9;
    for (let i = 0; i < 50_000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      // Log-uniform from 1 µs to about an hour, so every bucket size is used.
      recordUs(h, Math.exp((x / 2 ** 32) * Math.log(3.6e9)));
    }
    recordUs(h, 3_600_000_000);
    expect(meanOf(h)).toBe(h.mean);
    expect(meanOf(decodeHistogram(encodeHistogram(h)))).toBe(h.mean);
  });
});
