/**
 * One reference-server connection: the socket shell around the session's command machine
 * (src/server/commands.ts), its message stream (src/server/message-stream.ts) and its reply queue
 * (src/server/reply-queue.ts). The shell owns what needs a socket or a clock: reading (into the
 * shared buffer), the mode loop (PROXY header, then command lines framed by
 * src/protocol/line-framer.ts, or message data), command timing, timeouts, half-close and the
 * STARTTLS upgrade.
 *
 * Policies (documented in docs/reference-server.md):
 * - Only CRLF ends a command line; overlong lines are dropped to the next CRLF (the framer).
 * - All replies to one input chunk go out in one corked burst, and are flushed at the end of every
 *   chunk, so a pipelining client never waits on us (RFC 2920 §3.2 rule 7).
 * - A delayed reply (fault injection) is held, and so is every reply after it: the connection
 *   stops reading until the held reply is written, like a server busy on that command. Replies
 *   therefore always leave in command order (RFC 2920 §3.2 rule 7 again).
 * - Reading also stops while the socket's write buffer is over its high-water mark (a client that
 *   pipelines without reading replies), so memory per connection stays bounded.
 * - With `bandwidth`, reading also stops while the connection is ahead of its rate
 *   (src/server/throttle.ts), and a reply queued meanwhile is held until the rate catches up.
 * - Reading also stops, briefly, while the server drains its accept queue after an accept
 *   (src/server/accept-drain.ts): otherwise busy connections starve new ones of their greeting.
 * - A client that half-closes (FIN after its last command, without QUIT) still gets every reply to
 *   what it sent, held ones included; then the server closes too. Once the server has sent its FIN
 *   (after QUIT, a 421, a dropped connection) it reads and drops input until the client's FIN, for
 *   at most `CLOSE_GRACE_MS`; then the socket is destroyed.
 * - Input chunks are borrowed: plain TCP connections read into one buffer per server (`readInto`),
 *   so whatever must outlive a chunk (a partial line, stashed input, captured content, the delivery
 *   probe's carry) is copied where it is kept, and no view of a chunk is kept.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import * as framing from '../protocol/line-framer.js';
import { parseProxyHeader, type ProxiedAddresses } from '../protocol/proxy-header.js';
import { CommandMachine } from './commands.js';
import { AUTH_INFO } from './verb-table.js';
import type { Yielding } from './accept-drain.js';
import type { ReplySink, ServerContext } from './context.js';
import type { FaultIndex } from './faults.js';
import * as streaming from './message-stream.js';
import { readInto } from './read-into.js';
import { ReplyQueue } from './reply-queue.js';
import type { SessionRecord } from './sessions.js';
import { Throttle } from './throttle.js';

export { serverContext, type CapturedMessage, type ServerContext } from './context.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { FRAME_LINE, FRAME_NEED_MORE, FRAME_TOO_LONG, LineFramer } = framing;
const { STREAM_CUT } = streaming;

/** After our FIN, how long the client has to close its side before the socket is destroyed, ms. */
export const CLOSE_GRACE_MS = 5_000;

const enum Mode {
  Command,
  Data,
  Bdat,
  /** The 220 to STARTTLS is queued; input up to the handshake is discarded (CVE-2011-0411). */
  Upgrading,
  Closing,
}

/**
 * Serves one accepted socket until it closes. Its `ReplySink` methods are for its command machine;
 * `yieldReading` is for the server's accept drain.
 */
