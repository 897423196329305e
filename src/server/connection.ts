/**
 * One reference-server connection: command-line framing, verb dispatch from bytes, the DATA and
 * BDAT streams, SASL exchanges and the STARTTLS upgrade. Framing (finding lines, the end of data,
 * chunk lengths) is kept apart from meaning (what a command does to the session) even though both
 * live in this file: `consume` frames, `command` and its helpers mean.
 *
 * Policies (documented in docs/reference-server.md):
 * - Only CRLF ends a command line (RFC 5321 §2.3.8). A bare LF does not; the line runs on to the
 *   next CRLF and is then refused with 500 as a whole (so `EHLO x<LF>QUIT<CRLF>` never runs QUIT).
 * - A command line longer than `maxCommandLine` is not buffered: octets are dropped up to the next
 *   CRLF, then one 500 is sent (resync; memory stays bounded).
 * - All replies to one input chunk go out in one corked burst, and are flushed at the end of every
 *   chunk, so a pipelining client never waits on us (RFC 2920 §3.2 rule 7).
 * - A delayed reply (fault injection) is held, and so is every reply after it: the connection
 *   stops reading until the held reply is written, like a server busy on that command. Replies
 *   therefore always leave in command order (RFC 2920 §3.2 rule 7 again).
 * - Reading also stops while the socket's write buffer is over its high-water mark (a client that
 *   pipelines without reading replies), so memory per connection stays bounded.
 * - A client that half-closes (FIN after its last command, without QUIT) still gets every reply to
 *   what it sent, held ones included; then the server closes too. Once the server has sent its FIN
 *   (after QUIT, a 421, a dropped connection) it reads and drops input until the client's FIN, for
 *   at most `CLOSE_GRACE_MS`; then the socket is destroyed.
 * - Input chunks are borrowed: plain TCP connections read into one buffer per server (`readInto`),
 *   so `consume` copies whatever must outlive the call (a partial line, stashed input, captured
 *   content, the delivery probe's carry) and keeps no view of a chunk.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import * as octets from '../protocol/bytes.js';
import * as commandArgs from '../protocol/command-args.js';
import * as framing from '../protocol/line-framer.js';
import { checkCramMd5, checkLogin, checkPlain, cramMd5Challenge } from '../protocol/sasl.js';
import * as verbs from '../protocol/verbs.js';
import { parseProxyHeader, type ProxiedAddresses } from '../protocol/proxy-header.js';
import { readInto } from './read-into.js';
import type { SessionRecord } from './sessions.js';

import type { AuthMechanism } from '../profile/types.js';
import { faultIndex, type FaultIndex } from './faults.js';
import { SERVER_COMMANDS } from '../metrics/server-histograms.js';
import { injectFault, type ReplySink, type ServerContext } from './context.js';
import { MessageStream, STREAM_CUT } from './message-stream.js';
import { ReplyQueue } from './reply-queue.js';

export { serverContext, type CapturedMessage, type ServerContext } from './context.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { equalsCI, LT, SP, startsWithCI } = octets;
const { FRAME_LINE, FRAME_NEED_MORE, FRAME_TOO_LONG, LineFramer } = framing;
const { checkMailParameters, decodeStrictBase64, localPartOf, parseAuthArgs, parseBdatArgs, parseXclientArgs, pathEnd } = commandArgs;
const { FAULT_VERBS, lowerVerb, verbCode, verbCodeOf } = verbs;
/** After our FIN, how long the client has to close its side before the socket is destroyed, ms. */
export const CLOSE_GRACE_MS = 5_000;

// Verbs as `verbCodeOf` numbers them: module constants, so the dispatch switch compares numbers.
const HELO = verbCode('HELO');
const EHLO = verbCode('EHLO');
const MAIL = verbCode('MAIL');
const RCPT = verbCode('RCPT');
const DATA = verbCode('DATA');
const RSET = verbCode('RSET');
const NOOP = verbCode('NOOP');
const QUIT = verbCode('QUIT');
const VRFY = verbCode('VRFY');
const HELP = verbCode('HELP');
const EXPN = verbCode('EXPN');
const TURN = verbCode('TURN');
const SEND = verbCode('SEND');
const SOML = verbCode('SOML');
const SAML = verbCode('SAML');
const ATRN = verbCode('ATRN');
const AUTH = verbCode('AUTH');
const BDAT = verbCode('BDAT');
const LHLO = verbCode('LHLO');
const STARTTLS = verbCode('STARTTLS');
const XCLIENT = verbCode('XCLIENT');

