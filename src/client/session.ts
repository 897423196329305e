/**
 * One client session: its lifecycle. It connects, runs the handshake, takes messages from its
 * source and hands them to the pipeline, reconnects every `messagesPerConnection` messages, and
 * ends when its source has no more, when it is told to stop, or when its connections keep failing
 * (`MAX_CONNECT_FAILURES`). The parts it drives, each without the others:
 * - transport.ts: the socket (net/tls connect, reads, PROXY preface, error kinds, back-pressure);
 * - handshake.ts: greeting → PROXY check → EHLO/HELO → XCLIENT → STARTTLS → AUTH, a state
 *   machine that returns actions this shell performs;
 * - pipeline.ts (with writer.ts and transaction.ts): transactions, the in-flight FIFO, 452
 *   continuation and the settlement of every recipient and message;
 * - work.ts: what comes next (a continuation, a scenario step, a new message from the source).
 *
 * Module state, one instance per worker thread: `sessionIds` here (picks each session's AUTH
 * account), `connectionSeq` in transport.ts (source and client addresses in turn, `{n}` in the HELO
 * name) and `stampSeq` in transaction.ts (the `Message-ID` number).
 */
import { closedKind, reply421Kind, timeoutKind, type ErrorKind, type Step } from '../error-kinds.js';
import * as clock from '../clock.js';
import { ReplyParser } from '../protocol/reply-parser.js';
import { NO_CAPABILITIES, type Capabilities } from '../protocol/capabilities.js';
import type { MessageSource, SessionConfig } from './config.js';
import { Transport, type TransportSink } from './transport.js';
import { Handshake, type HandshakeAction } from './handshake.js';
import { Pipeline, type PipelineHost } from './pipeline.js';
import type { Txn } from './transaction.js';
import { STEP_SENT, Work } from './work.js';

const { nowUs } = clock;

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
/**
 * Refusals that no reconnection can change: the server lacks what every message needs. The session
 * gives its messages up after the first (counted once, not three times; hostile review F2).
 */
const FINAL_REFUSALS: ReadonlySet<ErrorKind> = new Set(['auth-unavailable', 'chunking-unavailable', 'size-exceeded', '8bitmime-unavailable', 'smtputf8-unavailable']);
/** After the 221, how long the server may take to close before the session drops the connection, ms. */
const CLOSE_WAIT_MS = 1000;
/** States before a session could start its first transaction. */
const PRE_TRANSACTION: ReadonlySet<State> = new Set(['connecting', 'tls', 'handshake']);

/** Per-worker session number: session `i` uses AUTH account `i % accounts.length`. */
let sessionIds = 0;

/**
 * A session that sends the messages its source hands it. `start()` runs it; `source.ended()`
 * fires once when the source has no more, when its connections keep failing, or after `stop()`
 * once the transaction in flight has finished.
 */
export class ClientSession implements TransportSink, PipelineHost {
  /** Monotonic ms after which the sweeper times the current step out; 0 when nothing is awaited. */
  deadlineMs = 0;

  private readonly id = sessionIds++;
  private state: State = 'idle';
  private readonly transport: Transport;
  private readonly parser: ReplyParser;
  private caps: Capabilities = NO_CAPABILITIES;
  private stopping = false;
  private connectFailures = 0;
  private errorKind: ErrorKind | null = null;
  /** The first failure's cause (an OS error, the parser's reason, a reply code), kept beside its count. */
  private errorCause: string | null = null;
  private readonly hs: Handshake;
  private readonly pipeline: Pipeline;
  private readonly work: Work<ClientSession>;
  // Times in µs.
  private connectStartUs = 0;
  private sentUs = 0;

  constructor(
    private readonly cfg: SessionConfig,
    private readonly source: MessageSource<ClientSession>,
  ) {
    this.parser = new ReplyParser(
      (code, lines) => this.onReply(code, lines),
      (reason) => this.protocolError(reason),
    );
    this.transport = new Transport(cfg, this.parser, this);
    this.pipeline = new Pipeline(cfg, this.transport, this);
    this.work = new Work(cfg, source, this, this.pipeline, () => {
      if (this.state === 'waiting') this.beginTransaction();
    });
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
    if (!this.work.awaiting || this.stopping || this.state === 'done') return false;
    this.work.awaiting = false;
    this.work.assigned = intendedUs;
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
    // A body still leaving the socket is a slow reader, not a dead one: its deadline moves on.
    if (step === 'body' && this.pipeline.extendWhileSending()) return;
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
    if (this.state === 'ready' && this.pipeline.inFlight > 0) return this.pipeline.headStep();
    if (this.state === 'handshake') return this.hs.step;
    return STATE_STEP[this.state];
  }

  private connect(): void {
    if (this.state === 'done') return;
    this.state = 'connecting';
    this.errorKind = null;
    this.errorCause = null;
    this.caps = NO_CAPABILITIES;
    this.work.onConnection = 0;
    this.pipeline.reset();
    this.parser.reset();
    this.connectStartUs = nowUs();
    this.deadlineMs = this.connectStartUs / 1000 + this.cfg.timeouts.connectMs;
    const t = this.transport;
    t.connect(this.connectStartUs);
    this.hs.begin(t.connection, t.clientAddress, (this.cfg.identity?.proxy ?? 'off') !== 'off');
  }

