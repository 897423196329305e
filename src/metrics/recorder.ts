/**
 * Per-thread metrics: one histogram per phase, counters, reply codes per phase, errors by kind.
 * Everything here crosses threads only through `snapshot()` (structured-clone safe, house style §10).
 */
import { PHASES, type Phase } from './phases.js';
import { addEncoded, encodeHistogram, FastHistogram, HIGHEST_US, newHistogram, recordUs, type Histogram } from './histogram.js';
import type { ErrorKind } from '../error-kinds.js';
import { enhancedCodeText } from '../protocol/reply-parser.js';
import { addDomainCounts, DomainTally, type DomainCounts } from './domains.js';
import { addFailureReplies, FailureTally, type FailureReplies, type ReplyText } from './failures.js';

/** Message, recipient and byte totals. `failed` means no final reply (timeout, reset): neither accepted nor rejected. */
export interface Counters {
  messagesAttempted: number;
  messagesAccepted: number;
  messagesRejected: number;
  messagesFailed: number;
  /** Messages a session never tried because it gave up (its connections kept failing). */
  messagesAbandoned: number;
  /** Open models: messages that started more than `LATE_START_US` after their intended time. */
  messagesLate: number;
  /** Open models: messages never started because the backlog of due messages was full (no free session). */
  messagesDropped: number;
  recipientsAttempted: number;
  /** Recipients with a 2xx RCPT reply in a transaction whose end-of-data reply was 2xx (LMTP: their own end-of-data reply). */
  recipientsAccepted: number;
  /** Recipients with a final negative reply (RCPT, MAIL, end of data, or a 452 that could not be retried), or in a message not sent (SIZE exceeded). */
  recipientsRejected: number;
  /** Recipients with no final reply (timeout, reset, 421). accepted + rejected + failed = attempted, once messages have settled. */
  recipientsFailed: number;
  /** Times a recipient got 452 and was moved to a further transaction (RFC 5321 §4.5.3.1.10); not a final outcome. */
  recipientsDeferred: number;
  /** SMTP transactions (MAIL … end of data, or ended early); a message takes several when its recipients are split. */
  transactions: number;
  tlsHandshakes: number;
  /** TLS handshakes that resumed an earlier session. */
  tlsResumed: number;
  /** Scenario steps sent (VRFY, NOOP, …), each a unit of work instead of a message. */
  steps: number;
  /** Message octets sent in DATA (dot-stuffed payload, terminator excluded). */
  bytes: number;
  connections: number;
  /** Values above the histograms' highest trackable value (`HIGHEST_US`, 1 h), recorded as that value: the max and top percentiles are then lower bounds. */
  clampedValues: number;
}

export const zeroCounters = (): Counters => ({
  clampedValues: 0,
  messagesAttempted: 0,
  messagesAccepted: 0,
  messagesRejected: 0,
  messagesFailed: 0,
  messagesAbandoned: 0,
  messagesLate: 0,
  messagesDropped: 0,
  recipientsAttempted: 0,
  recipientsAccepted: 0,
  recipientsRejected: 0,
  recipientsFailed: 0,
  recipientsDeferred: 0,
  transactions: 0,
  tlsHandshakes: 0,
  tlsResumed: 0,
  steps: 0,
  bytes: 0,
  connections: 0,
});

/** `replies[phase][code]` = how many replies with that code the phase got. */
export type ReplyCounts = Record<string, Record<string, number>>;

/**
 * `enhanced[phase][code]` = how many replies of the phase carried the enhanced status code `code`
 * (`4.2.1`, RFC 3463), beside `replies[phase]`'s basic codes. Replies without one are not here.
 */
export type EnhancedCounts = Record<string, Record<string, number>>;

/**
 * `errors[kind]` = how many. The client counts the kinds of src/error-kinds.ts (`connect-refused`,
 * `rcpt-timeout`); counts read from files may hold kinds of other versions, so the key is a string.
 */
export type ErrorCounts = Record<string, number>;

