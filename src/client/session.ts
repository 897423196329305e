/**
 * One client session: a connection's SMTP state machine, run again on a new connection every
 * `messagesPerConnection` messages until its message quota is used up or it is told to stop.
 *
 * Pipelining (RFC 2920 §3.1): when the server offers PIPELINING, MAIL, every RCPT and DATA go out
 * in one write and every reply of the group is checked in order. The in-flight group is a cursor
 * over a fixed layout (0 = MAIL, 1..n = RCPT, n+1 = DATA), so pairing a reply with its command
 * costs one increment (house style §6). Without PIPELINING the same cursor walks in lock-step.
 *
 * Replies of every kind are data (DESIGN §3 rule 8): a 4xx/5xx is counted per phase and code, a
 * timeout or reset per kind, and the session goes on with its next message on a new connection.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ReplyParser } from '../protocol/reply-parser.js';
import { NO_CAPABILITIES, parseCapabilities, type Capabilities } from '../protocol/capabilities.js';
import type { Recorder } from '../metrics/recorder.js';
import type { WirePlan } from './message.js';

/** Current monotonic time in microseconds (fractional; rounded when recorded). */
export const nowUs = (): number => performance.now() * 1000;

/** Where and how a session connects. Times in ms. */
export interface SessionConfig {
  readonly host: string;
  readonly port: number;
  readonly plan: WirePlan;
  readonly pipelining: 'auto' | 'off';
  readonly messagesPerConnection: number;
  readonly timeouts: { readonly connectMs: number; readonly greetingMs: number; readonly replyMs: number; readonly bodyMs: number };
  readonly recorder: Recorder;
}

/** `next()` result: no message is due yet; the source will call `assign()` when one is. */
export const WAIT = -1;
/** `next()` result: no more messages for this session. */
export const DONE = -2;

/**
 * Where a session gets its messages: the executor (closed quota, open-model arrival schedule).
 * Sessions pull; an open-model source also pushes to waiting sessions with `assign()`.
 */
export interface MessageSource {
  /**
   * The next message for `session`: its intended start time in µs on the `nowUs()` clock (the
   * closed model answers `nowUs()`, so intended and actual start coincide), `WAIT` when none is
   * due yet (the session stays connected and idle until `assign()`), or `DONE`.
   */
  next(session: ClientSession): number;
  /** True while more messages may come, so a new connection is worth opening. */
  hasMore(session: ClientSession): boolean;
  /** The session has ended for good; `gaveUp` when its connections kept failing. */
  ended(session: ClientSession, gaveUp: boolean): void;
}

type State = 'idle' | 'connecting' | 'greeting' | 'ehlo' | 'helo' | 'waiting' | 'envelope' | 'body' | 'rset' | 'quit' | 'closing' | 'done';

/** Consecutive connections that failed before a transaction could start (refused, timed out, greeting or EHLO refused), after which a session gives up its remaining messages. */
const MAX_CONNECT_FAILURES = 3;

const is2xx = (code: number): boolean => code >= 200 && code < 300;

/**
 * A session that sends the messages its source hands it. `start()` runs it; `source.ended()`
 * fires once when the source has no more, when its connections keep failing, or after `stop()`
 * once the transaction in flight has finished.
 */
export class ClientSession {
  /** Monotonic ms after which the sweeper times the current step out; 0 when nothing is awaited. */
  deadlineMs = 0;

  private state: State = 'idle';
  private socket: net.Socket | null = null;
  private readonly parser: ReplyParser;
  private caps: Capabilities = NO_CAPABILITIES;
  private lockstep = false;
  private stopping = false;
  private connectFailures = 0;
  private errorKind: string | null = null;
  private messagesOnConnection = 0;
  // Times in µs.
  private connectStartUs = 0;
  private connectedUs = 0;
  private sentUs = 0;
  private txnStartUs = 0;
  private intendedUs = 0;
  private bodySentUs = 0;
  // In-flight group cursor and the transaction's outcome so far.
  private cursor = 0;
  private mailOk = false;
  private rcptOk = 0;
  /** The transaction in flight already got a negative reply (MAIL refused, no 354): if the connection then drops, it was rejected, not failed. */
  private txnRefused = false;

