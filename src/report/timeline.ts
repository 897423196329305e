/**
 * The per-second timeline of a run: one JSON object per completed second, written to
 * `timeline.ndjson` in the run directory as each second completes (and streamed by `--ndjson`).
 * It holds what `run.hlog` cannot: counters per second (messages, recipients, replies by class,
 * errors by kind), the intended arrival rate of the open models, active sessions and generator lag.
 * Latencies in ms; counts are those of this second (deltas), not running totals.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Progress } from '../load/tick-merger.js';
import type { Histogram } from '../metrics/histogram.js';
import type { Counters, ErrorCounts, ReplyCounts } from '../metrics/recorder.js';
import type { Profile } from '../profile/types.js';

/** Reply classes counted per second, from the first digit of the reply code (RFC 5321 §4.2.1). */
export const REPLY_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
export type ReplyClass = (typeof REPLY_CLASSES)[number];

/** One completed second of a run (one line of `timeline.ndjson`). */
export interface Second {
  /** Seconds since the start barrier at the end of this interval (warm-up included). */
  readonly t: number;
  /** Length of the interval the workers counted over, s (the last one of a run is shorter). */
  readonly intervalS: number;
  /** False during warm-up: these seconds are excluded from every figure. */
  readonly measuring: boolean;
  /** Messages since the start (or the end of warm-up), as the progress line shows them. */
  readonly totals: { readonly attempted: number; readonly accepted: number; readonly rejected: number; readonly failed: number; readonly late: number; readonly dropped: number };
  /** Messages settled in this second. */
  readonly messages: { readonly accepted: number; readonly rejected: number; readonly failed: number; readonly late: number; readonly dropped: number };
  readonly recipients: { readonly accepted: number; readonly rejected: number; readonly failed: number };
  /** Accepted messages and recipients per second over this interval. */
  readonly rates: { readonly msgsPerS: number; readonly rcptsPerS: number };
  /** Open and ramping-rate models: the intended arrival rate at the end of this second, messages/s; null otherwise. */
  readonly targetRate: number | null;
  /** Replies received in this second, all phases, by class. */
  readonly replies: Record<ReplyClass, number>;
  /** Errors counted in this second, by kind. */
  readonly errors: ErrorCounts;
  readonly activeSessions: number;
  /** Worst worker's event-loop delay p99 in this second, ms. */
  readonly eventLoopDelayP99Ms: number;
  /** This second's latency per phase with data, ms. */
  readonly phases: Record<string, { readonly count: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }>;
}

/** The intended arrival rate at `tS` seconds after the start (open models), or null for the closed ones. */
export function targetRateAt(profile: Profile, tS: number): number | null {
  if (profile.executor === 'open') return profile.rate;
  if (profile.executor !== 'ramping-rate') return null;
  let t0 = 0;
  let r0 = profile.startRate;
  for (const stage of profile.stages) {
    const D = stage.durationMs / 1000;
    if (tS <= t0 + D) return r0 + ((stage.target - r0) * (tS - t0)) / D;
    t0 += D;
    r0 = stage.target;
  }
  return r0;
}

const ms = (us: number): number => Math.round(us) / 1000;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Sums reply counts per class over every phase. */
function byClass(replies: ReplyCounts): Record<ReplyClass, number> {
  const out: Record<ReplyClass, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  for (const codes of Object.values(replies)) {
    for (const [code, n] of Object.entries(codes)) {
      const cls = `${code[0]}xx` as ReplyClass;
      if (cls in out) out[cls] += n;
    }
  }
  return out;
}

/** A second's `phases` from its interval histograms (µs): count, p50, p90, p99 and max (ms) of each phase with data. */
export function secondPhases(intervals: Iterable<readonly [string, Histogram]>): Second['phases'] {
  const phases: Record<string, Second['phases'][string]> = {};
  for (const [phase, h] of intervals) {
    if (h.totalCount === 0) continue;
    phases[phase] = { count: h.totalCount, p50: ms(h.getValueAtPercentile(50)), p90: ms(h.getValueAtPercentile(90)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue) };
  }
  return phases;
}

