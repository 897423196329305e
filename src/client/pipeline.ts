/**
 * A session's transactions on one connection: opening them (fan-out over
 * `maxRecipientsPerTransaction`, 452 continuation), writing them (`GroupWriter`), pairing every
 * reply with the head of the in-flight FIFO (`InFlight`, house style §6), and settling each
 * recipient and message once.
 *
 * Pairing: RFC 2920 §3.1 has the server answer in order, so the head entry is what a reply
 * answers. A reply of the wrong class for its command (a 354 to RCPT, a 250 to DATA) is a protocol
 * error (`bad-reply`), never taken as success. With PIPELINING the next group is written right
 * behind the message body (RFC 2920 §3.1 lets message content start a group), so the server
 * always has work queued; without it the FIFO holds one command at a time.
 *
 * 452 (RFC 5321 §4.5.3.1.10): deferred recipients go into the next transaction of the same
 * session, as long as the transaction that deferred them accepted at least one recipient (so every
 * transaction settles at least one recipient and the loop is bounded by the recipient count); the
 * session also lowers its cap to the number of recipients the server took before the 452, so a
 * 100,000-recipient message to a 1000-limit server costs 100 transactions, not a quadratic stream
 * of retried RCPTs.
 *
 * Settlement per recipient, once: accepted (2xx RCPT and 2xx end of data; in LMTP its own
 * end-of-data reply), rejected (a final negative reply to its RCPT, MAIL or end of data, or a 452
 * that could not be retried), failed (no final reply: timeout, reset, 421). A message is accepted
 * when at least one recipient was, else failed when any recipient failed, else rejected.
 *
 * Back-pressure (DESIGN §4): when the socket is blocked (`Transport.blocked`) no further group,
 * body or BDAT chunk is written; replies are still paired, and what waits is written on 'drain'.
 */
import * as clock from '../clock.js';
import { reply421Kind, type CommandStep, type ErrorKind } from '../error-kinds.js';
import type { DomainTally } from '../metrics/domains.js';
import type { Capabilities } from '../protocol/capabilities.js';
import { DEFAULTS } from '../profile/defaults.js';
import type { SessionConfig } from './config.js';
import { Cmd, InFlight, phaseOf } from './inflight.js';
import { STEP_COMMANDS } from './steps.js';
import { censor, settle, Stage, Txn, type Msg } from './transaction.js';
import type { Wire } from './transport.js';
import { GroupWriter, type Deadline } from './writer.js';

const { nowUs } = clock;

const is2xx = (code: number): boolean => code >= 200 && code < 300;
const is3xx = (code: number): boolean => code >= 300 && code < 400;

/** What waits for 'drain' (`defer`); a larger value outweighs a smaller. */
const Resume = {
  None: 0,
  /** The next transaction, or the look-ahead group behind a body. */
  Next: 1,
  /** The rest of the transaction in `resumeTxn` (its next lock-step command, or further BDAT chunks). */
  Emit: 2,
  /** The message of `resumeTxn`, whose 354 came while blocked. */
  Body: 3,
} as const;
type Resume = (typeof Resume)[keyof typeof Resume];

/** The session, as the pipeline sees it: the deadline it arms, and where the next transaction comes from. */
export interface PipelineHost extends Deadline {
  /** The next transaction to write behind a message body (RFC 2920 §3.1), or null (none due, or a scenario step next). */
  lookahead(): Txn | null;
}

/** The transactions of one session (reset per connection). */
export class Pipeline {
  private readonly fifo = new InFlight();
  private readonly writer: GroupWriter;
  private readonly txns = [new Txn(0), new Txn(1)];
  /** The message whose recipients are being sent (or wait for a continuation). */
  private cur: Msg | null = null;
  /** Learned from a 452: how many recipients the server takes per transaction (0: unknown). */
  private learnedCap = 0;
  /** The server may still hold a transaction (a failed one, an accepted SEND): RSET before the next. */
  private needRset = false;
  private resume: Resume = Resume.None;
  private resumeTxn: Txn | null = null;
  /** Octets of the last body still queued in the socket when its deadline was last armed; -1: none going out. */
  private draining = -1;
  /** The plan's domain number of each RCPT line and the recorder's per-domain tally (read on every RCPT reply). */
  private readonly rcptDomain: Uint16Array;
  private readonly domains: DomainTally;

