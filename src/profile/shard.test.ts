import { describe, it, expect } from 'vitest';
import { DEFAULTS } from './defaults.js';
import { shardProfile, splitExactly, splitMessagesAcrossSessions } from './shard.js';
import type { Profile } from './types.js';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('splitExactly', () => {
  it('gives the first total % parts parts one more', () => {
    expect(splitExactly(10, 3)).toEqual([4, 3, 3]);
    expect(splitExactly(11, 3)).toEqual([4, 4, 3]);
    expect(splitExactly(9, 3)).toEqual([3, 3, 3]);
    expect(splitExactly(2, 5)).toEqual([1, 1, 0, 0, 0]);
    expect(splitExactly(0, 4)).toEqual([0, 0, 0, 0]);
    expect(splitExactly(7, 1)).toEqual([7]);
  });

  it('sums exactly, with shares differing by at most one, for many (total, parts) pairs', () => {
    for (const total of [0, 1, 2, 3, 7, 10, 99, 100, 101, 997, 10_000, 1_000_003]) {
      for (const parts of [1, 2, 3, 4, 7, 8, 16, 64, 100, 256]) {
        const shares = splitExactly(total, parts);
        expect(shares).toHaveLength(parts);
        expect(sum(shares)).toBe(total);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
        expect(shares.every((s) => Number.isInteger(s) && s >= 0)).toBe(true);
      }
    }
  });

  it('rejects bad arguments', () => {
    expect(() => splitExactly(-1, 2)).toThrow(RangeError);
    expect(() => splitExactly(1.5, 2)).toThrow(RangeError);
    expect(() => splitExactly(10, 0)).toThrow(RangeError);
    expect(() => splitExactly(10, 2.5)).toThrow(RangeError);
  });
});

describe('splitMessagesAcrossSessions', () => {
  it('splits like splitExactly', () => {
    expect(splitMessagesAcrossSessions(10_000, 20)).toEqual(Array(20).fill(500));
    expect(splitMessagesAcrossSessions(5, 3)).toEqual([2, 2, 1]);
    expect(splitMessagesAcrossSessions(2, 4)).toEqual([1, 1, 0, 0]);
  });
});

describe('shardProfile', () => {
  const profile = (sessions: number, messages: number | null): Profile => ({ ...DEFAULTS, sessions, messages });

  it('splits sessions and messages exactly across workers', () => {
    expect(shardProfile(profile(20, 10_000), 2)).toEqual([
      { index: 0, sessions: 10, messages: 5000 },
      { index: 1, sessions: 10, messages: 5000 },
    ]);
    // 7 sessions share 100 messages as [15, 15, 14, 14, 14, 14, 14]; workers get 3, 2, 2 sessions.
    expect(shardProfile(profile(7, 100), 3)).toEqual([
      { index: 0, sessions: 3, messages: 44 },
      { index: 1, sessions: 2, messages: 28 },
      { index: 2, sessions: 2, messages: 28 },
    ]);
  });

  it('gives no messages to workers without sessions', () => {
    expect(shardProfile(profile(2, 11), 4)).toEqual([
      { index: 0, sessions: 1, messages: 6 },
      { index: 1, sessions: 1, messages: 5 },
      { index: 2, sessions: 0, messages: 0 },
      { index: 3, sessions: 0, messages: 0 },
    ]);
  });

  it('keeps messages null for a duration-bounded run', () => {
    expect(shardProfile(profile(3, null), 2)).toEqual([
      { index: 0, sessions: 2, messages: null },
      { index: 1, sessions: 1, messages: null },
    ]);
  });

  it('sums exactly for many (sessions, messages, workers) triples', () => {
    for (const sessions of [1, 2, 3, 5, 20, 64, 1000]) {
      for (const messages of [1, 2, 7, 100, 10_000, 123_457]) {
        for (const workers of [1, 2, 3, 8, 16, 256]) {
          const plans = shardProfile(profile(sessions, messages), workers);
          expect(plans.map((p) => p.index)).toEqual([...Array(workers).keys()]);
          expect(sum(plans.map((p) => p.sessions))).toBe(sessions);
          expect(sum(plans.map((p) => p.messages ?? 0))).toBe(messages);
          for (const p of plans) if (p.sessions === 0) expect(p.messages).toBe(0);
        }
      }
    }
  });
});
