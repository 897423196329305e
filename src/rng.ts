/**
 * Random numbers for every layer (the bottom floor, beside clock.ts): a small seedable generator
 * and the one normal draw. The client's draws are seeded (from the profile seed and the worker
 * index, src/client/distributions.ts) so a run's sequence is reproducible; the reference server's
 * fault draws are seeded from `Math.random()`, since they are not meant to be replayed.
 */

/** mulberry32: a small, fast, seedable 32-bit generator; `next()` is uniform in [0, 1). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A generator with a seed from `Math.random()`: random, and not reproducible. */
  static unseeded(): Rng {
    return new Rng(Math.floor(Math.random() * 2 ** 32));
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal N(0, 1) by Box–Muller: two uniform draws, the first kept off 0 so its log is finite. */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}