/**
 * `causes[kind]` = the first cause seen of an error kind, as text: the OS error (`getaddrinfo
 * ENOTFOUND no-such-host.invalid`, `EADDRNOTAVAIL`), the reply parser's reason, the failed
 * certificate check (`DEPTH_ZERO_SELF_SIGNED_CERT`). A count says how often; this says why
 * (hostile review F8). At most `MAX_CAUSE` characters.
 */
export type ErrorCauses = Record<string, string>;

/** Longest cause kept, characters: a cause is one line for a person, not a dump. */
export const MAX_CAUSE = 200;

/** Adds the causes of `from` that `into` does not have yet (the first cause of each kind wins). */
export function addCauses(into: ErrorCauses, from: ErrorCauses | undefined): void {
  if (from) for (const [kind, cause] of Object.entries(from)) into[kind] ??= cause;
}

/** Histograms about the load generator itself, not the target (DESIGN §3 rule 7). */
export const GENERATOR_HISTOGRAMS = ['scheduleLag'] as const;
export type GeneratorHistogram = (typeof GENERATOR_HISTOGRAMS)[number];

/** What one thread hands over: encoded histograms plus plain counts. */
export interface MetricsSnapshot {
  readonly histograms: Partial<Record<Phase, string>>;
  readonly generator: Partial<Record<GeneratorHistogram, string>>;
  readonly counters: Counters;
  readonly replies: ReplyCounts;
  readonly enhanced: EnhancedCounts;
  readonly errors: ErrorCounts;
  readonly causes: ErrorCauses;
  /** The smallest recipient cap a session learnt from repeated 452s, recipients per transaction (0: none). */
  readonly recipientCap: number;
  /** RCPT outcomes per recipient domain (metrics/domains.ts). */
  readonly domains: DomainCounts;
  /** Distinct failure reply texts per phase, normalised (metrics/failures.ts). */
  readonly failureReplies: FailureReplies;
}

/**
 * One phase's enhanced status codes: a count cell per packed code, and the last code's cell. A
 * phase's replies mostly repeat one code (`2.1.5` for every RCPT), so a repeat costs a compare and
 * an increment, not a Map lookup (the reply path is hot: bench/session.bench.ts).
 */
class EnhancedTally {
  readonly cells = new Map<number, { n: number }>();
  /** The last code counted (0: none yet) and its cell. */
  last = 0;
  lastCell = { n: 0 };
}

/**
 * Records one thread's measurements. Not thread-safe by design: one per worker. Values go into
 * per-phase interval histograms; `interval()` (each tick) folds them into the run totals and
 * hands them out encoded for the interval log, so each value is recorded once.
 */
export class Recorder {
  /** The current interval's histograms (recording target), with the small-value fast path. */
  private readonly current = new Map<Phase, FastHistogram>(PHASES.map((p) => [p, new FastHistogram(newHistogram())]));
  /** Everything since the start (or the end of warm-up), up to the last `interval()`. */
  readonly totals = new Map<Phase, Histogram>(PHASES.map((p) => [p, newHistogram()]));
  readonly generator = new Map<GeneratorHistogram, Histogram>(GENERATOR_HISTOGRAMS.map((g) => [g, newHistogram()]));
  counters: Counters = zeroCounters();
  replies: ReplyCounts = {};
  /** Enhanced status codes per phase, packed (`enhancedCodeAt`): counted without making a string. */
  private enhanced: Record<string, EnhancedTally> = {};
  errors: ErrorCounts = {};
  /** The first cause of each error kind counted (`error(kind, cause)`). */
  causes: ErrorCauses = {};
  /**
   * The smallest recipient cap a session of this thread learnt (0: none). Session state, not a
   * measurement: the warm-up's end keeps it, as the sessions keep using the cap.
   */
  recipientCap = 0;
  /** Bumped by `reset()`: a message started in an earlier epoch (warm-up) is not counted when it ends. */
  epoch = 0;
  /** RCPT outcomes per recipient domain, by the wire plan's domain numbers (`domains.use(plan.domainNames)`). */
  readonly domains = new DomainTally();
  /** Distinct failure reply texts per phase. */
  private failures = new FailureTally();
  /**
   * The text of the reply about to be counted by `reply()`, when it is a failure (4yz, 5yz): the
   * session points this at its reply parser before it hands such a reply on, and `reply()` takes
   * it (null: the text is unknown, and the failure is listed by its code alone).
   */
  pendingText: ReplyText | null = null;

