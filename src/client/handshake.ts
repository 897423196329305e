/**
 * The client's handshake as a state machine without a socket: greeting → PROXY check → EHLO (HELO
 * after 500/502) → XCLIENT → STARTTLS (and EHLO again, RFC 3207 §4.2) → AUTH (RFC 4954) → ready.
 * `onReply(code, lines, enhanced, nowUs)` takes each reply and returns a `HandshakeAction` that the
 * session performs (go-smtp's `sasl.Client.Next` shape, review §4.3): write a command, start TLS,
 * start transactions, refuse (QUIT politely), or fail (hang up). It records its phases' latencies
 * and reply codes in the recorder; it writes nothing and arms no timer.
 */
import net from 'node:net';
import type { ErrorKind, Step } from '../error-kinds.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Account } from '../profile/accounts.js';
import { DEFAULTS } from '../profile/defaults.js';
import { NO_CAPABILITIES, parseCapabilities, type Capabilities } from '../protocol/capabilities.js';
import { authCommand, chooseMechanism, clientResponse, type ClientMechanism } from '../protocol/sasl.js';
import type { SessionConfig } from './config.js';
import { messageShape } from './message.js';
import { unsendableKind } from './transaction.js';

/** What the session does after a handshake reply. */
/** Why a server can take none of the plan's messages, for the error's cause (`size`: the smallest message; `limit`: the server's SIZE). */
const NEVER_CAUSE: Partial<Record<ErrorKind, (size: number, limit: number | null) => string>> = {
  'size-exceeded': (size, limit) => `the smallest message (${size} octets) is over the server's SIZE ${limit}`,
  '8bitmime-unavailable': () => 'the body is 8-bit and the server offers no 8BITMIME',
  'smtputf8-unavailable': () => 'the addresses need SMTPUTF8 and the server does not offer it',
};

export type HandshakeAction =
  /** Write `bytes` (one command line) and await its reply. */
  | { readonly kind: 'send'; readonly bytes: Buffer }
  /** STARTTLS was accepted: wrap the socket in TLS, timed from `startUs`; then call `afterTls`. */
  | { readonly kind: 'tls'; readonly startUs: number }
  /** The session is established: transactions may start (`bdat`: BDAT instead of DATA; `pipelining`: write groups at once). */
  | { readonly kind: 'ready'; readonly caps: Capabilities; readonly bdat: boolean; readonly pipelining: boolean }
  /**
   * The server refused the session (or lacks what it needs): count `error` and QUIT; with `close`
   * (a 421, RFC 5321 §3.8, or a PROXY header not yet taken) close our side without a QUIT.
   */
  | { readonly kind: 'refused'; readonly error: ErrorKind; readonly close: boolean; readonly cause?: string }
  /** The stream cannot be trusted (a malformed or out-of-sequence reply, a refused PROXY header): hang up. */
  | { readonly kind: 'fail'; readonly error: ErrorKind };

/** The step each handshake state names in error kinds (src/error-kinds.ts), and `done` once ready. */
type HandshakeState = 'greeting' | 'proxy-check' | 'ehlo' | 'helo' | 'xclient' | 'starttls' | 'auth' | 'done';

/** The PROXY check after the greeting (see `onGreeting`). */
const NOOP_LINE = Buffer.from('NOOP\r\n');
const BAD_REPLY: HandshakeAction = Object.freeze({ kind: 'fail', error: 'bad-reply' });

const is2xx = (code: number): boolean => code >= 200 && code < 300;

/** One session's handshakes, one per connection (`begin`); it remembers across connections only whether the PROXY header was taken. */
export class Handshake {
  /** Where the handshake stands, as error kinds name the step (`greeting`, `ehlo`, `auth`…). */
  state: HandshakeState = 'greeting';
  /** The reply parser should keep reply text (EHLO keywords, AUTH challenges). */
  captureText = false;
  private caps: Capabilities = NO_CAPABILITIES;
  private secure = false;
  private authed = false;
  private authStep = 0;
  private authMech: ClientMechanism = 'PLAIN';
  private xclientDone = false;
  /** A PROXY header went out on this connection and the server has not yet shown that it took it. */
  private proxyUnconfirmed = false;
  /** The target took this session's PROXY header once: later connections skip the NOOP check. */
  private proxyConfirmed = false;
  private clientAddress: string | null = null;
  private ehloLine: Buffer;
  private heloLine: Buffer;
  private heloName: string;
  // Times in µs.
  private connectedUs = 0;
  private sentUs = 0;
  private authStartUs = 0;

  /** `account`: the AUTH credentials of this session (null without AUTH). */
  constructor(
    private readonly cfg: SessionConfig,
    private readonly rec: Recorder,
    private readonly account: Account | null,
  ) {
    this.ehloLine = cfg.plan.ehlo;
    this.heloLine = cfg.plan.helo;
    this.heloName = cfg.plan.heloName;
  }