  /** TransportSink: TCP is up; the PROXY preface, then the greeting (or implicit TLS first). */
  onConnect(now: number): void {
    if (this.cfg.tls?.implicit) return this.upgrade(now);
    this.expectGreeting(now, false);
  }

  /** The greeting is awaited from `now` on (`secure`: implicit TLS is up). */
  private expectGreeting(now: number, secure: boolean): void {
    this.state = 'handshake';
    this.hs.expectGreeting(now, secure);
    this.deadlineMs = now / 1000 + this.cfg.timeouts.greetingMs;
  }

  /** TransportSink: the connection's first error names its failure (unless the session already named one), with its cause. */
  onError(kind: ErrorKind, cause: string): void {
    this.nameFailure(kind, cause);
  }

  /** The connection's failure is the first one named, with its cause; `onClose` counts it. */
  private nameFailure(kind: ErrorKind, cause?: string): void {
    if (this.errorKind !== null) return;
    this.errorKind = kind;
    this.errorCause = cause ?? null;
  }

  /**
   * Wraps the connection in TLS (after the STARTTLS 220, or at once for implicit TLS). The `tls`
   * phase runs from `startUs` (STARTTLS written, or TCP connected) to the finished handshake.
   */
  private upgrade(startUs: number): void {
    const t = this.cfg.tls;
    // Unreachable: TLS starts only when configured (implicit, or STARTTLS chosen by the handshake).
    if (!t) return this.fail('tls-handshake');
    this.state = 'tls';
    this.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.connectMs;
    this.transport.startTls(t, startUs);
  }

  /** TransportSink: the TLS handshake finished; the greeting next (implicit TLS), or EHLO again (STARTTLS). */
  onSecure(now: number): void {
    this.parser.reset();
    if (this.cfg.tls?.implicit) this.expectGreeting(now, true);
    else this.perform(this.hs.afterTls(now));
  }

  private write(buf: Buffer, awaitMs: number): void {
    this.sentUs = nowUs();
    this.deadlineMs = this.sentUs / 1000 + awaitMs;
    this.transport.write(buf);
  }

  /** Does what the handshake asks after a reply (`Handshake.onReply`; `code`: that reply's, the cause of a refusal). */
  private perform(a: HandshakeAction, code = 0): void {
    this.parser.captureText = this.hs.captureText;
    switch (a.kind) {
      case 'send':
        this.state = 'handshake';
        return this.write(a.bytes, this.cfg.timeouts.replyMs);
      case 'tls':
        return this.upgrade(a.startUs);
      case 'ready':
        this.caps = a.caps;
        this.pipeline.configure(a.caps, a.bdat, a.pipelining);
        return this.beginTransaction();
      case 'refused':
        return this.quitAfterRefusal(a.error, a.close, a.cause ?? (code > 0 ? `reply ${code}` : undefined));
      case 'fail':
        return this.fail(a.error, code > 0 ? `reply ${code}` : undefined);
    }
  }

  /** A reply from the parser; a failure's text is left for the recorder's count (`Recorder.pendingText`). */
  private onReply(code: number, lines: readonly Buffer[] | null): void {
    if (code < 400) return this.dispatch(code, lines);
    const rec = this.cfg.recorder;
    rec.pendingText = this.parser;
    this.dispatch(code, lines);
    rec.pendingText = null;
  }

  private dispatch(code: number, lines: readonly Buffer[] | null): void {
    const rec = this.cfg.recorder;
    const t = nowUs();
    switch (this.state) {
      case 'handshake':
        return this.perform(this.hs.onReply(code, lines, this.parser.enhanced, t), code);
      case 'ready': {
        const kind = this.pipeline.onReply(code, this.parser.enhanced, t);
        if (kind !== null) return this.fail(kind, `reply ${code}`);
        if (this.pipeline.idle) this.afterTransactions();
        return;
      }
      case 'quit':
        rec.record('quit', t - this.sentUs);
        rec.reply('quit', code, this.parser.enhanced);
        // Only 221 answers QUIT (RFC 5321 §4.1.1.10); anything else is a server out of step.
        if (code !== 221) return this.fail('bad-reply', `reply ${code} to QUIT`);
        this.state = 'closing';
        // The server closes after its 221 (RFC 5321 §4.1.1.10); one that does not is given a short
        // wait, then dropped and counted, instead of stalling the session a whole reply timeout (hostile review F4).
        this.deadlineMs = t / 1000 + Math.min(this.cfg.timeouts.replyMs, CLOSE_WAIT_MS);
        this.transport.end();
        return;
      default:
        // A reply nobody asked for (while idle, or after QUIT). A 421 before closing an idle
        // connection is the server's right (RFC 5321 §3.8); anything else is a broken server.
        rec.reply('unsolicited', code, this.parser.enhanced);
        // idle, connecting and done have no connection to read from.
        if (code === 421) return this.fail(reply421Kind(this.state === 'tls' || this.state === 'closing' ? this.state : 'waiting'), 'reply 421');
        rec.error('unexpected-reply', `reply ${code}`);
    }
  }

