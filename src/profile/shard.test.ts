import { describe, it, expect } from 'vitest';
import { DEFAULTS } from './defaults.js';
import { messagesOfSessions, partOf, planShard, rangeOf, splitExactly, WHOLE, type ShardPlan } from './shard.js';
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

describe('partOf, rangeOf, messagesOfSessions', () => {
  it('agree with splitExactly at every part, for many (total, parts) pairs', () => {
    for (const total of [0, 1, 2, 7, 100, 101, 997]) {
      for (const count of [1, 2, 3, 7, 64]) {
        const shares = splitExactly(total, count);
        let first = 0;
        for (let index = 0; index < count; index++) {
          expect(partOf(total, { index, count })).toBe(shares[index]);
          expect(rangeOf(total, { index, count })).toEqual({ first, count: shares[index] });
          first += shares[index];
        }
      }
    }
  });

  it('counts the messages of a run of sessions as the per-session split does', () => {
    for (const [messages, sessions] of [
      [100, 7],
      [5, 3],
      [2, 4],
      [10_000, 20],
      [0, 3],
    ]) {
      const per = splitExactly(messages, sessions);
      for (let first = 0; first <= sessions; first++) {
        for (let count = 0; first + count <= sessions; count++) {
          expect(messagesOfSessions(messages, sessions, { first, count })).toBe(sum(per.slice(first, first + count)));
        }
      }
    }
  });
});

const profile = (over: Partial<Profile>): Profile => ({ ...DEFAULTS, ...over });
const closed = (sessions: number, messages: number | null): Profile => profile({ sessions, messages });
const brief = (plan: ShardPlan) => plan.workers.map((w) => ({ sessions: w.sessions, messages: w.messages }));

describe('planShard (worker threads of one machine)', () => {
  it('splits sessions and messages exactly across workers; messages follow sessions', () => {
    expect(brief(planShard(closed(20, 10_000), WHOLE, 2))).toEqual([
      { sessions: 10, messages: 5000 },
      { sessions: 10, messages: 5000 },
    ]);
    // 7 sessions share 100 messages as [15, 15, 14, 14, 14, 14, 14]; workers get 3, 2, 2 sessions.
    expect(brief(planShard(closed(7, 100), WHOLE, 3))).toEqual([
      { sessions: 3, messages: 44 },
      { sessions: 2, messages: 28 },
      { sessions: 2, messages: 28 },
    ]);
  });

  it('gives no messages to workers without sessions, and keeps null for a duration-bounded run', () => {
    expect(brief(planShard(closed(2, 11), WHOLE, 4))).toEqual([
      { sessions: 1, messages: 6 },
      { sessions: 1, messages: 5 },
      { sessions: 0, messages: 0 },
      { sessions: 0, messages: 0 },
    ]);
    expect(brief(planShard(closed(3, null), WHOLE, 2))).toEqual([
      { sessions: 2, messages: null },
      { sessions: 1, messages: null },
    ]);
  });

  it('gives each worker of an open model its lane and a session, never more workers than sessions', () => {
    const plan = planShard(profile({ executor: 'open', rate: 100, maxSessions: 3, messages: null, durationMs: 1000 }), WHOLE, 8);
    expect(plan.workers.map((w) => [w.sessions, w.lane.offset, w.lane.stride])).toEqual([
      [1, 0, 3],
      [1, 1, 3],
      [1, 2, 3],
    ]);
  });
});