const FROM_COLON = Buffer.from('FROM:');
const TO_COLON = Buffer.from('TO:');

/** Per verb number: the name of its processing-time histogram, its slot in `ServerContext.histograms`, its fault-table index. */
interface VerbInfo {
  readonly hist: string;
  readonly slot: number;
  readonly fault: FaultIndex;
}
/** A verb a fault can name has its own histogram and faults; LHLO takes EHLO's faults, XCLIENT the `*` ones; other verbs share `other`. */
const VERB_LIST: [number, string, FaultIndex][] = [
  ...FAULT_VERBS.map((v): [number, string, FaultIndex] => [verbCode(v), lowerVerb(v), faultIndex(lowerVerb(v))]),
  [LHLO, 'lhlo', faultIndex('ehlo')],
  [XCLIENT, 'xclient', faultIndex('*')],
  [0, 'other', faultIndex('*')],
];
const VERBS = new Map<number, VerbInfo>(VERB_LIST.map(([v, name, fault], slot) => [v, { hist: `cmd.${name}`, slot, fault }]));
const OTHER = VERBS.get(0)!;
// Reports and thresholds know the server's histograms by SERVER_HISTOGRAMS (metrics/): the verb table must time exactly those commands.
if ([...VERBS.values()].map((v) => v.hist).join() !== SERVER_COMMANDS.map((c) => `cmd.${c}`).join()) throw new Error('server/connection.ts: the verb table and SERVER_COMMANDS differ');
const AUTH_INFO = VERBS.get(AUTH)!;

const F_CONNECT = faultIndex('connect');
const F_AUTH = faultIndex('auth');
const F_BDAT = faultIndex('bdat');

const enum Mode {
  Command,
  Data,
  Bdat,
  /** The 220 to STARTTLS is queued; input up to the handshake is discarded (CVE-2011-0411). */
  Upgrading,
  Closing,
}

/** A SASL exchange in progress (RFC 4954 §4). */
interface Sasl {
  readonly mech: AuthMechanism;
  /** LOGIN: the user name once given. */
  user: string | null;
  /** CRAM-MD5: the challenge sent. */
  challenge: string;
}

/** Serves one accepted socket until it closes. */
export class Connection implements ReplySink {
  private socket: Socket;
  private mode = Mode.Command;
  private readonly queue: ReplyQueue;
  /** After a 5xx greeting (RFC 5321 §3.1): only QUIT is served, everything else gets 503. */
  private refused = false;
  /** Sweeper deadline (`performance.now()` ms): idle or command-line timeout. */
  deadlineMs = 0;
  private lineStartMs = 0;
  private timedOut = false;
  /** The client sent its FIN (the server socket is half-open: `allowHalfOpen`). */
  private peerEnded = false;
  /** We sent our FIN: from here input is dropped and the sweeper only waits for the close. */
  private hungUp = false;
  private readonly framer: framing.LineFramer;
  // Session and transaction state (RFC 5321 §4.1.4).
  private tls: boolean;
  private greeted = false;
  private authUser: string | null = null;
  private sasl: Sasl | null = null;
  private inTransaction = false;
  private recipients = 0;
  private bdatActive = false;
  private readonly stream: MessageStream;
  /** Who this session is (docs/reference-server.md "Client identity"). */
  private readonly session: SessionRecord;
  /** Octets of a PROXY header received so far, while one is awaited before the greeting. */
  private proxyHeader: Buffer | null = null;

