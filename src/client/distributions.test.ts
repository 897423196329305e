import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { readEmpirical, sampler, workerRng } from './distributions.js';
import { buildWirePlan, messageShape, STAMP_BYTES } from './message.js';

const dir = mkdtempSync(join(tmpdir(), 'smtpbench-dist-'));
const draws = (s: { draw(): number }, n: number): number[] => Array.from({ length: n }, () => s.draw());

describe('seeded draws', () => {
  it('repeat for the same seed and worker, differ across workers', () => {
    expect(draws({ draw: () => workerRng(7, 0).next() }, 1)).toEqual(draws({ draw: () => workerRng(7, 0).next() }, 1));
    const a = workerRng(7, 0);
    const b = workerRng(7, 1);
    expect(draws({ draw: () => a.next() }, 5)).not.toEqual(draws({ draw: () => b.next() }, 5));
  });

  it('uniform stays in [min, max] and reaches both ends', () => {
    const xs = draws(sampler({ dist: 'uniform', min: 3, max: 6 }, new Rng(1)), 2000);
    expect(Math.min(...xs)).toBe(3);
    expect(Math.max(...xs)).toBe(6);
    expect(xs.every(Number.isInteger)).toBe(true);
  });

  it('lognormal has about the given median and is clamped', () => {
    const xs = draws(sampler({ dist: 'lognormal', median: 8192, sigma: 1.2, min: 100, max: 1_000_000 }, new Rng(2)), 20_001).sort((p, q) => p - q);
    expect(xs[10_000]).toBeGreaterThan(8192 * 0.9);
    expect(xs[10_000]).toBeLessThan(8192 * 1.1);
    expect(xs[0]).toBeGreaterThanOrEqual(100);
    expect(xs[20_000]).toBeLessThanOrEqual(1_000_000);
  });

  it('empirical draws the file values by weight', () => {
    const file = join(dir, 'sizes.csv');
    writeFileSync(file, 'size,weight\n# a comment\n1KiB,3\n10KiB,1\n');
    expect(readEmpirical(file)).toEqual({ values: [1024, 10240], weights: [3, 1] });
    const s = sampler({ dist: 'empirical', file }, new Rng(3));
    expect(s.max).toBe(10240);
    const small = draws(s, 4000).filter((x) => x === 1024).length;
    expect(small / 4000).toBeGreaterThan(0.7);
    expect(small / 4000).toBeLessThan(0.8);
    writeFileSync(file, '1KiB,0\n');
    expect(() => readEmpirical(file)).toThrow('line 1: weight "0" is not a positive number');
    // Every bad line at once (hostile review F17), not only the first.
    writeFileSync(file, '1KiB\n-5\n2KiB,x\n300MiB\n');
    expect(() => readEmpirical(file, { min: 1, max: 256 * 1024 * 1024 })).toThrow(/^line 2: .*negative.*; line 3: weight "x" is not a positive number; line 4: 300MiB is outside 1\.\.268435456$/);
  });
});

describe('messageShape', () => {
  it('cuts the shared body at any size into a well-formed message of exactly the size it reports', () => {
    const plan = buildWirePlan({ from: 'a@example.test', to: 'r{n}@example.test', recipients: 1, sizeBytes: 5000, helo: 'h' });
    for (let want = 0; want <= 5200; want += 7) {
      const { len, tail, size } = messageShape(plan, want);
      const text = Buffer.concat([Buffer.alloc(STAMP_BYTES, 'x'), plan.body.data.subarray(0, len), Buffer.from(tail ? '\r\n' : '')]).toString('latin1');
      expect(text.length).toBe(size);
      expect(text.endsWith('\r\n')).toBe(true);
      // No bare CR or LF: every line ending is CRLF.
      expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
      // Never inside the headers; within a line of what was asked when there is room.
      expect(len).toBeGreaterThanOrEqual(plan.body.minLen);
      if (want >= STAMP_BYTES + plan.body.minLen + 2 && want <= 5000) expect(Math.abs(size - want)).toBeLessThanOrEqual(2);
    }
  });
});
