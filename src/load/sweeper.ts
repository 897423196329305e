/**
 * One coarse timer per worker sweeps every session's deadline (house style §9, after undici's
 * fast timers), instead of a setTimeout per command: arming a deadline is one number store.
 * Resolution is the sweep period, which is plenty for timeouts of seconds.
 */
import { performance } from 'node:perf_hooks';

/** Anything with a monotonic deadline (ms, `performance.now()` clock; 0 = none) and a timeout action. */
export interface HasDeadline {
  deadlineMs: number;
  timeout(): void;
}

/** Sweep period in ms. */
export const SWEEP_MS = 100;

/**
 * Starts sweeping `items` (read live, so items may be added or removed later). `onTick`, if
 * given, sees each sweep's time first: a coarse clock for callers that arm deadlines often.
 */
export function startSweeper(items: Iterable<HasDeadline>, onTick?: (nowMs: number) => void): { stop(): void } {
  const timer = setInterval(() => {
    const now = performance.now();
    onTick?.(now);
    for (const it of items) if (it.deadlineMs !== 0 && now > it.deadlineMs) it.timeout();
  }, SWEEP_MS);
  return { stop: () => clearInterval(timer) };
}
