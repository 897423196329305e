/**
 * The one rule for splitting a profile's work, used for machines (`--shard i/N`) and for worker
 * threads alike. The idea is k6's execution segments
 * (https://grafana.com/docs/k6/latest/using-k6/k6-options/reference/#execution-segment): every
 * share is an integer, shares of one level differ by at most one, and they add up to the total
 * exactly, so N shards of W workers each together run precisely the profile.
 *
 * The split is two-level: first across shards, then each shard's part across its own workers, so
 * machines with different core counts (different W) still add up exactly. Counts (sessions,
 * messages) split by largest remainder; arrivals of the open models are striped: shard i of N
 * takes global arrivals i, i+N, i+2N, …, and its worker w of W takes every W-th of those.
 */

import { SmtpBenchError } from '../errors.js';
import type { Profile } from './types.js';

/** Part `index` (0-based) of `count` parts. */
export interface Part {
  readonly index: number;
  readonly count: number;
}

/** Most shards of one run: a sanity bound (a typo such as 0/30000), far above any real fleet. */
export const MAX_SHARDS = 1000;

/** The whole: part 0 of 1 (an unsharded run). */
export const WHOLE: Part = { index: 0, count: 1 };

/** Where one worker thread sits: its shard of the run, and its part of that shard. */
export interface Stripe {
  readonly shard: Part;
  readonly worker: Part;
}

/**
 * A worker's stripe of the global arrival schedule: global arrivals `offset + k·stride` for
 * k = 0, 1, 2, … With shard i of N and worker w of W: offset = i + N·w, stride = N·W.
 */
export interface Lane {
  readonly offset: number;
  readonly stride: number;
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
  checkTotal(total);
  if (!Number.isSafeInteger(parts) || parts < 1) throw new RangeError(`parts must be a positive integer, got ${parts}`);
  return Array.from({ length: parts }, (_, index) => partOf(total, { index, count: parts }));
}

/**
 * Part `part.index`'s share of `total` under `splitExactly`, without building the others.
 * @throws RangeError on a negative or non-integer `total`
 */
export function partOf(total: number, part: Part): number {
  checkTotal(total);
  return Math.floor(total / part.count) + (part.index < total % part.count ? 1 : 0);
}

/**
 * The items `[first, first + count)` that part `part.index` of `total` numbered items gets:
 * parts take consecutive runs, in order, of the sizes `splitExactly` gives.
 */
export function rangeOf(total: number, part: Part): { first: number; count: number } {
  const base = Math.floor(total / part.count);
  return { first: part.index * base + Math.min(part.index, total % part.count), count: partOf(total, part) };
}

/** A worker's share of `total`: its shard's share (`partOf`), then its part of that. */
export function stripeShare(total: number, stripe: Stripe): number {
  return partOf(partOf(total, stripe.shard), stripe.worker);
}

/** The global items `[first, first + count)` of `total` a worker gets (consecutive, as `rangeOf` at both levels). */
export function stripeRange(total: number, stripe: Stripe): { first: number; count: number } {
  const shard = rangeOf(total, stripe.shard);
  const inShard = rangeOf(shard.count, stripe.worker);
  return { first: shard.first + inShard.first, count: inShard.count };
}

/** A worker's lane of the arrival schedule (see `Lane`). */
export function laneOf(stripe: Stripe): Lane {
  return { offset: stripe.shard.index + stripe.shard.count * stripe.worker.index, stride: stripe.shard.count * stripe.worker.count };
}

/**
 * How many of `messages`, split exactly across `sessions` numbered sessions (session s gets
 * `partOf(messages, {index: s, count: sessions})`), fall to the sessions `[first, first + count)`.
 * O(1): the first `messages % sessions` sessions have one more.
 */
export function messagesOfSessions(messages: number, sessions: number, range: { first: number; count: number }): number {
  if (sessions === 0) return 0;
  const base = Math.floor(messages / sessions);
  const extra = messages % sessions;
  const withExtra = Math.max(0, Math.min(range.first + range.count, extra) - range.first);
  return base * range.count + withExtra;
}

/** One worker thread's share of a profile. Plain data: structured-clone safe. */
export interface WorkerPlan {
  readonly stripe: Stripe;
  /** Its lane of the open models' arrival schedule. */
  readonly lane: Lane;
  /** Closed model: concurrent sessions; open models: the session cap; ramping-sessions: 0 (the stages say). */
  readonly sessions: number;
  /** Closed and ramping-sessions models: messages this worker sends; null when bounded by time only or striped (open models). */
  readonly messages: number | null;
}

/** A shard's share of a profile: its workers' plans, and whether there is anything to do. */
export interface ShardPlan {
  readonly shard: Part;
  readonly workers: readonly WorkerPlan[];
  /**
   * Null when the shard has work; otherwise why it has none (more shards than sessions or
   * messages): the run then ends at once with an empty result.
   */
  readonly idle: string | null;
}

