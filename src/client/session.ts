/**
 * One client session: a connection's SMTP state machine, run again on a new connection every
 * `messagesPerConnection` messages until its source has no more messages or it is told to stop.
 *
 * Handshake: greeting → EHLO (HELO after 500/502) → STARTTLS and EHLO again (RFC 3207 §4.2) →
 * AUTH (RFC 4954) → transactions. Implicit TLS (RFC 8314) wraps the socket before the greeting.
 *
 * Transactions run through an in-flight FIFO (`InFlight`, house style §6): with PIPELINING
 * (RFC 2920 §3.1) a group `[RSET] MAIL RCPT… DATA` (or `… BDAT…`, RFC 3030 §4.2) is written at
 * once, and the next group is written right behind the message body (RFC 2920 §3.1 lets message
 * content start a group), so the server always has work queued. Every reply is paired with the
 * head entry and checked; a reply of the wrong class for its command (a 354 to RCPT, a 250 to
 * DATA) is a protocol error (`bad-reply`), never taken as success. Without PIPELINING the same
 * FIFO holds one command at a time.
 *
 * Fan-out: a message's recipients are spread over transactions of at most
 * `maxRecipientsPerTransaction`; recipients that get `452` go into the next transaction of the
 * same session (RFC 5321 §4.5.3.1.10), as long as the transaction that deferred them accepted at
 * least one recipient (so every transaction settles at least one recipient and the loop is
 * bounded by the recipient count). After a 452 the session also lowers its cap to the number of
 * recipients the server took before it, so a 100,000-recipient message to a 1000-limit server
 * costs 100 transactions, not a quadratic stream of retried RCPTs.
 *
 * Accounting per recipient, settled once: accepted (2xx RCPT and 2xx end of data; in LMTP its own
 * end-of-data reply), rejected (a final negative reply to its RCPT, MAIL or end of data, or a 452
 * that could not be retried), failed (no final reply: timeout, reset, 421). A message is accepted
 * when at least one recipient was, else failed when any recipient failed, else rejected.
 */
import { closedKind, reply421Kind, timeoutKind, type CommandStep, type ErrorKind, type Step } from '../error-kinds.js';
import * as clock from '../clock.js';
import { ReplyParser } from '../protocol/reply-parser.js';
import { NO_CAPABILITIES, type Capabilities } from '../protocol/capabilities.js';
import { Cmd, InFlight } from './inflight.js';
import { STEP_COMMANDS, STEP_PHASE } from './steps.js';
import { DEFAULTS } from '../profile/defaults.js';
import { DONE, WAIT, type MessageSource, type SessionConfig } from './config.js';
import { Transport, type TransportSink } from './transport.js';
import { Handshake, type HandshakeAction } from './handshake.js';
import * as bytes from '../protocol/bytes.js';
import { mailParameters, messageShape, sentPrefix, stampPrefix, type MessageShape } from './message.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { CRLF, CRLF_DOT_CRLF, DOT_CRLF, LF } = bytes;
const { epochUs, nowUs } = clock;

/** `takeNext()` result: a scenario step was written instead of a transaction. */
const STEP_SENT = 'step';
const RSET_STEP = STEP_COMMANDS.indexOf('RSET');

/** Where a session stands; `handshake`: greeting to AUTH, its own step in `Handshake.state`. */
type State = 'idle' | 'connecting' | 'tls' | 'handshake' | 'ready' | 'waiting' | 'quit' | 'closing' | 'done';

/**
 * The step of each state as error kinds name it (src/error-kinds.ts), so renaming a state cannot
 * rename a reported kind. `ready` names the command in flight when there is one and `handshake` the
 * handshake's step (`step()`); `idle` and `done` have no connection to time out or lose.
 */
const STATE_STEP = {
  idle: 'connecting',
  connecting: 'connecting',
  tls: 'tls',
  handshake: 'greeting',
  ready: 'envelope',
  waiting: 'waiting',
  quit: 'quit',
  closing: 'closing',
  done: 'connecting',
} as const satisfies Record<State, Step>;

/** Consecutive connections that failed before a transaction could start (refused, timed out, greeting or EHLO refused), after which a session gives up its remaining messages. */
const MAX_CONNECT_FAILURES = 3;
/** States before a session could start its first transaction. */
const PRE_TRANSACTION: ReadonlySet<State> = new Set(['connecting', 'tls', 'handshake']);
/** Messages skipped in a row (SIZE exceeded) before the session lets the event loop run. */
const MAX_SKIPS_PER_TURN = 64;

const is2xx = (code: number): boolean => code >= 200 && code < 300;
const is3xx = (code: number): boolean => code >= 300 && code < 400;

/** What a session blocked by back-pressure writes after 'drain' (`defer`); a larger value outweighs a smaller. */
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

/** Phase (histogram and reply counts) of each in-flight command kind. */
const PHASE_OF: readonly CommandStep[] = ['rset', 'mail', 'rcpt', 'data', 'body', 'bdat'];

let sessionIds = 0;
/** Per-worker connection number: picks source and client addresses in turn, and fills `{n}` in the HELO name. */
let connectionSeq = 0;
/** Per-worker message number for `Message-ID` (module state: one module instance per worker thread). */
let stampSeq = 0;

