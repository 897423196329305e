/**
 * Seeded random draws for message generation: message sizes and recipients per message from a
 * fixed value, a uniform range, a lognormal (median, sigma) or an empirical distribution read from
 * a CSV file. One generator per worker, seeded from the profile seed and the worker index, so a
 * run's sequence of draws is reproducible; the seed is recorded in summary.json (`profile.seed`).
 */
import { readFileSync } from 'node:fs';
import type { Dist } from '../profile/types.js';
import { parseSize } from '../profile/units.js';
import { Rng } from '../rng.js';

/** A worker's generator: the profile seed mixed with the worker index. */
export const workerRng = (seed: number, worker: number): Rng => new Rng(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(worker + 1, 0x85ebca6b));

/** Draws integers; `max` is the largest value it can return (wire buffers are sized for it). */
export interface Sampler {
  /** The smallest and largest value `draw` can return. */
  readonly min: number;
  readonly max: number;
  draw(): number;
}

export const fixed = (value: number): Sampler => ({ min: value, max: value, draw: () => value });

/**
 * Reads an empirical distribution: one `value[,weight]` per line (value in bytes with an optional
 * unit such as `4KiB`, or a plain count), `#` comments and a header line without digits skipped.
 *
 * @param limits the allowed range of values (sizes: 1 .. 256 MiB; recipients: 1 .. 100,000)
 * @throws Error naming every bad line (the first 10, then how many more), so one fix round is enough
 */
export function readEmpirical(file: string, limits: { min: number; max: number } = { min: 0, max: Number.MAX_SAFE_INTEGER }): { values: number[]; weights: number[] } {
  const values: number[] = [];
  const weights: number[] = [];
  const bad: string[] = [];
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === '' || l.startsWith('#') || !/\d/.test(l)) continue;
    const [v, w = '1'] = l.split(',').map((x) => x.trim());
    const weight = Number(w);
    let value: number;
    try {
      value = parseSize(v);
    } catch (err) {
      bad.push(`line ${i + 1}: ${(err as Error).message}`);
      continue;
    }
    if (!(weight > 0)) bad.push(`line ${i + 1}: weight ${JSON.stringify(w)} is not a positive number`);
    else if (value < limits.min || value > limits.max) bad.push(`line ${i + 1}: ${v} is outside ${limits.min}..${limits.max}`);
    else {
      values.push(value);
      weights.push(weight);
    }
  }
  if (bad.length > 0) throw new Error(bad.length > 10 ? `${bad.slice(0, 10).join('; ')}; and ${bad.length - 10} more bad lines` : bad.join('; '));
  if (values.length === 0) throw new Error('no values in the file');
  return { values, weights };
}

/** A sampler for `d`, clamped to `[floor, …]`; empirical files are read here. */
export function sampler(d: Dist, rng: Rng, floor = 0): Sampler {
  if (d.dist === 'uniform') {
    const lo = Math.max(floor, d.min);
    return { min: lo, max: Math.max(lo, d.max), draw: () => lo + Math.floor(rng.next() * (d.max - lo + 1)) };
  }
  if (d.dist === 'lognormal') {
    const mu = Math.log(d.median);
    const lo = Math.max(floor, d.min);
    return { min: Math.min(lo, d.max), max: d.max, draw: () => Math.min(d.max, Math.max(lo, Math.round(Math.exp(mu + d.sigma * rng.normal())))) };
  }
  const { values, weights } = readEmpirical(d.file);
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  return {
    min: Math.max(floor, Math.min(...values)),
    max: Math.max(floor, ...values),
    draw: () => {
      // Binary search for the first cumulative weight above the draw.
      const x = rng.next() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > x) hi = mid;
        else lo = mid + 1;
      }
      return Math.max(floor, values[lo]);
    },
  };
}

/**
 * A weighted pick among `weights.length` choices (Vose's alias method): `draw()` answers index `i`
 * with probability `weights[i] / Σ weights`, in O(1) (one uniform draw, one compare), after an
 * O(n) table build. Weights need not sum to anything; each must be positive and finite.
 *
 * @throws Error for an empty list or a weight that is not a positive finite number
 */
export function weightedPick(weights: readonly number[], rng: Rng): Sampler {
  const n = weights.length;
  if (n === 0) throw new Error('no weights');
  let total = 0;
  for (const w of weights) {
    if (!(w > 0) || !Number.isFinite(w)) throw new Error(`weight ${w} is not a positive number`);
    total += w;
  }
  // Scaled so the mean is 1: a column holds its own share up to `prob`, the rest is its alias's.
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const scaled = weights.map((w) => (w * n) / total);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < n; i++) (scaled[i] < 1 ? small : large).push(i);
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    (scaled[l] < 1 ? small : large).push(l);
  }
  // What is left is 1 up to rounding.
  for (const i of [...small, ...large]) {
    prob[i] = 1;
    alias[i] = i;
  }
  return {
    min: 0,
    max: n - 1,
    draw: () => {
      const x = rng.next() * n;
      const i = Math.floor(x);
      return x - i < prob[i] ? i : alias[i];
    },
  };
}
