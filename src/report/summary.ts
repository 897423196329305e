/**
 * `summary.json`, schema version 1 (DESIGN §8): the run's totals, per-phase latency statistics in
 * milliseconds, reply codes per phase, errors by kind, the environment, and the reference server's
 * own figures when it was the target.
 */
import { encodeHistogram, sizeStatsOf, statsOf, type PhaseStats, type SizeStats } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import type { Counters, EnhancedCounts, ErrorCauses, ErrorCounts, ReplyCounts } from '../metrics/recorder.js';
import { Merged } from '../metrics/recorder.js';
import type { DomainCounts } from '../metrics/domains.js';
import { shownFailureReplies, type FailureReplies } from '../metrics/failures.js';
import { decodeServerStats } from './server-stats.js';
import type { RunOutcome } from '../load/coordinator.js';
import type { Profile } from '../profile/types.js';
import type { DomainCount } from '../server/domains.js';
import type { ServerCounters } from '../server/stats.js';
import type { Environment } from './environment.js';
import type { DeliveryReport } from './sink.js';
import type { Verdict } from './thresholds.js';

export const SUMMARY_SCHEMA = 1;

/**
 * A worker whose event loop was late by more than this at p99 could not keep its own clock: its
 * latencies include its own delays, and the run is flagged `generator.saturated` (DESIGN §3 rule 7).
 */
export const SATURATION_EVENT_LOOP_P99_MS = 25;

