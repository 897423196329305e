/**
 * One reference-server connection: command-line framing, verb dispatch from bytes, and the
 * DATA stream. Framing (finding lines, the end of data) is kept apart from meaning (what a
 * command does to the session) even though both live in this file: `onData` frames, `command`
 * means.
 *
 * Policies (documented in the README):
 * - Only CRLF ends a command line (RFC 5321 §2.3.8). A bare LF does not; the line runs on to the
 *   next CRLF and is then refused with 500 as a whole (so `EHLO x<LF>QUIT<CRLF>` never runs QUIT).
 * - A command line longer than `MAX_COMMAND_LINE` is not buffered: octets are dropped up to the next
 *   CRLF, then one 500 is sent (resync; memory stays bounded).
 * - All replies to one input chunk go out in one corked burst, and are flushed at the end of every
 *   chunk, so a pipelining client never waits on us (RFC 2920 §3.2 rule 7).
 * - A delayed reply (fault injection) is held, and so is every reply after it: the connection
 *   stops reading until the held reply is written, like a server busy on that command. Replies
 *   therefore always leave in command order (RFC 2920 §3.2 rule 7 again).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DataEndScanner } from '../protocol/data-end.js';
import { faultIndex, type FaultIndex, type FaultPlan } from './faults.js';
import type { ServerSettings } from '../profile/types.js';
import type { Replies } from './replies.js';
import type { ServerMetrics } from './stats.js';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const LT = 0x3c;
const GT = 0x3e;

/** Longest accepted command line in octets, CRLF included (RFC 5321 §4.5.3.1.4 requires at least 512). */
export const MAX_COMMAND_LINE = 4096;

/** Four ASCII letters, case-folded, as one 32-bit number: verbs are matched with one comparison. */
const verb = (s: string): number =>
  (((s.charCodeAt(0) | 0x20) << 24) | ((s.charCodeAt(1) | 0x20) << 16) | ((s.charCodeAt(2) | 0x20) << 8) | (s.charCodeAt(3) | 0x20)) >>> 0;

const HELO = verb('HELO');
const EHLO = verb('EHLO');
const MAIL = verb('MAIL');
const RCPT = verb('RCPT');
const DATA = verb('DATA');
const RSET = verb('RSET');
const NOOP = verb('NOOP');
const QUIT = verb('QUIT');
const VRFY = verb('VRFY');
const HELP = verb('HELP');
const EXPN = verb('EXPN');
const TURN = verb('TURN');
const SEND = verb('SEND');
const SOML = verb('SOML');
const SAML = verb('SAML');
const ATRN = verb('ATRN');
const AUTH = verb('AUTH');
const BDAT = verb('BDAT');

const FROM_COLON = Buffer.from('FROM:');
const TO_COLON = Buffer.from('TO:');

/** Per verb number: the histogram of its processing time and its fault-table index. */
interface VerbInfo {
  readonly hist: string;
  readonly fault: FaultIndex;
}
const OTHER: VerbInfo = { hist: 'cmd.other', fault: faultIndex('*') };
const VERBS = new Map<number, VerbInfo>(
  (['helo', 'ehlo', 'mail', 'rcpt', 'data', 'rset', 'noop', 'quit', 'vrfy', 'help', 'expn', 'auth', 'bdat'] as const).map((v) => [
    verb(v),
    { hist: `cmd.${v}`, fault: faultIndex(v) },
  ]),
);
const F_CONNECT = faultIndex('connect');
const F_DATA = faultIndex('data');
const F_DATA_END = faultIndex('data-end');

/** True when `buf[at..]` starts with `upper` (ASCII letters matched case-insensitively). */
function startsWithCI(buf: Buffer, at: number, upper: Buffer): boolean {
  if (buf.length - at < upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    const b = buf[at + i];
    const u = upper[i];
    if (b !== u && (b & 0xdf) !== u) return false;
  }
  return true;
}

const enum Mode {
  Command,
  Data,
  Closing,
}

/** Serves one accepted socket until it closes. */
export class Connection {
  private mode = Mode.Command;
  private readonly scanner = new DataEndScanner();
  /** Replies not yet written. From `holdFrom` on they wait for the hold timer. */
  private readonly out: Buffer[] = [];
  private held = false;
  private holdFrom = 0;
  private holdMs = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  /** Input that arrived (or was left over) while replies were held; the socket is paused meanwhile. */
  private readonly stash: Buffer[] = [];
  /** Fault-table index of the command being answered. */
  private fc: FaultIndex = F_CONNECT;
  /** Negative replies sent on this connection (the tarpit counts them). */
  private errors = 0;
  /** After a 5xx greeting (RFC 5321 §3.1): only QUIT is served, everything else gets 503. */
  private refused = false;
  /** Drop the connection once the current message reaches this many octets (-1: never). */
  private disconnectAt = -1;
  // Command-line framing across chunks.
  private partial: Buffer[] = [];
  private partialLen = 0;
  private discarding = false;
  private sawBareLf = false;
  // Session and transaction state (RFC 5321 §4.1.4).
  private greeted = false;
  private inTransaction = false;
  private recipients = 0;
  private messageBytes = 0;
  private dataStartNs = 0n;

