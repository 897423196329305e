/**
 * The client's connection: dials TCP (or the `SessionConfig.connect` seam), reads replies into one
 * buffer per thread and feeds them to the session's reply parser, writes the PROXY preface, wraps
 * the socket in TLS (STARTTLS or implicit), names socket and TLS errors as error kinds, and writes
 * corked batches with back-pressure: when `write()` returns false (the socket buffers more than its
 * high-water mark) `blocked` is set until `'drain'`, and the session writes no further command
 * group or body chunk until `TransportSink.onDrain` (DESIGN §4; house style §8). It measures the
 * `connect` and `tls` phases. One transport per session, reused by each of its connections (it
 * keeps the TLS session for resumption).
 */
import net from 'node:net';
import tls from 'node:tls';
import * as clock from '../clock.js';
import type { ErrorKind } from '../error-kinds.js';
import { proxyHeader } from '../protocol/proxy-header.js';
import type { ReplyParser } from '../protocol/reply-parser.js';
import type { SessionConfig, TlsClientConfig } from './config.js';

const { nowUs } = clock;

/** Per-worker connection number (module state: one module instance per worker thread): picks source and client addresses in turn, and fills `{n}` in the HELO name. */
let connectionSeq = 0;

/** Every plain connection of this thread reads into this buffer: one read at a time per thread, and the parser copies what it keeps. */
const READ_BUFFER = Buffer.allocUnsafe(65_536);

/** What the transport tells its session. Each is called for the current socket only. */
export interface TransportSink {
  /** TCP is up (before any TLS of implicit TLS), at `nowUs`. */
  onConnect(nowUs: number): void;
  /** The TLS handshake finished at `nowUs`. */
  onSecure(nowUs: number): void;
  /** The first error of this connection as an error kind; the close follows. */
  onError(kind: ErrorKind, cause: string): void;
  /** The connection is closed (by either side, or after an error). */
  onClose(): void;
  /** A blocked socket drained: the session may write its next group or body. */
  onDrain(): void;
}

/**
 * What the pipeline writes through: corked batches with back-pressure. `Transport` in a session;
 * an in-memory one in the pipeline's tests.
 */
export interface Wire {
  /** A write returned false and `'drain'` has not come yet: write nothing more of a transaction. */
  readonly blocked: boolean;
  /** Octets written and not yet handed to the kernel. */
  readonly pending: number;
  /** A progress measure of what is still to go: it shrinks with every octet the kernel takes, even inside one large write. */
  readonly unsent: number;
  write(buf: Buffer): void;
  /** `write` with a callback once `buf` is handed to the kernel. */
  writeThen(buf: Buffer, done: () => void): void;
  cork(): void;
  uncork(): void;
}

/**
 * One session's connection (a new socket per connection, this object reused). Its write, cork and
 * end methods are called only while connected (`socket` set): the session writes nothing between
 * `onClose` and the next `connect`.
 */
export class Transport implements Wire {
  /** The socket in use (the TLS socket after an upgrade); null between connections. */
  socket: net.Socket | null = null;
  /** A write returned false and `'drain'` has not come yet: write nothing more of a transaction. */
  blocked = false;
  /** This connection's number in the worker thread, from 0. */
  connection = 0;
  /** The client address this connection announces (PROXY header, XCLIENT), or null: its own. */
  clientAddress: string | null = null;
  /** The TCP connection is established (socket errors before it are connect errors). */
  private connected = false;
  private tlsSession: Buffer | undefined;
  private readonly onRead = (nread: number, buf: Uint8Array): boolean => (this.parser.feed((buf as Buffer).subarray(0, nread)), true);

  constructor(
    private readonly cfg: SessionConfig,
    private readonly parser: ReplyParser,
    private readonly sink: TransportSink,
  ) {}