  constructor(
    private readonly cfg: SessionConfig,
    private readonly source: MessageSource,
  ) {
    this.parser = new ReplyParser(
      (code, lines) => this.onReply(code, lines),
      (reason) => this.fail('bad-reply', reason),
    );
  }

  /** Starts the first connection (or finishes at once when the source has nothing). */
  start(): void {
    if (this.source.hasMore(this)) this.connect();
    else this.finish(false);
  }

  /** Graceful stop: no new transaction starts; the one in flight completes, then QUIT. */
  stop(): void {
    this.stopping = true;
    if (this.state === 'idle') this.finish(false);
    else if (this.state === 'waiting') this.sendQuit();
  }

  /**
   * Starts a message intended to start at `intendedUs`, if this session is waiting for one.
   * Returns false when it is not (busy, closed meanwhile): the source offers the message elsewhere.
   */
  assign(intendedUs: number): boolean {
    if (this.state !== 'waiting' || this.stopping) return false;
    this.startTransaction(intendedUs);
    return true;
  }

  /** True while connected and idle, waiting for `assign()`. */
  get waiting(): boolean {
    return this.state === 'waiting';
  }

  /** Called by the worker's sweeper when `deadlineMs` has passed. */
  timeout(): void {
    this.fail(`${this.state}-timeout`);
  }

  /** Hard stop after the grace time: the connection is dropped; a transaction in flight counts as failed (`aborted`). */
  abort(): void {
    this.stopping = true;
    if (this.socket) this.fail('aborted');
    else this.finish(false);
  }

  private connect(): void {
    if (this.state === 'done') return;
    const rec = this.cfg.recorder;
    this.state = 'connecting';
    this.errorKind = null;
    this.caps = NO_CAPABILITIES;
    this.messagesOnConnection = 0;
    this.parser.reset();
    this.connectStartUs = nowUs();
    this.deadlineMs = this.connectStartUs / 1000 + this.cfg.timeouts.connectMs;
    const socket = net.connect({ host: this.cfg.host, port: this.cfg.port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => {
      rec.counters.connections++;
      this.connectedUs = nowUs();
      rec.record('connect', this.connectedUs - this.connectStartUs);
      this.state = 'greeting';
      this.deadlineMs = this.connectedUs / 1000 + this.cfg.timeouts.greetingMs;
    });
    socket.on('data', (chunk: Buffer) => this.parser.feed(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.errorKind === null) this.errorKind = socketErrorKind(this.state, err);
    });
    socket.on('close', () => this.onClose(socket));
  }

  private write(buf: Buffer, awaitMs: number): void {
    this.sentUs = nowUs();
    this.deadlineMs = this.sentUs / 1000 + awaitMs;
    this.socket!.write(buf);
  }

