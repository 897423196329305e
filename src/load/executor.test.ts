import { afterEach, describe, expect, it, vi } from 'vitest';
import { SWEEP_MS } from '../clock.js';
import { Lifecycle, type StoppableSession } from './executor.js';

/** A session that records what the lifecycle asked of it. */
function session(log: string[], name: string, deadlineMs = 0): StoppableSession {
  const s: StoppableSession = {
    deadlineMs,
    // As a session does: a timeout ends the deadline.
    timeout: () => {
      log.push(`${name} timeout`);
      s.deadlineMs = 0;
    },
    stop: () => log.push(`${name} stop`),
    abort: () => log.push(`${name} abort`),
  };
  return s;
}

describe('Lifecycle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sweeps the sessions, stops the running ones once, and aborts every session after the grace time', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const log: string[] = [];
    const all = [session(log, 'a', performance.now() + 1), session(log, 'b')];
    const life = new Lifecycle(all, 1000);
    vi.advanceTimersByTime(SWEEP_MS);
    expect(log).toEqual(['a timeout']);
    log.length = 0;
    expect(life.stopped).toBe(false);
    expect(life.stop([all[1]], () => log.push('first'))).toBe(true);
    expect(life.stopped).toBe(true);
    expect(life.stop(all)).toBe(false);
    expect(log).toEqual(['first', 'b stop']);
    vi.advanceTimersByTime(999);
    expect(log).toEqual(['first', 'b stop']);
    vi.advanceTimersByTime(1);
    expect(log.slice(2)).toEqual(['a abort', 'b abort']);
  });

  it('finish (idempotent) resolves done, clears pending timers and stops sweeping', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const log: string[] = [];
    const all = [session(log, 'a', performance.now() + 1)];
    const life = new Lifecycle(all, 1000);
    life.after(50, () => log.push('later'));
    life.stop(all);
    life.finish();
    life.finish();
    await expect(life.done).resolves.toBeUndefined();
    vi.advanceTimersByTime(10_000);
    expect(log).toEqual(['a stop']);
  });

  it('arms no abort when stopping the sessions already finished the executor', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const log: string[] = [];
    const all: StoppableSession[] = [];
    const life = new Lifecycle(all, 1000);
    all.push({ ...session(log, 'a'), stop: () => (log.push('a stop'), life.finish()) });
    life.stop(all);
    vi.advanceTimersByTime(5000);
    expect(log).toEqual(['a stop']);
  });
});
