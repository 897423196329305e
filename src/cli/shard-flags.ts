/**
 * `run`'s distributed-run flags: which shard this machine runs (`--shard i/N`, `--shards N` with
 * Kubernetes' `JOB_COMPLETION_INDEX`, or `SMTPBENCH_SHARD=i/N`), the common start (`--start-at`)
 * and the clock reference (`--clock-ref`). Every bad flag is an issue of the run's one ProfileError.
 */
import type { ProfileIssue } from '../errors.js';
import { MAX_SHARDS, type Part } from '../profile/shard.js';
import { parseDuration } from '../profile/units.js';

/** The furthest `--start-at` may be ahead or behind: further is a typo (a wrong date), not a plan. */
export const MAX_START_AHEAD_MS = 24 * 3600 * 1000;

/** The flags as given. */
export interface ShardOptions {
  readonly shard?: string;
  readonly shards?: string;
  readonly startAt?: string;
  readonly clockRef?: string;
}

/** What the flags resolve to. */
export interface ShardSettings {
  /** Null: not sharded (the whole profile). */
  readonly shard: Part | null;
  /** The common start, epoch ms on the reference clock; null without `--start-at`. */
  readonly startAtMs: number | null;
  /** `--start-at +DURATION`: counted from this machine's now, which is the reference's now plus the offset. */
  readonly startAtRelative: boolean;
  readonly clockRef: URL | null;
  readonly issues: ProfileIssue[];
}

/**
 * Resolves the flags. Precedence: `--shard`, then `--shards` with `JOB_COMPLETION_INDEX` (set in
 * each pod of an Indexed Job, https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode),
 * then `SMTPBENCH_SHARD`. A `--start-at` in the past is no error: the shard starts at once and
 * records how late it was (`shard.lateMs`).
 *
 * @param nowMs the local clock now (a relative `+30s` counts from it)
 */
export function shardSettings(opts: ShardOptions, env: NodeJS.ProcessEnv, nowMs: number): ShardSettings {
  const issues: ProfileIssue[] = [];
  let shard: Part | null = null;
  if (opts.shard !== undefined && opts.shards !== undefined) {
    issues.push({ path: '--shards', message: 'give --shard i/N or --shards N (with JOB_COMPLETION_INDEX), not both' });
  } else if (opts.shard !== undefined) {
    shard = parsePart(opts.shard, '--shard', issues);
  } else if (opts.shards !== undefined) {
    const count = parseCount(opts.shards, issues);
    const index = env.JOB_COMPLETION_INDEX;
    if (count !== null) {
      if (index === undefined) {
        issues.push({ path: '--shards', message: 'takes the shard index from JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job), which is not set; elsewhere use --shard i/N' });
      } else if (!/^\s*\d+\s*$/.test(index)) {
        issues.push({ path: 'JOB_COMPLETION_INDEX', message: `expected a shard index 0..${count - 1}, got ${JSON.stringify(index)}` });
      } else {
        shard = parsePart(`${index.trim()}/${count}`, 'JOB_COMPLETION_INDEX', issues);
      }
    }
  } else if (env.SMTPBENCH_SHARD !== undefined && env.SMTPBENCH_SHARD !== '') {
    shard = parsePart(env.SMTPBENCH_SHARD, 'SMTPBENCH_SHARD', issues);
  }
  const startAt = opts.startAt === undefined ? null : parseStartAt(opts.startAt, nowMs, issues);
  let clockRef: URL | null = null;
  if (opts.clockRef !== undefined) {
    try {
      clockRef = new URL(opts.clockRef);
      if (clockRef.protocol !== 'http:' && clockRef.protocol !== 'https:') {
        issues.push({ path: '--clock-ref', message: `expected an http:// or https:// URL, got ${clockRef.protocol}` });
        clockRef = null;
      }
    } catch {
      issues.push({ path: '--clock-ref', message: 'expected an http URL such as http://127.0.0.1:8025/stats' });
    }
  }
  return { shard, startAtMs: startAt?.ms ?? null, startAtRelative: startAt?.relative ?? false, clockRef, issues };
}

/** `i/N`, 0 <= i < N <= MAX_SHARDS. */
function parsePart(text: string, path: string, issues: ProfileIssue[]): Part | null {
  const m = /^\s*(-?\d+)\s*\/\s*(-?\d+)\s*$/.exec(text);
  if (!m) {
    issues.push({ path, message: `expected i/N (shard index i, 0-based, of N shards), e.g. 0/3; got ${JSON.stringify(text)}` });
    return null;
  }
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || count > MAX_SHARDS) issues.push({ path, message: `the shard count must be 1..${MAX_SHARDS}, got ${m[2]}` });
  else if (index < 0 || index >= count) issues.push({ path, message: `shard index ${m[1]} is out of range for ${count} shards (0..${count - 1}; the index is 0-based)` });
  else return { index, count };
  return null;
}

function parseCount(text: string, issues: ProfileIssue[]): number | null {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (Number.isInteger(n) && n >= 1 && n <= MAX_SHARDS) return n;
  issues.push({ path: '--shards', message: `expected a shard count 1..${MAX_SHARDS}, got ${JSON.stringify(text)}` });
  return null;
}

/**
 * RFC 3339 with its offset (`2026-12-07T13:00:00Z`, `…+01:00`, fractions allowed), or `+DURATION`
 * from now (`+30s`, `+2m`): one machine that launches every shard can say "in 30 s". A date that
 * does not exist (February 30, hour 24) is refused, not rolled over; a leap second (`:60`, RFC 3339
 * §5.7) is the next second's start. More than 24 h either way is refused as a typo.
 */
function parseStartAt(text: string, nowMs: number, issues: ProfileIssue[]): { ms: number; relative: boolean } | null {
  let at: number;
  const relative = text.startsWith('+');
  if (relative) {
    try {
      at = nowMs + parseDuration(text.slice(1));
    } catch (err) {
      issues.push({ path: '--start-at', message: `${(err as Error).message} (expected +DURATION such as +30s)` });
      return null;
    }
  } else {
    const parsed = rfc3339(text);
    if (parsed === null) {
      issues.push({ path: '--start-at', message: `expected an RFC 3339 time with its offset, e.g. 2026-12-07T13:00:00Z, or +30s; got ${JSON.stringify(text)}` });
      return null;
    }
    at = parsed;
  }
  if (Math.abs(at - nowMs) > MAX_START_AHEAD_MS) {
    const h = ((at - nowMs) / 3600e3).toFixed(1);
    issues.push({ path: '--start-at', message: `${new Date(at).toISOString()} is ${at > nowMs ? `${h} h away` : `${h.slice(1)} h ago`}; at most 24 h either way` });
    return null;
  }
  return { ms: at, relative };
}

/** Epoch ms of an RFC 3339 date-time (§5.6) that exists on the calendar, or null. */
function rfc3339(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const leap = sec === 60;
  const local = Date.UTC(y, mo - 1, d, h, mi, leap ? 59 : sec);
  const back = new Date(local);
  // Date.UTC rolls February 30 over to March 2 and hour 24 to the next day: such a date does not exist.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi) return null;
  const oh = m[10] === undefined ? 0 : Number(m[10]);
  const om = m[11] === undefined ? 0 : Number(m[11]);
  if (oh > 23 || om > 59) return null;
  const offsetMs = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  return local - offsetMs + fraction + (leap ? 1000 : 0);
}
