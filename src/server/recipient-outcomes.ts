/**
 * What a recipient that passed the grammar gets, beyond the plain 250: a forced outcome by local
 * part, a refused mailbox, or its domain's policy (rate limit, deferral or bounce drawn at RCPT or
 * kept for the end of data, latency), each counted under the recipient's domain when the server
 * counts domains (docs/reference-server.md "Realistic sink"). The command machine
 * (src/server/commands.ts) owns the transaction and sends the replies decided here.
 */
import * as address from '../protocol/address.js';
import * as octets from '../protocol/bytes.js';
import type { ServerContext } from './context.js';
import * as sink from './domains.js';

const { equalsCI } = octets;
const { PATH_OK, scanPath } = address;
const {
  CONNECTION_RATE_LIMITED,
  domainOf,
  FORCED_DISCONNECT,
  FORCED_NONE,
  FORCED_PERMFAIL,
  FORCED_PERMFAIL_BUF,
  FORCED_SLOW,
  FORCED_TEMPFAIL,
  FORCED_TEMPFAIL_BUF,
  forcedKind,
  MESSAGE_RATE_LIMITED,
  RECIPIENT_RATE_LIMITED,
} = sink;

const QUOTE = 0x22;

/** The octets of a quoted string's content with its quoted-pairs (`\x`) resolved (RFC 5321 §4.1.2). */
function unquote(content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(content.length);
  let n = 0;
  for (let i = 0; i < content.length; i++) out[n++] = content[i] === 0x5c ? content[++i] : content[i];
  return out.subarray(0, n);
}

/** A recipient's reply as decided here (one object reused: read it before the next decision). */
export interface RcptDecision {
  /** The reply, or null: close without one. */
  reply: Buffer | null;
  /** Wait this long before the reply is written, ms. */
  delayMs: number;
}

/** One session's recipient outcomes; `reset` at the end of each transaction. */
export class RecipientOutcomes {
  /** Accepted recipients whose policy gives its outcome at the end of data: their policies and domains. */
  private readonly endPolicies: sink.CompiledPolicy[] = [];
  private readonly endDomains: string[] = [];
  /** Their places among the transaction's accepted recipients (0-based, RCPT order): LMTP replies per recipient. */
  private readonly endIndexes: number[] = [];
  /**
   * The `rate.connections` buckets this session took a token of (one per bucket). Buckets, not
   * policies: a `PUT /domains` that keeps a rate keeps its bucket, and the session its token.
   */
  private readonly sessionBuckets: sink.TokenBucket[] = [];
  /** The `rate.messages` buckets this transaction asked a token of, and whether it was refused. */
  private readonly messageBuckets: sink.TokenBucket[] = [];
  private readonly messageRefused: boolean[] = [];
  private readonly decision: RcptDecision = { reply: null, delayMs: 0 };

  constructor(private readonly ctx: ServerContext) {}

  /**
   * A forced outcome by local part (docs/reference-server.md "Forced outcomes"): `tempfail@` 451,
   * `permfail@` 550 5.1.1, `slow@` accepted after `forced.slowMs`, `disconnect@` a close without a
   * reply; null when the local part of `path` (just scanned from `line`) forces nothing.
   * @param recipients recipients accepted so far in the transaction
   */
  forced(line: Buffer, path: address.PathScan, recipients: number): RcptDecision | null {
    const kind = forcedKind(line, path.localStart, path.localEnd);
    if (kind === FORCED_NONE) return null;
    this.ctx.metrics.counters.forcedOutcomes++;
    const d = this.decision;
    d.delayMs = 0;
    if (kind === FORCED_DISCONNECT) {
      d.reply = null;
      return d;
    }
    const R = this.ctx.replies;
    let r = kind === FORCED_TEMPFAIL ? FORCED_TEMPFAIL_BUF : kind === FORCED_PERMFAIL ? FORCED_PERMFAIL_BUF : R.rcptOk;
    if (kind === FORCED_SLOW) {
      if (recipients >= this.ctx.settings.maxRecipients) r = R.tooManyRecipients;
      d.delayMs = this.ctx.settings.forced!.slowMs;
    }
    if (this.ctx.domains.count) this.ctx.metrics.domains.rcpt(domainOf(line, path.localEnd, path.end), r);
    d.reply = r;
    return d;
  }

  /**
   * RCPT with domain policies or per-domain counting on (`ServerContext.domains`): the refusals of
   * the plain path (refused mailbox, recipient limit), then the recipient's policy (rate limit,
   * outcome drawn at RCPT, or kept for the end of data) and its latency; counted under its domain.
   */
  policy(line: Buffer, path: address.PathScan, recipients: number): RcptDecision {
    const R = this.ctx.replies;
    const plan = this.ctx.domains;
    const domain = domainOf(line, path.localEnd, path.end);
    const d = this.decision;
    let r = R.rcptOk;
    d.delayMs = 0;
    if (this.ctx.refusedLocalParts.length > 0 && this.refusedMailbox(line, path)) r = R.mailboxUnavailable;
    else if (recipients >= this.ctx.settings.maxRecipients) r = R.tooManyRecipients;
    else if (domain !== '') {
      // `<Postmaster>` (no domain) is never refused by a policy: RFC 5321 §4.5.1 has every server take it.
      const policy = plan.lookup(domain);
      if (policy !== null) {
        const c = this.ctx.metrics.counters;
        const limited = this.overRate(policy);
        if (limited !== null) {
          c.rateLimited++;
          r = limited;
        } else if (policy.atRcpt) {
          d.delayMs = policy.latencyMs();
          const o = policy.outcome();
          if (o !== null) {
            r = o;
            if (o[0] === 0x34) c.policyDeferrals++;
            else c.policyBounces++;
          }
        } else {
          this.endPolicies.push(policy);
          this.endDomains.push(domain);
          this.endIndexes.push(recipients);
        }
      }
    }
    if (plan.count) this.ctx.metrics.domains.rcpt(domain, r);
    d.reply = r;
    return d;
  }