  constructor(
    private readonly cfg: SessionConfig,
    private readonly transport: Wire,
    private readonly host: PipelineHost,
  ) {
    this.writer = new GroupWriter(cfg, transport, this.fifo, host);
    this.rcptDomain = cfg.plan.rcptDomain;
    this.domains = cfg.recorder.domains;
    this.domains.use(cfg.plan.domainNames);
  }

  /** A new connection: nothing in flight, nothing waiting for 'drain'. */
  reset(): void {
    this.fifo.clear();
    this.needRset = false;
    this.resume = Resume.None;
    this.resumeTxn = null;
  }

  /** The handshake is done: the server's extensions, BDAT or DATA, pipelined or lock-step. */
  configure(caps: Capabilities, bdat: boolean, pipelining: boolean): void {
    this.writer.caps = caps;
    this.writer.bdat = bdat;
    this.writer.lockstep = !pipelining;
  }

  /** Commands written and not yet answered. */
  get inFlight(): number {
    return this.fifo.length;
  }

  /** Nothing in flight and no transaction waiting for 'drain': the session may start the next. */
  get idle(): boolean {
    return this.fifo.length === 0 && this.resume <= Resume.Next;
  }

  /** The phase of the command whose reply is awaited next, for error kinds; only while `inFlight > 0`. */
  headStep(): CommandStep {
    return phaseOf(this.fifo.peekKind(), this.fifo.headArg());
  }

  /** A transaction for the rest of the current message (deferred and unsent recipients), or null when it has none. */
  continuation(): Txn | null {
    const cur = this.cur;
    return cur !== null && cur.pending() ? this.open(cur, nowUs()) : null;
  }

  /** The first transaction of a new message. */
  startMessage(msg: Msg): Txn {
    this.cur = msg;
    return this.open(msg, msg.intendedUs);
  }

  /** Writes transaction `t` (its whole group, or its first command in lock-step) in one corked batch. */
  write(t: Txn): void {
    const msg = t.msg;
    if (msg === null) return;
    this.transport.cork();
    if (this.writer.emit(t, msg)) this.defer(Resume.Emit, t);
    this.transport.uncork();
  }

  /** Writes scenario step `step`; VRFY/EXPN name recipient `n` (1-based). */
  writeStep(step: number, n: number): void {
    const cmd = STEP_COMMANDS[step];
    // An accepted SEND/SOML/SAML (or a failed transaction) left a transaction open; these open one
    // like MAIL (RFC 821 §4.1.1), so reset first, or the server answers 503. Recorded as an RSET step.
    const rset = this.needRset && (cmd === 'SEND' || cmd === 'SOML' || cmd === 'SAML');
    if (rset) this.needRset = false;
    this.writer.writeStep(step, n, rset);
  }

  /** The socket is blocked: the next transaction waits for 'drain'. */
  deferNext(): void {
    this.defer(Resume.Next, null);
  }

  /**
   * The socket drained: writes what waited for it. Returns true when the session should start its
   * next transaction (nothing is in flight).
   */
  onDrain(): boolean {
    const what = this.resume;
    const t = this.resumeTxn;
    if (what === Resume.None) return false;
    this.resume = Resume.None;
    this.resumeTxn = null;
    if (what === Resume.Body && t !== null) {
      this.sendBody(t);
      return false;
    }
    if (what === Resume.Emit && t !== null && t.msg !== null) {
      this.write(t);
      return false;
    }
    if (this.fifo.length === 0) return true;
    // The look-ahead behind a body (`sendBody`), its end of data still awaited.
    const next = this.host.lookahead();
    if (next !== null) this.write(next);
    return false;
  }