  constructor(
    private readonly socket: Socket,
    private readonly settings: ServerSettings,
    private readonly replies: Replies,
    private readonly metrics: ServerMetrics,
    private readonly faults: FaultPlan,
  ) {
    metrics.counters.connections++;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.holdTimer !== null && clearTimeout(this.holdTimer));
    this.greet();
  }

  /** Sends the greeting, or the connect fault drawn for this connection. */
  private greet(): void {
    this.fc = F_CONNECT;
    if (this.faults.active) {
      if (this.faults.disconnectNow(F_CONNECT)) {
        this.drop();
        return this.flush();
      }
      const o = this.faults.override(F_CONNECT);
      if (o !== undefined) {
        this.metrics.counters.faults++;
        this.reply(o.reply);
        // 4yz on connect: hang up (421). 5yz: RFC 5321 §3.1, wait for QUIT and refuse the rest with 503.
        if (o.reply[0] === 0x34) this.mode = Mode.Closing;
        else this.refused = true;
        return this.flush();
      }
    }
    this.reply(this.replies.greeting);
    this.flush();
  }

  /**
   * Closes the connection without answering the current command (fault injection). Replies
   * already queued for earlier commands still go out first; then FIN, as `flush` does on Closing.
   */
  private drop(): void {
    this.metrics.counters.faults++;
    this.mode = Mode.Closing;
  }

  private onData(chunk: Buffer): void {
    if (this.held || this.stash.length > 0) {
      // Replies are held: keep the input for later, and stop reading (TCP back-pressure bounds memory).
      this.stash.push(chunk);
      this.socket.pause();
      return;
    }
    this.consume(chunk);
    this.flush();
  }

  /** The hold timer fired: let the held replies go and carry on with the stashed input. */
  private release(): void {
    this.holdTimer = null;
    this.held = false;
    while (!this.held && this.stash.length > 0 && this.mode !== Mode.Closing) this.consume(this.stash.shift()!);
    this.flush();
    if (!this.held && this.mode !== Mode.Closing) this.socket.resume();
  }

  /**
   * Frames one chunk: data octets go to the end-of-data scanner, command lines to `command`.
   * Stops early when a reply is held; the rest of the chunk is stashed for `release`.
   */
  private consume(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len && this.mode !== Mode.Closing && !this.held) {
      if (this.mode === Mode.Data) {
        const end = this.scanner.feed(chunk, pos);
        const upTo = end === -1 ? len : end;
        this.messageBytes += upTo - pos;
        pos = upTo;
        if (this.disconnectAt >= 0 && this.messageBytes >= this.disconnectAt) return this.drop();
        if (end !== -1) this.endOfData();
        continue;
      }
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) {
        this.keepPartial(chunk, pos, len);
        pos = len;
        continue;
      }
      const crBefore = lf > pos ? chunk[lf - 1] === CR : this.partialLen > 0 && this.lastPartialOctet() === CR;
      if (!crBefore) {
        // Bare LF: not a line end (RFC 5321 §2.3.8). Keep the octets; the line is refused at its CRLF.
        this.sawBareLf = true;
        this.keepPartial(chunk, pos, lf + 1);
        pos = lf + 1;
        continue;
      }
      if (this.discarding || this.partialLen + (lf + 1 - pos) > MAX_COMMAND_LINE) {
        this.resetLine();
        this.reply(this.replies.lineTooLong);
        pos = lf + 1;
        continue;
      }
      let line: Buffer;
      if (this.partialLen === 0) {
        line = chunk.subarray(pos, lf - 1);
      } else {
        this.partial.push(chunk.subarray(pos, lf + 1));
        const whole = Buffer.concat(this.partial);
        line = whole.subarray(0, whole.length - 2);
      }
      const bareLf = this.sawBareLf;
      this.resetLine();
      pos = lf + 1;
      if (bareLf) this.reply(this.replies.bareLf);
      else this.command(line);
    }
    if (pos < len && this.held && this.mode !== Mode.Closing) this.stash.unshift(chunk.subarray(pos));
  }

  private keepPartial(chunk: Buffer, from: number, to: number): void {
    if (this.discarding) return;
    if (this.partialLen + (to - from) > MAX_COMMAND_LINE) {
      // Too long already: drop what we have and skip to the next CRLF.
      this.partial = [];
      this.partialLen = 0;
      this.discarding = true;
      return;
    }
    // Copy: a partial line is short, and keeping a view would pin the whole socket chunk.
    this.partial.push(Buffer.from(chunk.subarray(from, to)));
    this.partialLen += to - from;
  }

  private lastPartialOctet(): number {
    const last = this.partial[this.partial.length - 1];
    return last[last.length - 1];
  }

  private resetLine(): void {
    if (this.partialLen > 0) {
      this.partial = [];
      this.partialLen = 0;
    }
    this.discarding = false;
    this.sawBareLf = false;
  }

  /** Gives one command line (CRLF removed) its meaning. */
  private command(line: Buffer): void {
    const t0 = process.hrtime.bigint();
    const m = this.metrics;
    m.counters.commands++;
    const R = this.replies;
    let v = 0;
    if (line.length >= 4 && (line.length === 4 || line[4] === SP)) {
      v = (((line[0] | 0x20) << 24) | ((line[1] | 0x20) << 16) | ((line[2] | 0x20) << 8) | (line[3] | 0x20)) >>> 0;
    }
    const info = VERBS.get(v) ?? OTHER;
    this.fc = info.fault;
    if (line.indexOf(0) !== -1) {
      this.reply(R.nul);
      v = -1;
    } else if (this.refused && v !== QUIT) {
      this.reply(R.badSequence);
      v = -1;
    } else if (this.faults.active && this.injected()) {
      v = -1;
    }
    switch (v) {
      case -1:
        break;
      case EHLO:
      case HELO:
        if (line.length < 6 || line.subarray(5).every((b) => b === SP)) {
          this.reply(R.heloSyntax);
          break;
        }
        // RFC 5321 §4.1.4: EHLO/HELO also resets any transaction.
        this.greeted = true;
        this.resetTransaction();
        this.reply(v === EHLO ? R.ehlo : R.helo);
        break;
      case MAIL:
        this.mail(line);
        break;
      case RCPT:
        this.rcpt(line);
        break;
      case DATA:
        if (line.length > 4) this.reply(R.syntax);
        else if (!this.inTransaction) this.reply(R.badSequence);
        else if (this.recipients === 0) this.reply(R.noValidRecipients);
        else {
          this.reply(R.dataGo);
          this.mode = Mode.Data;
          this.messageBytes = 0;
          this.scanner.begin();
          this.dataStartNs = process.hrtime.bigint();
          if (this.faults.active) this.disconnectAt = this.faults.disconnectAfterBytes(F_DATA);
        }
        break;
      case RSET:
        this.resetTransaction();
        this.reply(R.ok);
        break;
      case NOOP:
        this.reply(R.ok);
        break;
      case QUIT:
        this.reply(R.quit);
        this.mode = Mode.Closing;
        break;
      case VRFY:
        this.reply(line.length > 5 ? R.vrfy : R.syntax);
        break;
      case HELP:
        this.reply(R.help);
        break;
      case EXPN:
      case TURN:
      case SEND:
      case SOML:
      case SAML:
      case ATRN:
      case AUTH:
      case BDAT:
        // Recognised, not implemented (yet), and not advertised in EHLO (RFC 5321 §4.2.4).
        this.reply(R.notImplemented);
        break;
      default:
        this.reply(R.unknown);
    }
    m.record(info.hist, Number(process.hrtime.bigint() - t0) / 1000);
  }

  /**
   * Draws the faults of the current command (`this.fc`): a disconnect, or a reply that replaces
   * the command's own. True when one fired and the command must not run.
   */
  private injected(): boolean {
    const f = this.faults;
    if (f.disconnectNow(this.fc)) {
      this.drop();
      return true;
    }
    const o = f.override(this.fc);
    if (o === undefined) return false;
    this.metrics.counters.faults++;
    this.reply(o.reply);
    if (o.close) this.mode = Mode.Closing;
    return true;
  }

  /** `MAIL FROM:<reverse-path> [SP mail-parameters]` (RFC 5321 §4.1.1.2, RFC 1870 SIZE). */
  private mail(line: Buffer): void {
    const R = this.replies;
    if (!startsWithCI(line, 5, FROM_COLON)) return this.reply(R.syntax);
    if (!this.greeted) return this.reply(R.needHelo);
    if (this.inTransaction) return this.reply(R.badSequence);
    const close = pathEnd(line, 10);
    if (close === -1) return this.reply(R.syntax);
    // mail-parameters: SIZE=n, BODY=7BIT|8BITMIME, SMTPUTF8. Decoded as text: short, and not on the per-octet path.
    const params = line.toString('latin1', close + 1).trim();
    if (params.length > 0) {
      for (const p of params.split(/ +/)) {
        const eq = p.indexOf('=');
        const key = (eq === -1 ? p : p.slice(0, eq)).toUpperCase();
        const value = eq === -1 ? '' : p.slice(eq + 1);
        if (key === 'SIZE') {
          if (!/^\d{1,20}$/.test(value)) return this.reply(R.syntax);
          const max = this.settings.maxMessageSize;
          if (max > 0 && Number(value) > max) return this.reply(R.sizeDeclaredTooBig);
        } else if (key === 'BODY') {
          const body = value.toUpperCase();
          if (body !== '7BIT' && body !== '8BITMIME') return this.reply(R.syntax);
        } else if (key !== 'SMTPUTF8') {
          return this.reply(R.badParameter);
        }
      }
    }
    this.inTransaction = true;
    this.recipients = 0;
    this.reply(R.mailOk);
  }

  /** `RCPT TO:<forward-path> [SP rcpt-parameters]` (RFC 5321 §4.1.1.3). */
  private rcpt(line: Buffer): void {
    const R = this.replies;
    if (!startsWithCI(line, 5, TO_COLON)) return this.reply(R.syntax);
    if (!this.inTransaction) return this.reply(R.badSequence);
    const close = pathEnd(line, 8);
    // RCPT needs a mailbox: `<>` is not a forward-path.
    if (close === -1 || line[close - 1] === LT) return this.reply(R.syntax);
    if (this.recipients >= this.settings.maxRecipients) return this.reply(R.tooManyRecipients);
    this.recipients++;
    this.reply(R.rcptOk);
  }

  private endOfData(): void {
    const m = this.metrics;
    const bytes = this.messageBytes - 3; // the final ".<CRLF>" is not message content
    m.record('data-stream', Number(process.hrtime.bigint() - this.dataStartNs) / 1000);
    this.mode = Mode.Command;
    this.disconnectAt = -1;
    this.fc = F_DATA_END;
    const max = this.settings.maxMessageSize;
    if (this.faults.active && this.injected()) {
      m.counters.messagesRejected++;
    } else if (max > 0 && bytes > max) {
      m.counters.messagesRejected++;
      this.reply(this.replies.sizeTooBig);
    } else {
      m.counters.messages++;
      m.counters.recipients += this.recipients;
      m.counters.bytes += bytes;
      this.reply(this.replies.messageOk);
    }
    this.resetTransaction();
  }

  private resetTransaction(): void {
    this.inTransaction = false;
    this.recipients = 0;
  }

  /**
   * Queues a reply to the current command. With faults, draws its delay: a delayed reply is held
   * with everything after it, and input processing stops until the hold timer releases it.
   */
  private reply(buf: Buffer): void {
    // Negative completion replies start with '4' or '5'.
    if (buf[0] >= 0x34) {
      this.metrics.counters.negativeReplies++;
      this.errors++;
    }
    this.out.push(buf);
    if (this.faults.active && !this.held) {
      const ms = this.faults.delayMs(this.fc, performance.now(), this.errors);
      if (ms > 0) {
        this.metrics.counters.delayedReplies++;
        this.held = true;
        this.holdFrom = this.out.length - 1;
        this.holdMs = ms;
      }
    }
  }

  /**
   * Writes every queued reply that is not held, in one corked burst; arms the hold timer for the
   * rest. Closes the connection once everything is written after QUIT or a 421.
   */
  private flush(): void {
    const out = this.out;
    const n = this.held ? this.holdFrom : out.length;
    if (n > 0 && !this.socket.destroyed) {
      const s = this.socket;
      if (n === 1) s.write(out[0]);
      else {
        s.cork();
        for (let i = 0; i < n; i++) s.write(out[i]);
        s.uncork();
      }
    }
    if (this.held) {
      out.splice(0, n);
      this.holdFrom = 0;
      // One timer per connection, and only while a reply is held (faults only).
      this.holdTimer ??= setTimeout(() => this.release(), this.holdMs);
      return;
    }
    out.length = 0;
    if (this.mode === Mode.Closing) this.socket.end();
  }
}

/**
 * Index of the `>` that closes the path starting at `at` (after optional spaces, which many
 * clients send although RFC 5321 has none), or -1 when there is no `<…>`. Source routes
 * (`<@a,@b:user@d>`, RFC 5321 §4.1.2 / Appendix C) are accepted and ignored.
 */
function pathEnd(line: Buffer, at: number): number {
  let i = at;
  while (i < line.length && line[i] === SP) i++;
  if (line[i] !== LT) return -1;
  // A quoted local part may hold '>' (RFC 5321 §4.1.2 Quoted-string); skip over quotes.
  let quoted = false;
  for (let j = i + 1; j < line.length; j++) {
    const b = line[j];
    if (b === 0x5c && quoted) j++;
    else if (b === 0x22) quoted = !quoted;
    else if (b === GT && !quoted) return j;
  }
  return -1;
}