  /** With nothing in flight: start the next transaction, wait for a message, or QUIT. */
  private beginTransaction(): void {
    // The session is established (greeted, EHLO/HELO accepted): earlier failures no longer count as a streak.
    this.connectFailures = 0;
    if (this.transport.blocked) {
      this.state = 'ready';
      return this.pipeline.deferNext();
    }
    const txn = this.work.take(false, this.caps, this.stopping);
    if (txn === STEP_SENT) {
      this.state = 'ready';
      return;
    }
    if (txn !== null) {
      this.state = 'ready';
      this.pipeline.write(txn);
      return;
    }
    // After stop() nothing new will be handed over: QUIT instead of waiting for a message that
    // never comes (the session would otherwise sit until the graceful-stop timer aborts it).
    if ((this.work.awaiting || this.work.yielding) && !this.stopping) {
      this.state = 'waiting';
      this.deadlineMs = 0;
      return;
    }
    this.sendQuit();
  }

  /** Nothing in flight: go on (the state may already have moved on, e.g. to QUIT). */
  private afterTransactions(): void {
    if (this.state === 'ready' && this.pipeline.idle) this.beginTransaction();
  }

  /** PipelineHost: the next transaction to write behind a message body, or null. */
  lookahead(): Txn | null {
    if (this.work.awaiting) return null;
    const t = this.work.take(true, this.caps, this.stopping);
    return t === STEP_SENT ? null : t;
  }

  /** TransportSink: the socket drained; the pipeline writes what waited for it. */
  onDrain(): void {
    if (this.state === 'ready' && this.pipeline.onDrain()) this.afterTransactions();
  }

  private sendQuit(): void {
    this.state = 'quit';
    this.write(this.cfg.plan.quit, this.cfg.timeouts.replyMs);
  }

  /**
   * The server refused the session (greeting, EHLO/HELO, STARTTLS, AUTH): count it, QUIT politely
   * (or with `close`, see `HandshakeAction`, close our side), and do not retry at once.
   */
  private quitAfterRefusal(kind: ErrorKind, close: boolean, cause?: string): void {
    this.cfg.recorder.error(kind, cause);
    this.connectFailures = FINAL_REFUSALS.has(kind) ? MAX_CONNECT_FAILURES : this.connectFailures + 1;
    if (!close) return this.sendQuit();
    // Let the server's close end the session; whatever it still sends is not ours to read.
    this.parser.halt();
    this.state = 'closing';
    this.deadlineMs = nowUs() / 1000 + this.cfg.timeouts.replyMs;
    this.transport.end();
  }

  /** A malformed or out-of-sequence reply (`reason`: the parser's): the stream cannot be trusted any more. */
  private protocolError(reason: string): void {
    this.fail('bad-reply', reason);
  }

  /** Ends the connection after a protocol failure or timeout; `onClose` does the accounting. */
  private fail(kind: ErrorKind, cause?: string): void {
    this.nameFailure(kind, cause);
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
      // Our QUIT was answered; a server that then kept the connection open is still counted.
      if (this.errorKind !== null) rec.error(this.errorKind, this.errorCause ?? undefined);
    } else {
      // Anything else is an unplanned end, counted by kind (`waiting-closed`: the server closed an
      // idle connection, an event rather than a failure); what is in flight has failed.
      // Closed while the PROXY check was pending: the server took the header for commands (a v2
      // header even ends in QUIT, so that such a server hangs up).
      rec.error(this.errorKind ?? (step === 'proxy-check' ? 'proxy-refused' : closedKind(step)), this.errorCause ?? undefined);
      // A connection lost before its first transaction could start counts toward giving up, so a
      // server that drops every session at EHLO (or STARTTLS, AUTH) cannot keep us reconnecting forever.
      if (PRE_TRANSACTION.has(state)) this.connectFailures++;
    }
    // Cut by the end of the run (the graceful stop ran out): what was in flight is censored, not lost.
    this.pipeline.abandon(this.errorKind === 'aborted' ? nowUs() : null);
    this.state = 'idle';
    if (this.stopping || (this.work.assigned < 0 && !this.source.hasMore(this))) return this.finish(false);
    if (this.connectFailures >= MAX_CONNECT_FAILURES) return this.finish(true);
    if (this.connectFailures > 0) setTimeout(() => this.connect(), 50 * this.connectFailures);
    else this.connect();
  }

  private finish(gaveUp: boolean): void {
    if (this.state === 'done') return;
    this.state = 'done';
    if (this.work.assigned >= 0 && gaveUp) this.cfg.recorder.counters.messagesAbandoned++;
    this.work.assigned = -1;
    this.source.ended(this, gaveUp);
  }
}