describe('planShard (shards of several machines)', () => {
  it("sums exactly over every shard and worker, whatever each machine's worker count", () => {
    for (const sessions of [1, 2, 3, 5, 20, 1000]) {
      for (const messages of [1, 2, 7, 100, 123_457]) {
        for (const N of [1, 2, 3, 7]) {
          const plans = Array.from({ length: N }, (_, i) => planShard(closed(sessions, messages), { index: i, count: N }, 1 + ((i * 5) % 8)));
          const workers = plans.flatMap((p) => p.workers);
          expect(sum(workers.map((w) => w.sessions))).toBe(sessions);
          expect(sum(workers.map((w) => w.messages ?? 0))).toBe(messages);
          for (const w of workers) if (w.sessions === 0) expect(w.messages).toBe(0);
          // Each shard's messages are its own sessions' shares of the whole profile's split.
          const per = splitExactly(messages, sessions);
          for (const p of plans) {
            const r = rangeOf(sessions, p.shard);
            expect(sum(p.workers.map((w) => w.messages ?? 0))).toBe(sum(per.slice(r.first, r.first + r.count)));
          }
        }
      }
    }
  });

  it('gives every (shard, worker) a distinct lane, and the lanes of a shard cover its stripe', () => {
    const open = profile({ executor: 'open', rate: 100, maxSessions: 50, messages: null, durationMs: 1000 });
    const lanes = [0, 1, 2].flatMap((i) => planShard(open, { index: i, count: 3 }, [2, 1, 4][i]).workers.map((w) => w.lane));
    // Global arrivals 0..99: each one belongs to exactly one lane.
    const owners = Array.from({ length: 100 }, (_, n) => lanes.filter((l) => n >= l.offset && (n - l.offset) % l.stride === 0).length);
    expect(owners.every((o) => o === 1)).toBe(true);
  });

  it('says a shard is idle when it has no share: more shards than sessions or messages', () => {
    expect(planShard(closed(2, 100), { index: 2, count: 3 }, 2).idle).toBe('shard 2/3 has no sessions (2 across 3 shards)');
    // Messages follow sessions: 2 messages over 5 sessions fall to sessions 0 and 1, both shard 0's.
    expect(planShard(closed(5, 2), { index: 1, count: 3 }, 2).idle).toBe('shard 1/3 has no messages (2 across 3 shards)');
    expect(planShard(closed(5, 2), { index: 0, count: 3 }, 2).idle).toBeNull();
    const open = profile({ executor: 'open', rate: 100, maxSessions: 10, messages: 2 });
    expect(planShard(open, { index: 2, count: 3 }, 2).idle).toBe('shard 2/3 has no messages (2 across 3 shards)');
    const ramp = profile({ executor: 'ramping-sessions', startSessions: 0, stages: [{ durationMs: 1000, target: 2 }], messages: null });
    expect(planShard(ramp, { index: 2, count: 3 }, 2).idle).toBe('shard 2/3 has no sessions (at most 2 across 3 shards)');
  });

  it('refuses an open model with fewer sessions than shards (a shard would own arrivals and drop them all)', () => {
    const open = profile({ executor: 'open', rate: 100, maxSessions: 2, messages: null, durationMs: 1000 });
    // Every shard refuses, not only the one without a session: none of them may send a partial load.
    for (const index of [0, 1, 2]) expect(() => planShard(open, { index, count: 3 }, 1)).toThrow(/maxSessions 2 is fewer than the 3 shards that own arrivals/);
    // With 2 messages only shards 0 and 1 own arrivals, and 2 sessions serve them.
    expect(planShard({ ...open, messages: 2 }, { index: 2, count: 3 }, 1).idle).toBe('shard 2/3 has no messages (2 across 3 shards)');
  });

  it('gives a ramping-sessions quota only to the shards and workers that ever get a session', () => {
    const ramp = (target: number, messages: number): Profile =>
      profile({
        executor: 'ramping-sessions',
        startSessions: 0,
        stages: [
          { durationMs: 1000, target },
          { durationMs: 1000, target },
        ],
        messages,
      });
    // Peak 1 session on 2 workers: worker 1 never runs one, so worker 0 holds all 6 messages.
    expect(brief(planShard(ramp(1, 6), WHOLE, 2))).toEqual([
      { sessions: 0, messages: 6 },
      { sessions: 0, messages: 0 },
    ]);
    // Peak 3 over 2 shards of 2 workers: sessions 2+1 → workers (1,1) and (1,0); 10 messages all sent.
    const plans = [0, 1].map((index) => planShard(ramp(3, 10), { index, count: 2 }, 2));
    expect(plans.map(brief)).toEqual([
      [
        { sessions: 0, messages: 3 },
        { sessions: 0, messages: 2 },
      ],
      [
        { sessions: 0, messages: 5 },
        { sessions: 0, messages: 0 },
      ],
    ]);
    // 7 messages over 5 shards with at most 2 sessions: shards 0 and 1 send them all, the rest are idle.
    const five = [0, 1, 2, 3, 4].map((index) => planShard(ramp(2, 7), { index, count: 5 }, 1));
    expect(five.map((p) => sum(p.workers.map((w) => w.messages ?? 0)))).toEqual([4, 3, 0, 0, 0]);
    expect(five.map((p) => p.idle !== null)).toEqual([false, false, true, true, true]);
  });

  it('rejects a shard out of range and a bad worker count', () => {
    expect(() => planShard(closed(3, 3), { index: 3, count: 3 }, 1)).toThrow(RangeError);
    expect(() => planShard(closed(3, 3), { index: -1, count: 3 }, 1)).toThrow(RangeError);
    expect(() => planShard(closed(3, 3), WHOLE, 0)).toThrow(RangeError);
  });
});