  /**
   * @param socket a freshly accepted socket, or a server-side TLSSocket for implicit TLS
   * @param tlsFromStart true on the implicit-TLS port (RFC 8314): STARTTLS is then not offered
   * @param before for the implicit-TLS port with the PROXY protocol: the TCP peer and the PROXY
   *   header, both read from the raw socket before the handshake
   */
  constructor(
    socket: Socket,
    private readonly ctx: ServerContext,
    tlsFromStart = false,
    before?: { readonly peerAddress: string; readonly peerPort: number; readonly proxied: ProxiedAddresses | null },
  ) {
    this.socket = socket;
    this.queue = new ReplyQueue(ctx, () => this.released());
    this.framer = new LineFramer(ctx.settings.maxCommandLine);
    this.tls = tlsFromStart;
    ctx.metrics.counters.connections++;
    socket.setNoDelay(true);
    this.listen(socket);
    socket.on('close', () => this.queue.stop());
    this.deadlineMs = performance.now() + ctx.settings.timeouts.idleMs;
    this.session = ctx.sessions.open(before?.peerAddress ?? socket.remoteAddress ?? '', before?.peerPort ?? socket.remotePort ?? 0, tlsFromStart);
    // With the PROXY protocol the proxy speaks first; the greeting waits for its header.
    this.stream = new MessageStream(ctx, this.session, this);
    if (before !== undefined) this.session.proxied = before.proxied;
    if (ctx.settings.proxyProtocol !== 'off' && before === undefined) this.proxyHeader = Buffer.alloc(0);
    else this.greet();
    this.flush();
  }

  /**
   * Collects the PROXY header from `chunk[pos..]`; returns the position after it, or `len` while
   * it is incomplete. A bad header closes the connection without a word (spec §2: the receiver
   * must not guess).
   */
  private proxy(chunk: Buffer, pos: number): number {
    const buf = Buffer.concat([this.proxyHeader!, chunk.subarray(pos)]);
    const r = parseProxyHeader(buf, this.ctx.settings.proxyProtocol as 'v1' | 'v2' | 'any');
    if (r.kind === 'more') {
      this.proxyHeader = buf;
      return chunk.length;
    }
    if (r.kind === 'bad') {
      this.ctx.metrics.counters.badProxyHeaders++;
      this.mode = Mode.Closing;
      return chunk.length;
    }
    this.proxyHeader = null;
    this.session.proxied = r.addresses;
    this.greet();
    // The header's end, as a position in `chunk` (the header may have begun in earlier chunks).
    return chunk.length - (buf.length - r.length);
  }

  private listen(socket: Socket): void {
    // TLS sockets keep 'data' events: their handle is the TLS layer, not the TCP stream.
    if (socket instanceof tls.TLSSocket || !readInto(socket, this.ctx.readBuffer, (chunk) => this.onData(chunk))) {
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
    }
    socket.on('error', () => socket.destroy());
    socket.on('drain', () => this.updateReading());
    // Only for the current socket: after STARTTLS the raw socket's events belong to the TLS layer.
    socket.on('end', () => socket === this.socket && this.onPeerEnd());
  }

  /** Sends the greeting, or the connect fault drawn for this connection. */
  private greet(): void {
    this.queue.fc = F_CONNECT;
    const f = this.ctx.faults;
    if (f.active) {
      if (f.disconnectNow(F_CONNECT)) return this.drop();
      const o = f.override(F_CONNECT);
      if (o !== undefined) {
        this.ctx.metrics.counters.faults++;
        this.reply(o.reply);
        // 4yz on connect: hang up (421). 5yz: RFC 5321 §3.1, wait for QUIT and refuse the rest with 503.
        if (o.reply[0] === 0x34) this.mode = Mode.Closing;
        else this.refused = true;
        return;
      }
    }
    this.reply(this.ctx.replies.greeting);
  }

  /**
   * Closes the connection without answering the current command (fault injection). Replies
   * already queued for earlier commands still go out first; then FIN, as `flush` does on Closing.
   */
  private drop(): void {
    this.ctx.metrics.counters.faults++;
    this.mode = Mode.Closing;
  }

  /** Called by the server's sweeper once `deadlineMs` has passed: 421 and close (RFC 5321 §4.5.3.2.7). */
  timeout(): void {
    // After our FIN (the grace for the client's is over), or a second strike (the 421 could not even be written).
    if (this.hungUp || this.timedOut) return void this.socket.destroy();
    // A hold we caused ourselves (fault injection) is not the client's idleness.
    if (this.queue.held) return void (this.deadlineMs = performance.now() + this.ctx.settings.timeouts.idleMs);
    this.timedOut = true;
    this.ctx.metrics.counters.timeouts++;
    this.deadlineMs = performance.now() + CLOSE_GRACE_MS;
    this.queue.clear();
    this.reply(this.framer.inProgress() ? this.ctx.replies.commandTimeout : this.ctx.replies.idleTimeout);
    this.mode = Mode.Closing;
    this.flush();
  }

