import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('repeats its sequence for a seed; next() is in [0, 1)', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
    expect(new Rng(43).next()).not.toBe(xs[0]);
  });

  it('normal() is N(0, 1): mean near 0, variance near 1, finite', () => {
    const g = new Rng(7);
    const n = 20_000;
    const xs = Array.from({ length: n }, () => g.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(xs.every(Number.isFinite)).toBe(true);
  });

  it('unseeded() generators differ', () => {
    expect(Rng.unseeded().next()).not.toBe(Rng.unseeded().next());
  });
});