/** One message: its recipients, which of them are still to be sent, and how they ended. */
class Msg {
  /** Next recipient (0-based) never sent yet. */
  nextFresh = 0;
  /** Recipients that got 452 and wait for the next transaction; `dHead` is the first not yet resent. */
  deferred: number[] = [];
  dHead = 0;
  accepted = 0;
  rejected = 0;
  txnsOpen = 0;
  constructor(
    readonly n: number,
    readonly intendedUs: number,
    readonly prefix: Buffer | null,
    /** Which part of the shared body this message sends, and its size in octets. */
    readonly shape: MessageShape,
    /** The recorder's epoch when the message started (see `settle`). */
    readonly epoch: number,
  ) {}
  pending(): boolean {
    return this.dHead < this.deferred.length || this.nextFresh < this.n;
  }
}

/** One transaction; a session reuses two of these (the one finishing and the one pipelined behind it). */
class Txn {
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
  /** Lock-step cursor: 0 RSET, 1 MAIL, 2 RCPT `k`, 3 DATA/BDAT chunk `k`, 4 group written. */
  stage = 0;
  k = 0;
  chunks = 0;
  bdatFailed = false;
  eodLeft = 0;
  startUs = 0;
  intendedUs = 0;
  bodySentUs = 0;

  rcptAt(k: number): number {
    return k < this.dCount ? this.msg!.deferred[this.dStart + k] : this.fStart + (k - this.dCount);
  }
}

/**
 * A session that sends the messages its source hands it. `start()` runs it; `source.ended()`
 * fires once when the source has no more, when its connections keep failing, or after `stop()`
 * once the transaction in flight has finished.
 */
export class ClientSession implements TransportSink {
  /** Monotonic ms after which the sweeper times the current step out; 0 when nothing is awaited. */
  deadlineMs = 0;

  private readonly id = sessionIds++;
  private state: State = 'idle';
  private readonly transport: Transport;
  private readonly parser: ReplyParser;
  private caps: Capabilities = NO_CAPABILITIES;
  private lockstep = false;
  private useBdat = false;
  private stopping = false;
  private connectFailures = 0;
  private errorKind: ErrorKind | null = null;
  private messagesOnConnection = 0;
  /** Learned from a 452: how many recipients the server takes per transaction (0: unknown). */
  private learnedCap = 0;
  private needRset = false;
  /** A `next()` answered WAIT: the source will `assign()` this session. */
  private awaiting = false;
  /** Intended start of a message assigned while this session was busy, or -1. */
  private assigned = -1;
  private yielding = false;
  /** The scenario's draw for the next unit of work, or null when not drawn yet (or no scenario). */
  private nextPick: number | null = null;
  /** VRFY/EXPN walk the plan's recipients in turn (a directory-harvest probe). */
  private stepSeq = 0;
  /** This connection's client address (PROXY/XCLIENT). */
  private clientAddress: string | null = null;
  private readonly hs: Handshake;
  private readonly fifo = new InFlight();
  /** What waits for the blocked socket's 'drain', and its transaction (`defer`, `onDrain`). */
  private resume: Resume = Resume.None;
  private resumeTxn: Txn | null = null;
  private readonly txns = [new Txn(), new Txn()];
  /** The message whose recipients are being sent (or wait for a continuation). */
  private cur: Msg | null = null;
  // Times in µs.
  private connectStartUs = 0;
  private connectedUs = 0;
  private sentUs = 0;
  private tlsStartUs = 0;

  constructor(
    private readonly cfg: SessionConfig,
    private readonly source: MessageSource<ClientSession>,
  ) {
    this.parser = new ReplyParser(
      (code, lines) => this.onReply(code, lines),
      () => this.protocolError(),
    );
    this.transport = new Transport(cfg, this.parser, this);
    const a = cfg.auth;
    this.hs = new Handshake(cfg, cfg.recorder, a && a.accounts.length > 0 ? a.accounts[this.id % a.accounts.length] : null);
  }

  /** Starts the first connection (or finishes at once when the source has nothing). */
  start(): void {
    if (this.source.hasMore(this)) this.connect();
    else this.finish(false);
  }

  /** Graceful stop: no new transaction starts; those in flight complete, then QUIT. */
  stop(): void {
    this.stopping = true;
    if (this.state === 'idle') this.finish(false);
    else if (this.state === 'waiting') this.sendQuit();
  }

  /**
   * Hands this session a message intended to start at `intendedUs`, if it asked for one (its
   * `next()` answered WAIT). A session still finishing a transaction keeps it and starts it when
   * its replies are in. Returns false when it did not ask (the source offers the message elsewhere).
   */
  assign(intendedUs: number): boolean {
    if (!this.awaiting || this.stopping || this.state === 'done') return false;
    this.awaiting = false;
    this.assigned = intendedUs;
    if (this.state === 'waiting') this.beginTransaction();
    return true;
  }

  /** True while connected and idle, waiting for `assign()`. */
  get waiting(): boolean {
    return this.state === 'waiting';
  }

  /** Called by the worker's sweeper when `deadlineMs` has passed. */
  timeout(): void {
    const step = this.step();
    // No deadline is armed while connected and idle (`beginTransaction`).
    if (step !== 'waiting') this.fail(timeoutKind(step));
  }

  /** Hard stop after the grace time: the connection is dropped; a transaction in flight counts as failed (`aborted`). */
  abort(): void {
    this.stopping = true;
    if (this.transport.socket !== null) this.fail('aborted');
    else this.finish(false);
  }