export class Connection implements ReplySink, Yielding {
  private socket: Socket;
  private mode = Mode.Command;
  private readonly queue: ReplyQueue;
  private readonly framer: framing.LineFramer;
  private readonly commands: CommandMachine;
  /** Sweeper deadline (`performance.now()` ms): idle or command-line timeout. */
  deadlineMs = 0;
  /** The coarse clock (`ServerContext.clock`) when the command line in progress began. */
  private lineStartMs = 0;
  private timedOut = false;
  /** The client sent its FIN (the server socket is half-open: `allowHalfOpen`). */
  private peerEnded = false;
  /** We sent our FIN: from here input is dropped and the sweeper only waits for the close. */
  private hungUp = false;
  /** Who this session is (docs/reference-server.md "Client identity"). */
  private readonly session: SessionRecord;
  /** Octets of a PROXY header received so far, while one is awaited before the greeting. */
  /** A TLS handshake is under way (STARTTLS accepted, or the implicit-TLS port): a timeout then drops the socket. */
  private handshaking = false;
  private proxyHeader: Buffer | null = null;
  /** Paused by the server's accept drain (`yieldReading`). */
  private yielding = false;
  /** `bandwidth`: the charging clock, or null without a limit. */
  private readonly throttle: Throttle | null;
  /** Reading is paused until the throttle's timer fires. */
  private throttled = false;
  private throttleTimer: NodeJS.Timeout | null = null;

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
    this.throttle = ctx.settings.bandwidth > 0 ? new Throttle(ctx.settings.bandwidth) : null;
    ctx.metrics.counters.connections++;
    // TCP_NODELAY is set by the listener as it accepts (server.ts): replies go out as they are written.
    this.listen(socket);
    ctx.drain.add(this);
    socket.on('close', () => {
      this.queue.stop();
      if (this.throttleTimer !== null) clearTimeout(this.throttleTimer);
      ctx.drain.forget(this);
    });
    this.deadlineMs = performance.now() + ctx.settings.timeouts.idleMs;
    this.session = ctx.sessions.open(before?.peerAddress ?? socket.remoteAddress ?? '', before?.peerPort ?? socket.remotePort ?? 0, tlsFromStart);
    this.commands = new CommandMachine(ctx, this.session, this, tlsFromStart);
    if (before !== undefined) this.session.proxied = before.proxied;
    // With the PROXY protocol the proxy speaks first; the greeting waits for its header.
    if (ctx.settings.proxyProtocol !== 'off' && before === undefined) this.proxyHeader = Buffer.alloc(0);
    else this.commands.greet();
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
    this.commands.greet();
    // The header's end, as a position in `chunk` (the header may have begun in earlier chunks).
    return chunk.length - (buf.length - r.length);
  }

  private listen(socket: Socket): void {
    if (socket instanceof tls.TLSSocket) {
      this.handshaking = true;
      socket.once('secure', () => (this.handshaking = false));
    }
    // TLS sockets keep 'data' events: their handle is the TLS layer, not the TCP stream.
    if (socket instanceof tls.TLSSocket || !readInto(socket, this.ctx.readBuffer, (chunk) => this.onData(chunk))) {
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
    }
    socket.on('error', () => socket.destroy());
    socket.on('drain', () => this.updateReading());
    // Only for the current socket: after STARTTLS the raw socket's events belong to the TLS layer.
    socket.on('end', () => socket === this.socket && this.onPeerEnd());
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
    // A TLS handshake that never finished (after our 220 to STARTTLS, or on the implicit-TLS port):
    // no reply can be written in either form, and an end() would wait for the handshake; drop it.
    if (this.mode === Mode.Upgrading || this.handshaking) return void this.socket.destroy();
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
    if (this.throttle !== null) this.throttleReading();
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
    if (this.throttle !== null) this.throttleReading();
    this.flush();
  }

  /** Reads while nothing is held and the write buffer is below its high-water mark. */
  private updateReading(): void {
    const s = this.socket;
    // After our FIN: read on, to see the client's.
    if (this.hungUp) s.resume();
    else if (this.yielding || this.throttled || this.queue.held || s.writableNeedDrain || this.mode >= Mode.Upgrading) s.pause();
    else s.resume();
  }

  /** `bandwidth`: while the content read is ahead of the rate, stop reading until it is paid for. */
  private throttleReading(): void {
    const owed = this.throttle!.owedMs(performance.now());
    if (owed < 1 || this.throttleTimer !== null) return;
    this.throttled = true;
    this.socket.pause();
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = null;
      this.throttled = false;
      this.updateReading();
    }, owed);
  }

  /** The server's accept drain: stop reading (true) until it has accepted what was queued (false). */
  yieldReading(on: boolean): void {
    if (this.yielding === on) return;
    this.yielding = on;
    // Only a socket we may have paused needs resuming (a resume costs a tick even when flowing).
    if (on || this.socket.isPaused()) this.updateReading();
  }

  /**
   * Runs one chunk through the mode loop: a PROXY header, message data (the message stream),
   * or command lines (the framer, then the command machine, each command timed). Stops early
   * when a reply is held; the rest of the chunk is stashed for `released`. After STARTTLS the
   * rest is dropped: plaintext pipelined behind STARTTLS must never be read as if it came
   * through TLS (CVE-2011-0411).
   */
  private consume(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    // Command timing: read lazily, so chunks of message content cost no clock read.
    let clock = 0;
    const q = this.queue;
    const stream = this.commands.stream;
    while (pos < len && this.mode < Mode.Upgrading && !q.held) {
      if (this.proxyHeader !== null) {
        pos = this.proxy(chunk, pos);
        continue;
      }
      if (this.mode === Mode.Data) {
        const end = stream.feedData(chunk, pos);
        if (end === STREAM_CUT) return this.drop();
        if (this.throttle !== null) this.throttle.charge((end === -1 ? len : end) - pos, performance.now());
        clock = 0;
        if (end === -1) pos = len;
        else {
          pos = end;
          this.mode = Mode.Command;
          this.commands.endOfData();
        }
        continue;
      }
      if (this.mode === Mode.Bdat) {
        const next = stream.feedChunk(chunk, pos);
        if (next === STREAM_CUT) return this.drop();
        if (this.throttle !== null) this.throttle.charge(next - pos, performance.now());
        pos = next;
        if (stream.chunkRemaining === 0) {
          this.mode = Mode.Command;
          this.commands.endOfChunk();
        }
        clock = 0;
        continue;
      }
      const framer = this.framer;
      const f = framer.next(chunk, pos);
      pos = framer.end;
      if (f === FRAME_LINE) {
        if (clock === 0) clock = performance.now();
        const info = this.commands.command(framer.line(chunk));
        // Only AUTH and its SASL lines (timed as AUTH) start or end an exchange, which changes the limit.
        if (info === AUTH_INFO) framer.maxLength = this.commands.lineLimit();
        // One clock read per command: its time runs from the previous command's end (or from
        // when its line was found), so it includes framing the next line in a pipelined group.
        const now = performance.now();
        this.ctx.commandHistograms.get(info).record((now - clock) * 1000);
        clock = now;
      } else if (f === FRAME_NEED_MORE) {
        if (framer.began) this.lineStartMs = this.ctx.clock.nowMs;
      } else {
        this.reply(this.commands.refuseLine(f === FRAME_TOO_LONG));
        framer.maxLength = this.commands.lineLimit();
        clock = 0;
      }
    }
    if (pos < len) {
      if (q.held && this.mode < Mode.Upgrading) q.stash.unshift(Buffer.from(chunk.subarray(pos)));
      else if (this.mode === Mode.Upgrading) this.ctx.metrics.counters.discardedPlaintext += len - pos;
    }
  }

  /** Wraps the socket in TLS once the 220 to STARTTLS is written; plaintext received after STARTTLS is dropped. */
  private upgrade(): void {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('drain');
    this.ctx.metrics.counters.discardedPlaintext += this.queue.dropStash();
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.ctx.secureContext! });
    this.socket = secure;
    this.listen(secure);
    this.commands.upgraded();
    this.mode = Mode.Command;
    this.ctx.metrics.counters.tlsUpgrades++;
  }

  /** Queues a reply to the current command (`ReplyQueue.push`); closes at the client's `maxErrors`-th protocol error. */
  reply(buf: Buffer): void {
    if (this.queue.push(buf)) this.mode = Mode.Closing;
    // `bandwidth`: the reply leaves once it (and the content before it) is paid for.
    if (this.throttle !== null) {
      const owed = this.throttle.charge(buf.length, performance.now());
      if (owed >= 1) this.queue.delayLast(owed);
    }
  }

  answering(fc: FaultIndex): void {
    this.queue.fc = fc;
  }

  delay(ms: number): void {
    this.queue.delayLast(ms);
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
