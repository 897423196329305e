/**
 * A message and the transactions that carry it (RFC 5321 §3.3), as the pipeline tracks them:
 * which recipients each transaction sends (deferred ones first, RFC 5321 §4.5.3.1.10, then fresh),
 * how far its commands are written (`Stage`), and how its recipients ended. Plain state with no
 * I/O; the pipeline (pipeline.ts) fills and settles it, the group writer (writer.ts) reads it.
 */
import * as clock from '../clock.js';
import type { Recorder } from '../metrics/recorder.js';
import type { ErrorKind } from '../error-kinds.js';
import type { Capabilities } from '../protocol/capabilities.js';
import type { SessionConfig } from './config.js';
import { sentPrefix, stampPrefix, takeRecipients, type MessageShape, type WirePlan } from './message.js';

/** RFC 3463 §3.6 X.5.3 "Too many recipients", as `enhancedCodeAt` packs 4.5.3. */
const TOO_MANY_RECIPIENTS = 4_005_003;

/** How far a transaction's commands are written (its lock-step cursor; a pipelined group goes from first to `Written` at once). */
export const Stage = {
  /** RSET first (a transaction left open before this one). */
  Rset: 0,
  Mail: 1,
  /** RCPT number `Txn.k`. */
  Rcpt: 2,
  /** DATA, or BDAT chunk number `Txn.k`. */
  Body: 3,
  /** Every command is written; only replies (and, after a 354, the message) remain. */
  Written: 4,
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

/** One message: its recipients, which of them are still to be sent, and how they ended. */
export class Msg {
  /** Next recipient (0-based) never sent yet. */
  nextFresh = 0;
  /** Recipients that got 452 and wait for the next transaction; `dHead` is the first not yet resent. */
  deferred: number[] = [];
  dHead = 0;
  accepted = 0;
  rejected = 0;
  txnsOpen = 0;
  /** Stamp lines written before the body (`Message-ID`, sent time), made when the body first goes out (`stamped`); null until then or without a stamp. */
  prefix: Buffer | null = null;
  constructor(
    /** Recipients of the message. */
    readonly n: number,
    /** Intended start, µs on the `nowUs()` clock. */
    readonly intendedUs: number,
    /** The `Message-ID` number of a full stamp, taken at admission (-1: the body has no full stamp). */
    readonly stampId: number,
    /** Which part of the shared body this message sends, and its size in octets. */
    readonly shape: MessageShape,
    /** The recorder's epoch when the message started (see `Pipeline.settle`). */
    readonly epoch: number,
    /** The RCPT line of its first recipient (`takeRecipients`); its recipients follow, wrapping at `pool`. */
    readonly base = 0,
    /** RCPT lines in the plan (`WirePlan.recipients`). */
    readonly pool = n,
  ) {}

  /** Recipients remain to be sent (deferred by a 452, or never sent yet). */
  pending(): boolean {
    return this.dHead < this.deferred.length || this.nextFresh < this.n;
  }
}

/** One transaction; a session reuses two of these (the one finishing and the one pipelined behind it). */
export class Txn {
  /** The message this transaction carries; null while the slot is free. */
  msg: Msg | null = null;
  /** Bumped on every reuse, so a late write callback cannot stamp a newer transaction. */
  gen = 0;
  rset = false;
  /** Recipients: `dCount` from `msg.deferred[dStart…]`, then fresh ones from `fStart`. */
  dStart = 0;
  dCount = 0;
  fStart = 0;
  count = 0;
  /** `msg.deferred.length` when this transaction started: its own 452s are appended after. */
  deferMark = 0;
  first452 = -1;
  mailOk = false;
  rcptOk = 0;
  rcptDone = 0;
  stage: Stage = Stage.Written;
  /** The RCPT or BDAT chunk of `stage` to write next. */
  k = 0;
  /** BDAT chunks of the message (0 with DATA). */
  chunks = 0;
  bdatFailed = false;
  /** End-of-data replies still due (LMTP: one per accepted recipient, RFC 2033 §4.2). */
  eodLeft = 0;
  // Times in µs.
  startUs = 0;
  intendedUs = 0;
  bodySentUs = 0;

  /** `slot`: this transaction's index in the session's pair, as the in-flight FIFO names it. */
  constructor(readonly slot: number) {}

  /**
   * Takes the next recipients of `msg` into this (free) transaction: deferred ones first, then
   * fresh, at most `cap`; `rset`: RSET goes first; `chunks`: BDAT chunks of the message (0: DATA).
   */
  open(msg: Msg, cap: number, rset: boolean, chunks: number, intendedUs: number): void {
    if (msg.dHead === msg.deferred.length && msg.dHead > 0) {
      msg.deferred = [];
      msg.dHead = 0;
    }
    this.gen++;
    this.msg = msg;
    this.rset = rset;
    this.dStart = msg.dHead;
    this.dCount = Math.min(msg.deferred.length - msg.dHead, cap);
    msg.dHead += this.dCount;
    this.fStart = msg.nextFresh;
    const fresh = Math.min(cap - this.dCount, msg.n - msg.nextFresh);
    msg.nextFresh += fresh;
    this.count = this.dCount + fresh;
    this.deferMark = msg.deferred.length;
    this.first452 = -1;
    this.mailOk = false;
    this.rcptOk = 0;
    this.rcptDone = 0;
    this.stage = rset ? Stage.Rset : Stage.Mail;
    this.k = 0;
    this.chunks = chunks;
    this.bdatFailed = false;
    this.eodLeft = 0;
    this.startUs = clock.nowUs();
    this.intendedUs = intendedUs;
    this.bodySentUs = 0;
    msg.txnsOpen++;
  }

  /**
   * Settles one RCPT reply, `code` with its packed enhanced code (`enhancedCodeAt`, 0 for none),
   * for recipient `r` (0-based). Returns the server's recipient limit when this reply revealed it
   * (its first "too many recipients" after at least one acceptance), else 0.
   */
  onRcpt(r: number, code: number, enhanced: number, rec: Recorder): number {
    const msg = this.msg;
    if (msg === null) return 0;
    let limit = 0;
    const k = this.rcptDone++;
    if (code >= 200 && code < 300) this.rcptOk++;
    else if (code === 452 && (enhanced === 0 || enhanced === TOO_MANY_RECIPIENTS)) {
      // RFC 5321 §4.5.3.1.10: too many recipients; send the rest in another transaction. A 452
      // with another enhanced code (4.2.2 mailbox full, 4.3.1 storage) is that recipient's own
      // deferral, not the server's limit (RFC 3463 §3.6: X.5.3 is "too many recipients").
      if (this.first452 < 0) {
        this.first452 = k;
        // The server's limit: what it took before its first 452 (RFC 5321 §4.5.3.1.8 promises at
        // least 100; trust what we saw). Learnt at once, so it holds even when the server then
        // drops the connection (Postfix: 421 after too many excess recipients).
        if (this.rcptOk > 0) limit = k;
      }
      msg.deferred.push(r);
    } else msg.rejected++;
    if (this.rcptDone < this.count) return limit;
    const deferred = msg.deferred.length - this.deferMark;
    if (deferred === 0) return limit;
    if (this.rcptOk === 0) {
      // No progress: retrying could loop; the 452s are final for this run.
      msg.rejected += deferred;
      msg.deferred.length = this.deferMark;
      return limit;
    }
    // Like every message figure, not for a message that started during warm-up (see `settle`).
    if (msg.epoch === rec.epoch) rec.counters.recipientsDeferred += deferred;
    return limit;
  }

  /** The RCPT line (0-based, in the plan's RCPT block) of this transaction's `k`-th RCPT; `msg` is its message. */
  rcptAt(msg: Msg, k: number): number {
    if (k < this.dCount) return msg.deferred[this.dStart + k];
    const i = msg.base + this.fStart + (k - this.dCount);
    return i < msg.pool ? i : i - msg.pool;
  }
}

/**
 * Counts a finished message and its recipients in the recorder; `failed` recipients had no final
 * reply. A message that started during warm-up (another recorder epoch) is not counted: its
 * attempt was counted before the reset, so its outcome is not counted after it.
 */
export function settle(rec: Recorder, msg: Msg, failed: number): void {
  if (msg.epoch !== rec.epoch) return;
  const c = rec.counters;
  c.recipientsAccepted += msg.accepted;
  c.recipientsRejected += msg.rejected;
  c.recipientsFailed += failed;
  if (msg.accepted > 0) c.messagesAccepted++;
  else if (failed > 0) c.messagesFailed++;
  else c.messagesRejected++;
}

/** Per-worker message number for `Message-ID` (module state: one module instance per worker thread). */
let stampSeq = 0;

/**
 * A new message of `n` recipients and `shape`, intended to start at `intendedUs`, counted as
 * attempted; null when the server cannot take this one (`unsendableKind`: a size drawn above its
 * SIZE), which is counted as abandoned with its error kind and not as attempted: it never goes on
 * the wire (hostile review F2; a plan no message of which fits is refused at the handshake).
 * Its stamp (`Message-ID`, sent time) is made here, once.
 */
export function admitMessage(cfg: SessionConfig, caps: Capabilities, n: number, shape: MessageShape, intendedUs: number): Msg | null {
  const rec = cfg.recorder;
  const c = rec.counters;
  const unsendable = unsendableKind(cfg.plan, shape, caps);
  if (unsendable !== null) {
    rec.error(unsendable, unsendable === 'size-exceeded' ? `a ${shape.size}-octet message over the server's SIZE ${caps.size}` : undefined);
    c.messagesAbandoned++;
    return null;
  }
  c.messagesAttempted++;
  c.recipientsAttempted += n;
  return new Msg(n, intendedUs, shape.body.stamp === 'full' ? stampSeq++ : -1, shape, rec.epoch, takeRecipients(cfg.plan, n), cfg.plan.recipients);
}

/**
 * `msg`'s stamp lines, made the first time its body goes on the wire (after the 354, or with its
 * first BDAT chunk) and kept for its 452 continuations: X-Smtpbench-Sent is then the time the
 * message was sent, not the time its envelope was pipelined behind the previous message, whose
 * end-of-data wait would otherwise count as delivery time (hostile review F20). Fixed width, so
 * the SIZE= declared in MAIL holds. Null for a body without a stamp.
 */
export function stamped(cfg: SessionConfig, msg: Msg): Buffer | null {
  if (msg.prefix !== null) return msg.prefix;
  const stamp = msg.shape.body.stamp;
  if (stamp === 'none') return null;
  msg.prefix = stamp === 'full' ? stampPrefix(cfg.stamp?.run ?? 0, cfg.stamp?.worker ?? 0, msg.stampId, clock.epochUs()) : sentPrefix(clock.epochUs());
  return msg.prefix;
}

/**
 * Why the server cannot take a message of `shape`, or null when it can: larger than its SIZE
 * (RFC 1870 §6), 8-bit without 8BITMIME (RFC 6152 §3), non-ASCII addresses without SMTPUTF8
 * (RFC 6531 §3.4). Such a message is not sent.
 */
export function unsendableKind(plan: WirePlan, shape: MessageShape, caps: Capabilities): ErrorKind | null {
  if (caps.size !== null && caps.size > 0 && shape.size > caps.size) return 'size-exceeded';
  if (shape.body.eightBit && !caps.eightBitMime) return '8bitmime-unavailable';
  if (plan.smtpUtf8 && !caps.smtpUtf8) return 'smtputf8-unavailable';
  return null;
}

/**
 * A message cut by the end of the run (`cutUs`: when; null: its connection failed for another
 * reason) has no transaction time; its elapsed time so far is a lower bound of it, recorded as
 * `censored` so a stalled server cannot hide from the latency figures (issue 13). Not for a
 * message of the warm-up.
 */
export function censor(rec: Recorder, msg: Msg, cutUs: number | null): void {
  if (cutUs !== null && msg.epoch === rec.epoch) rec.record('censored', cutUs - msg.intendedUs);
}
