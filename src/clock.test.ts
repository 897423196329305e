import { afterEach, describe, expect, it, vi } from 'vitest';
import { epochUs, nowUs, startSweeper, SWEEP_MS, type HasDeadline } from './clock.js';

describe('clocks', () => {
  it('nowUs is monotonic µs; epochUs is the wall clock in µs', () => {
    const a = nowUs();
    const b = nowUs();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(epochUs() - Date.now() * 1000)).toBeLessThan(50_000);
  });
});

describe('startSweeper', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out items whose deadline has passed, skips 0 (none), reads the list live, and stops', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const fired: string[] = [];
    const item = (name: string, deadlineMs: number): HasDeadline => ({ deadlineMs, timeout: () => fired.push(name) });
    const items = [item('due', performance.now() + 10), item('none', 0), item('later', performance.now() + 10 * SWEEP_MS)];
    const ticks: number[] = [];
    const sweeper = startSweeper(items, (now) => ticks.push(now));
    vi.advanceTimersByTime(SWEEP_MS);
    expect(fired).toEqual(['due']);
    expect(ticks).toHaveLength(1);
    items.push(item('added', performance.now() - 1));
    vi.advanceTimersByTime(SWEEP_MS);
    // `due` keeps its deadline (the item re-arms it, not the sweeper), so it fires again.
    expect(fired).toEqual(['due', 'due', 'added']);
    sweeper.stop();
    vi.advanceTimersByTime(20 * SWEEP_MS);
    expect(fired).toHaveLength(3);
  });
});