export interface Summary {
  readonly schema: 1;
  readonly runId: string;
  readonly startedAt: string;
  /** Seconds from the start barrier to the last worker's result. */
  readonly durationS: number;
  /**
   * `closed`: latencies are service times, not corrected for coordinated omission (DESIGN §3 rule 4).
   * `open`: `transaction` runs from each message's intended start; `service` is the uncorrected time.
   */
  readonly model: 'closed' | 'open';
  readonly executor: Profile['executor'];
  /** Seconds of warm-up excluded from every figure. */
  readonly warmupS: number;
  /**
   * False when the run ended inside its warm-up (its message quota ran out, or a stop came first):
   * nothing was measured and every figure is empty, not warm-up data (hostile review F3). Absent in
   * summaries written before it was recorded.
   */
  readonly warmupCompleted?: boolean;
  readonly interrupted: boolean;
  /** A second Ctrl-C: only the seconds merged before it are reported, and no server statistics. */
  readonly aborted: boolean;
  readonly target: { readonly url: string; readonly embedded: boolean };
  readonly workers: number;
  /**
   * Closed model: the profile's sessions, a shard's own share of them (`--shard i/N`), a merge's
   * whole count. Open and ramping models: the most sessions open at once, sampled once a second
   * (their session count is not configured but follows the load; hostile review F18).
   */
  readonly sessions: number;
  readonly profile: Profile;
  readonly environment: Environment;
  readonly totals: {
    /**
     * attempted = accepted + rejected + failed + inFlight. `inFlight`: on the wire without a final
     * reply when the summary was written, non-zero only in an aborted run (a second Ctrl-C) or a
     * live reading (hostile review F13); absent in summaries written before it was counted.
     */
    readonly messages: { attempted: number; accepted: number; rejected: number; failed: number; inFlight?: number; abandoned: number; late: number; dropped: number };
    /**
     * Each recipient settles once: attempted = accepted + rejected + failed + inFlight; `deferred`
     * counts 452 continuations (not an outcome); `learnedCap`: the recipients per transaction a
     * session learnt from the same 452 limit twice running, the smallest (null: none; absent in
     * older summaries). A learnt cap splits every later message of that session.
     */
    readonly recipients: { attempted: number; accepted: number; rejected: number; failed: number; inFlight?: number; deferred: number; learnedCap?: number | null };
    /** SMTP transactions; more than messages when recipients were split (cap or 452 continuation). */
    readonly transactions: number;
    readonly bytes: number;
    readonly connections: number;
    readonly tls: { handshakes: number; resumed: number };
    /** Scenario steps (VRFY, NOOP, …) sent instead of messages; their latencies and replies are per phase. */
    readonly steps: number;
    /**
     * Latencies above the histograms' highest trackable value (1 h), recorded as 1 h: where non-zero,
     * a phase's max and top percentiles are lower bounds. Absent in older summaries.
     */
    readonly clampedValues?: number;
    /** Accepted messages and recipients per second; MB = 10^6 bytes of accepted message octets. */
    readonly rates: { msgsPerS: number; rcptsPerS: number; mbPerS: number };
    /**
     * RCPT replies per recipient domain (lower-cased): `accepted` (2yz), `deferred` (4yz, 452
     * included), `rejected` (5yz), the reference server's shape (`server.domains`); at most 1,000
     * domains, the rest under `(other)`. Counts RCPT replies, not final outcomes: a recipient
     * whose message then fails at end of data is still `accepted` here. Absent in older summaries.
     */
    readonly domains?: DomainCounts;
  };
  readonly phases: Record<string, PhaseStats>;
  readonly replies: ReplyCounts;
  /**
   * Enhanced status codes (RFC 3463: `4.2.1`) per phase, beside `replies`' basic codes:
   * `enhancedReplies.rcpt['4.2.2']`. Replies without one are not counted here. Absent in
   * summaries written before they were counted.
   */
  readonly enhancedReplies?: EnhancedCounts;
  /**
   * The distinct texts of the 4yz and 5yz replies per phase, normalised (numbers `#`, IDs `<id>`,
   * addresses `<email>`, IPs `<ip>`), with counts: the 20 most frequent per phase, the rest under
   * `(others)`. `failureReplies.rcpt['450 4.2.1 Mailbox busy']`. Absent in older summaries.
   */
  readonly failureReplies?: FailureReplies;
  /** Errors by kind: docs/error-kinds.md (src/error-kinds.ts) lists every kind and its meaning. */
  readonly errors: ErrorCounts;
  /**
   * The first cause seen of each error kind in `errors` that had one: the OS error
   * (`getaddrinfo ENOTFOUND mx.example.invalid`), the reply parser's reason, the failed
   * certificate check. Absent in summaries written before causes were kept.
   */
  readonly errorCauses?: ErrorCauses;
  /**
   * The load generator's health; null when it is unknown (an aborted run: the workers never
   * reported), so no zero poses as a measurement (hostile review F13).
   */
  readonly generator: null | {
    /** Worst worker's event-loop delay p99 and max, ms. */
    readonly eventLoopDelayP99Ms: number;
    readonly eventLoopDelayMaxMs: number;
    /** Busiest worker's event-loop utilization over the measured time, 0..1; null when no worker's tells anything (see `workers`). */
    readonly eventLoopUtilizationMax: number | null;
    /** Open models: how late messages started after their intended time, p99 and max, ms. */
    readonly scheduleLagP99Ms: number;
    readonly scheduleLagMaxMs: number;
    readonly saturated: boolean;
    /** Each worker's own figures, by worker index: a lopsided split or one busy worker shows here. */
    readonly workers: readonly {
      readonly eventLoopDelayP99Ms: number;
      readonly eventLoopDelayMaxMs: number;
      /** Null for a worker with no sessions or under a second of measured time (its start-up would read as 100 %). */
      readonly eventLoopUtilization: number | null;
      /** A merged run's worker: the index in `merged.inputs` of the run it came from. */
      readonly input?: number;
    }[];
  };
  readonly server: null | {
    readonly counters: ServerCounters;
    readonly histograms: Record<string, PhaseStats>;
    /** Size histograms in bytes (`message-bytes`). */
    readonly sizes: Record<string, SizeStats>;
    /** RCPT outcomes per recipient domain, as the server counted them (`countDomains`); absent in older summaries. */
    readonly domains?: Record<string, DomainCount>;
  };
  /**
   * The exact whole-run histograms (HdrHistogram V2 compressed base64, values in µs): each phase
   * with data and the reference server's own. Thresholds, compare, merge and report rebuild any
   * percentile from these without loss (DESIGN §3 rule 6); a few KB per phase.
   */
  /**
   * `run --sink`: what the sink behind the MTA received (accepted, delivered, still queued, time to
   * drain, delivery rate, clock offset); absent or null without `--sink` or when the sink could not
   * be read before the load. The delivery latencies are the `delivery` phase.
   */
  readonly delivery?: DeliveryReport | null;
  /** Threshold verdicts, in the order given (profile first, then `--threshold` flags); empty when none. */
  readonly thresholds: readonly Verdict[];
  /**
   * Wall-clock span of the measured part of the run (after warm-up), ISO 8601 with ms: what
   * `merge` aligns shards by and divides merged rates by. Absent in summaries written before it.
   */
  readonly measured?: { readonly start: string; readonly end: string };
  /** `--shard i/N`: which share of the profile this run was, on which host, and when it started; null when unsharded (and for a merged run). */
  readonly shard?: ShardInfo | null;
  /** `smtpbench merge`: the runs this one was added up from; absent for a run that was not merged. */
  readonly merged?: MergeInfo;
  readonly encoded: {
    readonly phases: Record<string, string>;
    readonly server: Record<string, string>;
    /** The generator's own histograms (`scheduleLag`, µs), when it recorded any. */
    readonly generator?: Record<string, string>;
    /** The reference server's size histograms (`message-bytes`, bytes). */
    readonly serverSizes?: Record<string, string>;
  };
}

/**
 * One shard's place in a distributed run (`--shard i/N`, docs/distributed.md "Shards"): the split is the one
 * rule of `src/profile/shard.ts`, so N shards together run exactly the profile.
 */