  private onReply(code: number, lines: readonly Buffer[] | null): void {
    const rec = this.cfg.recorder;
    const t = nowUs();
    const replyMs = this.cfg.timeouts.replyMs;
    switch (this.state) {
      case 'greeting':
        rec.record('greeting', t - this.connectedUs);
        rec.reply('greeting', code);
        if (code !== 220) return this.quitAfterRefusal('greeting-refused');
        this.parser.captureText = true;
        this.state = 'ehlo';
        return this.write(this.cfg.plan.ehlo, replyMs);
      case 'ehlo':
        rec.record('ehlo', t - this.sentUs);
        rec.reply('ehlo', code);
        if (code === 250) {
          this.parser.captureText = false;
          this.caps = parseCapabilities(lines ?? []);
          this.lockstep = this.cfg.pipelining === 'off' || !this.caps.pipelining;
          return this.beginTransaction();
        }
        // RFC 5321 §3.2: a server that does not know EHLO answers 500 or 502; try HELO.
        if (code === 500 || code === 502) {
          this.parser.captureText = false;
          this.state = 'helo';
          return this.write(this.cfg.plan.helo, replyMs);
        }
        return this.quitAfterRefusal('ehlo-refused');
      case 'helo':
        rec.record('ehlo', t - this.sentUs);
        rec.reply('helo', code);
        if (code !== 250) return this.quitAfterRefusal('helo-refused');
        this.lockstep = true;
        return this.beginTransaction();
      case 'envelope':
        return this.onEnvelopeReply(code, t);
      case 'body': {
        const sent = this.bodySentUs || t;
        rec.record('body', t - sent);
        // Open model: from the intended start, which corrects coordinated omission (DESIGN §3 rule 3);
        // `service` keeps the uncorrected time. Closed model: the two are the same.
        rec.record('transaction', t - this.intendedUs);
        rec.record('service', t - this.txnStartUs);
        rec.reply('body', code);
        this.endTransaction(is2xx(code));
        return;
      }
      case 'rset':
        rec.record('rset', t - this.sentUs);
        rec.reply('rset', code);
        return this.beginTransaction();
      case 'quit':
        rec.record('quit', t - this.sentUs);
        rec.reply('quit', code);
        this.state = 'closing';
        this.deadlineMs = t / 1000 + replyMs;
        this.socket!.end();
        return;
      default:
        // A reply nobody asked for (before connect completes, or after QUIT): a broken server.
        rec.error('unexpected-reply');
    }
  }

  /** One reply of the MAIL / RCPT… / DATA group; `cursor` says which command it answers. */
  private onEnvelopeReply(code: number, t: number): void {
    const rec = this.cfg.recorder;
    const plan = this.cfg.plan;
    const n = plan.recipients;
    const i = this.cursor++;
    const replyMs = this.cfg.timeouts.replyMs;
    if (i === 0) {
      rec.record('mail', t - this.sentUs);
      rec.reply('mail', code);
      this.mailOk = is2xx(code);
      if (!this.mailOk) this.txnRefused = true;
      if (!this.lockstep) return;
      if (!this.mailOk) return this.endTransaction(false);
      return this.write(plan.rcpts[0], replyMs);
    }
    if (i <= n) {
      rec.record('rcpt', t - this.sentUs);
      rec.reply('rcpt', code);
      if (is2xx(code)) this.rcptOk++;
      if (!this.lockstep) return;
      if (i < n) return this.write(plan.rcpts[i], replyMs);
      // RFC 5321 §3.3: no DATA without at least one accepted recipient.
      if (this.rcptOk === 0) return this.endTransaction(false);
      return this.write(plan.dataCommand, replyMs);
    }
    rec.record('data', t - this.sentUs);
    rec.reply('data', code);
    if (code !== 354) {
      this.txnRefused = true;
      return this.endTransaction(false);
    }
    // RFC 2920 §3.1: a 354 after every RCPT failed still needs an end of data; we send the
    // message and let the end-of-data reply decide (it should be a 5xx).
    this.state = 'body';
    this.bodySentUs = 0;
    this.deadlineMs = t / 1000 + this.cfg.timeouts.bodyMs;
    const flushed = this.socket!.write(plan.payload, () => {
      if (this.bodySentUs === 0) this.bodySentUs = nowUs();
    });
    // true: the whole payload is already with the kernel; false: the callback above stamps the time.
    if (flushed) this.bodySentUs = nowUs();
  }

  /** Between transactions: take the next message from the source, wait for one, or QUIT. */
  private beginTransaction(): void {
    // The session is established (greeted, EHLO/HELO accepted): earlier failures no longer count as a streak.
    this.connectFailures = 0;
    if (this.stopping || this.messagesOnConnection >= this.cfg.messagesPerConnection) return this.sendQuit();
    const intended = this.source.next(this);
    if (intended === DONE) return this.sendQuit();
    if (intended === WAIT) {
      this.state = 'waiting';
      this.deadlineMs = 0;
      return;
    }
    this.startTransaction(intended);
  }