  /**
   * One reply to a transaction command, paired with the FIFO head. Returns the error kind that ends
   * the connection, or null; then, when `idle`, the session starts its next transaction.
   */
  onReply(code: number, enhanced: number, now: number): ErrorKind | null {
    const rec = this.cfg.recorder;
    if (this.fifo.length === 0) {
      rec.reply('unsolicited', code, enhanced);
      return code === 421 ? 'ready-421' : 'unexpected-reply';
    }
    const kind = this.fifo.peekKind();
    const t = this.txns[this.fifo.headSlot()];
    const arg = this.fifo.headArg();
    const sent = this.fifo.headSentUs();
    this.fifo.shift();
    const phase = phaseOf(kind, arg);
    rec.reply(phase, code, enhanced);
    // A reply of the wrong class for its command desynchronises the stream: RFC 5321 §4.2 gives
    // 3yz only to DATA (354); a 2yz to DATA means the server did not wait for the message.
    if (kind === Cmd.Data ? is2xx(code) : is3xx(code)) return 'bad-reply';
    // RFC 5321 §3.8: the server is closing the channel; what is in flight will not be answered.
    // A 421 to RCPT is still counted under its domain (`closed`): a per-domain connection limit.
    if (code === 421) {
      if (kind === Cmd.Rcpt) this.domains.rcpt(this.rcptDomain[arg], code);
      return reply421Kind(phase);
    }
    const lockstep = this.writer.lockstep;
    switch (kind) {
      case Cmd.Rset:
        rec.record('rset', now - sent);
        break;
      case Cmd.Mail:
        rec.record('mail', now - sent);
        t.mailOk = is2xx(code);
        if (lockstep && !t.mailOk) return this.closeTxn(t, false);
        break;
      case Cmd.Rcpt:
        rec.record('rcpt', now - sent);
        // Per recipient domain, by the plan's domain number: one increment (metrics/domains.ts).
        this.domains.rcpt(this.rcptDomain[arg], code);
        {
          const limit = t.onRcpt(arg, code, enhanced, rec);
          if (limit > 0) this.noteLimit(limit);
        }
        if (lockstep && t.rcptDone === t.count && t.rcptOk === 0) {
          this.needRset = t.mailOk;
          return this.closeTxn(t, false);
        }
        break;
      case Cmd.Data:
        rec.record('data', now - sent);
        // LMTP answers the end of data once per accepted recipient (RFC 2033 §4.2): with none, a 354
        // would leave nothing to wait for. The server must refuse DATA then (503); it did not.
        if (code === 354 && this.cfg.lmtp && t.rcptOk === 0 && t.rcptDone === t.count) return 'bad-reply';
        if (code === 354) {
          if (this.transport.blocked) this.defer(Resume.Body, t);
          else this.sendBody(t);
          return null;
        }
        // RFC 5321 §3.3: the transaction is over without a message; the server may still hold MAIL.
        this.needRset = t.mailOk;
        return this.closeTxn(t, false);
      case Cmd.Eod:
        return this.onEndOfData(t, code, now);
      case Cmd.Step: {
        rec.record(phase, now - sent);
        const cmd = STEP_COMMANDS[arg];
        // RFC 821 §4.1.1: an accepted TURN (or ATRN, RFC 2645) swaps the roles; this client does not act as a server.
        if ((cmd === 'TURN' || cmd === 'ATRN') && is2xx(code)) return cmd === 'TURN' ? 'turn-accepted' : 'atrn-accepted';
        // An accepted SEND/SOML/SAML opened a mail transaction: reset it before the next one.
        if ((cmd === 'SEND' || cmd === 'SOML' || cmd === 'SAML') && is2xx(code)) this.needRset = true;
        break;
      }
      case Cmd.Bdat:
        rec.record('bdat', now - sent);
        if (!is2xx(code)) t.bdatFailed = true;
        if (arg === 1) return this.onEndOfData(t, t.bdatFailed && is2xx(code) ? 554 : code, now);
        if (lockstep && t.bdatFailed) {
          // RFC 3030 §2: after a failed chunk send no more; the transaction is failed.
          this.needRset = true;
          return this.closeTxn(t, false);
        }
        break;
    }
    // Lock-step: the next command of the transaction. Pipelined: the group is already written.
    if (lockstep && t.msg !== null && t.stage < Stage.Written) {
      if (this.transport.blocked) this.defer(Resume.Emit, t);
      else this.write(t);
    } else if (this.fifo.length > 0) this.writer.armDeadline();
    else this.awaitDrain();
    return null;
  }