  private onData(chunk: Buffer): void {
    // After our FIN, input is read only to see the client's FIN, and dropped.
    if (this.hungUp) return;
    const q = this.queue;
    if (q.held || q.stash.length > 0) {
      // Replies are held: keep (a copy of) the input for later, and stop reading (TCP back-pressure bounds memory).
      q.stash.push(Buffer.from(chunk));
      this.socket.pause();
      return;
    }
    this.consume(chunk);
    const now = this.ctx.clock.nowMs;
    const t = this.ctx.settings.timeouts;
    // One store per chunk arms both timeouts, on the sweeper's coarse clock; the sweeper compares.
    // A line being dropped for its length still runs against the command-line timeout (no slowloris).
    this.deadlineMs = this.framer.inProgress() ? Math.min(now + t.idleMs, this.lineStartMs + t.commandMs) : now + t.idleMs;
    this.flush();
  }

  /** The client half-closed: answer what it sent (after any held reply and stashed input), then close. */
  private onPeerEnd(): void {
    this.peerEnded = true;
    if (!this.queue.held && this.queue.stash.length === 0) this.flush();
  }

  /** Sends our FIN once the queued replies are written, and keeps reading to see the client's. */
  private hangUp(): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.socket.end();
    // A socket paused for a held reply would otherwise never read the client's FIN, and never close.
    this.updateReading();
    this.deadlineMs = performance.now() + CLOSE_GRACE_MS;
  }

  /** Held replies may go: carry on with the stashed input, then write. */
  private released(): void {
    const q = this.queue;
    while (!q.held && q.stash.length > 0 && this.mode < Mode.Upgrading) this.consume(q.stash.shift()!);
    this.flush();
  }

  /** Reads while nothing is held and the write buffer is below its high-water mark. */
  private updateReading(): void {
    const s = this.socket;
    // After our FIN: read on, to see the client's.
    if (this.hungUp) s.resume();
    else if (this.queue.held || s.writableNeedDrain || this.mode >= Mode.Upgrading) s.pause();
    else s.resume();
  }

  /**
   * Frames one chunk: data octets go to the end-of-data scanner, BDAT chunks are counted off,
   * command lines go to `command`. Stops early when a reply is held; the rest of the chunk is
   * stashed for `release`. After STARTTLS the rest is dropped: plaintext pipelined behind
   * STARTTLS must never be read as if it came through TLS (CVE-2011-0411).
   */
  private consume(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    // Command timing: read lazily, so chunks of message content cost no clock read.
    let clock = 0;
    const q = this.queue;
    while (pos < len && this.mode < Mode.Upgrading && !q.held) {
      if (this.proxyHeader !== null) {
        pos = this.proxy(chunk, pos);
        continue;
      }
      if (this.mode === Mode.Data) {
        const end = this.stream.feedData(chunk, pos);
        if (end === STREAM_CUT) return this.drop();
        clock = 0;
        if (end === -1) pos = len;
        else {
          pos = end;
          this.mode = Mode.Command;
          this.endOfData();
        }
        continue;
      }
      if (this.mode === Mode.Bdat) {
        const next = this.stream.feedChunk(chunk, pos);
        if (next === STREAM_CUT) return this.drop();
        pos = next;
        if (this.stream.chunkRemaining === 0) {
          this.mode = Mode.Command;
          this.endOfChunk();
        }
        clock = 0;
        continue;
      }
      const framer = this.framer;
      const f = framer.next(chunk, pos);
      pos = framer.end;
      if (f === FRAME_LINE) {
        if (clock === 0) clock = performance.now();
        const info = this.command(framer.line(chunk));
        // One clock read per command: its time runs from the previous command's end (or from
        // when its line was found), so it includes framing the next line in a pipelined group.
        const now = performance.now();
        this.ctx.commandHistograms.get(info).record((now - clock) * 1000);
        clock = now;
      } else if (f === FRAME_NEED_MORE) {
        if (framer.began) this.lineStartMs = this.ctx.clock.nowMs;
      } else {
        this.reply(f === FRAME_TOO_LONG ? this.ctx.replies.lineTooLong : this.ctx.replies.bareLf);
        clock = 0;
      }
    }
    if (pos < len) {
      if (q.held && this.mode < Mode.Upgrading) q.stash.unshift(Buffer.from(chunk.subarray(pos)));
      else if (this.mode === Mode.Upgrading) this.ctx.metrics.counters.discardedPlaintext += len - pos;
    }
  }

  /** Gives one command line (CRLF removed) its meaning; returns its verb for the histogram. */
  private command(line: Buffer): VerbInfo {
    const m = this.ctx.metrics;
    m.counters.commands++;
    const R = this.ctx.replies;
    if (this.sasl !== null) {
      // RFC 4954 §4: inside an exchange every line is a SASL response, whatever it looks like.
      this.queue.fc = F_AUTH;
      this.saslResponse(line.toString('latin1'));
      return AUTH_INFO;
    }
    let v = verbCodeOf(line);
    const info = VERBS.get(v) ?? OTHER;
    this.queue.fc = info.fault;
    if (line.indexOf(0) !== -1) {
      this.reply(R.nul);
      v = -1;
    } else if (this.refused && v !== QUIT) {
      this.reply(R.badSequence);
      v = -1;
    } else if (this.ctx.faults.active && v !== BDAT && this.injected()) {
      // BDAT draws its faults itself: a refused chunk must still be read (RFC 3030).
      v = -1;
    }
    switch (v) {
      case -1:
        break;
      case EHLO:
      case HELO:
      case LHLO:
        // LHLO is LMTP's EHLO (RFC 2033 §4.1); each protocol refuses the other's greeting verb.
        if ((v === LHLO) !== this.ctx.settings.lmtp) {
          this.reply(v === LHLO ? R.unknown : R.useLhlo);
          break;
        }
        if (line.length < 6 || line.subarray(5).every((b) => b === SP)) {
          this.reply(R.heloSyntax);
          break;
        }
        // RFC 5321 §4.1.4: EHLO/HELO also resets any transaction.
        this.greeted = true;
        this.session.helo = line.toString('utf8', 5).trim();
        this.resetTransaction();
        this.reply(v === HELO ? R.helo : this.tls ? R.ehloTls : R.ehlo);
        break;
      case MAIL:
        this.mail(line);
        break;
      case RCPT:
        this.rcpt(line);
        break;
      case DATA:
        this.data(line);
        break;
      case BDAT:
        this.bdat(line);
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
        this.vrfy(line);
        break;
      case EXPN:
        this.expn(line);
        break;
      case SEND:
      case SOML:
      case SAML:
        // RFC 821 §4.1.1: the same syntax as MAIL; with the `mail` policy they open a transaction like it.
        if (this.ctx.settings.legacySend === 'mail') this.mail(line);
        else this.reply(R.notImplemented);
        break;
      case ATRN:
        // RFC 2645 §4: ODMR needs an authenticated client; we queue nothing, so the answer is 453.
        if (this.ctx.settings.atrn === 'refuse') this.reply(R.notImplemented);
        else if (this.inTransaction) this.reply(R.badSequence);
        else this.reply(this.authUser === null ? R.authRequired : R.atrnNothingQueued);
        break;
      case HELP:
        this.reply(R.help);
        break;
      case AUTH:
        this.auth(line);
        break;
      case STARTTLS:
        this.starttls(line);
        break;
      case XCLIENT:
        this.xclient(line);
        break;
      case TURN:
        // RFC 5321 Appendix F.1: TURN would hand queued mail to an unauthenticated peer. Never run.
        this.reply(R.notImplemented);
        break;
      default:
        this.reply(R.unknown);
    }
    return info;
  }

  /** Draws the faults of the current command (`injectFault`): true when one fired and the command must not run. */
  private injected(): boolean {
    return injectFault(this.ctx, this.queue.fc, this);
  }

  /** `MAIL FROM:<reverse-path> [SP mail-parameters]` (RFC 5321 §4.1.1.2, RFC 1870 SIZE). */
  private mail(line: Buffer): void {
    const R = this.ctx.replies;
    const s = this.ctx.settings;
    if (!startsWithCI(line, 5, FROM_COLON)) return this.reply(R.syntax);
    if (!this.greeted) return this.reply(R.needHelo);
    if (this.inTransaction) return this.reply(R.badSequence);
    if (s.auth.required && this.authUser === null) return this.reply(R.authRequired);
    const close = pathEnd(line, 10);
    if (close === -1) return this.reply(R.syntax);
    const params = checkMailParameters(line, close + 1, s.maxMessageSize, s.chunking, this.ctx.authOffered);
    if (params !== 'ok') return this.reply(params === 'syntax' ? R.syntax : params === 'size-too-big' ? R.sizeDeclaredTooBig : R.badParameter);
    this.inTransaction = true;
    this.recipients = 0;
    this.reply(R.mailOk);
  }

  /** `RCPT TO:<forward-path> [SP rcpt-parameters]` (RFC 5321 §4.1.1.3). */
  private rcpt(line: Buffer): void {
    const R = this.ctx.replies;
    if (!startsWithCI(line, 5, TO_COLON)) return this.reply(R.syntax);
    if (!this.inTransaction) return this.reply(R.badSequence);
    const close = pathEnd(line, 8);
    // RCPT needs a mailbox: `<>` is not a forward-path.
    if (close === -1 || line[close - 1] === LT) return this.reply(R.syntax);
    if (this.ctx.refusedLocalParts.length > 0 && this.refusedMailbox(line, close)) return this.reply(R.mailboxUnavailable);
    if (this.recipients >= this.ctx.settings.maxRecipients) return this.reply(R.tooManyRecipients);
    this.recipients++;
    this.reply(R.rcptOk);
  }

  /**
   * `VRFY string` (RFC 5321 §3.5.1, §4.1.1.6). Without a configured list: 252 to everything, never
   * 250 without checking (§7.3). With one: 250 for a listed mailbox (full address, or local part),
   * 550 otherwise. Not a hot path: compared as text.
   */
  private vrfy(line: Buffer): void {
    const R = this.ctx.replies;
    if (line.length <= 5) return this.reply(R.syntax);
    const list = this.ctx.settings.vrfy;
    if (list.length === 0) return this.reply(R.vrfy);
    const arg = line
      .toString('utf8', 5)
      .trim()
      .replace(/^<(.*)>$/, '$1')
      .toLowerCase();
    const hit = list.find((mb) => mb.toLowerCase() === arg || mb.toLowerCase().split('@')[0] === arg);
    this.reply(hit === undefined ? R.vrfyUnknown : Buffer.from(`250 2.1.5 <${hit}>\r\n`, 'utf8'));
  }

  /** `EXPN list` (RFC 5321 §3.5.2): 502 without lists; 250 with one member per line, or 550. */
  private expn(line: Buffer): void {
    const R = this.ctx.replies;
    if (R.expnLists.size === 0) return this.reply(R.notImplemented);
    if (line.length <= 5) return this.reply(R.syntax);
    this.reply(R.expnLists.get(line.toString('utf8', 5).trim().toLowerCase()) ?? R.expnUnknown);
  }

  /** True when the local part of the path ending at `close` is on the refused list. */
  private refusedMailbox(line: Buffer, close: number): boolean {
    const { start, end } = localPartOf(line, close);
    for (const lp of this.ctx.refusedLocalParts) if (equalsCI(line, start, end, lp)) return true;
    return false;
  }

  /** `DATA` (RFC 5321 §4.1.1.4): 354, then the stream until `<CRLF>.<CRLF>`. */
  private data(line: Buffer): void {
    const R = this.ctx.replies;
    if (line.length > 4) return this.reply(R.syntax);
    // RFC 3030 §3: DATA may not follow BDAT in one transaction.
    if (!this.inTransaction || this.bdatActive) return this.reply(R.badSequence);
    if (this.recipients === 0) return this.reply(R.noValidRecipients);
    this.reply(R.dataGo);
    this.startData();
    this.stream.beginData();
  }

  /** DATA's terminator was read. */
  private endOfData(): void {
    this.stream.finish(this.stream.bytes - 3, this.recipients); // the final ".<CRLF>" is not message content
    this.resetTransaction();
  }

  /**
   * `BDAT chunk-size [SP LAST]` (RFC 3030 §2). The reply waits until the chunk has been read, and
   * a refused chunk is read and thrown away all the same: its octets are never commands.
   */
  private bdat(line: Buffer): void {
    const R = this.ctx.replies;
    if (!this.ctx.settings.chunking) return this.reply(R.notImplemented);
    const args = parseBdatArgs(line);
    // Without a valid size we cannot know where the chunk ends: 501, and the octets are read as commands.
    if (args === null) return this.reply(R.syntax);
    const { size, last } = args;
    let refusal: Buffer | null = null;
    if (this.ctx.faults.active) {
      if (this.ctx.faults.disconnectNow(F_BDAT)) return this.drop();
      const o = this.ctx.faults.override(F_BDAT);
      if (o !== undefined) {
        this.ctx.metrics.counters.faults++;
        if (o.close) {
          this.reply(o.reply);
          this.mode = Mode.Closing;
          return;
        }
        refusal = o.reply;
      }
    }
    if (refusal === null) {
      if (!this.inTransaction) refusal = R.badSequence;
      else if (this.recipients === 0) refusal = R.noValidRecipients;
    }
    const start = refusal === null && !this.bdatActive;
    if (start) this.bdatActive = true;
    this.stream.beginChunk(size, last, refusal, start);
    if (size === 0) this.endOfChunk();
    else this.startBdat();
  }

  /** The current BDAT chunk has been read: its one reply. */
  private endOfChunk(): void {
    this.queue.fc = F_BDAT;
    const refusal = this.stream.takeRefusal();
    if (refusal !== null) {
      // RFC 3030 §2: after a refused chunk the transaction has failed; later chunks get 503.
      if (this.bdatActive) this.resetTransaction();
      return this.reply(refusal);
    }
    if (this.stream.overSize()) {
      this.ctx.metrics.counters.messagesRejected++;
      this.resetTransaction();
      return this.reply(this.ctx.replies.sizeTooBig);
    }
    if (this.stream.chunkLast) {
      this.stream.finish(this.stream.bytes, this.recipients);
      this.resetTransaction();
    } else this.reply(this.ctx.replies.chunkOk);
  }

  /** `AUTH mechanism [initial-response]` (RFC 4954 §4). */
  private auth(line: Buffer): void {
    const R = this.ctx.replies;
    const s = this.ctx.settings;
    if (!this.ctx.authOffered) return this.reply(R.notImplemented);
    if (!this.greeted) return this.reply(R.needHelo);
    // RFC 4954 §4: no AUTH after a successful one, nor inside a transaction.
    if (this.authUser !== null) return this.reply(R.alreadyAuthenticated);
    if (this.inTransaction) return this.reply(R.badSequence);
    const args = parseAuthArgs(line);
    if (args === null) return this.reply(R.syntax);
    const mech = s.auth.mechanisms.find((mm) => mm === args.mechanism.toUpperCase());
    if (mech === undefined) return this.reply(R.unknownMechanism);
    this.sasl = { mech, user: null, challenge: '' };
    if (args.initial !== null) {
      // CRAM-MD5 has no initial response: the server speaks first (RFC 2195).
      if (mech === 'CRAM-MD5') {
        this.sasl = null;
        return this.reply(R.syntax);
      }
      return this.saslResponse(args.initial);
    }
    if (mech === 'PLAIN') return this.reply(R.emptyChallenge);
    if (mech === 'LOGIN') return this.reply(R.loginUser);
    this.sasl.challenge = cramMd5Challenge(s.hostname);
    this.reply(Buffer.from(`334 ${Buffer.from(this.sasl.challenge).toString('base64')}\r\n`, 'latin1'));
  }

  /** One client line of a SASL exchange: `*` cancels, `=` is an empty initial response (RFC 4954 §4). */
  private saslResponse(text: string): void {
    const R = this.ctx.replies;
    const sasl = this.sasl!;
    if (text === '*') {
      this.sasl = null;
      return this.reply(R.authCancelled);
    }
    const data = text === '=' ? Buffer.alloc(0) : decodeStrictBase64(text);
    if (data === null) {
      this.sasl = null;
      return this.reply(R.badBase64);
    }
    if (sasl.mech === 'LOGIN' && sasl.user === null) {
      sasl.user = data.toString('utf8');
      return this.reply(R.loginPassword);
    }
    this.sasl = null;
    const users = this.ctx.settings.auth.users;
    const user = sasl.mech === 'PLAIN' ? checkPlain(data, users) : sasl.mech === 'LOGIN' ? checkLogin(sasl.user!, data, users) : checkCramMd5(data, sasl.challenge, users);
    if (user === null) {
      this.ctx.metrics.counters.authFailures++;
      return this.reply(R.authFailed);
    }
    this.authUser = user;
    this.session.authUser = user;
    this.reply(R.authOk);
  }

  /**
   * `XCLIENT attr=value …` (Postfix XCLIENT_README): overrides the client identity for the rest of
   * the session, which starts over with a fresh 220 greeting (the client must EHLO again). Values
   * are xtext (RFC 3461 §4: `+XX` hex escapes). Refused inside a transaction (503), with an
   * unknown attribute (501), and when switched off (502, not advertised).
   */
  private xclient(line: Buffer): void {
    const R = this.ctx.replies;
    if (!this.ctx.settings.xclient) return this.reply(R.notImplemented);
    if (this.inTransaction) return this.reply(R.badSequence);
    const given = parseXclientArgs(line);
    if (given === null) return this.reply(R.syntax);
    const attrs: Record<string, string> = { ...this.session.xclient, ...given };
    this.session.xclient = attrs;
    if (attrs.HELO !== undefined) this.session.helo = attrs.HELO;
    this.greeted = false;
    this.authUser = attrs.LOGIN !== undefined && attrs.LOGIN !== '[UNAVAILABLE]' ? attrs.LOGIN : null;
    this.session.authUser = this.authUser;
    this.resetTransaction();
    this.reply(R.greeting);
  }

  /** `STARTTLS` (RFC 3207 §4): 220, then the handshake once the 220 is written. */
  private starttls(line: Buffer): void {
    const R = this.ctx.replies;
    if (this.ctx.secureContext === null) return this.reply(R.notImplemented);
    if (line.length > 8) return this.reply(R.tlsNoParameters);
    if (this.tls) return this.reply(R.tlsActive);
    this.reply(R.tlsGo);
    this.startTls();
  }

  /**
   * Wraps the socket in TLS. RFC 3207 §4.2: the session starts over, so the client must EHLO again
   * and any AUTH or transaction is forgotten. Plaintext received after STARTTLS is dropped.
   */
  private upgrade(): void {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('drain');
    this.ctx.metrics.counters.discardedPlaintext += this.queue.dropStash();
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.ctx.secureContext! });
    this.socket = secure;
    this.listen(secure);
    this.tls = true;
    this.session.tls = true;
    this.greeted = false;
    this.authUser = null;
    this.resetTransaction();
    this.mode = Mode.Command;
    this.ctx.metrics.counters.tlsUpgrades++;
  }

  private resetTransaction(): void {
    this.inTransaction = false;
    this.recipients = 0;
    this.bdatActive = false;
  }

  /** Queues a reply to the current command (`ReplyQueue.push`); closes at the client's `maxErrors`-th protocol error. */
  reply(buf: Buffer): void {
    if (this.queue.push(buf)) this.mode = Mode.Closing;
  }

  answering(fc: FaultIndex): void {
    this.queue.fc = fc;
  }

  startData(): void {
    this.mode = Mode.Data;
  }

  startBdat(): void {
    this.mode = Mode.Bdat;
  }

  startTls(): void {
    this.mode = Mode.Upgrading;
  }

  close(): void {
    this.mode = Mode.Closing;
  }

  /**
   * Writes every queued reply that is not held, in one corked burst; arms the hold timer for the
   * rest. Once everything is written: closes after QUIT or a 421, upgrades after STARTTLS.
   */
  private flush(): void {
    const s = this.socket;
    if (!this.queue.write(s)) return;
    // After the client's FIN nothing more can come; an upgrade could not happen either.
    if (this.mode === Mode.Closing || (this.peerEnded && this.queue.stash.length === 0)) this.hangUp();
    else if (this.mode === Mode.Upgrading) this.upgrade();
    else if (s.writableNeedDrain || s.isPaused()) this.updateReading();
  }
}
