/**
 * The reference server's self-measurement: counters and one µs histogram per command verb, plus
 * the DATA/BDAT stream time per message (354 sent → end-of-data seen), the delivery time, and the
 * size of each accepted message in bytes; RCPT outcomes per recipient domain; run-time changes.
 */
import { encodeHistogram, FastHistogram, newHistogram, type Histogram } from '../metrics/histogram.js';
import { DomainCounts, type DomainCount } from './domains.js';

/** Server counters. `bytes` are message octets received in DATA, terminator excluded. */
export interface ServerCounters {
  connections: number;
  commands: number;
  messages: number;
  recipients: number;
  bytes: number;
  /** Messages whose end-of-data got a 4xx/5xx (size, an injected fault). */
  messagesRejected: number;
  /** Replies with a 4xx/5xx code. */
  negativeReplies: number;
  /** Faults that fired: replaced replies and dropped connections. */
  faults: number;
  /** Replies held back by a delay, stall or tarpit fault. */
  delayedReplies: number;
  /** Connections turned away with 421 over `maxConnections`. */
  refusedConnections: number;
  /** Connections closed with 421 by the idle or command-line timeout. */
  timeouts: number;
  /** Successful STARTTLS handshakes begun. */
  tlsUpgrades: number;
  /** Plaintext octets pipelined after STARTTLS and dropped (CVE-2011-0411). */
  discardedPlaintext: number;
  /** AUTH exchanges that ended in 535. */
  authFailures: number;
  /** Connections closed because their PROXY header was missing or malformed. */
  badProxyHeaders: number;
  /** NUL octets seen in DATA content (passed through, RFC 5321 §4.5.2 leaves them to the content). */
  nulOctets: number;
  /**
   * Accept drains begun: a connection was accepted while others were reading, so they paused
   * until the accept queue was empty (src/server/accept-drain.ts).
   */
  acceptDrains: number;
  /** Connections accepted during a drain, after the one that began it: they had waited in the accept queue. */
  drainedConnections: number;
  /** Recipients deferred (4xx) by a domain policy's draw, at RCPT or at the end of data. */
  policyDeferrals: number;
  /** Recipients bounced (5xx) by a domain policy's draw, at RCPT or at the end of data. */
  policyBounces: number;
  /** Recipients refused with 451 4.7.1 over their domain policy's `rate`. */
  rateLimited: number;
  /** Forced outcomes by local part (`tempfail@`, `permfail@`, `slow@`, `disconnect@`). */
  forcedOutcomes: number;
  /** Connections turned away with 421 over `maxConnectionsPerClient`. */
  refusedPerClient: number;
}

/**
 * A run-time change of the server's faults or domain policies (`PUT`/`DELETE /faults`,
 * `/domains`): when, and what the plan became.
 */
export interface ServerChange {
  /**
   * 1, 2, 3, … in the order the server made them: what a reader compares to tell new changes from
   * ones it saw (the wall clock may be stepped back between two).
   */
  readonly seq: number;
  /** Wall clock, epoch ms. */
  readonly atMs: number;
  readonly target: 'faults' | 'domains';
  readonly action: 'set' | 'clear';
  /** The new plan in one line: fault SPECs joined by `; `, or the domain patterns and shares. */
  readonly what: string;
}

/** Run-time changes kept (the oldest is dropped past this). */
export const MAX_CHANGES = 1000;

/**
 * Structured-clone-safe server statistics: counters, encoded µs histograms by name (`cmd.mail`,
 * `data-stream`, `delivery`), and encoded size histograms in bytes (`message-bytes`).
 */
export interface ServerStats {
  readonly counters: ServerCounters;
  readonly histograms: Record<string, string>;
  readonly sizes: Record<string, string>;
  /** RCPT outcomes per recipient domain (lower case; past 1,000 domains, `(other)`); empty unless counted. */
  readonly domains: Record<string, DomainCount>;
  /** Run-time changes of faults and domain policies, oldest first. */
  readonly changes: readonly ServerChange[];
}

/** Mutable server metrics, one per server (one thread). */
export class ServerMetrics {
  /** Connections open now (a gauge; not in `counters`, which only grow). */
  activeConnections = 0;
  readonly counters: ServerCounters = {
    connections: 0,
    commands: 0,
    messages: 0,
    recipients: 0,
    bytes: 0,
    messagesRejected: 0,
    negativeReplies: 0,
    faults: 0,
    delayedReplies: 0,
    refusedConnections: 0,
    timeouts: 0,
    tlsUpgrades: 0,
    discardedPlaintext: 0,
    authFailures: 0,
    badProxyHeaders: 0,
    nulOctets: 0,
    acceptDrains: 0,
    drainedConnections: 0,
    policyDeferrals: 0,
    policyBounces: 0,
    rateLimited: 0,
    forcedOutcomes: 0,
    refusedPerClient: 0,
  };
  /** RCPT outcomes per recipient domain (`countDomains`). */
  readonly domains = new DomainCounts();
  /** Run-time changes, oldest first (at most `MAX_CHANGES`). */
  readonly changes: ServerChange[] = [];
  private changeSeq = 0;
  private readonly timings = new Map<string, FastHistogram>();
  /** Byte counts (same histogram configuration; values are bytes, up to 3.6 GB). */
  private readonly byteCounts = new Map<string, FastHistogram>();

  /** Records `us` microseconds under `name`. */
  record(name: string, us: number): void {
    this.recorder(name).record(us);
  }

  /** The µs recorder named `name`, created empty on first use; hot paths keep the reference. */
  recorder(name: string, table = this.timings): FastHistogram {
    let r = table.get(name);
    if (r === undefined) table.set(name, (r = new FastHistogram(newHistogram())));
    return r;
  }

  /** Records a size of `bytes` under `name` (`message-bytes`). */
  recordBytes(name: string, bytes: number): void {
    this.recorder(name, this.byteCounts).record(bytes);
  }

  /** The µs histograms by name, up to date. */
  get histograms(): Map<string, Histogram> {
    return new Map([...this.timings].map(([name, r]) => [name, r.histogram()]));
  }

  /** The byte-count histograms by name, up to date. */
  get sizes(): Map<string, Histogram> {
    return new Map([...this.byteCounts].map(([name, r]) => [name, r.histogram()]));
  }

  /**
   * Forgets every count and histogram (the end of the client's warm-up, DESIGN §3 rule 5), in
   * place: connections keep their references to the recorders. The connection gauge stays.
   */
  reset(): void {
    for (const k of Object.keys(this.counters) as (keyof ServerCounters)[]) this.counters[k] = 0;
    for (const r of this.timings.values()) r.reset();
    for (const r of this.byteCounts.values()) r.reset();
    this.domains.reset();
  }

  /** Records a run-time change, numbering it (`seq`). */
  change(c: Omit<ServerChange, 'seq'>): void {
    if (this.changes.length >= MAX_CHANGES) this.changes.shift();
    this.changes.push({ seq: ++this.changeSeq, ...c });
  }

  snapshot(): ServerStats {
    const encode = (table: Map<string, Histogram>) => Object.fromEntries([...table].map(([name, h]) => [name, encodeHistogram(h)]));
    return { counters: { ...this.counters }, histograms: encode(this.histograms), sizes: encode(this.sizes), domains: this.domains.snapshot(), changes: [...this.changes] };
  }
}