  /** The connection is gone: every recipient without a final reply has failed. */
  abandon(cutUs: number | null = null): void {
    this.fifo.clear();
    this.draining = -1;
    for (const t of this.txns) {
      const msg = t.msg;
      if (msg === null) continue;
      t.msg = null;
      t.gen++;
      msg.txnsOpen = 0;
      if (msg === this.cur) continue;
      censor(this.cfg.recorder, msg, cutUs);
      this.settle(msg, msg.n - msg.accepted - msg.rejected);
    }
    const cur = this.cur;
    if (cur !== null) {
      censor(this.cfg.recorder, cur, cutUs);
      this.settle(cur, cur.n - cur.accepted - cur.rejected);
    }
  }

  /**
   * A 452 after `limit` accepted recipients (RFC 5321 §4.5.3.1.10) is learnt at once as the
   * server's recipient limit, kept across reconnects: a real limit (Postfix's
   * smtpd_recipient_limit) answers 452 at the same place every time, and Postfix drops a client
   * after too many excess recipients, so waiting for a repeat would cost an oversized transaction
   * against the very servers the limit is for. A passing throttle's 452 therefore also splits the
   * session's later messages: that is reported, as `totals.recipients.learnedCap` and a line in
   * every report (hostile review F14), instead of staying silent.
   */
  private noteLimit(limit: number): void {
    if (this.learnedCap === 0 || limit < this.learnedCap) {
      this.learnedCap = limit;
      this.cfg.recorder.learnCap(limit);
    }
  }

  /** Takes the next recipients of `msg` (deferred first, then fresh) into a free transaction slot. */
  private open(msg: Msg, intendedUs: number): Txn {
    const t = this.txns[0].msg === null ? this.txns[0] : this.txns[1];
    const configured = this.cfg.maxRecipientsPerTransaction ?? Infinity;
    const cap = this.learnedCap > 0 ? Math.min(configured, this.learnedCap) : configured;
    const chunks = this.writer.bdat ? Math.max(1, Math.ceil(msg.shape.size / (this.cfg.chunkBytes ?? DEFAULTS.message.chunkBytes))) : 0;
    t.open(msg, cap, this.needRset, chunks, intendedUs);
    this.needRset = false;
    return t;
  }

  /** After the 354: the message, then (pipelining) the next group right behind it (RFC 2920 §3.1). */
  private sendBody(t: Txn): void {
    const msg = t.msg;
    if (msg === null) return;
    const s = this.transport;
    s.cork();
    this.writer.writeBody(t, msg);
    // No look-ahead behind an LMTP body: its end of data has one reply per recipient, and a server
    // answering fewer would otherwise have the next envelope's replies taken for them.
    if (!this.writer.lockstep && !this.cfg.lmtp) {
      // A blocked socket takes no next group until 'drain' (DESIGN §4); `onDrain` writes it then.
      if (s.blocked) this.defer(Resume.Next, null);
      else {
        const next = this.host.lookahead();
        if (next !== null && next.msg !== null && this.writer.emit(next, next.msg)) this.defer(Resume.Emit, next);
      }
    }
    s.uncork();
    if (s.pending === 0 && t.bodySentUs === 0) t.bodySentUs = nowUs();
    this.draining = s.pending > 0 ? s.unsent : -1;
    this.writer.armDeadline();
  }

