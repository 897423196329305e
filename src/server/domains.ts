/**
 * The realistic sink (docs/reference-server.md "Realistic sink"): recipient-domain policies
 * compiled once per server (`DomainPlan`, swapped whole by `PUT /domains`), the per-domain RCPT
 * counters, and the forced outcomes by local part (`tempfail@`, `permfail@`, `slow@`,
 * `disconnect@`).
 *
 * Determinism: each policy draws its outcomes (and the reply picked from a pool) from its own
 * generator, and its latencies from another, both seeded from the profile's `seed` when given.
 * So the outcomes of one policy's recipients, in the order the server sees them, are the same
 * run after run, whichever connections they came on (a rate limit, being a matter of time, aside).
 */
import { domainToASCII } from 'node:url';
import * as octets from '../protocol/bytes.js';
import type { DelaySpec, DomainPolicy } from '../profile/types.js';
import { CONNECTION_RATE_LIMIT_REPLY, FORCED_PERMFAIL_REPLY, FORCED_TEMPFAIL_REPLY, RATE_LIMIT_REPLY, RECIPIENT_RATE_LIMIT_REPLY } from '../profile/reply-pool.js';
import type { Rng } from '../rng.js';
import { sampleDelay, serverRng } from './faults.js';
import { closesSession } from './replies.js';

const { equalsCI } = octets;

/** Distinct domains counted one by one; the rest are added up under `OTHER_DOMAIN`. */
export const MAX_COUNTED_DOMAINS = 1000;
export const OTHER_DOMAIN = '(other)';
/** Domains whose policy lookup is remembered per plan (the rest are looked up each time: a few map reads). */
const MAX_CACHED_LOOKUPS = 10_000;

const reply = (text: string): Buffer => Buffer.from(`${text}\r\n`, 'latin1');
/** Replies over a policy's `rate`: messages, recipients (451 4.7.1), connections (421 4.7.0, then close). */
export const MESSAGE_RATE_LIMITED = reply(RATE_LIMIT_REPLY);
export const RECIPIENT_RATE_LIMITED = reply(RECIPIENT_RATE_LIMIT_REPLY);
export const CONNECTION_RATE_LIMITED = reply(CONNECTION_RATE_LIMIT_REPLY);

/**
 * A token bucket: holds `size` tokens, refills `size` per `perMs`, so a burst of `size` passes and
 * then one every `perMs / size`. Times from `performance.now()` (ms), not the server's 100 ms coarse
 * clock: on that clock a bucket could refill at most `size` a tick, and `per: 10ms` would pass a tenth
 * of what it says (hostile review of issue 15, B1).
 */
export class TokenBucket {
  private tokens: number;
  private filledMs = -1;

  constructor(
    private readonly size: number,
    private readonly perMs: number,
  ) {
    this.tokens = size;
  }

