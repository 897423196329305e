import { describe, expect, it } from 'vitest';
import { zeroCounters } from '../metrics/recorder.js';
import { TickMerger, type Progress } from './tick-merger.js';
import type { TickMessage } from './ipc.js';

/** Worker `index`'s tick `seq`, counting over [startMs, startMs + 1000), with `accepted` messages so far. */
const tick = (index: number, seq: number, startMs: number, accepted: number): TickMessage => ({
  type: 'tick',
  index,
  seq,
  startMs,
  endMs: startMs + 1000,
  counters: { ...zeroCounters(), messagesAccepted: accepted },
  replies: {},
  enhanced: {},
  errors: {},
  causes: {},
  intervals: {},
  activeSessions: 1,
  eventLoopDelayP99Ms: 1,
  measuring: true,
});

describe('TickMerger', () => {
  it('releases a second once every worker reported it, summing counters; its length is what each worker counted over', () => {
    const seen: Progress[] = [];
    const m = new TickMerger(
      2,
      () => 0,
      (p) => seen.push(p),
    );
    // Worker timers are not aligned: worker 1 ticks 40 ms after worker 0.
    m.tick(tick(0, 0, 0, 250));
    expect(seen).toHaveLength(0);
    m.tick(tick(1, 0, 40, 250));
    expect(seen).toHaveLength(1);
    expect(seen[0].counters.messagesAccepted).toBe(500);
    // 500 messages in one second each, not in the 1.04 s from the first start to the last end.
    expect(seen[0].intervalS).toBe(1);
  });

  it('stops waiting for a worker after its last tick', () => {
    const seen: Progress[] = [];
    const m = new TickMerger(
      2,
      () => 0,
      (p) => seen.push(p),
    );
    m.done(1, -1); // worker 1 had nothing to run
    m.tick(tick(0, 0, 0, 10));
    expect(seen.map((p) => p.counters.messagesAccepted)).toEqual([10]);
  });

  it('adds up the latest cumulative reply codes, enhanced status codes and errors of every worker', () => {
    const seen: Progress[] = [];
    const m = new TickMerger(
      2,
      () => 0,
      (p) => seen.push(p),
    );
    const counts = (n: number) => ({ replies: { rcpt: { '452': n } }, enhanced: { rcpt: { '4.5.3': n } }, errors: { 'rcpt-timeout': n } });
    m.tick({ ...tick(0, 0, 0, 0), ...counts(1) });
    m.tick({ ...tick(1, 0, 0, 0), ...counts(2) });
    m.tick({ ...tick(0, 1, 1000, 0), ...counts(5) });
    m.tick({ ...tick(1, 1, 1000, 0), ...counts(2) });
    expect(seen.map((p) => [p.replies, p.enhanced, p.errors])).toEqual([
      [{ rcpt: { '452': 3 } }, { rcpt: { '4.5.3': 3 } }, { 'rcpt-timeout': 3 }],
      [{ rcpt: { '452': 7 } }, { rcpt: { '4.5.3': 7 } }, { 'rcpt-timeout': 7 }],
    ]);
  });
});