  /**
   * The deadline passed while a message body was still going out: RFC 5321 §4.5.3.2.5 times each
   * data block, not the whole upload, so while octets left the socket since the deadline was armed
   * it is armed again (a slow reader is not a dead one; hostile review F5). True when re-armed.
   */
  extendWhileSending(): boolean {
    if (this.draining < 0) return false;
    const left = this.transport.pending === 0 ? 0 : this.transport.unsent;
    if (left === 0 || left >= this.draining) {
      this.draining = -1;
      return false;
    }
    this.draining = left;
    this.host.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.bodyMs;
    return true;
  }

  /** An end-of-data reply (the DATA terminator's, the last BDAT's, or one of LMTP's per recipient). */
  private onEndOfData(t: Txn, code: number, now: number): null {
    const rec = this.cfg.recorder;
    const msg = t.msg;
    if (msg === null) return null;
    this.draining = -1;
    rec.record('body', now - (t.bodySentUs || now));
    const ok = is2xx(code);
    const bdat = this.writer.bdat;
    if (this.cfg.lmtp && !bdat) {
      if (ok) msg.accepted++;
      else msg.rejected++;
      t.rcptOk--;
      if (--t.eodLeft > 0) {
        this.writer.armDeadline();
        return null;
      }
    }
    // A message started during warm-up belongs to it: its latency and octets are not measured (see `settle`).
    if (msg.epoch === rec.epoch) {
      rec.record('transaction', now - t.intendedUs);
      rec.record('service', now - t.startUs);
      // Octets as sent: the stuffed DATA form, or the BDAT chunks.
      if (ok) rec.counters.bytes += bdat ? msg.shape.size : msg.shape.dataBytes;
    }
    if (!ok && bdat) this.needRset = true;
    return this.closeTxn(t, ok);
  }

  /** Ends transaction `t`: settles its accepted recipients by the end-of-data outcome, and its message when nothing of it is left. */
  private closeTxn(t: Txn, eodOk: boolean): null {
    const msg = t.msg;
    if (msg === null) return null;
    const c = this.cfg.recorder.counters;
    if (msg.epoch === this.cfg.recorder.epoch) c.transactions++;
    if (eodOk) msg.accepted += t.rcptOk;
    else msg.rejected += t.rcptOk;
    // Recipients never sent (lock-step: MAIL or every RCPT failed first) end with the transaction.
    msg.rejected += t.count - t.rcptDone;
    t.rcptOk = 0;
    t.stage = Stage.Written;
    t.msg = null;
    t.gen++;
    msg.txnsOpen--;
    if (msg.txnsOpen === 0 && !msg.pending()) this.settle(msg, 0);
    if (this.fifo.length === 0) this.awaitDrain();
    return null;
  }

  /** Counts a finished message (`settle`) and forgets it as the current one. */
  private settle(msg: Msg, failed: number): void {
    if (this.cur === msg) this.cur = null;
    settle(this.cfg.recorder, msg, failed);
  }

  /** With nothing in flight but a transaction waiting for 'drain', the drain is awaited for at most the body timeout. */
  private awaitDrain(): void {
    if (this.resume > Resume.Next) this.host.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.bodyMs;
  }

  /**
   * Remembers what to write once the blocked socket drains (the weightiest want wins: a body over
   * the rest of a transaction over the next one). Deadlines still apply while blocked: with
   * nothing in flight, the drain itself is awaited, for at most the body timeout.
   */
  private defer(what: Resume, t: Txn | null): void {
    if (what > this.resume) {
      this.resume = what;
      this.resumeTxn = t;
    }
    if (this.fifo.length === 0) this.host.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.bodyMs;
  }
}
