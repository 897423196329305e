/**
 * `summary.json`, schema version 1 (DESIGN §8): the run's totals, per-phase latency statistics in
 * milliseconds, reply codes per phase, errors by kind, the environment, and the reference server's
 * own figures when it was the target.
 */
import { sizeStatsOf, statsOf, type PhaseStats, type SizeStats } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import type { ErrorCounts, ReplyCounts } from '../metrics/recorder.js';
import { Merged } from '../metrics/recorder.js';
import { decodeServerStats } from './server-stats.js';
import type { RunOutcome } from '../load/coordinator.js';
import type { Profile } from '../profile/types.js';
import type { ServerCounters } from '../server/stats.js';
import type { Environment } from './environment.js';

export const SUMMARY_SCHEMA = 1;

export interface Summary {
  readonly schema: 1;
  readonly runId: string;
  readonly startedAt: string;
  /** Seconds from the start barrier to the last worker's result. */
  readonly durationS: number;
  /** Closed-model latencies are service times, not corrected for coordinated omission (DESIGN §3 rule 4). */
  readonly model: 'closed';
  readonly interrupted: boolean;
  readonly target: { readonly url: string; readonly embedded: boolean };
  readonly workers: number;
  readonly sessions: number;
  readonly profile: Profile;
  readonly environment: Environment;
  readonly totals: {
    readonly messages: { attempted: number; accepted: number; rejected: number; failed: number; abandoned: number };
    readonly recipients: { attempted: number; accepted: number; rejected: number };
    readonly bytes: number;
    readonly connections: number;
    /** Accepted messages and recipients per second; MB = 10^6 bytes of accepted message octets. */
    readonly rates: { msgsPerS: number; rcptsPerS: number; mbPerS: number };
  };
  readonly phases: Record<string, PhaseStats>;
  readonly replies: ReplyCounts;
  readonly errors: ErrorCounts;
  readonly server: null | {
    readonly counters: ServerCounters;
    readonly histograms: Record<string, PhaseStats>;
    /** Size histograms in bytes (`message-bytes`). */
    readonly sizes: Record<string, SizeStats>;
  };
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Builds the summary of a finished run. */
export function buildSummary(runId: string, profile: Profile, outcome: RunOutcome, env: Environment): Summary {
  const m: Merged = outcome.merged;
  const c = m.counters;
  const d = outcome.durationS > 0 ? outcome.durationS : Number.NaN;
  const phases: Record<string, PhaseStats> = {};
  for (const p of PHASES) {
    const h = m.histograms.get(p)!;
    if (h.totalCount > 0) phases[p] = statsOf(h);
  }
  let server: Summary['server'] = null;
  if (outcome.server) {
    const histograms: Record<string, PhaseStats> = {};
    for (const [name, h] of decodeServerStats(outcome.server)) histograms[name] = statsOf(h);
    const sizes: Record<string, SizeStats> = {};
    for (const [name, h] of decodeServerStats(outcome.server, 'sizes')) sizes[name] = sizeStatsOf(h);
    server = { counters: outcome.server.counters, histograms, sizes };
  }
  return {
    schema: SUMMARY_SCHEMA,
    runId,
    startedAt: outcome.startedAt.toISOString(),
    durationS: round(outcome.durationS, 3),
    model: 'closed',
    interrupted: outcome.interrupted,
    target: { url: `smtp://${outcome.target.host.includes(':') ? `[${outcome.target.host}]` : outcome.target.host}:${outcome.target.port}`, embedded: outcome.target.embedded },
    workers: outcome.workers,
    sessions: profile.sessions,
    profile,
    environment: env,
    totals: {
      messages: { attempted: c.messagesAttempted, accepted: c.messagesAccepted, rejected: c.messagesRejected, failed: c.messagesFailed, abandoned: c.messagesAbandoned },
      recipients: { attempted: c.recipientsAttempted, accepted: c.recipientsAccepted, rejected: c.recipientsRejected },
      bytes: c.bytes,
      connections: c.connections,
      rates: {
        msgsPerS: Number.isFinite(d) ? round(c.messagesAccepted / d, 1) : 0,
        rcptsPerS: Number.isFinite(d) ? round(c.recipientsAccepted / d, 1) : 0,
        mbPerS: Number.isFinite(d) ? round(c.bytes / 1e6 / d, 3) : 0,
      },
    },
    phases,
    replies: m.replies,
    errors: m.errors,
    server,
  };
}
