/**
 * An in-memory SMTP server for one client connection: a `Duplex` that stands in for the
 * `net.Socket` a `ClientSession` dials (through `SessionConfig.connect`), so the session runs
 * without the kernel (bench/session.bench.ts, in-memory session tests).
 *
 * It answers every command with a canned reply: 220 greeting; EHLO with PIPELINING, 8BITMIME and
 * SIZE; 354 to DATA and 250 after the end of data; 221 to QUIT; 250 to everything else. It reads
 * just enough to know how many replies to send: one per LF-terminated command line (the client
 * ends every command with CRLF and never sends a bare LF in one) and one per `<CRLF>.<CRLF>` after
 * a DATA, found with the server's own end-of-data scanner. Replies to a write are delivered on
 * `setImmediate`, all replies of one turn in one read, as a server on loopback answers a pipelined
 * batch: the session sees them only after its write returned, so it runs its pipelining path.
 *
 * Being a real Writable, it gives the session Node's cork/uncork batching, write callbacks and
 * `'drain'`, as `net.Socket` does. With `CannedOptions.slowWrites` it also pushes back as a slow
 * peer does: each write completes a turn later, so `write()` returns false past the high-water mark
 * until `'drain'`. Only plain connections: no TLS, no PROXY header addresses.
 */
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { DataEndScanner } from '../../src/protocol/data-end.js';

const GREETING = Buffer.from('220 mx.example.test ESMTP\r\n');
const EHLO = Buffer.from('250-mx.example.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n');
const OK = Buffer.from('250 2.0.0 ok\r\n');
const GO_AHEAD = Buffer.from('354 go ahead\r\n');
const QUEUED = Buffer.from('250 2.0.0 queued\r\n');
const BYE = Buffer.from('221 2.0.0 bye\r\n');

const LF = 0x0a;
/** ASCII letters fold to lower case with this bit. */
const LOWER = 0x20;

/** How a canned socket takes the client's writes. */
export interface CannedOptions {
  /** Octets buffered before `write()` returns false (Node's default: 16 KiB). */
  readonly highWaterMark?: number;
  /** Complete each write on the next turn (`setImmediate`), not at once, so buffered octets stay above the high-water mark until then. */
  readonly slowWrites?: boolean;
}

/** The canned server's side of one connection; the session holds it as its `net.Socket`. */
export class CannedSocket extends Duplex {
  /** Command lines read (the end of data is not a command line). */
  commands = 0;
  /** Writes the server read: one per `_write`, or per `_writev` (a corked batch). */
  batches = 0;
  /** Messages whose end of data it saw. */
  messages = 0;
  private inData = false;
  private readonly scanner = new DataEndScanner();
  /** The start of a command line that ended a write without its LF (the session writes whole lines, so this stays null). */
  private partial: Buffer | null = null;
  private replies: Buffer[] = [];
  private scheduled = false;

  /** `onread`: the options' read callback, as `net.connect` takes it; without one, replies are pushed as 'data'. */
  constructor(
    private readonly onread: net.OnReadOpts | undefined,
    private readonly options: CannedOptions = {},
  ) {
    super({ writableHighWaterMark: options.highWaterMark });
  }

  /** Connects on the next turn and greets on the one after, as a server on loopback does. */
  open(): void {
    setImmediate(() => {
      this.emit('connect');
      this.answer(GREETING);
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.batches++;
    this.scan(chunk);
    this.done(callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.batches++;
    for (const c of chunks) this.scan(c.chunk);
    this.done(callback);
  }

  /** Completes a write: at once, or on the next turn with `slowWrites` (the octets were read when written). */
  private done(callback: (error?: Error | null) => void): void {
    if (this.options.slowWrites) setImmediate(callback);
    else callback();
  }

  /** The client closed its side: the server closes too (after QUIT, or on a client failure). */
  override _final(callback: (error?: Error | null) => void): void {
    callback();
    this.destroy();
  }

  override _read(): void {}

  /** Counts the commands and messages in one chunk of the client's bytes and queues their replies. */
  private scan(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.inData) {
        const end = this.scanner.feed(chunk, i);
        if (end < 0) return;
        this.inData = false;
        this.messages++;
        this.answer(QUEUED);
        i = end;
        continue;
      }
      const lf = chunk.indexOf(LF, i);
      if (lf < 0) {
        this.partial = this.partial === null ? Buffer.from(chunk.subarray(i)) : Buffer.concat([this.partial, chunk.subarray(i)]);
        return;
      }
      const first = this.partial === null ? chunk[i] : this.partial[0];
      this.partial = null;
      this.command(first | LOWER);
      i = lf + 1;
    }
  }

  /** One command line, known by its first letter (lower case): every verb the benchmark sends differs there. */
  private command(verb: number): void {
    this.commands++;
    if (verb === 0x65 /* e: EHLO */) this.answer(EHLO);
    else if (verb === 0x64 /* d: DATA */) {
      this.inData = true;
      this.scanner.begin();
      this.answer(GO_AHEAD);
    } else if (verb === 0x71 /* q: QUIT */) this.answer(BYE);
    else this.answer(OK);
  }

  private answer(reply: Buffer): void {
    this.replies.push(reply);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.deliver);
  }

  /** Hands this turn's replies to the client: copied into its read buffer, up to a buffer-full per read (as `onread` gets them). */
  private readonly deliver = (): void => {
    this.scheduled = false;
    const replies = this.replies;
    this.replies = [];
    if (this.destroyed) return;
    if (this.onread === undefined) {
      this.push(Buffer.concat(replies));
      return;
    }
    const { buffer, callback } = this.onread;
    const buf = typeof buffer === 'function' ? buffer() : buffer;
    let n = 0;
    for (const r of replies) {
      if (n + r.length > buf.length) {
        callback(n, buf);
        n = 0;
        if (this.destroyed) return;
      }
      buf.set(r, n);
      n += r.length;
    }
    if (n > 0) callback(n, buf);
  };

  asSocket(): net.Socket {
    return this as unknown as net.Socket;
  }
}

/**
 * A `SessionConfig.connect` that opens a `CannedSocket` instead of dialling; `onSocket` sees each
 * one (to read its counts).
 */
export function cannedConnect(onSocket?: (socket: CannedSocket) => void, canned?: CannedOptions): (options: net.TcpNetConnectOpts) => net.Socket {
  return (options) => {
    const socket = new CannedSocket(options.onread, canned);
    onSocket?.(socket);
    socket.open();
    return socket.asSocket();
  };
}