export interface ShardInfo {
  /** 0-based shard index `i`. */
  readonly index: number;
  /** Shard count `N`. */
  readonly count: number;
  /** The load machine's host name (`os.hostname()`; a pod's name on Kubernetes). */
  readonly host: string;
  /** The common start time asked for (`--start-at`), ISO 8601; null without it. */
  readonly startAt: string | null;
  /** How much later than `startAt` the load started, ms (0: on time); null without `--start-at`. */
  readonly lateMs: number | null;
  /**
   * This machine's clock against a reference (`--clock-ref`): offset = reference − local, ms, and
   * the measurement's error bound (half the round trip, or 500 ms for an HTTP `Date` header); all
   * null without a reference.
   */
  readonly clock: { readonly offsetMs: number | null; readonly errorMs: number | null; readonly source: string | null };
  /** True when this shard's share was empty (more shards than sessions): it ran nothing, and merges as zeros. */
  readonly idle: boolean;
}

/**
 * What `smtpbench merge` added up (docs/distributed.md "Merging shards"): its inputs in the order given, how
 * well their measured spans overlapped, and what it warned about.
 */
export interface MergeInfo {
  readonly inputs: readonly MergeInput[];
  /**
   * (latest start → earliest end) / (earliest start → latest end) of the measured spans of the
   * inputs that ran something (idle shards left out), 0..1; 1 for a single such input. Below 0.9
   * the shards did not run at the same time, and a merged rate understates what ran together.
   */
  readonly overlap: number;
  /** Each warning merge printed (missing shards, poor overlap, differing targets, a forced merge). */
  readonly warnings: readonly string[];
}