  /**
   * The rate-limit reply for one more recipient of `policy` (`DomainRate`), or null when it is
   * within every limit: the session's first recipient there takes a connection token (none left:
   * 421, and the connection closes), the transaction's first a message token (none left: this and
   * the transaction's other recipients there get 451), and each recipient a recipient token.
   */
  private overRate(policy: sink.CompiledPolicy): Buffer | null {
    if (policy.policy.rate === null) return null;
    const now = performance.now();
    const conn = policy.connectionBucket;
    if (conn !== null && !this.sessionBuckets.includes(conn)) {
      if (!conn.take(now)) return CONNECTION_RATE_LIMITED;
      this.sessionBuckets.push(conn);
    }
    const msg = policy.messageBucket;
    if (msg !== null) {
      const i = this.messageBuckets.indexOf(msg);
      if (i === -1) {
        const refused = !msg.take(now);
        this.messageBuckets.push(msg);
        this.messageRefused.push(refused);
        if (refused) return MESSAGE_RATE_LIMITED;
      } else if (this.messageRefused[i]) return MESSAGE_RATE_LIMITED;
    }
    const rcpt = policy.recipientBucket;
    if (rcpt !== null && !rcpt.take(now)) return RECIPIENT_RATE_LIMITED;
    return null;
  }

  /**
   * True when the local part of `path` (just scanned from `line`) is on the refused list. A quoted
   * local part is compared unquoted: `"unknown"` and `"unk\nown"` are `unknown` (RFC 5321 §4.1.2:
   * all quoted forms MUST be treated as equivalent).
   */
  refusedMailbox(line: Buffer, path: address.PathScan): boolean {
    let local = line;
    let start = path.localStart;
    let end = path.localEnd;
    if (line[start] === QUOTE) {
      local = unquote(line.subarray(start + 1, end - 1));
      start = 0;
      end = local.length;
    }
    for (const lp of this.ctx.refusedLocalParts) if (equalsCI(local, start, end, lp)) return true;
    return false;
  }

  /** Counts an injected RCPT reply for the domain of the forward-path at `line[at]` (when it has a valid one). */
  countFaulted(line: Buffer, at: number, path: address.PathScan, reply: Buffer): void {
    if (scanPath(line, at, 'forward', path) !== PATH_OK) return;
    this.ctx.metrics.domains.rcpt(domainOf(line, path.localEnd, path.end), reply);
  }

  /** Some accepted recipient's policy gives its outcome at the end of data. */
  get pending(): boolean {
    return this.endPolicies.length !== 0;
  }

  /**
   * The end of data with recipients whose policy gives its outcome there: each draws in RCPT
   * order, and the first refusal is the message's (the rest of the draws are not made). Returns
   * that reply or null (accepted), and the largest latency drawn (ms), applied to the final reply.
   */
  endOutcome(): { refusal: Buffer | null; latencyMs: number } {
    let refusal: Buffer | null = null;
    let latencyMs = 0;
    const policies = this.endPolicies;
    for (let i = 0; i < policies.length; i++) {
      latencyMs = Math.max(latencyMs, policies[i].latencyMs());
      if (refusal === null) refusal = policies[i].outcome();
    }
    if (refusal !== null) this.countEndRefusal(refusal, 0, this.endDomains.length);
    return { refusal, latencyMs };
  }

  /**
   * LMTP's end of data (RFC 2033 §4.2: one reply per accepted recipient): each recipient kept for
   * the end of data draws its own outcome, so one message can be refused for some recipients and
   * delivered to the others. Returns the refusal of each accepted recipient in RCPT order (null:
   * accepted) and the largest latency drawn (ms), applied to the replies.
   * @param recipients the transaction's accepted recipients
   */
  endOutcomeEach(recipients: number): { refusals: (Buffer | null)[]; latencyMs: number } {
    const refusals: (Buffer | null)[] = new Array(recipients).fill(null);
    let latencyMs = 0;
    for (let i = 0; i < this.endPolicies.length; i++) {
      const policy = this.endPolicies[i];
      latencyMs = Math.max(latencyMs, policy.latencyMs());
      const refusal = policy.outcome();
      if (refusal === null) continue;
      refusals[this.endIndexes[i]] = refusal;
      this.countEndRefusal(refusal, i, i + 1);
    }
    return { refusals, latencyMs };
  }

  /**
   * Counts one refusal at the end of data: once in the server's counters (a deferral or a bounce),
   * and under the domains of the kept recipients `endDomains[from, to)` when counting domains.
   */
  private countEndRefusal(refusal: Buffer, from: number, to: number): void {
    const deferred = refusal[0] === 0x34;
    const c = this.ctx.metrics.counters;
    if (deferred) c.policyDeferrals++;
    else c.policyBounces++;
    if (!this.ctx.domains.count) return;
    for (let i = from; i < to; i++) {
      const n = this.ctx.metrics.domains.of(this.endDomains[i]);
      if (deferred) n.dataDeferred++;
      else n.dataRejected++;
    }
  }

  /** The transaction ended: forget the recipients kept for the end of data and its message tokens. */
  reset(): void {
    if (this.messageBuckets.length !== 0) {
      this.messageBuckets.length = 0;
      this.messageRefused.length = 0;
    }
    if (this.endPolicies.length === 0) return;
    this.endPolicies.length = 0;
    this.endDomains.length = 0;
    this.endIndexes.length = 0;
  }
}
