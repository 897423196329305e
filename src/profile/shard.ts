/**
 * Exact shares of a profile's work per worker. The idea is k6's execution segments
 * (https://grafana.com/docs/k6/latest/using-k6/k6-options/reference/#execution-segment):
 * every share is an integer, shares differ by at most one, and they add up to the total
 * exactly, so N workers (or N machines with `--shard i/N`) together run precisely the profile.
 */

import type { Profile } from './types.js';

/** One worker's share. Plain data: structured-clone safe for a worker thread. */
export interface ShardPlan {
  /** Worker index, 0-based. */
  readonly index: number;
  /** Concurrent sessions this worker runs (may be 0 when there are more workers than sessions). */
  readonly sessions: number;
  /** Messages this worker sends in total; null when the run is bounded by duration only. */
  readonly messages: number | null;
}

/**
 * Splits `total` into `parts` integers by largest remainder: every part gets
 * `floor(total / parts)` and the first `total % parts` parts one more. The sum is `total`
 * exactly; parts may be 0 when `total < parts`.
 *
 * @param total a non-negative safe integer
 * @param parts a positive safe integer
 * @returns `parts` integers, non-increasing, summing to `total`
 * @throws RangeError on a negative or non-integer `total`, or a `parts` below 1
 */
export function splitExactly(total: number, parts: number): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`total must be a non-negative integer, got ${total}`);
  if (!Number.isSafeInteger(parts) || parts < 1) throw new RangeError(`parts must be a positive integer, got ${parts}`);
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Splits a message count across sessions exactly (see `splitExactly`): session `i` sends
 * the `i`-th share; the shares sum to `messages`.
 *
 * @throws RangeError as `splitExactly`
 */
export function splitMessagesAcrossSessions(messages: number, sessions: number): number[] {
  return splitExactly(messages, sessions);
}

/**
 * Divides a profile's sessions and messages among `workers`. Sessions are split exactly
 * (`splitExactly`); messages are split exactly across all sessions, and each worker gets the
 * sum of its own sessions' shares. So messages follow sessions: a worker with 0 sessions gets
 * 0 messages, a worker with one more session gets its share more, and the workers' messages
 * still sum to `profile.messages` exactly.
 *
 * @param workers number of workers, usually `profile.workers` (a positive integer)
 * @returns one plan per worker, `index` 0..workers-1
 * @throws RangeError when `workers` is not a positive integer
 */
export function shardProfile(profile: Profile, workers: number): ShardPlan[] {
  const sessionsPerWorker = splitExactly(profile.sessions, workers);
  const perSession = profile.messages === null ? null : splitMessagesAcrossSessions(profile.messages, profile.sessions);
  let firstSession = 0;
  return sessionsPerWorker.map((sessions, index) => {
    let messages: number | null = null;
    if (perSession !== null) {
      messages = 0;
      for (let s = firstSession; s < firstSession + sessions; s++) messages += perSession[s];
    }
    firstSession += sessions;
    return { index, sessions, messages };
  });
}
