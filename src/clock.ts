/**
 * The bottom floor: the clocks every layer reads and the one coarse deadline timer. Client
 * sessions, load executors and the reference server all import from here; nothing here imports
 * from the project.
 *
 * Two clocks (DESIGN §3 rule 1): `nowUs()` is monotonic (`performance.now()`), for every latency
 * and deadline; `epochUs()` is wall-clock time, only for what crosses machines or processes (the
 * `X-Smtpbench-Sent` header the delivery sink subtracts from its own arrival time).
 */
import { performance } from 'node:perf_hooks';

/** Current monotonic time in microseconds (fractional; rounded when recorded). */
export const nowUs = (): number => performance.now() * 1000;

/** Wall-clock time as epoch microseconds, with sub-millisecond precision (`X-Smtpbench-Sent`, the delivery sink). */
export const epochUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

// ---------------------------------------------------------------------------------------
// The deadline sweeper: one coarse timer per worker (and per reference server) sweeps every
// deadline (house style §9, after undici's fast timers), instead of a setTimeout per command:
// arming a deadline is one number store. Resolution is the sweep period, which is plenty for
// timeouts of seconds.

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
