import { describe, expect, it, vi } from 'vitest';
import { zeroCounters } from '../metrics/recorder.js';
import type { Progress } from '../load/tick-merger.js';
import { progressDisplay, progressText } from './progress.js';

const progress = (accepted: number, intervalS: number, measuring = true): Progress => ({
  seq: 0,
  elapsedS: 3,
  counters: { ...zeroCounters(), messagesAccepted: accepted, recipientsAccepted: accepted },
  replies: {},
  enhanced: {},
  errors: {},
  causes: {},
  intervals: new Map(),
  intervalS,
  activeSessions: 4,
  eventLoopDelayP99Ms: 1,
  measuring,
});

describe('progressText', () => {
  it('gives the interval’s accepted messages over the time they were counted in', () => {
    const prev = { ...zeroCounters(), messagesAccepted: 1000, recipientsAccepted: 1000 };
    expect(progressText(progress(1500, 1), prev)).toContain(' 500 msg/s · 500 rcpt/s ');
    expect(progressText(progress(1500, 0.5), prev)).toContain(' 1000 msg/s ');
    expect(progressText(progress(1500, 1), prev)).toContain('accepted 1500');
  });

  it('says the warm-up ended instead of a rate when the counters restarted inside the interval', () => {
    const prev = { ...zeroCounters(), messagesAccepted: 2000, recipientsAccepted: 2000 };
    const text = progressText(progress(12, 1), prev);
    expect(text).toContain('warm-up ended');
    expect(text).not.toContain('msg/s');
  });

  it('says the warm-up ended in the interval where measuring began, even when the new totals are above the old ones', () => {
    // 300 accepted in warm-up, then 312 counted afresh: "12 msg/s" would be wrong.
    const prev = { ...zeroCounters(), messagesAccepted: 300, recipientsAccepted: 300 };
    const text = progressText(progress(312, 1, true), prev, false);
    expect(text).toContain('warm-up ended');
    expect(text).not.toContain('msg/s');
    expect(progressText(progress(612, 1, true), { ...prev, messagesAccepted: 312 }, true)).toContain(' 300 msg/s ');
  });
});

describe('progressDisplay', () => {
  it('prints no line for the warm-up\u2019s last sliver, but counts from it (fresh-user trial of issue 15)', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const d = progressDisplay();
      d.update(progress(1000, 1, false));
      d.update(progress(1030, 0.03, false));
      d.update(progress(900, 1, true));
      d.update(progress(1800, 1, true));
      d.done();
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(' warm-up 1000 msg/s');
    expect(lines[2]).toContain(' 900 msg/s');
  });
});