  /**
   * A new connection, number `n` of this thread (fills `{n}` in the HELO name), announcing
   * `clientAddress` (XCLIENT), `proxySent` when a PROXY header went out on it.
   */
  begin(n: number, clientAddress: string | null, proxySent: boolean): void {
    this.state = 'greeting';
    this.captureText = false;
    this.caps = NO_CAPABILITIES;
    this.secure = false;
    this.authed = false;
    this.xclientDone = false;
    this.clientAddress = clientAddress;
    // Implicit TLS: a server without PROXY fails the handshake instead, which is counted as such.
    this.proxyUnconfirmed = proxySent && !this.cfg.tls?.implicit && !this.proxyConfirmed;
    if (this.cfg.plan.heloName.includes('{n}')) {
      // One HELO name per connection: `client{n}.example.test`.
      this.heloName = this.cfg.plan.heloName.replaceAll('{n}', String(n + 1));
      this.ehloLine = Buffer.from(`${this.cfg.lmtp ? 'LHLO' : 'EHLO'} ${this.heloName}\r\n`);
      this.heloLine = Buffer.from(`HELO ${this.heloName}\r\n`);
    }
  }

  /** The greeting is awaited from `nowUs` on (TCP connected, or `secure`: implicit TLS established). */
  expectGreeting(nowUs: number, secure: boolean): void {
    this.connectedUs = nowUs;
    this.secure = secure;
    this.state = 'greeting';
  }

  /** TLS is up after STARTTLS: forget everything learnt before it and say EHLO again (RFC 3207 §4.2). */
  afterTls(nowUs: number): HandshakeAction {
    this.secure = true;
    this.caps = NO_CAPABILITIES;
    return this.ehlo(nowUs);
  }

  /** A PROXY header is out and not yet confirmed: the server may still answer its line (see `refused`). */
  get proxyPending(): boolean {
    return this.proxyUnconfirmed;
  }

  /** The step being waited for, for error kinds. */
  get step(): Step {
    return this.state === 'done' ? 'envelope' : this.state;
  }

  /** One reply during the handshake; `enhanced` is its packed enhanced status code (0: none). */
  onReply(code: number, lines: readonly Buffer[] | null, enhanced: number, nowUs: number): HandshakeAction {
    const rec = this.rec;
    switch (this.state) {
      case 'greeting':
        rec.record('greeting', nowUs - this.connectedUs);
        rec.reply('greeting', code, enhanced);
        if (code !== 220) return code < 400 ? BAD_REPLY : this.refused('greeting-refused', code);
        if (this.proxyUnconfirmed) {
          // A server without the PROXY protocol reads the header as a command line and answers it
          // after the greeting; one with it answers nothing. A NOOP (RFC 5321 §4.5.1: always
          // implemented, 250) tells them apart: its reply comes first only if the header was taken.
          this.state = 'proxy-check';
          return this.send(NOOP_LINE, nowUs);
        }
        return this.ehlo(nowUs);
      case 'proxy-check':
        rec.reply('proxy-check', code, enhanced);
        this.proxyUnconfirmed = false;
        // Anything else is the server refusing the header line: every later reply would pair with
        // the wrong command, so hang up without a QUIT.
        if (!is2xx(code)) return { kind: 'fail', error: 'proxy-refused' };
        this.proxyConfirmed = true;
        return this.ehlo(nowUs);
      case 'ehlo':
        rec.record('ehlo', nowUs - this.sentUs);
        rec.reply('ehlo', code, enhanced);
        if (code === 250) {
          this.captureText = false;
          this.caps = parseCapabilities(lines ?? []);
          return this.afterHello(nowUs);
        }
        // Only 250 accepts EHLO (RFC 5321 §4.1.1.1): another 2xx or a 3xx is a server out of step,
        // such as one that greeted twice, whose second 220 would otherwise pass for the EHLO's
        // refusal and shift every later reply by one (hostile review F15).
        if (code < 400) return BAD_REPLY;
        // RFC 5321 §3.2: a server that does not know EHLO answers 500 or 502; try HELO (not in LMTP: LHLO only).
        if ((code === 500 || code === 502) && !this.cfg.lmtp) {
          this.captureText = false;
          this.state = 'helo';
          return this.send(this.heloLine, nowUs);
        }
        return this.refused('ehlo-refused', code);
      case 'helo':
        rec.record('ehlo', nowUs - this.sentUs);
        rec.reply('helo', code, enhanced);
        if (code !== 250) return code < 400 ? BAD_REPLY : this.refused('helo-refused', code);
        return this.afterHello(nowUs);
      case 'xclient':
        rec.reply('xclient', code, enhanced);
        // Postfix XCLIENT_README: success is a new 220 greeting, after which EHLO is repeated.
        if (code !== 220) return code < 400 ? BAD_REPLY : this.refused('xclient-refused', code);
        this.xclientDone = true;
        this.caps = NO_CAPABILITIES;
        return this.ehlo(nowUs);
      case 'starttls':
        rec.reply('starttls', code, enhanced);
        if (code === 220) return { kind: 'tls', startUs: this.sentUs };
        return code < 400 ? BAD_REPLY : this.refused('starttls-refused', code);
      case 'auth':
        return this.onAuthReply(code, lines, enhanced, nowUs);
      case 'done':
        return BAD_REPLY;
    }
  }