  /** Takes one token at `nowMs`; false when none is left. */
  take(nowMs: number): boolean {
    if (this.filledMs >= 0) this.tokens = Math.min(this.size, this.tokens + ((nowMs - this.filledMs) * this.size) / this.perMs);
    this.filledMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/**
 * RCPT outcomes for one recipient domain: replies to RCPT by class (2xx accepted, 4xx deferred,
 * 5xx rejected), and recipients of messages a `data-end` policy refused after the data.
 */
export interface DomainCount {
  accepted: number;
  deferred: number;
  rejected: number;
  /** RCPTs answered 421 (the session ended there); absent while 0, as the client's. */
  closed?: number;
  dataDeferred: number;
  dataRejected: number;
}

/** Per-domain counters of one server: at most `MAX_COUNTED_DOMAINS` names, then `(other)`. */
export class DomainCounts {
  private readonly byName = new Map<string, DomainCount>();

  /** The counters of `domain` (lower case), created on first use. */
  of(domain: string): DomainCount {
    let c = this.byName.get(domain);
    if (c !== undefined) return c;
    if (this.byName.size >= MAX_COUNTED_DOMAINS) domain = OTHER_DOMAIN;
    c = this.byName.get(domain);
    if (c === undefined) this.byName.set(domain, (c = { accepted: 0, deferred: 0, rejected: 0, dataDeferred: 0, dataRejected: 0 }));
    return c;
  }

  /**
   * Counts one RCPT reply for `domain` by its class. A 421 is not a recipient's outcome but the
   * session's end (RFC 5321 §3.8): counted as `closed`, as the client counts it.
   */
  rcpt(domain: string, r: Buffer): void {
    const c = this.of(domain);
    if (closesSession(r)) {
      c.closed = (c.closed ?? 0) + 1;
      return;
    }
    if (r[0] === 0x32) c.accepted++;
    else if (r[0] === 0x34) c.deferred++;
    else c.rejected++;
  }

  reset(): void {
    this.byName.clear();
  }

  /** A plain copy, by domain (structured-clone safe). */
  snapshot(): Record<string, DomainCount> {
    const out: Record<string, DomainCount> = {};
    for (const [name, c] of this.byName) out[name] = { ...c };
    return out;
  }
}

/** True when two `rate`s limit the same counts the same way. */
function sameRate(a: DomainPolicy['rate'], b: DomainPolicy['rate']): boolean {
  if (a === null || b === null) return a === b;
  return a.messages === b.messages && a.recipients === b.recipients && a.connections === b.connections && a.perMs === b.perMs;
}

/** One policy, compiled: replies encoded, its generators, its token buckets. */
export class CompiledPolicy {
  readonly atRcpt: boolean;
  private readonly deferReplies: readonly Buffer[];
  private readonly bounceReplies: readonly Buffer[];
  private readonly latency: DelaySpec | null;
  private readonly outcomes: Rng;
  private readonly latencies: Rng;
  /** The `rate` buckets (DomainRate): null where that count is not limited. */
  readonly messageBucket: TokenBucket | null;
  readonly recipientBucket: TokenBucket | null;
  readonly connectionBucket: TokenBucket | null;

  /** @param previous the same pattern's policy in the plan this one replaces: its buckets carry over when the rate is the same */
  constructor(
    readonly policy: DomainPolicy,
    seed: number | null,
    index: number,
    previous?: CompiledPolicy,
  ) {
    this.atRcpt = policy.at === 'rcpt';
    this.deferReplies = policy.replies.defer.map(reply);
    this.bounceReplies = policy.replies.bounce.map(reply);
    this.latency = policy.latency;
    // Streams 1, 2 of each policy (stream 0 is the fault plan's).
    this.outcomes = serverRng(seed, 1 + 2 * index);
    this.latencies = serverRng(seed, 2 + 2 * index);
    // An unchanged rate keeps its buckets across a `PUT /domains`: another edit must not hand a
    // limited domain a fresh burst (hostile review of issue 15, B2).
    const kept = previous !== undefined && sameRate(previous.policy.rate, policy.rate) ? previous : null;
    const bucket = (size: number | null | undefined, old: TokenBucket | null | undefined): TokenBucket | null => (size == null ? null : (old ?? new TokenBucket(size, policy.rate!.perMs)));
    this.messageBucket = bucket(policy.rate?.messages, kept?.messageBucket);
    this.recipientBucket = bucket(policy.rate?.recipients, kept?.recipientBucket);
    this.connectionBucket = bucket(policy.rate?.connections, kept?.connectionBucket);
  }

  /** Draws one recipient's outcome: a deferral or bounce reply from the pools, or null (accepted). */
  outcome(): Buffer | null {
    const p = this.policy;
    if (p.defer === 0 && p.bounce === 0) return null;
    const u = this.outcomes.next();
    if (u < p.bounce) return this.bounceReplies[Math.floor(this.outcomes.next() * this.bounceReplies.length)];
    if (u < p.bounce + p.defer) return this.deferReplies[Math.floor(this.outcomes.next() * this.deferReplies.length)];
    return null;
  }

  /** The policy's latency drawn for one reply, ms (0 without one). */
  latencyMs(): number {
    return this.latency === null ? 0 : sampleDelay(this.latency, this.latencies);
  }
}

/**
 * The compiled `server.domains` of one server, with the per-domain counting switch. `active` is
 * false when there is neither a policy nor counting: RCPT then pays one boolean test.
 */
export class DomainPlan {
  readonly active: boolean;
  readonly count: boolean;
  private readonly exact = new Map<string, CompiledPolicy>();
  /** `*.suffix` policies by suffix (with its leading dot: `.gmail.test`). */
  private readonly wildcard = new Map<string, CompiledPolicy>();
  private readonly fallback: CompiledPolicy | null = null;
  private readonly cache = new Map<string, CompiledPolicy | null>();

  /**
   * @param policies the resolved `server.domains`
   * @param count count RCPT outcomes per domain (`countDomains`)
   * @param seed `ServerSettings.seed` (null: random draws)
   * @param previous the plan this one replaces (`PUT /domains`): a pattern whose rate is unchanged keeps its buckets
   */
  constructor(
    readonly policies: readonly DomainPolicy[],
    count: boolean,
    seed: number | null,
    previous?: DomainPlan,
  ) {
    this.count = count;
    this.active = count || policies.length > 0;
    for (const [i, p] of policies.entries()) {
      const c = new CompiledPolicy(p, seed, i, previous?.byPattern(p.pattern));
      if (p.pattern === '*') this.fallback = c;
      else if (p.pattern.startsWith('*.')) this.wildcard.set(p.pattern.slice(1), c);
      else this.exact.set(p.pattern, c);
    }
  }

  /** The compiled policy of `pattern` exactly as written (`*.x.test`, `*`), or undefined. */
  byPattern(pattern: string): CompiledPolicy | undefined {
    if (pattern === '*') return this.fallback ?? undefined;
    return pattern.startsWith('*.') ? this.wildcard.get(pattern.slice(1)) : this.exact.get(pattern);
  }

  /**
   * The policy for `domain` (lower case): its exact pattern, else the longest `*.suffix` it is a
   * subdomain of, else `*`, else null.
   */
  lookup(domain: string): CompiledPolicy | null {
    const cached = this.cache.get(domain);
    if (cached !== undefined) return cached;
    // A U-label domain (SMTPUTF8) matches the A-label form its policy is kept in: xn--bcher-kva.test.
    if (!/^[\x00-\x7f]*$/.test(domain)) {
      const ascii = domainToASCII(domain);
      const found = ascii === '' ? null : this.lookup(ascii);
      if (this.cache.size < MAX_CACHED_LOOKUPS) this.cache.set(domain, found);
      return found;
    }
    let found = this.exact.get(domain) ?? null;
    if (found === null && this.wildcard.size > 0) {
      // Suffixes from the longest (most specific) down; at most one per label (255 octets: ≤ 128 labels).
      for (let dot = domain.indexOf('.'); dot !== -1 && found === null; dot = domain.indexOf('.', dot + 1)) found = this.wildcard.get(domain.slice(dot)) ?? null;
    }
    found ??= this.fallback;
    if (this.cache.size < MAX_CACHED_LOOKUPS) this.cache.set(domain, found);
    return found;
  }
}

/** Forced outcomes by local part (`ServerSettings.forced`), as `forcedKind` returns them. */
export const FORCED_NONE = 0;
export const FORCED_TEMPFAIL = 1;
export const FORCED_PERMFAIL = 2;
export const FORCED_SLOW = 3;
export const FORCED_DISCONNECT = 4;

const TEMPFAIL = Buffer.from('tempfail');
const PERMFAIL = Buffer.from('permfail');
const SLOW = Buffer.from('slow');
const DISCONNECT = Buffer.from('disconnect');
/** Bit n set: a forced local part is n octets long (4, 8, 10). */
export const FORCED_LENGTHS = (1 << 4) | (1 << 8) | (1 << 10);

/** Nonzero at the first octet (either case) of a forced local part: `t`, `p`, `s`, `d`. */
export const FORCED_FIRST = new Uint8Array(256);
for (const c of 'tpsd') FORCED_FIRST[c.charCodeAt(0)] = FORCED_FIRST[c.toUpperCase().charCodeAt(0)] = 1;

export const FORCED_TEMPFAIL_BUF = reply(FORCED_TEMPFAIL_REPLY);
export const FORCED_PERMFAIL_BUF = reply(FORCED_PERMFAIL_REPLY);

/**
 * Which forced outcome the local part `line[start..end)` names (ASCII case-insensitive; quoted
 * forms do not count), or `FORCED_NONE`. Callers test the length against `FORCED_LENGTHS` first.
 */
export function forcedKind(line: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n === 8) return equalsCI(line, start, end, TEMPFAIL) ? FORCED_TEMPFAIL : equalsCI(line, start, end, PERMFAIL) ? FORCED_PERMFAIL : FORCED_NONE;
  if (n === 4) return equalsCI(line, start, end, SLOW) ? FORCED_SLOW : FORCED_NONE;
  return equalsCI(line, start, end, DISCONNECT) ? FORCED_DISCONNECT : FORCED_NONE;
}

/**
 * The domain of the forward-path just scanned, lower case: the octets after the local part's `@`
 * up to `>` (`pathEnd` is just past it); `""` for `<Postmaster>`. Decoded as latin1 (a U-label's
 * octets stay distinct).
 */
export function domainOf(line: Buffer, localEnd: number, pathEnd: number): string {
  if (line[localEnd] !== 0x40) return '';
  // UTF-8 (RFC 6531 U-labels): decoded as the client decodes its domains, so the two tables agree.
  return line.toString('utf8', localEnd + 1, pathEnd - 1).toLowerCase();
}