  /** The step being waited for, for error kinds: `rcpt`, `body`, `greeting`… */
  private step(): Step {
    if (this.state === 'ready' && this.fifo.length > 0) return this.phaseOf(this.fifo.peekKind(), this.fifo.headArg());
    if (this.state === 'handshake') return this.hs.step;
    return STATE_STEP[this.state];
  }

  // ---------------------------------------------------------------------------------------
  // Connection, TLS

  private connect(): void {
    if (this.state === 'done') return;
    this.state = 'connecting';
    this.errorKind = null;
    this.caps = NO_CAPABILITIES;
    this.needRset = false;
    this.messagesOnConnection = 0;
    this.resume = Resume.None;
    this.resumeTxn = null;
    this.fifo.clear();
    this.parser.reset();
    this.connectStartUs = nowUs();
    this.deadlineMs = this.connectStartUs / 1000 + this.cfg.timeouts.connectMs;
    const k = connectionSeq++;
    const id = this.cfg.identity;
    const localAddress = id && id.sourceIps.length > 0 ? id.sourceIps[k % id.sourceIps.length] : undefined;
    this.clientAddress = id && id.clientAddresses.length > 0 ? id.clientAddresses[k % id.clientAddresses.length] : null;
    this.hs.begin(k, this.clientAddress, id !== null && id !== undefined && id.proxy !== 'off');
    this.transport.connect(localAddress);
  }

  /** TCP is up: the PROXY preface, then the greeting (or implicit TLS first). */
  onConnect(): void {
    const rec = this.cfg.recorder;
    const id = this.cfg.identity;
    rec.counters.connections++;
    this.connectedUs = nowUs();
    rec.record('connect', this.connectedUs - this.connectStartUs);
    if (id && id.proxy !== 'off') this.transport.writeProxyHeader(id.proxy, this.clientAddress);
    if (this.cfg.tls?.implicit) return this.upgrade(this.connectedUs);
    this.state = 'handshake';
    this.hs.expectGreeting(this.connectedUs, false);
    this.deadlineMs = this.connectedUs / 1000 + this.cfg.timeouts.greetingMs;
  }

  /** The connection's first error names its failure (unless the session already named one). */
  onError(kind: ErrorKind): void {
    if (this.errorKind === null) this.errorKind = kind;
  }

  /**
   * Wraps the connection in TLS (after the STARTTLS 220, or at once for implicit TLS). The `tls`
   * phase runs from `startUs` (STARTTLS written, or TCP connected) to the finished handshake.
   */
  private upgrade(startUs: number): void {
    this.state = 'tls';
    this.tlsStartUs = startUs;
    this.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.connectMs;
    this.transport.startTls(this.cfg.tls!);
  }

  /** The TLS handshake finished: greeting next (implicit TLS), or EHLO again (STARTTLS). */
  onSecure(reused: boolean): void {
    const rec = this.cfg.recorder;
    const now = nowUs();
    rec.record('tls', now - this.tlsStartUs);
    rec.counters.tlsHandshakes++;
    if (reused) rec.counters.tlsResumed++;
    this.parser.reset();
    if (this.cfg.tls!.implicit) {
      this.connectedUs = now;
      this.state = 'handshake';
      this.hs.expectGreeting(now, true);
      this.deadlineMs = now / 1000 + this.cfg.timeouts.greetingMs;
      return;
    }
    this.perform(this.hs.afterTls(now));
  }

  private write(buf: Buffer, awaitMs: number): void {
    this.sentUs = nowUs();
    this.deadlineMs = this.sentUs / 1000 + awaitMs;
    this.transport.write(buf);
  }