  private startTransaction(intendedUs: number): void {
    const rec = this.cfg.recorder;
    const plan = this.cfg.plan;
    this.intendedUs = intendedUs;
    this.messagesOnConnection++;
    rec.counters.messagesAttempted++;
    rec.counters.recipientsAttempted += plan.recipients;
    this.state = 'envelope';
    this.cursor = 0;
    this.mailOk = false;
    this.rcptOk = 0;
    this.txnRefused = false;
    const withSize = this.caps.size !== null;
    this.txnStartUs = nowUs();
    if (this.lockstep) this.write(withSize ? plan.mailWithSize : plan.mail, this.cfg.timeouts.replyMs);
    else this.write(withSize ? plan.envelopeBatchWithSize : plan.envelopeBatch, this.cfg.timeouts.replyMs);
  }

  private endTransaction(accepted: boolean): void {
    const c = this.cfg.recorder.counters;
    const n = this.cfg.plan.recipients;
    if (accepted) {
      c.messagesAccepted++;
      c.recipientsAccepted += this.rcptOk;
      c.recipientsRejected += n - this.rcptOk;
      c.bytes += this.cfg.plan.payloadBytes;
      return this.beginTransaction();
    }
    c.messagesRejected++;
    c.recipientsRejected += n;
    // The server may still hold an open transaction (MAIL accepted): reset it (RFC 5321 §4.1.1.5).
    this.state = 'rset';
    this.write(this.cfg.plan.rset, this.cfg.timeouts.replyMs);
  }

  private sendQuit(): void {
    this.state = 'quit';
    this.write(this.cfg.plan.quit, this.cfg.timeouts.replyMs);
  }

  /** The server refused the session (greeting or EHLO/HELO): count it, QUIT politely, and do not retry at once. */
  private quitAfterRefusal(kind: string): void {
    this.cfg.recorder.error(kind);
    this.connectFailures++;
    this.sendQuit();
  }

  /** Ends the connection after a protocol failure or timeout; `onClose` does the accounting. */
  private fail(kind: string, _detail?: string): void {
    if (this.errorKind === null) this.errorKind = kind;
    this.deadlineMs = 0;
    this.socket?.destroy();
  }

  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    const rec = this.cfg.recorder;
    const state = this.state;
    this.deadlineMs = 0;
    this.socket = null;
    if (state === 'closing') {
      rec.record('session', nowUs() - this.connectStartUs);
    } else {
      // Anything else is an unplanned end, counted by kind (`waiting-closed`: the server closed an
      // idle connection, an event rather than a failure); a transaction in flight has failed.
      rec.error(this.errorKind ?? `${state}-closed`);
      if (state === 'envelope' || state === 'body') {
        // A 421 (or any refusal) followed by the close is a rejection the server stated; silence is a failure.
        if (this.txnRefused) rec.counters.messagesRejected++;
        else rec.counters.messagesFailed++;
        rec.counters.recipientsRejected += this.cfg.plan.recipients;
      }
      // A connection that ends before its first transaction (refused, timed out, closed or garbled
      // during the greeting or EHLO) adds to the streak that makes the session give up; otherwise a
      // server that closes after its greeting would be redialled forever.
      if (this.messagesOnConnection === 0) this.connectFailures++;
    }
    this.state = 'idle';
    if (this.stopping || !this.source.hasMore(this)) return this.finish(false);
    if (this.connectFailures >= MAX_CONNECT_FAILURES) return this.finish(true);
    if (this.connectFailures > 0) setTimeout(() => this.connect(), 50 * this.connectFailures);
    else this.connect();
  }

  private finish(gaveUp: boolean): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.source.ended(this, gaveUp);
  }
}

/** A stable error kind for a socket error: `connect-refused`, `connect-failed`, `socket-reset`, `socket-error`. */
export function socketErrorKind(state: string, err: NodeJS.ErrnoException): string {
  if (state === 'connecting') return err.code === 'ECONNREFUSED' ? 'connect-refused' : 'connect-failed';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'socket-reset';
  return 'socket-error';
}
