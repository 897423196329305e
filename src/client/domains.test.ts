import { describe, expect, it } from 'vitest';
import { Recorder } from '../metrics/recorder.js';
import { weightedPick, workerRng } from './distributions.js';
import { buildWirePlan, RECIPIENT_POOL, takeRecipients } from './message.js';
import { Msg, Txn } from './transaction.js';

const WEIGHTS = [67.4, 20, 12.6];

describe('weightedPick (alias method)', () => {
  it('draws each index with its normalised weight, within binomial tolerance over 100,000 draws', () => {
    const n = 100_000;
    const pick = weightedPick(WEIGHTS, workerRng(42, 0));
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[pick.draw()]++;
    const total = WEIGHTS.reduce((a, w) => a + w, 0);
    for (const [i, w] of WEIGHTS.entries()) {
      const p = w / total;
      // 4.5 standard deviations: a false failure about once in 150,000 runs.
      expect(Math.abs(counts[i] - n * p), `index ${i}`).toBeLessThan(4.5 * Math.sqrt(n * p * (1 - p)));
    }
  });

  it('normalises weights that do not sum to 100, and repeats its sequence for the same seed', () => {
    const a = weightedPick([1, 3], workerRng(9, 2));
    const b = weightedPick([1, 3], workerRng(9, 2));
    const seqA = Array.from({ length: 1000 }, () => a.draw());
    expect(Array.from({ length: 1000 }, () => b.draw())).toEqual(seqA);
    const ones = seqA.filter((x) => x === 1).length;
    expect(ones).toBeGreaterThan(750 - 4.5 * Math.sqrt(1000 * 0.75 * 0.25));
    expect(ones).toBeLessThan(750 + 4.5 * Math.sqrt(1000 * 0.75 * 0.25));
    const other = weightedPick([1, 3], workerRng(9, 3));
    expect(Array.from({ length: 1000 }, () => other.draw())).not.toEqual(seqA);
  });

  it('handles one weight, tiny and huge weights, and refuses bad ones', () => {
    const one = weightedPick([5], workerRng(1, 0));
    expect(new Set(Array.from({ length: 100 }, () => one.draw()))).toEqual(new Set([0]));
    const skew = weightedPick([1e-9, 1e9], workerRng(1, 0));
    expect(Array.from({ length: 1000 }, () => skew.draw()).every((x) => x === 1)).toBe(true);
    expect(() => weightedPick([], workerRng(1, 0))).toThrow(/no weights/);
    expect(() => weightedPick([1, 0], workerRng(1, 0))).toThrow(/not a positive/);
    expect(() => weightedPick([1, Number.NaN], workerRng(1, 0))).toThrow(/not a positive/);
  });
});

const spec = { from: 'b@example.test', to: 'rcpt{n}@gmail.test', recipients: 3, sizeBytes: 600, helo: 'h.example.test' };

describe('wire plan with weighted domains', () => {
  it('builds a pool of addresses whose domains follow the weights, numbered for the counts', () => {
    const plan = buildWirePlan({ ...spec, domains: ['gmail.test', 'outlook.test', 'yahoo.test'], pickDomain: weightedPick(WEIGHTS, workerRng(3, 0)) });
    expect(plan.recipients).toBe(RECIPIENT_POOL);
    expect(plan.rotate).toBe(true);
    expect(plan.domainNames).toEqual(['gmail.test', 'outlook.test', 'yahoo.test']);
    const line = (i: number): string => plan.rcptBlock.toString('latin1', plan.rcptOffsets[i], plan.rcptOffsets[i + 1]);
    expect(line(0)).toBe(`RCPT TO:<rcpt1@${plan.domainNames[plan.rcptDomain[0]]}>\r\n`);
    expect(line(99)).toBe(`RCPT TO:<rcpt100@${plan.domainNames[plan.rcptDomain[99]]}>\r\n`);
    const share = (d: number): number => plan.rcptDomain.filter((x) => x === d).length / RECIPIENT_POOL;
    expect(Math.abs(share(0) - 0.674)).toBeLessThan(0.015);
    expect(Math.abs(share(2) - 0.126)).toBeLessThan(0.012);
  });

  it('gives messages the pool in turn, wrapping at its end', () => {
    const plan = buildWirePlan({ ...spec, domains: ['gmail.test', 'yahoo.test'], pickDomain: weightedPick([1, 1], workerRng(3, 0)) });
    expect(takeRecipients(plan, 3)).toBe(0);
    expect(takeRecipients(plan, 3)).toBe(3);
    plan.cursor.at = RECIPIENT_POOL - 2;
    const base = takeRecipients(plan, 3);
    expect(base).toBe(RECIPIENT_POOL - 2);
    expect(plan.cursor.at).toBe(1);
    // The message's third recipient wraps to line 0.
    const msg = new Msg(3, 0, -1, null as never, 0, base, plan.recipients);
    const t = new Txn(0);
    t.open(msg, 100, false, 0, 0);
    expect([0, 1, 2].map((k) => t.rcptAt(msg, k))).toEqual([RECIPIENT_POOL - 2, RECIPIENT_POOL - 1, 0]);
  });

  it('without weighted domains starts every message at line 0 and numbers the template domain', () => {
    const plan = buildWirePlan({ ...spec, to: 'rcpt{n}@Example.TEST' });
    expect(plan.rotate).toBe(false);
    expect(plan.recipients).toBe(3);
    expect(takeRecipients(plan, 3)).toBe(0);
    expect(takeRecipients(plan, 3)).toBe(0);
    expect(plan.domainNames).toEqual(['example.test']);
    const listed = buildWirePlan({ ...spec, recipientList: ['a@x.test', 'b@y.test', 'c@x.test'] });
    expect(listed.domainNames).toEqual(['x.test', 'y.test']);
    expect([...listed.rcptDomain]).toEqual([0, 1, 0]);
  });
});

describe('per-domain RCPT counts in the recorder', () => {
  it('counts by domain number and class, merged with the snapshot', () => {
    const r = new Recorder();
    r.domains.use(['gmail.test', 'yahoo.test']);
    r.domains.rcpt(0, 250);
    r.domains.rcpt(0, 450);
    r.domains.rcpt(1, 550);
    r.domains.rcpt(0, 251);
    expect(r.snapshot().domains).toEqual({ 'gmail.test': { accepted: 2, deferred: 1, rejected: 0 }, 'yahoo.test': { accepted: 0, deferred: 0, rejected: 1 } });
    r.reset();
    expect(r.snapshot().domains).toEqual({});
  });
});