  /** Does what the handshake asks after a reply (`Handshake.onReply`). */
  private perform(a: HandshakeAction): void {
    this.parser.captureText = this.hs.captureText;
    switch (a.kind) {
      case 'send':
        this.state = 'handshake';
        return this.write(a.bytes, this.cfg.timeouts.replyMs);
      case 'tls':
        return this.upgrade(a.startUs);
      case 'ready':
        this.caps = a.caps;
        this.useBdat = a.bdat;
        this.lockstep = !a.pipelining;
        return this.beginTransaction();
      case 'refused':
        return this.quitAfterRefusal(a.error, a.close);
      case 'fail':
        return this.fail(a.error);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Replies before transactions

  private onReply(code: number, lines: readonly Buffer[] | null): void {
    const rec = this.cfg.recorder;
    const t = nowUs();
    switch (this.state) {
      case 'handshake':
        return this.perform(this.hs.onReply(code, lines, this.parser.enhanced, t));
      case 'ready':
        return this.onTransactionReply(code, t);
      case 'quit':
        rec.record('quit', t - this.sentUs);
        rec.reply('quit', code, this.parser.enhanced);
        this.state = 'closing';
        this.deadlineMs = t / 1000 + this.cfg.timeouts.replyMs;
        this.transport.end();
        return;
      default:
        // A reply nobody asked for (while idle, or after QUIT). A 421 before closing an idle
        // connection is the server's right (RFC 5321 §3.8); anything else is a broken server.
        rec.reply('unsolicited', code, this.parser.enhanced);
        // idle, connecting and done have no connection to read from.
        if (code === 421) return this.fail(reply421Kind(this.state === 'tls' || this.state === 'closing' ? this.state : 'waiting'));
        rec.error('unexpected-reply');
    }
  }

  // ---------------------------------------------------------------------------------------
  // Transactions

  /** With nothing in flight: start the next transaction, wait for a message, or QUIT. */
  private beginTransaction(): void {
    // The session is established (greeted, EHLO/HELO accepted): earlier failures no longer count as a streak.
    this.connectFailures = 0;
    if (this.transport.blocked) {
      this.state = 'ready';
      return this.defer(Resume.Next, null);
    }
    const txn = this.takeNext(false);
    if (txn === STEP_SENT) {
      this.state = 'ready';
      return;
    }
    if (txn !== null) {
      this.state = 'ready';
      this.transport.cork();
      this.emit(txn);
      this.transport.uncork();
      return;
    }
    // After stop() nothing new will be handed over: QUIT instead of waiting for a message that
    // never comes (the session would otherwise sit until the graceful-stop timer aborts it).
    if ((this.awaiting || this.yielding) && !this.stopping) {
      this.state = 'waiting';
      this.deadlineMs = 0;
      return;
    }
    this.sendQuit();
  }

  /**
   * The next transaction to write, or null: a continuation of the current message first (its
   * deferred and not yet sent recipients), else a new message from the source. With a scenario a
   * unit of work may be a step instead: it is written here (`STEP_SENT`), never as `lookahead`
   * behind a message body (RFC 2920 §3.1 puts VRFY, EXPN, TURN and NOOP last in a group).
   */
  private takeNext(lookahead: boolean): Txn | null | typeof STEP_SENT {
    const cur = this.cur;
    if (cur !== null && cur.pending()) return this.openTxn(cur, nowUs());
    const rec = this.cfg.recorder;
    const plan = this.cfg.plan;
    for (let skips = 0; ; skips++) {
      if (this.stopping || this.awaiting || this.messagesOnConnection >= this.cfg.messagesPerConnection) return null;
      if (skips === MAX_SKIPS_PER_TURN) {
        // Every message so far was too large: let timers (duration, stop) run before trying more.
        this.yielding = true;
        setImmediate(() => {
          this.yielding = false;
          if (this.state === 'waiting') this.beginTransaction();
        });
        return null;
      }
      const scenario = this.cfg.scenario;
      if (scenario) {
        this.nextPick ??= scenario.pick();
        if (this.nextPick >= 0 && lookahead) return null;
      }
      // Draw this message's recipient count and size (seeded, per worker); O(1), nothing is copied.
      const n = plan.recipientCounts.draw();
      const shape = messageShape(plan, plan.sizes.draw());
      let intended = this.assigned;
      this.assigned = -1;
      if (intended < 0) {
        intended = this.source.next(this);
        if (intended === WAIT) {
          this.awaiting = true;
          return null;
        }
        if (intended === DONE) return null;
      }
      const c = rec.counters;
      if (scenario && this.nextPick !== null && this.nextPick >= 0) {
        const step = this.nextPick;
        this.nextPick = null;
        this.messagesOnConnection++;
        c.steps++;
        this.sendStep(step, (this.stepSeq++ % plan.recipients) + 1);
        return STEP_SENT;
      }
      this.nextPick = null;
      c.messagesAttempted++;
      c.recipientsAttempted += n;
      // Messages the server cannot take are not sent: larger than its SIZE (RFC 1870 §6), 8-bit
      // without 8BITMIME (RFC 6152 §3), non-ASCII addresses without SMTPUTF8 (RFC 6531 §3.4).
      const unsendable =
        this.caps.size !== null && this.caps.size > 0 && shape.size > this.caps.size
          ? 'size-exceeded'
          : shape.body.eightBit && !this.caps.eightBitMime
            ? '8bitmime-unavailable'
            : plan.smtpUtf8 && !this.caps.smtpUtf8
              ? 'smtputf8-unavailable'
              : null;
      if (unsendable !== null) {
        rec.error(unsendable);
        c.messagesRejected++;
        c.recipientsRejected += n;
        continue;
      }
      this.messagesOnConnection++;
      const stamp = shape.body.stamp;
      const prefix = stamp === 'full' ? stampPrefix(this.cfg.stamp?.run ?? 0, this.cfg.stamp?.worker ?? 0, stampSeq++, epochUs()) : stamp === 'sent' ? sentPrefix(epochUs()) : null;
      const msg = new Msg(n, intended, prefix, shape, rec.epoch);
      this.cur = msg;
      return this.openTxn(msg, intended);
    }
  }

  /** Writes scenario step `step` (index in STEP_COMMANDS); VRFY/EXPN name recipient `n` (1-based) of the plan. */
  private sendStep(step: number, n: number): void {
    const s = this.transport;
    const plan = this.cfg.plan;
    const line = this.cfg.scenario!.lines[step];
    const now = nowUs();
    this.sentUs = now;
    s.cork();
    const cmd = STEP_COMMANDS[step];
    if (this.needRset && (cmd === 'SEND' || cmd === 'SOML' || cmd === 'SAML')) {
      // An accepted SEND/SOML/SAML (or a failed transaction) left a transaction open; these open one
      // like MAIL (RFC 821 §4.1.1), so reset first, or the server answers 503. Recorded as an RSET step.
      this.needRset = false;
      s.write(this.cfg.scenario!.lines[RSET_STEP]);
      this.fifo.push(Cmd.Step, 0, RSET_STEP, now);
    }
    s.write(line);
    if (line[line.length - 1] !== LF) {
      // `RCPT TO:<addr>\r\n` → `<addr>\r\n`: the argument is a view of the RCPT block.
      const i = Math.min(n, plan.recipients) - 1;
      s.write(plan.rcptBlock.subarray(plan.rcptOffsets[i] + 8, plan.rcptOffsets[i + 1]));
    }
    s.uncork();
    this.fifo.push(Cmd.Step, 0, step, now);
    this.armDeadline();
  }

  /** The phase of an in-flight command (steps: their own phase). */
  private phaseOf(kind: Cmd, arg: number): CommandStep {
    return kind === Cmd.Step ? STEP_PHASE[STEP_COMMANDS[arg]] : PHASE_OF[kind];
  }

  /** Takes the next recipients of `msg` (deferred first, then fresh) into a free transaction slot. */
  private openTxn(msg: Msg, intendedUs: number): Txn {
    const t = this.txns[0].msg === null ? this.txns[0] : this.txns[1];
    const configured = this.cfg.maxRecipientsPerTransaction ?? Infinity;
    const cap = this.learnedCap > 0 ? Math.min(configured, this.learnedCap) : configured;
    if (msg.dHead === msg.deferred.length && msg.dHead > 0) {
      msg.deferred = [];
      msg.dHead = 0;
    }
    t.gen++;
    t.msg = msg;
    t.rset = this.needRset;
    this.needRset = false;
    t.dStart = msg.dHead;
    t.dCount = Math.min(msg.deferred.length - msg.dHead, cap);
    msg.dHead += t.dCount;
    t.fStart = msg.nextFresh;
    const fresh = Math.min(cap - t.dCount, msg.n - msg.nextFresh);
    msg.nextFresh += fresh;
    t.count = t.dCount + fresh;
    t.deferMark = msg.deferred.length;
    t.first452 = -1;
    t.mailOk = false;
    t.rcptOk = 0;
    t.rcptDone = 0;
    t.stage = t.rset ? 0 : 1;
    t.k = 0;
    t.chunks = this.useBdat ? Math.max(1, Math.ceil(msg.shape.size / (this.cfg.chunkBytes ?? DEFAULTS.message.chunkBytes))) : 0;
    t.bdatFailed = false;
    t.eodLeft = 0;
    t.startUs = nowUs();
    t.intendedUs = intendedUs;
    t.bodySentUs = 0;
    msg.txnsOpen++;
    return t;
  }

  /**
   * Writes `t`'s commands: the whole group when pipelining, else the next single command.
   * The caller corks and uncorks around it. Pushes one FIFO entry per command.
   */
  private emit(t: Txn): void {
    const s = this.transport;
    const plan = this.cfg.plan;
    const slot = t === this.txns[0] ? 0 : 1;
    const now = nowUs();
    this.sentUs = now;
    const all = !this.lockstep;
    if (t.stage === 0) {
      s.write(plan.rset);
      this.fifo.push(Cmd.Rset, slot, 0, now);
      t.stage = 1;
      if (!all) return this.armDeadline();
    }
    if (t.stage === 1) {
      const params = mailParameters(plan, t.msg!.shape, this.caps);
      // The usual cases are prebuilt; anything else is one short line per message.
      if (params === '') s.write(plan.mail);
      else if (params === ` SIZE=${plan.sizeBytes}`) s.write(plan.mailWithSize);
      else s.write(Buffer.from(`${plan.mailHead}${params}\r\n`, 'utf8'));
      this.fifo.push(Cmd.Mail, slot, 0, now);
      t.stage = 2;
      if (!all) return this.armDeadline();
    }
    if (t.stage === 2) {
      const end = all ? t.count : Math.min(t.count, t.k + 1);
      // Contiguous recipients go out as one view of the shared RCPT block.
      let runStart = -1;
      let runEnd = -1;
      for (; t.k < end; t.k++) {
        const r = t.rcptAt(t.k);
        this.fifo.push(Cmd.Rcpt, slot, r, now);
        if (r === runEnd) runEnd++;
        else {
          if (runStart >= 0) s.write(plan.rcptBlock.subarray(plan.rcptOffsets[runStart], plan.rcptOffsets[runEnd]));
          runStart = r;
          runEnd = r + 1;
        }
      }
      if (runStart >= 0) s.write(plan.rcptBlock.subarray(plan.rcptOffsets[runStart], plan.rcptOffsets[runEnd]));
      if (t.k < t.count) return this.armDeadline();
      t.stage = 3;
      t.k = 0;
      if (!all) return this.armDeadline();
    }
    if (t.stage === 3) {
      if (!this.useBdat) {
        s.write(plan.dataCommand);
        this.fifo.push(Cmd.Data, slot, 0, now);
        t.stage = 4;
        return this.armDeadline();
      }
      const end = all ? t.chunks : t.k + 1;
      for (; t.k < end;) {
        this.writeChunk(t, slot, now);
        // Pipelined chunks stop at a blocked socket and go on after 'drain' (`onDrain`).
        if (++t.k < end && s.blocked) {
          this.defer(Resume.Emit, t);
          break;
        }
      }
      if (t.k >= t.chunks) {
        t.stage = 4;
        const gen = t.gen;
        s.writeThen(Buffer.alloc(0), () => {
          if (t.gen === gen && t.bodySentUs === 0) t.bodySentUs = nowUs();
        });
      }
    }
    this.armDeadline();
  }

  /** BDAT chunk `t.k` (RFC 3030 §2): `BDAT n [LAST]` then n octets of the message, not stuffed. */
  private writeChunk(t: Txn, slot: number, now: number): void {
    const s = this.transport;
    const chunk = this.cfg.chunkBytes ?? DEFAULTS.message.chunkBytes;
    const msg = t.msg!;
    const from = t.k * chunk;
    const to = Math.min(msg.shape.size, from + chunk);
    const last = t.k === t.chunks - 1;
    s.write(Buffer.from(`BDAT ${to - from}${last ? ' LAST' : ''}\r\n`, 'latin1'));
    // The message is [prefix][raw body, len octets][CRLF when tail]; a chunk may span all three.
    let base = 0;
    const body = msg.shape.body;
    for (const part of [msg.prefix, body.sliceable ? body.raw.subarray(0, msg.shape.len) : body.raw, msg.shape.tail ? CRLF : null, body.suffix]) {
      if (part === null) continue;
      const a = Math.max(from, base);
      const b = Math.min(to, base + part.length);
      if (a < b) s.write(part.subarray(a - base, b - base));
      base += part.length;
    }
    this.fifo.push(Cmd.Bdat, slot, last ? 1 : 0, now);
  }

  /** Deadline for the head of the FIFO: the body timeout while an end of data is awaited, else the reply timeout. */
  private armDeadline(): void {
    if (this.fifo.length === 0) return;
    const k = this.fifo.peekKind();
    const ms = k === Cmd.Eod || (k === Cmd.Bdat && this.fifo.headArg() === 1) ? this.cfg.timeouts.bodyMs : this.cfg.timeouts.replyMs;
    this.deadlineMs = nowUs() / 1000 + ms;
  }

  /** One reply to a transaction command: the FIFO head says which. */
  private onTransactionReply(code: number, now: number): void {
    const rec = this.cfg.recorder;
    if (this.fifo.length === 0) {
      rec.reply('unsolicited', code, this.parser.enhanced);
      return this.fail(code === 421 ? 'ready-421' : 'unexpected-reply');
    }
    const kind = this.fifo.peekKind();
    const t = this.txns[this.fifo.headSlot()];
    const arg = this.fifo.headArg();
    const sent = this.fifo.headSentUs();
    this.fifo.shift();
    const phase = this.phaseOf(kind, arg);
    rec.reply(phase, code, this.parser.enhanced);
    // A reply of the wrong class for its command desynchronises the stream: RFC 5321 §4.2 gives
    // 3yz only to DATA (354); a 2yz to DATA means the server did not wait for the message.
    if (kind === Cmd.Data ? is2xx(code) : is3xx(code)) return this.protocolError();
    if (code === 421) {
      // RFC 5321 §3.8: the server is closing the channel; what is in flight will not be answered.
      return this.fail(reply421Kind(phase));
    }
    switch (kind) {
      case Cmd.Rset:
        rec.record('rset', now - sent);
        break;
      case Cmd.Mail:
        rec.record('mail', now - sent);
        t.mailOk = is2xx(code);
        if (this.lockstep && !t.mailOk) return this.closeTxn(t, false);
        break;
      case Cmd.Rcpt:
        rec.record('rcpt', now - sent);
        this.onRcpt(t, arg, code);
        if (this.lockstep && t.rcptDone === t.count && t.rcptOk === 0) {
          this.needRset = t.mailOk;
          return this.closeTxn(t, false);
        }
        break;
      case Cmd.Data:
        rec.record('data', now - sent);
        // LMTP answers the end of data once per accepted recipient (RFC 2033 §4.2): with none, a 354
        // would leave nothing to wait for. The server must refuse DATA then (503); it did not.
        if (code === 354 && this.cfg.lmtp && t.rcptOk === 0 && t.rcptDone === t.count) return this.protocolError();
        if (code === 354) return this.transport.blocked ? this.defer(Resume.Body, t) : this.sendBody(t);
        // RFC 5321 §3.3: the transaction is over without a message; the server may still hold MAIL.
        this.needRset = t.mailOk;
        return this.closeTxn(t, false);
      case Cmd.Eod:
        return this.onEndOfData(t, code, now);
      case Cmd.Step: {
        rec.record(phase, now - sent);
        const cmd = STEP_COMMANDS[arg];
        // RFC 821 §4.1.1: an accepted TURN (or ATRN, RFC 2645) swaps the roles; this client does not act as a server.
        if ((cmd === 'TURN' || cmd === 'ATRN') && is2xx(code)) return this.fail(cmd === 'TURN' ? 'turn-accepted' : 'atrn-accepted');
        // An accepted SEND/SOML/SAML opened a mail transaction: reset it before the next one.
        if ((cmd === 'SEND' || cmd === 'SOML' || cmd === 'SAML') && is2xx(code)) this.needRset = true;
        break;
      }
      case Cmd.Bdat:
        rec.record('bdat', now - sent);
        if (!is2xx(code)) t.bdatFailed = true;
        if (arg === 1) return this.onEndOfData(t, t.bdatFailed && is2xx(code) ? 554 : code, now);
        if (this.lockstep && t.bdatFailed) {
          // RFC 3030 §2: after a failed chunk send no more; the transaction is failed.
          this.needRset = true;
          return this.closeTxn(t, false);
        }
        break;
    }
    // Lock-step: the next command of the transaction. Pipelined: the group is already written.
    if (this.lockstep && t.msg !== null && t.stage < 4) {
      if (this.transport.blocked) return this.defer(Resume.Emit, t);
      this.transport.cork();
      this.emit(t);
      this.transport.uncork();
      return;
    }
    if (this.fifo.length > 0) this.armDeadline();
    else this.afterTransactions();
  }

  /** Settles one RCPT reply for recipient `r` of `t`. */
  private onRcpt(t: Txn, r: number, code: number): void {
    const msg = t.msg!;
    const k = t.rcptDone++;
    if (is2xx(code)) t.rcptOk++;
    else if (code === 452) {
      // RFC 5321 §4.5.3.1.10: too many recipients; send the rest in another transaction.
      if (t.first452 < 0) {
        t.first452 = k;
        // The server's limit: what it took before its first 452 (RFC 5321 §4.5.3.1.8 promises at
        // least 100; trust what we saw). Learnt at once, so it holds even when the server then
        // drops the connection (Postfix: 421 after too many excess recipients).
        if (t.rcptOk > 0) this.learnedCap = Math.min(this.learnedCap || Infinity, k);
      }
      msg.deferred.push(r);
    } else msg.rejected++;
    if (t.rcptDone < t.count) return;
    const deferred = msg.deferred.length - t.deferMark;
    if (deferred === 0) return;
    if (t.rcptOk === 0) {
      // No progress: retrying could loop; the 452s are final for this run.
      msg.rejected += deferred;
      msg.deferred.length = t.deferMark;
      return;
    }
    // Like every message figure, not for a message that started during warm-up (see `settle`).
    if (msg.epoch === this.cfg.recorder.epoch) this.cfg.recorder.counters.recipientsDeferred += deferred;
  }

  /** After the 354: the message, then (pipelining) the next group right behind it (RFC 2920 §3.1). */
  private sendBody(t: Txn): void {
    const s = this.transport;
    const slot = t === this.txns[0] ? 0 : 1;
    const msg = t.msg!;
    t.stage = 4;
    t.bodySentUs = 0;
    // No look-ahead behind an LMTP body: its end of data has one reply per recipient, and a server
    // answering fewer would otherwise have the next envelope's replies taken for them.
    const lookahead = !(this.lockstep || this.awaiting || this.cfg.lmtp);
    const now = nowUs();
    s.cork();
    if (msg.prefix !== null) s.write(msg.prefix);
    // Generated content: a prefix view of the shared body (its own stuffed form). Explicit content: all of its stuffed form.
    const body = msg.shape.body;
    s.write(body.sliceable && msg.shape.len < body.data.length ? body.data.subarray(0, msg.shape.len) : body.data);
    const gen = t.gen;
    if (body.suffix !== null) {
      if (msg.shape.tail) s.write(CRLF);
      s.write(body.suffix);
    }
    s.writeThen(msg.shape.tail && body.suffix === null ? CRLF_DOT_CRLF : DOT_CRLF, () => {
      if (t.gen === gen && t.bodySentUs === 0) t.bodySentUs = nowUs();
    });
    // LMTP: one end-of-data reply per accepted recipient (RFC 2033 §4.2).
    t.eodLeft = this.cfg.lmtp ? t.rcptOk : 1;
    for (let i = 0; i < t.eodLeft; i++) this.fifo.push(Cmd.Eod, slot, i, now);
    if (lookahead) {
      // A blocked socket takes no next group until 'drain' (DESIGN §4); `onDrain` writes it then.
      if (s.blocked) this.defer(Resume.Next, null);
      else {
        const next = this.takeNext(true);
        if (next !== null && next !== STEP_SENT) this.emit(next);
      }
    }
    s.uncork();
    if (s.pending === 0 && t.bodySentUs === 0) t.bodySentUs = nowUs();
    this.armDeadline();
  }

  /** An end-of-data reply (the DATA terminator's, the last BDAT's, or one of LMTP's per recipient). */
  private onEndOfData(t: Txn, code: number, now: number): void {
    const rec = this.cfg.recorder;
    const msg = t.msg!;
    rec.record('body', now - (t.bodySentUs || now));
    const ok = is2xx(code);
    if (this.cfg.lmtp && !this.useBdat) {
      if (ok) msg.accepted++;
      else msg.rejected++;
      t.rcptOk--;
      if (--t.eodLeft > 0) return this.armDeadline();
    }
    // A message started during warm-up belongs to it: its latency and octets are not measured (see `settle`).
    if (msg.epoch === rec.epoch) {
      rec.record('transaction', now - t.intendedUs);
      rec.record('service', now - t.startUs);
      // Octets as sent: the stuffed DATA form, or the BDAT chunks.
      if (ok) rec.counters.bytes += this.useBdat ? msg.shape.size : msg.shape.dataBytes;
    }
    if (!ok && this.useBdat) this.needRset = true;
    this.closeTxn(t, ok);
  }

  /** Ends transaction `t`: settles its accepted recipients by the end-of-data outcome, and its message when nothing of it is left. */
  private closeTxn(t: Txn, eodOk: boolean): void {
    const msg = t.msg!;
    const c = this.cfg.recorder.counters;
    if (msg.epoch === this.cfg.recorder.epoch) c.transactions++;
    if (eodOk) msg.accepted += t.rcptOk;
    else msg.rejected += t.rcptOk;
    // Recipients never sent (lock-step: MAIL or every RCPT failed first) end with the transaction.
    msg.rejected += t.count - t.rcptDone;
    t.rcptOk = 0;
    t.stage = 4;
    t.msg = null;
    t.gen++;
    msg.txnsOpen--;
    if (msg.txnsOpen === 0 && !msg.pending()) this.settle(msg, 0);
    if (this.fifo.length === 0) this.afterTransactions();
  }

  /** Counts a finished message and its recipients; `failed` recipients had no final reply. */
  private settle(msg: Msg, failed: number): void {
    if (this.cur === msg) this.cur = null;
    // Started during warm-up: its attempt was counted before the reset, so its outcome is not counted after it.
    if (msg.epoch !== this.cfg.recorder.epoch) return;
    const c = this.cfg.recorder.counters;
    c.recipientsAccepted += msg.accepted;
    c.recipientsRejected += msg.rejected;
    c.recipientsFailed += failed;
    if (msg.accepted > 0) c.messagesAccepted++;
    else if (failed > 0) c.messagesFailed++;
    else c.messagesRejected++;
  }

  /** Nothing in flight: go on (the state may already have moved on, e.g. to QUIT). */
  private afterTransactions(): void {
    if (this.state !== 'ready' || this.fifo.length > 0) return;
    // A body or the rest of a transaction waiting for 'drain' comes first (`onDrain`); the drain is
    // awaited for at most the body timeout.
    if (this.resume > Resume.Next) this.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.bodyMs;
    else this.beginTransaction();
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
    if (this.fifo.length === 0) this.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.bodyMs;
  }

  /** The socket drained: write what waited for it (`defer`). */
  onDrain(): void {
    const what = this.resume;
    const t = this.resumeTxn;
    if (what === Resume.None) return;
    this.resume = Resume.None;
    this.resumeTxn = null;
    if (this.state !== 'ready') return;
    if (what === Resume.Body && t !== null) return this.sendBody(t);
    if (what === Resume.Emit && t !== null && t.msg !== null) {
      this.transport.cork();
      this.emit(t);
      this.transport.uncork();
      return;
    }
    if (this.fifo.length === 0) return this.afterTransactions();
    // The look-ahead behind a body (`sendBody`), its end of data still awaited.
    const next = this.takeNext(true);
    if (next === null || next === STEP_SENT) return;
    this.transport.cork();
    this.emit(next);
    this.transport.uncork();
  }

  private sendQuit(): void {
    this.state = 'quit';
    this.write(this.cfg.plan.quit, this.cfg.timeouts.replyMs);
  }

  /**
   * The server refused the session (greeting, EHLO/HELO, STARTTLS, AUTH): count it, QUIT politely
   * (or with `close`, see `HandshakeAction`, close our side), and do not retry at once.
   */
  private quitAfterRefusal(kind: ErrorKind, close: boolean): void {
    this.cfg.recorder.error(kind);
    this.connectFailures++;
    if (!close) return this.sendQuit();
    // Let the server's close end the session; whatever it still sends is not ours to read.
    this.parser.halt();
    this.state = 'closing';
    this.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.replyMs;
    this.transport.end();
  }

  /** A malformed or out-of-sequence reply: the stream cannot be trusted any more. */
  private protocolError(): void {
    this.fail('bad-reply');
  }

  /** Ends the connection after a protocol failure or timeout; `onClose` does the accounting. */
  private fail(kind: ErrorKind): void {
    if (this.errorKind === null) this.errorKind = kind;
    this.deadlineMs = 0;
    // Replies after this one in the same chunk must not drive the state machine.
    this.parser.halt();
    this.transport.destroy();
  }

  /** The connection is gone: account for it, then reconnect, give up, or finish. */
  onClose(): void {
    const rec = this.cfg.recorder;
    const state = this.state;
    const step = this.step();
    this.deadlineMs = 0;
    // `closing`: the close this session asked for.
    if (step === 'closing') {
      rec.record('session', nowUs() - this.connectStartUs);
    } else {
      // Anything else is an unplanned end, counted by kind (`waiting-closed`: the server closed an
      // idle connection, an event rather than a failure); what is in flight has failed.
      // Closed while the PROXY check was pending: the server took the header for commands (a v2
      // header even ends in QUIT, so that such a server hangs up).
      rec.error(this.errorKind ?? (step === 'proxy-check' ? 'proxy-refused' : closedKind(step)));
      // A connection lost before its first transaction could start counts toward giving up, so a
      // server that drops every session at EHLO (or STARTTLS, AUTH) cannot keep us reconnecting forever.
      if (PRE_TRANSACTION.has(state)) this.connectFailures++;
    }
    this.abandonInFlight();
    this.state = 'idle';
    if (this.stopping || (this.assigned < 0 && !this.source.hasMore(this))) return this.finish(false);
    if (this.connectFailures >= MAX_CONNECT_FAILURES) return this.finish(true);
    if (this.connectFailures > 0) setTimeout(() => this.connect(), 50 * this.connectFailures);
    else this.connect();
  }

  /** The connection is gone: every recipient without a final reply has failed. */
  private abandonInFlight(): void {
    this.fifo.clear();
    for (const t of this.txns) {
      const msg = t.msg;
      if (msg === null) continue;
      t.msg = null;
      t.gen++;
      msg.txnsOpen = 0;
      if (msg === this.cur) continue;
      this.settle(msg, msg.n - msg.accepted - msg.rejected);
    }
    const cur = this.cur;
    if (cur !== null) this.settle(cur, cur.n - cur.accepted - cur.rejected);
  }

  private finish(gaveUp: boolean): void {
    if (this.state === 'done') return;
    this.state = 'done';
    if (this.assigned >= 0 && gaveUp) this.cfg.recorder.counters.messagesAbandoned++;
    this.assigned = -1;
    this.source.ended(this, gaveUp);
  }
}