/** One run that went into a merge, as its summary.json recorded it. */
export interface MergeInput {
  /** Where it was read from (the directory or summary.json path given). */
  readonly source: string;
  readonly runId: string;
  /** Its shard (`--shard i/N`), or null for an unsharded run. */
  readonly shard: ShardInfo | null;
  /** The shard's host name, or null for an unsharded run (which does not record one). */
  readonly host: string | null;
  readonly startedAt: string;
  /** Its measured span (ISO 8601), or null in a summary written before `measured`. */
  readonly measured: { readonly start: string; readonly end: string } | null;
  readonly durationS: number;
  readonly workers: number;
  /** Its accepted messages. */
  readonly accepted: number;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Builds the summary of a finished run. */
export function buildSummary(runId: string, profile: Profile, outcome: RunOutcome, env: Environment, aborted = false): Summary {
  const m: Merged = outcome.merged;
  const c = m.counters;
  const d = outcome.durationS > 0 ? outcome.durationS : Number.NaN;
  const phases: Record<string, PhaseStats> = {};
  const encoded = { phases: {} as Record<string, string>, server: {} as Record<string, string>, generator: {} as Record<string, string>, serverSizes: {} as Record<string, string> };
  for (const p of PHASES) {
    const h = m.histograms.get(p)!;
    if (h.totalCount === 0) continue;
    phases[p] = statsOf(h, profile.percentiles);
    encoded.phases[p] = encodeHistogram(h);
  }
  for (const [name, h] of m.generator) if (h.totalCount > 0) encoded.generator[name] = encodeHistogram(h);
  let server: Summary['server'] = null;
  if (outcome.server) {
    const histograms: Record<string, PhaseStats> = {};
    for (const [name, h] of decodeServerStats(outcome.server)) {
      histograms[name] = statsOf(h, profile.percentiles);
      if (h.totalCount > 0) encoded.server[name] = outcome.server.histograms[name];
    }
    const sizes: Record<string, SizeStats> = {};
    for (const [name, h] of decodeServerStats(outcome.server, 'sizes')) {
      sizes[name] = sizeStatsOf(h, profile.percentiles);
      if (h.totalCount > 0) encoded.serverSizes[name] = outcome.server.sizes[name];
    }
    server = { counters: outcome.server.counters, histograms, sizes, domains: outcome.server.domains ?? {} };
  }
  return {
    schema: SUMMARY_SCHEMA,
    runId,
    startedAt: outcome.startedAt.toISOString(),
    durationS: round(outcome.durationS, 3),
    model: profile.executor === 'open' || profile.executor === 'ramping-rate' ? 'open' : 'closed',
    executor: profile.executor,
    warmupS: profile.warmupMs / 1000,
    warmupCompleted: outcome.warmupCompleted,
    interrupted: outcome.interrupted,
    aborted,
    target: {
      url: `${profile.target?.scheme ?? 'smtp'}://${outcome.target.host.includes(':') ? `[${outcome.target.host}]` : outcome.target.host}:${outcome.target.port}`,
      embedded: outcome.target.embedded,
    },
    workers: outcome.workers,
    sessions: profile.executor === 'closed' ? profile.sessions : outcome.sessionsPeak,
    profile: redacted(profile),
    environment: env,
    totals: {
      messages: messageTotals(c),
      recipients: { ...recipientTotals(c), learnedCap: m.recipientCap > 0 ? m.recipientCap : null },
      transactions: c.transactions,
      bytes: c.bytes,
      connections: c.connections,
      tls: { handshakes: c.tlsHandshakes, resumed: c.tlsResumed },
      steps: c.steps,
      clampedValues: c.clampedValues,
      rates: {
        msgsPerS: Number.isFinite(d) ? round(c.messagesAccepted / d, 1) : 0,
        rcptsPerS: Number.isFinite(d) ? round(c.recipientsAccepted / d, 1) : 0,
        mbPerS: Number.isFinite(d) ? round(c.bytes / 1e6 / d, 3) : 0,
      },
      domains: m.domains,
    },
    phases,
    replies: m.replies,
    enhancedReplies: m.enhanced,
    failureReplies: shownFailureReplies(m.failureReplies),
    errors: m.errors,
    errorCauses: m.causes,
    generator: generatorHealth(outcome),
    server,
    thresholds: [],
    measured: measuredSpan(outcome, profile),
    shard: null,
    encoded,
  };
}

/** The measured span: from the start barrier plus the warm-up, for the measured seconds. */
function measuredSpan(outcome: RunOutcome, profile: Profile): Summary['measured'] {
  const start = outcome.barrierAtMs + (outcome.durationS > 0 ? profile.warmupMs : 0);
  return { start: new Date(start).toISOString(), end: new Date(start + outcome.durationS * 1000).toISOString() };
}

/** summary.json's `totals.messages` from a run's counters. */
export function messageTotals(c: Counters): Summary['totals']['messages'] {
  return {
    attempted: c.messagesAttempted,
    accepted: c.messagesAccepted,
    rejected: c.messagesRejected,
    failed: c.messagesFailed,
    inFlight: Math.max(0, c.messagesAttempted - c.messagesAccepted - c.messagesRejected - c.messagesFailed),
    abandoned: c.messagesAbandoned,
    late: c.messagesLate,
    dropped: c.messagesDropped,
  };
}

/** summary.json's `totals.recipients` from a run's counters. */
export function recipientTotals(c: Counters): Summary['totals']['recipients'] {
  return {
    attempted: c.recipientsAttempted,
    accepted: c.recipientsAccepted,
    rejected: c.recipientsRejected,
    failed: c.recipientsFailed,
    inFlight: Math.max(0, c.recipientsAttempted - c.recipientsAccepted - c.recipientsRejected - c.recipientsFailed),
    deferred: c.recipientsDeferred,
  };
}

/** The placeholder written instead of a password. */
export const REDACTED = '<redacted>';

/**
 * The profile as summary.json records it: the reference server's account passwords replaced by
 * `REDACTED` (no secret is ever written to a result file or published). Client credentials never
 * enter the profile at all: they come from a file or the environment.
 */
export function redacted(profile: Profile): Profile {
  const users = profile.server.auth.users;
  if (Object.keys(users).length === 0) return profile;
  return { ...profile, server: { ...profile.server, auth: { ...profile.server.auth, users: Object.fromEntries(Object.keys(users).map((u) => [u, REDACTED])) } } };
}

function generatorHealth(outcome: RunOutcome): Summary['generator'] {
  // Unknown: the workers never reported (an abort), or everything they saw was warm-up.
  if (outcome.health.length === 0 || !outcome.warmupCompleted) return null;
  const utilizations = outcome.health.map((h) => h.eventLoopUtilization).filter((u) => u !== null);
  const lag = outcome.merged.generator.get('scheduleLag')!;
  const loopP99 = Math.max(0, ...outcome.health.map((h) => h.eventLoopDelayP99Ms));
  return {
    eventLoopDelayP99Ms: round(loopP99, 3),
    eventLoopDelayMaxMs: round(Math.max(0, ...outcome.health.map((h) => h.eventLoopDelayMaxMs)), 3),
    scheduleLagP99Ms: lag.totalCount > 0 ? lag.getValueAtPercentile(99) / 1000 : 0,
    scheduleLagMaxMs: lag.totalCount > 0 ? lag.maxValue / 1000 : 0,
    eventLoopUtilizationMax: utilizations.length > 0 ? round(Math.max(...utilizations), 3) : null,
    saturated: loopP99 > SATURATION_EVENT_LOOP_P99_MS,
    workers: outcome.health.map((h) => ({
      eventLoopDelayP99Ms: round(h.eventLoopDelayP99Ms, 3),
      eventLoopDelayMaxMs: round(h.eventLoopDelayMaxMs, 3),
      eventLoopUtilization: h.eventLoopUtilization === null ? null : round(h.eventLoopUtilization, 3),
    })),
  };
}