  /** Ends an interval: returns its non-empty histograms encoded, adds them to the totals, and starts the next. */
  interval(): Partial<Record<Phase, string>> {
    const out: Partial<Record<Phase, string>> = {};
    for (const [phase, fast] of this.current) {
      const h = fast.histogram();
      if (h.totalCount === 0) continue;
      out[phase] = encodeHistogram(h);
      this.totals.get(phase)!.add(h);
      h.reset();
    }
    return out;
  }

  /** Forgets everything recorded so far (the end of warm-up, DESIGN §3 rule 5). */
  reset(): void {
    for (const h of this.current.values()) h.reset();
    for (const h of this.totals.values()) h.reset();
    for (const h of this.generator.values()) h.reset();
    this.counters = zeroCounters();
    this.replies = {};
    this.enhanced = {};
    this.errors = {};
    this.causes = {};
    this.domains.reset();
    this.failures = new FailureTally();
    this.epoch++;
  }

  /** How many latencies `phase` has recorded since the start (or the end of warm-up), the open interval included. */
  count(phase: Phase): number {
    return this.totals.get(phase)!.totalCount + this.current.get(phase)!.histogram().totalCount;
  }

  /** Records a latency of `us` microseconds for `phase`. */
  record(phase: Phase, us: number): void {
    // Above 1 h the histogram holds 1 h: count it, so a report can say its top is a lower bound.
    if (us >= HIGHEST_US) this.counters.clampedValues++;
    this.current.get(phase)!.record(us);
  }

  /** Records a generator measurement (µs), such as the lag of a start behind its intended time. */
  recordGenerator(name: GeneratorHistogram, us: number): void {
    recordUs(this.generator.get(name)!, us);
  }

  /**
   * Counts one reply `code` seen in `phase`, and its enhanced status code when it has one
   * (`enhanced`: packed by `enhancedCodeAt`, 0 for none).
   */
  reply(phase: string, code: number, enhanced = 0): void {
    const byCode = (this.replies[phase] ??= {});
    byCode[code] = (byCode[code] ?? 0) + 1;
    if (code >= 400) {
      this.failures.count(phase, code, this.pendingText);
      this.pendingText = null;
    }
    if (enhanced === 0) return;
    const tally = (this.enhanced[phase] ??= new EnhancedTally());
    if (enhanced !== tally.last) {
      let cell = tally.cells.get(enhanced);
      if (cell === undefined) tally.cells.set(enhanced, (cell = { n: 0 }));
      tally.last = enhanced;
      tally.lastCell = cell;
    }
    tally.lastCell.n++;
  }

  /** The enhanced status codes counted so far, per phase, as text (`{ rcpt: { '4.2.1': 3 } }`): for ticks and snapshots. */
  enhancedCounts(): EnhancedCounts {
    const out: EnhancedCounts = {};
    for (const [phase, tally] of Object.entries(this.enhanced)) {
      const to: Record<string, number> = (out[phase] = {});
      for (const [packed, cell] of tally.cells) to[enhancedCodeText(packed)] = cell.n;
    }
    return out;
  }

  /** A session learnt that the server takes at most `cap` recipients per transaction (repeated 452s). */
  learnCap(cap: number): void {
    if (this.recipientCap === 0 || cap < this.recipientCap) this.recipientCap = cap;
  }

  /**
   * Counts one error of `kind`; `cause` (the OS error, the parser's reason) is kept if it is the
   * first of its kind, so a report can say why, not only how often.
   */
  error(kind: ErrorKind, cause?: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    if (cause !== undefined && this.causes[kind] === undefined) this.causes[kind] = cause.length > MAX_CAUSE ? `${cause.slice(0, MAX_CAUSE - 1)}…` : cause;
  }