  /** After a 250 to EHLO/HELO: XCLIENT, STARTTLS, AUTH, then transactions. */
  private afterHello(nowUs: number): HandshakeAction {
    const id = this.cfg.identity;
    if (id?.xclient && !this.xclientDone && this.clientAddress !== null) {
      if (!this.caps.keywords.has('XCLIENT')) return this.refused('xclient-unavailable');
      const addr = net.isIP(this.clientAddress) === 6 ? `IPV6:${this.clientAddress}` : this.clientAddress;
      this.state = 'xclient';
      return this.send(Buffer.from(`XCLIENT ADDR=${addr} HELO=${this.heloName}\r\n`, 'latin1'), nowUs);
    }
    const t = this.cfg.tls;
    if (t && !this.secure && t.starttls !== 'off') {
      if (this.caps.startTls) {
        this.state = 'starttls';
        return this.send(this.cfg.plan.starttls, nowUs);
      }
      // `on` never falls back to plaintext.
      if (t.starttls === 'on') return this.refused('starttls-unavailable', 0, 'tls.starttls is on and the server offers no STARTTLS');
    }
    if (this.cfg.auth && !this.authed) return this.startAuth(this.cfg.auth.mechanism, nowUs);
    const body = this.cfg.body ?? DEFAULTS.message.body;
    if (body === 'bdat' && !this.caps.chunking) return this.refused('chunking-unavailable', 0, 'message.body is bdat and the server offers no CHUNKING');
    // A server that can take none of the plan's messages (the smallest is over its SIZE, the body
    // is 8-bit without 8BITMIME, the addresses need SMTPUTF8) refuses the session, once: drawing and
    // skipping message after message would count phantom attempts at full CPU (hostile review F2).
    // Scenario steps need no message, and replayed bodies differ: those are checked one by one.
    const plan = this.cfg.plan;
    if (!this.cfg.scenario && plan.bodies.length === 1) {
      // One body: messageShape draws nothing (with several it would take a turn of pickBody).
      const smallest = messageShape(plan, plan.sizes.min);
      const never = unsendableKind(plan, smallest, this.caps);
      if (never !== null) return this.refused(never, 0, NEVER_CAUSE[never]?.(smallest.size, this.caps.size));
    }
    this.state = 'done';
    return {
      kind: 'ready',
      caps: this.caps,
      bdat: body === 'bdat' || (body === 'auto' && this.caps.chunking && !this.cfg.lmtp),
      pipelining: this.cfg.pipelining !== 'off' && this.caps.pipelining,
    };
  }

  private startAuth(configured: ClientMechanism | 'auto', nowUs: number): HandshakeAction {
    const mech = chooseMechanism(configured, this.caps.auth);
    const acct = this.account;
    if (mech === undefined || acct === null)
      return this.refused(
        'auth-unavailable',
        0,
        acct === null ? 'no account to authenticate with' : `the server offers AUTH ${this.caps.auth.join(' ') || '(none)'}; the profile asks for ${configured}`,
      );
    this.authMech = mech;
    this.authStep = 0;
    this.state = 'auth';
    this.captureText = true;
    this.authStartUs = nowUs;
    return this.send(Buffer.from(`${authCommand(mech, acct.user, acct.pass)}\r\n`), nowUs);
  }

  private onAuthReply(code: number, lines: readonly Buffer[] | null, enhanced: number, nowUs: number): HandshakeAction {
    const rec = this.rec;
    const acct = this.account;
    // Unreachable: AUTH starts only with an account (`startAuth`).
    if (acct === null) return BAD_REPLY;
    if (code === 235) {
      rec.record('auth', nowUs - this.authStartUs);
      rec.reply('auth', code, enhanced);
      this.captureText = false;
      this.authed = true;
      return this.afterHello(nowUs);
    }
    if (code !== 334) {
      rec.reply('auth', code, enhanced);
      this.captureText = false;
      return code < 400 ? BAD_REPLY : this.refused('auth-failed', code);
    }
    // 334: the server wants the next step; a mechanism has at most two.
    const answer = clientResponse(this.authMech, this.authStep++, acct.user, acct.pass, lines?.[0] ?? null);
    if (answer === null) {
      rec.reply('auth', code, enhanced);
      return BAD_REPLY;
    }
    return this.send(Buffer.from(`${answer}\r\n`), nowUs);
  }

  private ehlo(nowUs: number): HandshakeAction {
    this.captureText = true;
    this.state = 'ehlo';
    return this.send(this.ehloLine, nowUs);
  }

  private send(bytes: Buffer, nowUs: number): HandshakeAction {
    this.sentUs = nowUs;
    return { kind: 'send', bytes };
  }

  /**
   * RFC 5321 §3.8: with 421 the server is closing the channel; a QUIT would go unanswered and count
   * a second error. With a PROXY header not yet taken, the server may still answer the header's
   * line, and that reply would be taken for the QUIT's: close instead.
   */
  private refused(error: ErrorKind, code = 0, cause?: string): HandshakeAction {
    this.captureText = false;
    const close = code === 421 || this.proxyUnconfirmed;
    return cause === undefined ? { kind: 'refused', error, close } : { kind: 'refused', error, close, cause };
  }
}