/**
 * Divides `profile` for shard `shard` among `workers` worker threads, by the one rule:
 * - closed: sessions split exactly (shards, then workers); messages split exactly across all the
 *   profile's sessions, each worker getting the sum of its own sessions' shares, so a worker with
 *   one more session has its share more and the total is exact;
 * - open and ramping-rate: the session cap split exactly; arrivals striped by `Lane`. A shard of an
 *   open model runs on at most as many workers as it has sessions, so no lane is left without one;
 * - ramping-sessions: each worker takes `stripeShare` of every stage's session count (the worker
 *   does that, from its stripe); the message quota is split exactly among the shards and workers
 *   that ever get a session.
 *
 * @param workers worker threads on this machine (a positive integer, usually `profile.workers`)
 * @throws RangeError when `workers` is not a positive integer or `shard` is out of range
 * @throws SmtpBenchError SB_USAGE when an open model's shard would own arrivals but no session
 */
export function planShard(profile: Profile, shard: Part, workers: number): ShardPlan {
  if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  if (!Number.isSafeInteger(shard.count) || shard.count < 1 || !Number.isSafeInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`shard must be i/N with 0 <= i < N, got ${shard.index}/${shard.count}`);
  }
  const of = `shard ${shard.index}/${shard.count}`;
  const plan = (W: number, make: (stripe: Stripe) => { sessions: number; messages: number | null }): WorkerPlan[] =>
    Array.from({ length: W }, (_, index) => {
      const stripe = { shard, worker: { index, count: W } };
      return { stripe, lane: laneOf(stripe), ...make(stripe) };
    });

  if (profile.executor === 'closed') {
    const sessions = partOf(profile.sessions, shard);
    const M = profile.messages;
    const messages = M === null ? null : messagesOfSessions(M, profile.sessions, rangeOf(profile.sessions, shard));
    const idle = sessions === 0 ? `${of} has no sessions (${profile.sessions} across ${shard.count} shards)` : messages === 0 ? `${of} has no messages (${M} across ${shard.count} shards)` : null;
    return {
      shard,
      idle,
      workers: plan(workers, (stripe) => ({
        sessions: stripeShare(profile.sessions, stripe),
        messages: M === null ? null : messagesOfSessions(M, profile.sessions, stripeRange(profile.sessions, stripe)),
      })),
    };
  }
  if (profile.executor === 'ramping-sessions') {
    // The message quota goes only where sessions ever run: to the shards, then the workers, whose
    // share of the peak session count is not 0 (largest remainder gives those to the first ones),
    // or a worker that never gets a session would hold messages no one sends.
    const M = profile.messages;
    const peak = Math.max(profile.startSessions, ...profile.stages.map((s) => s.target));
    const activeShards = Math.min(shard.count, peak);
    const shardQuota = M === null ? null : shard.index < activeShards ? partOf(M, { index: shard.index, count: activeShards }) : 0;
    const activeWorkers = Math.min(workers, partOf(peak, shard));
    const idle =
      partOf(peak, shard) === 0 ? `${of} has no sessions (at most ${peak} across ${shard.count} shards)` : shardQuota === 0 ? `${of} has no messages (${M} across ${shard.count} shards)` : null;
    return {
      shard,
      idle,
      workers: plan(workers, (stripe) => ({
        sessions: 0,
        messages: shardQuota === null ? null : stripe.worker.index < activeWorkers ? partOf(shardQuota, { index: stripe.worker.index, count: activeWorkers }) : 0,
      })),
    };
  }
  // Open models: a lane without a session would drop every arrival it owns, so no more workers than
  // sessions; and a shard without a session that owns arrivals (shard j owns some while j < messages)
  // makes the whole run impossible, so every shard refuses it, not only that one.
  const M = profile.messages;
  const owners = M === null ? shard.count : Math.min(shard.count, M);
  if (profile.maxSessions < owners) {
    throw new SmtpBenchError(
      'SB_USAGE',
      `${of}: maxSessions ${profile.maxSessions} is fewer than the ${owners} shards that own arrivals, and each shard of an open model needs a session for its share (raise maxSessions or use fewer shards)`,
    );
  }
  const cap = partOf(profile.maxSessions, shard);
  const idle = M !== null && shard.index >= M ? `${of} has no messages (${M} across ${shard.count} shards)` : null;
  return { shard, idle, workers: plan(Math.max(1, Math.min(workers, cap)), (stripe) => ({ sessions: stripeShare(profile.maxSessions, stripe), messages: null })) };
}

function checkTotal(total: number): void {
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`total must be a non-negative integer, got ${total}`);
}
