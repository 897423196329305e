/**
 * `run`'s distributed-run flags: which shard this machine runs (`--shard i/N`, `--shards N` with
 * Kubernetes' `JOB_COMPLETION_INDEX`, or `SMTPBENCH_SHARD=i/N`), the common start (`--start-at`)
 * and the clock reference (`--clock-ref`). Every bad flag is an issue of the run's one ProfileError.
 */
import type { ProfileIssue } from '../errors.js';
import type { Part } from '../profile/shard.js';
import { parseDuration } from '../profile/units.js';

/** Most shards of one run: a sanity bound (a typo such as 0/30000), far above any real fleet. */
export const MAX_SHARDS = 1000;
/** The furthest `--start-at` may be ahead: later is a typo (a wrong date), not a plan. */
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
      if (index === undefined || index === '') {
        issues.push({ path: '--shards', message: 'takes the shard index from JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job), which is not set; elsewhere use --shard i/N' });
      } else {
        shard = parsePart(`${index}/${count}`, 'JOB_COMPLETION_INDEX', issues);
      }
    }
  } else if (env.SMTPBENCH_SHARD !== undefined && env.SMTPBENCH_SHARD !== '') {
    shard = parsePart(env.SMTPBENCH_SHARD, 'SMTPBENCH_SHARD', issues);
  }
  const startAtMs = opts.startAt === undefined ? null : parseStartAt(opts.startAt, nowMs, issues);
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
  return { shard, startAtMs, clockRef, issues };
}

/** `i/N`, 0 <= i < N <= MAX_SHARDS. */
function parsePart(text: string, path: string, issues: ProfileIssue[]): Part | null {
  const m = /^\s*(-?\d+)\s*\/\s*(-?\d+)\s*$/.exec(text);
  if (!m) {
    issues.push({ path, message: `expected i/N (shard index i, 0-based, of N shards), e.g. 0/3; got ${JSON.stringify(text)}` });
    return null;
  }
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || count > MAX_SHARDS) issues.push({ path, message: `the shard count must be 1..${MAX_SHARDS}, got ${count}` });
  else if (index < 0 || index >= count) issues.push({ path, message: `shard index ${index} is out of range for ${count} shards (0..${count - 1}; the index is 0-based)` });
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
 * from now (`+30s`, `+2m`): one machine that launches every shard can say "in 30 s".
 */
function parseStartAt(text: string, nowMs: number, issues: ProfileIssue[]): number | null {
  let at: number;
  if (text.startsWith('+')) {
    try {
      at = nowMs + parseDuration(text.slice(1));
    } catch (err) {
      issues.push({ path: '--start-at', message: `${(err as Error).message} (expected +DURATION such as +30s)` });
      return null;
    }
  } else if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text))) {
    at = Date.parse(text);
  } else {
    issues.push({ path: '--start-at', message: `expected an RFC 3339 time with its offset, e.g. 2026-12-07T13:00:00Z, or +30s; got ${JSON.stringify(text)}` });
    return null;
  }
  if (at - nowMs > MAX_START_AHEAD_MS) {
    issues.push({ path: '--start-at', message: `${new Date(at).toISOString()} is ${((at - nowMs) / 3600e3).toFixed(1)} h away; at most 24 h ahead` });
    return null;
  }
  return at;
}
