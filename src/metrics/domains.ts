/**
 * RCPT outcomes per recipient domain (issue 15): for each domain (lower-cased), how many RCPT
 * replies accepted (2yz), deferred (4yz) or rejected (5yz) a recipient. The shape is the reference
 * server's own (`domains` in its GET /stats and in summary.json's server section), so a test can
 * compare the two. At most `MAX_DOMAINS` distinct domains; the rest count under `OTHER_DOMAIN`.
 *
 * Counting is on the RCPT path (hot with fan-out): the wire plan numbers its domains once, and a
 * reply is one increment in a typed array by domain number, never a string lookup.
 */

/**
 * One domain's RCPT replies by class; `closed`: RCPTs answered 421, which ends the session (RFC 5321
 * §3.8; a connection rate limit, a busy server), counted apart from the recipient outcomes. Absent
 * while 0 (and in summaries written before it).
 */
export interface DomainOutcome {
  accepted: number;
  deferred: number;
  rejected: number;
  closed?: number;
}

/** `domains[domain]` = its RCPT outcomes. */
export type DomainCounts = Record<string, DomainOutcome>;

/** Most distinct domains counted by name (the reference server's cap too). */
export const MAX_DOMAINS = 1000;
/** The name the domains past `MAX_DOMAINS` count under. */
export const OTHER_DOMAIN = '(other)';
/** Domains a report's table lists by name (the most recipients first); the rest make one `OTHER_DOMAIN` row. */
export const DOMAINS_SHOWN = 20;

/** Outcome slots per domain in `DomainTally`'s array: accepted, deferred, rejected, closed. */
const SLOTS = 4;

/** The total RCPT replies of one domain's counts (421s included). */
export const volumeOf = (o: DomainOutcome): number => o.accepted + o.deferred + o.rejected + (o.closed ?? 0);

/** Adds `o` into `to`, `closed` only when there is one. */
function addOutcome(to: DomainOutcome, o: DomainOutcome): void {
  to.accepted += o.accepted;
  to.deferred += o.deferred;
  to.rejected += o.rejected;
  if (o.closed) to.closed = (to.closed ?? 0) + o.closed;
}

/**
 * One thread's counts, by domain number: `use(names)` names the numbers (the wire plan's
 * `domainNames`), `rcpt(d, code)` counts one reply for domain number `d`.
 */
export class DomainTally {
  private names: readonly string[] = [];
  private cells = new Float64Array(0);
  /** Counts under names used before the current ones (a recorder shared by two plans: tests). */
  private carried: DomainCounts = {};

  /** Numbers domains as `names` does (index = domain number); a no-op when they already are. */
  use(names: readonly string[]): void {
    if (names === this.names) return;
    if (this.names.length > 0) addDomainCounts(this.carried, this.own());
    this.names = names;
    this.cells = new Float64Array(names.length * SLOTS);
  }

  /** Counts one RCPT reply `code` (2yz, 4yz or 5yz; 421 as `closed`) for domain number `d`. */
  rcpt(d: number, code: number): void {
    this.cells[d * SLOTS + (code < 400 ? 0 : code === 421 ? 3 : code < 500 ? 1 : 2)]++;
  }

  /** The counts so far, by domain name (domains without a reply left out). */
  counts(): DomainCounts {
    const out: DomainCounts = {};
    addDomainCounts(out, this.carried);
    addDomainCounts(out, this.own());
    return out;
  }

  /** Forgets every count (the end of warm-up); the numbering stays. */
  reset(): void {
    this.cells.fill(0);
    this.carried = {};
  }

  private own(): DomainCounts {
    const out: DomainCounts = {};
    const c = this.cells;
    for (let d = 0; d < this.names.length; d++) {
      const i = d * SLOTS;
      if (c[i] + c[i + 1] + c[i + 2] + c[i + 3] > 0) out[this.names[d]] = { accepted: c[i], deferred: c[i + 1], rejected: c[i + 2], ...(c[i + 3] > 0 ? { closed: c[i + 3] } : {}) };
    }
    return out;
  }
}

/**
 * Adds `from` into `into` domain by domain; past `MAX_DOMAINS` named domains, the smallest (by
 * volume) are folded into `OTHER_DOMAIN`. `from` may be absent (summaries written before).
 */
export function addDomainCounts(into: DomainCounts, from: DomainCounts | undefined): void {
  if (from === undefined) return;
  for (const [domain, o] of Object.entries(from)) {
    addOutcome((into[domain] ??= { accepted: 0, deferred: 0, rejected: 0 }), o);
  }
  const named = Object.keys(into).filter((d) => d !== OTHER_DOMAIN);
  if (named.length <= MAX_DOMAINS) return;
  for (const [domain] of byVolume(into).slice(MAX_DOMAINS)) {
    fold(into, domain);
  }
}

/** Moves `domain`'s counts into `OTHER_DOMAIN`. */
function fold(counts: DomainCounts, domain: string): void {
  const o = counts[domain];
  delete counts[domain];
  addOutcome((counts[OTHER_DOMAIN] ??= { accepted: 0, deferred: 0, rejected: 0 }), o);
}

/** Named domains, the most RCPT replies first (ties by name); `OTHER_DOMAIN` left out. */
function byVolume(counts: DomainCounts): [string, DomainOutcome][] {
  return Object.entries(counts)
    .filter(([d]) => d !== OTHER_DOMAIN)
    .sort((a, b) => volumeOf(b[1]) - volumeOf(a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * A report's rows: the `shown` domains with the most RCPT replies, then one `OTHER_DOMAIN` row for
 * the rest (and for what was already counted there), when there is any.
 */
export function topDomains(counts: DomainCounts, shown = DOMAINS_SHOWN): [string, DomainOutcome][] {
  const sorted = byVolume(counts);
  const rows = sorted.slice(0, shown);
  const other: DomainOutcome = { ...(counts[OTHER_DOMAIN] ?? { accepted: 0, deferred: 0, rejected: 0 }) };
  for (const [, o] of sorted.slice(shown)) addOutcome(other, o);
  if (volumeOf(other) > 0) rows.push([OTHER_DOMAIN, other]);
  return rows;
}