/**
 * Turns the coordinator's per-second progress (cumulative counts) into per-second lines.
 * Counters restart when warm-up ends, so the first measuring second counts from zero.
 */
export class TimelineBuilder {
  private prev: { counters: Counters; replies: Record<ReplyClass, number>; errors: ErrorCounts } | null = null;
  private wasMeasuring = false;

  constructor(private readonly profile: Profile) {}

  /** The line of progress update `p`. */
  next(p: Progress): Second {
    const c = p.counters;
    const replies = byClass(p.replies);
    // The end of warm-up restarts every cumulative count: the previous second is no base then.
    const restart = this.prev === null || (p.measuring && !this.wasMeasuring);
    const base = restart ? null : this.prev;
    this.wasMeasuring = p.measuring;
    this.prev = { counters: c, replies, errors: p.errors };
    const d = (k: keyof Counters): number => Math.max(0, c[k] - (base?.counters[k] ?? 0));
    const dt = p.intervalS > 0 ? p.intervalS : 1;
    const errors: ErrorCounts = {};
    for (const [kind, n] of Object.entries(p.errors)) {
      const delta = n - (base?.errors[kind] ?? 0);
      if (delta > 0) errors[kind] = delta;
    }
    const phases = secondPhases(p.intervals);
    const rate = targetRateAt(this.profile, p.elapsedS);
    return {
      t: Math.round(p.elapsedS * 1000) / 1000,
      intervalS: Math.round(p.intervalS * 1000) / 1000,
      measuring: p.measuring,
      totals: { attempted: c.messagesAttempted, accepted: c.messagesAccepted, rejected: c.messagesRejected, failed: c.messagesFailed, late: c.messagesLate, dropped: c.messagesDropped },
      messages: { accepted: d('messagesAccepted'), rejected: d('messagesRejected'), failed: d('messagesFailed'), late: d('messagesLate'), dropped: d('messagesDropped') },
      recipients: { accepted: d('recipientsAccepted'), rejected: d('recipientsRejected'), failed: d('recipientsFailed') },
      rates: { msgsPerS: round1(d('messagesAccepted') / dt), rcptsPerS: round1(d('recipientsAccepted') / dt) },
      targetRate: rate === null ? null : round1(rate),
      replies: Object.fromEntries(REPLY_CLASSES.map((cls) => [cls, Math.max(0, replies[cls] - (base?.replies[cls] ?? 0))])) as Record<ReplyClass, number>,
      errors,
      activeSessions: p.activeSessions,
      eventLoopDelayP99Ms: Math.round(p.eventLoopDelayP99Ms * 1000) / 1000,
      phases,
    };
  }
}

/**
 * Appends timeline lines to a file as each second completes (a crash loses at most the last line);
 * also used for `--ndjson FILE|-` (`-`: standard output, file descriptor 1, left open).
 */
export class TimelineLog {
  private readonly fd: number;
  private failed = false;

  /**
   * Creates (truncates) `path`, or `-` for standard output.
   * @param onError told once when a write fails (a closed pipe, a full disk): the stream stops, the run goes on
   * @throws the file system's error when it cannot be created
   */
  constructor(
    private readonly path: string,
    private readonly onError: (message: string) => void,
  ) {
    this.fd = path === '-' ? 1 : openSync(path, 'w');
  }

  write(second: Second): void {
    if (this.failed) return;
    try {
      writeSync(this.fd, `${JSON.stringify(second)}\n`);
    } catch (err) {
      this.failed = true;
      this.onError(`${this.path === '-' ? 'standard output' : this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; the rest of the timeline is not written there`);
    }
  }

  close(): void {
    if (this.path !== '-') closeSync(this.fd);
  }
}