  /**
   * Dials the target (`cfg.connect`, default `net.connect`); `startUs`: now, the start of the
   * `connect` phase. The identity's source and client addresses are taken in turn per connection;
   * a PROXY header, when configured, is the first thing written.
   */
  connect(startUs: number): void {
    this.blocked = false;
    this.connected = false;
    const k = (this.connection = connectionSeq++);
    const id = this.cfg.identity;
    const localAddress = id && id.sourceIps.length > 0 ? id.sourceIps[k % id.sourceIps.length] : undefined;
    this.clientAddress = id && id.clientAddresses.length > 0 ? id.clientAddresses[k % id.clientAddresses.length] : null;
    // Replies are read into one buffer per thread (Node's `onread`): no allocation per read. The
    // parser copies what it keeps across reads (a partial line, captured reply text).
    const socket = (this.cfg.connect ?? net.connect)({
      host: this.cfg.host,
      port: this.cfg.port,
      noDelay: true,
      localAddress,
      onread: { buffer: READ_BUFFER, callback: this.onRead },
    });
    this.socket = socket;
    socket.on('connect', () => {
      const rec = this.cfg.recorder;
      const now = nowUs();
      this.connected = true;
      rec.counters.connections++;
      rec.record('connect', now - startUs);
      if (id && id.proxy !== 'off') this.writeProxyHeader(id.proxy);
      this.sink.onConnect(now);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.sink.onError(socketErrorKind(this.connected ? 'connected' : 'connecting', err), causeOf(err)));
    this.watch(socket);
  }

  /**
   * Wraps the connection in TLS (after the STARTTLS 220, or at once for implicit TLS); `onSecure`
   * when done. The `tls` phase runs from `startUs` (STARTTLS written, or TCP connected).
   */
  startTls(t: TlsClientConfig, startUs: number): void {
    // The TLS layer takes over the TCP handle's reads: the raw socket's `onread` is not called again.
    const raw = this.socket!;
    const host = this.cfg.host;
    const socket = tls.connect({
      socket: raw,
      host,
      // SNI carries host names only (RFC 6066 §3); an IP target is still checked against the certificate's IP SANs.
      servername: net.isIP(host) ? undefined : host,
      ca: t.ca ?? undefined,
      rejectUnauthorized: t.verify,
      session: t.resume ? this.tlsSession : undefined,
    });
    this.socket = socket;
    this.blocked = false;
    if (t.resume) socket.on('session', (s: Buffer) => (this.tlsSession = s));
    socket.on('secureConnect', () => {
      const rec = this.cfg.recorder;
      const now = nowUs();
      rec.record('tls', now - startUs);
      rec.counters.tlsHandshakes++;
      if (socket.isSessionReused()) rec.counters.tlsResumed++;
      this.sink.onSecure(now);
    });
    socket.on('data', (chunk: Buffer) => this.parser.feed(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.sink.onError(tlsErrorKind(err), causeOf(err)));
    this.watch(socket);
  }

  /** Writes `buf`; a false return blocks the session's transaction writes until `'drain'`. */
  write(buf: Buffer): void {
    if (!this.socket!.write(buf)) this.blocked = true;
  }

  /** `write` with a callback once `buf` is handed to the kernel (the body's sent time). */
  writeThen(buf: Buffer, done: () => void): void {
    if (!this.socket!.write(buf, done)) this.blocked = true;
  }

  cork(): void {
    this.socket!.cork();
  }

  uncork(): void {
    this.socket!.uncork();
  }

  /** Octets written and not yet handed to the kernel. */
  get pending(): number {
    return this.socket!.writableLength;
  }

  /**
   * `pending` plus libuv's unwritten part of the write in progress (the handle's `writeQueueSize`,
   * what Node's `bufferSize` once read): one large body is one write, whose `writableLength` stays
   * whole until the last octet is in the kernel, while this shrinks as the kernel takes octets.
   */
  get unsent(): number {
    const s = this.socket!;
    const handle = (s as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
    return s.writableLength + (handle?.writeQueueSize ?? 0);
  }

  /** Ends our side (after QUIT, or a refusal); the server's close follows. */
  end(): void {
    this.socket!.end();
  }

  /** Drops the connection at once (a failure, a timeout, an abort). */
  destroy(): void {
    this.socket?.destroy();
  }

  /**
   * Writes the PROXY protocol header announcing `clientAddress` (default: our own address): the
   * first octets on the connection, before any TLS (HAProxy proxy-protocol.txt §2).
   */
  private writeProxyHeader(version: 'v1' | 'v2'): void {
    const s = this.socket;
    if (s === null) return;
    // A connected TCP socket knows both ends; `?? ''`/`?? 0` only satisfy the types.
    this.write(proxyHeader(version, this.clientAddress ?? s.localAddress ?? '', s.remoteAddress ?? '', s.localPort ?? 0, s.remotePort ?? 0));
  }

  private watch(socket: net.Socket): void {
    socket.on('drain', () => {
      // The raw socket under a TLS one drains too: only the current socket's drain counts.
      if (socket !== this.socket) return;
      this.blocked = false;
      this.sink.onDrain();
    });
    socket.on('close', () => {
      // The raw socket under a TLS one closes too: only the current socket's close counts.
      if (socket !== this.socket) return;
      this.socket = null;
      this.blocked = false;
      this.sink.onClose();
    });
  }
}

/** A stable error kind for a socket error: `connect-refused`, `connect-failed`, `socket-reset`, `socket-error`. */
/**
 * An OS or TLS error as one line for a person: its message, with its code when the message does not
 * name it (`getaddrinfo ENOTFOUND mx.example.invalid`, `DEPTH_ZERO_SELF_SIGNED_CERT: self-signed
 * certificate`): the cause a report shows beside the error kind (hostile review F8).
 */
export function causeOf(err: NodeJS.ErrnoException): string {
  return err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
}

export function socketErrorKind(state: string, err: NodeJS.ErrnoException): ErrorKind {
  if (state === 'connecting') return err.code === 'ECONNREFUSED' ? 'connect-refused' : 'connect-failed';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'socket-reset';
  return 'socket-error';
}

/** Certificate problems (OpenSSL verify codes and Node's name check) versus anything else in the handshake. */
const VERIFY_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|HOSTNAME/;

/** A stable error kind for a TLS failure: `tls-verify` (certificate not trusted or wrong name) or `tls-handshake`. */
export function tlsErrorKind(err: NodeJS.ErrnoException): ErrorKind {
  if (err.code && VERIFY_CODES.test(err.code)) return 'tls-verify';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'socket-reset';
  return 'tls-handshake';
}