  /** The run totals (the open interval folded in), encoded. */
  snapshot(): MetricsSnapshot {
    this.interval();
    const histograms: Partial<Record<Phase, string>> = {};
    for (const [phase, h] of this.totals) if (h.totalCount > 0) histograms[phase] = encodeHistogram(h);
    const generator: Partial<Record<GeneratorHistogram, string>> = {};
    for (const [name, h] of this.generator) if (h.totalCount > 0) generator[name] = encodeHistogram(h);
    return {
      histograms,
      generator,
      counters: { ...this.counters },
      replies: structuredClone(this.replies),
      enhanced: this.enhancedCounts(),
      errors: { ...this.errors },
      causes: { ...this.causes },
      recipientCap: this.recipientCap,
      domains: this.domains.counts(),
      failureReplies: this.failures.counts(),
    };
  }
}

/** The sum of several threads' snapshots: histograms added, counts summed. */
export class Merged {
  readonly histograms = new Map<Phase, Histogram>(PHASES.map((p) => [p, newHistogram()]));
  readonly generator = new Map<GeneratorHistogram, Histogram>(GENERATOR_HISTOGRAMS.map((g) => [g, newHistogram()]));
  readonly counters: Counters = zeroCounters();
  replies: ReplyCounts = {};
  enhanced: EnhancedCounts = {};
  errors: ErrorCounts = {};
  causes: ErrorCauses = {};
  /** The smallest recipient cap any thread learnt (0: none). */
  recipientCap = 0;
  /** RCPT outcomes per recipient domain, every thread's added. */
  domains: DomainCounts = {};
  /** Distinct failure reply texts per phase, every thread's added (at most `FAILURE_TEXTS_KEPT` per phase). */
  failureReplies: FailureReplies = {};

  add(s: MetricsSnapshot): void {
    for (const [phase, b64] of Object.entries(s.histograms)) addEncoded(this.histograms.get(phase as Phase)!, b64!);
    for (const [name, b64] of Object.entries(s.generator)) addEncoded(this.generator.get(name as GeneratorHistogram)!, b64!);
    for (const k of Object.keys(this.counters) as (keyof Counters)[]) this.counters[k] += s.counters[k];
    this.addCounts(s.replies, s.errors, s.enhanced);
    addCauses(this.causes, s.causes);
    if (s.recipientCap > 0 && (this.recipientCap === 0 || s.recipientCap < this.recipientCap)) this.recipientCap = s.recipientCap;
    addDomainCounts(this.domains, s.domains);
    addFailureReplies(this.failureReplies, s.failureReplies);
  }

  /** Adds reply codes per phase, errors by kind, and enhanced status codes per phase. */
  addCounts(replies: ReplyCounts, errors: ErrorCounts, enhanced?: EnhancedCounts): void {
    addCountsInto(this, replies, errors, enhanced);
  }
}

/**
 * Adds `replies` and `errors` into `into` (reply codes per phase, errors by kind), and `enhanced`
 * (enhanced status codes per phase, absent in summaries written before they were counted) into
 * `into.enhanced`, which it creates when missing.
 */
export function addCountsInto(into: { replies: ReplyCounts; errors: ErrorCounts; enhanced?: EnhancedCounts }, replies: ReplyCounts, errors: ErrorCounts, enhanced?: EnhancedCounts): void {
  addPerPhase(into.replies, replies);
  if (enhanced !== undefined) addPerPhase((into.enhanced ??= {}), enhanced);
  for (const [kind, n] of Object.entries(errors)) into.errors[kind] = (into.errors[kind] ?? 0) + n;
}

/** Adds counts per phase and code (`from[phase][code]`) into `into`. */
function addPerPhase(into: Record<string, Record<string, number>>, from: Record<string, Record<string, number>>): void {
  for (const [phase, byCode] of Object.entries(from)) {
    const to = (into[phase] ??= {});
    for (const [code, n] of Object.entries(byCode)) to[code] = (to[code] ?? 0) + n;
  }
}
