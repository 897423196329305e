/**
 * Per-thread metrics: one histogram per phase, counters, reply codes per phase, errors by kind.
 * Everything here crosses threads only through `snapshot()` (structured-clone safe, house style §10).
 */
import { PHASES, type Phase } from './phases.js';
import { addEncoded, encodeHistogram, newHistogram, recordUs, type Histogram } from './histogram.js';

/** Message, recipient and byte totals. `failed` means no final reply (timeout, reset): neither accepted nor rejected. */
export interface Counters {
  messagesAttempted: number;
  messagesAccepted: number;
  messagesRejected: number;
  messagesFailed: number;
  /** Messages a session never tried because it gave up (its connections kept failing). */
  messagesAbandoned: number;
  recipientsAttempted: number;
  /** Recipients with a 2xx RCPT reply in a transaction whose end-of-data reply was 2xx. */
  recipientsAccepted: number;
  recipientsRejected: number;
  /** Message octets sent in DATA (dot-stuffed payload, terminator excluded). */
  bytes: number;
  connections: number;
}

export const zeroCounters = (): Counters => ({
  messagesAttempted: 0,
  messagesAccepted: 0,
  messagesRejected: 0,
  messagesFailed: 0,
  messagesAbandoned: 0,
  recipientsAttempted: 0,
  recipientsAccepted: 0,
  recipientsRejected: 0,
  bytes: 0,
  connections: 0,
});

/** `replies[phase][code]` = how many replies with that code the phase got. */
export type ReplyCounts = Record<string, Record<string, number>>;

/** `errors[kind]` = how many; kinds are stable strings such as `connect-refused`, `reply-timeout`. */
export type ErrorCounts = Record<string, number>;

/** What one thread hands over: encoded histograms plus plain counts. */
export interface MetricsSnapshot {
  readonly histograms: Partial<Record<Phase, string>>;
  readonly counters: Counters;
  readonly replies: ReplyCounts;
  readonly errors: ErrorCounts;
}

/** Records one thread's measurements. Not thread-safe by design: one per worker. */
export class Recorder {
  readonly histograms = new Map<Phase, Histogram>(PHASES.map((p) => [p, newHistogram()]));
  readonly counters: Counters = zeroCounters();
  readonly replies: ReplyCounts = {};
  readonly errors: ErrorCounts = {};

  /** Records a latency of `us` microseconds for `phase`. */
  record(phase: Phase, us: number): void {
    recordUs(this.histograms.get(phase)!, us);
  }

  /** Counts one reply `code` seen in `phase`. */
  reply(phase: string, code: number): void {
    const byCode = (this.replies[phase] ??= {});
    byCode[code] = (byCode[code] ?? 0) + 1;
  }

  /** Counts one error of `kind`. */
  error(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  snapshot(): MetricsSnapshot {
    const histograms: Partial<Record<Phase, string>> = {};
    for (const [phase, h] of this.histograms) if (h.totalCount > 0) histograms[phase] = encodeHistogram(h);
    return { histograms, counters: { ...this.counters }, replies: structuredClone(this.replies), errors: { ...this.errors } };
  }
}

/** The sum of several threads' snapshots: histograms added, counts summed. */
export class Merged {
  readonly histograms = new Map<Phase, Histogram>(PHASES.map((p) => [p, newHistogram()]));
  readonly counters: Counters = zeroCounters();
  readonly replies: ReplyCounts = {};
  readonly errors: ErrorCounts = {};

  add(s: MetricsSnapshot): void {
    for (const [phase, b64] of Object.entries(s.histograms)) addEncoded(this.histograms.get(phase as Phase)!, b64!);
    for (const k of Object.keys(this.counters) as (keyof Counters)[]) this.counters[k] += s.counters[k];
    for (const [phase, byCode] of Object.entries(s.replies)) {
      const into = (this.replies[phase] ??= {});
      for (const [code, n] of Object.entries(byCode)) into[code] = (into[code] ?? 0) + n;
    }
    for (const [kind, n] of Object.entries(s.errors)) this.errors[kind] = (this.errors[kind] ?? 0) + n;
  }
}
