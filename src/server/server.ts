/**
 * The embedded reference SMTP server: a plain `node:net` server whose connections are
 * `Connection`s. It is the default target of `smtpbench run` and the sink of `smtpbench serve`.
 */
import net from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import tls from 'node:tls';
import { startSweeper } from '../clock.js';
import type { ServerSettings } from '../profile/types.js';
import { loadCredentials, needsCredentials, type Credentials } from './certificate.js';
import { CLOSE_GRACE_MS, Connection, serverContext, type CapturedMessage } from './connection.js';
import { ServerControl } from './control.js';
import { readProxyHeader } from './proxy.js';
import type { SessionRecord } from './sessions.js';
import type { ServerMetrics, ServerStats } from './stats.js';

/** The refusal of a connection over `maxConnectionsPerClient`. */
const TOO_MANY_FROM_CLIENT = Buffer.from('421 4.7.0 Too many connections from your address, try again later\r\n', 'latin1');

/** A started reference server. */
export interface ReferenceServer {
  readonly host: string;
  readonly port: number;
  /** The implicit-TLS port (RFC 8314), or null when `tls.port` is not set. */
  readonly tlsPort: number | null;
  readonly metrics: ServerMetrics;
  /** Run-time changes of faults and domain policies (`serve --http`: `PUT /faults`, `/domains`). */
  readonly control: ServerControl;
  /** The kept session records (`sessionLog`), newest first: peer, PROXY and XCLIENT identity, HELO, TLS, AUTH, messages. */
  sessions(): SessionRecord[];
  /** With `capture` > 0: the last accepted messages' content, newest first (a test sink). */
  messages(): CapturedMessage[];
  /** Stops accepting, closes every connection, and returns the final statistics. */
  close(): Promise<ServerStats>;
}

/**
 * Turns stack capture off in a thread that only serves (the `serve` process, the embedded server's
 * thread), unless the user asked for stacks (`node --stack-trace-limit=N …`). Why: a client that
 * resets its connection (smtp-source closes without waiting for the 221) makes Node create an
 * ErrnoException, and Node formats its stack when it destroys the socket (checkError in
 * lib/internal/streams/destroy.js reads `err.stack`): about a tenth of the server's CPU under
 * connection churn (issue 14). Errors keep their messages; only the frames are gone.
 */
export function withoutErrorStacks(): void {
  const asked = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--stack-trace-limit'));
  if (!asked) Error.stackTraceLimit = 0;
}

/**
 * Starts a reference server on `host:port` (port 0: any free port). With STARTTLS on and no
 * certificate configured, first makes an ephemeral self-signed one (`openssl`, once per process).
 * `credentials`, when given, are the TLS credentials already being read or made (the server
 * thread's, by its parent while the thread starts), used instead.
 * @throws the `listen` error (EADDRINUSE, EACCES) as Node reports it; SmtpBenchError
 *   `SB_TLS_SETUP` when the TLS credentials cannot be read or made
 */
export async function startReferenceServer(settings: ServerSettings, host = '127.0.0.1', port = 0, credentials?: Promise<Credentials>): Promise<ReferenceServer> {
  let secureContext: tls.SecureContext | null = null;
  if (needsCredentials(settings.tls)) {
    try {
      secureContext = tls.createSecureContext(await (credentials ?? loadCredentials(settings.tls.certFile, settings.tls.keyFile, settings.hostname)));
    } catch (err) {
      // Only the default (STARTTLS with an ephemeral certificate) degrades: without openssl the
      // server still runs, without STARTTLS, and says so. Configured files or a TLS port must work.
      if (settings.tls.certFile !== null || settings.tls.port !== null) throw err;
      process.emitWarning(`STARTTLS not offered: ${(err as Error).message}`, { code: 'SB_TLS_SETUP' });
    }
  }
  const ctx = serverContext(settings, settings.tls.starttls ? secureContext : null);
  const { metrics, replies } = ctx;
  const connections = new Set<Connection>();
  const sockets = new Set<net.Socket>();
  /** Sockets being served (not the ones refused over `maxConnections`, which linger for a moment). */
  let served = 0;
  /** Sockets served per client address (the TCP peer), with `maxConnectionsPerClient` (Postfix's anvil). */
  const perClient = new Map<string, number>();
  /** 421 at once (RFC 5321 §3.8), without a Connection; the client gets a moment to read it and close. */
  const refuse = (socket: net.Socket, reply: Buffer) => {
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.destroy());
    const grace = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    socket.on('close', () => clearTimeout(grace));
    socket.end(reply);
    socket.resume();
  };
  /** Accepts one socket on either listener; `implicitTls`: wrap it in TLS before the greeting (RFC 8314). */
  const accept = (socket: net.Socket, implicitTls: boolean) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (settings.maxConnections > 0 && served >= settings.maxConnections) {
      // Over the limit: 421 at once (RFC 5321 §3.8), without a Connection. The client gets a
      // moment to read it and close; a refused socket never holds a slot of the limit.
      metrics.counters.refusedConnections++;
      refuse(socket, replies.tooManyConnections);
      return;
    }
    if (settings.maxConnectionsPerClient > 0) {
      // Over the per-address limit: 421 4.7.0, as Postfix's anvil (smtpd_client_connection_count_limit) does.
      const peer = socket.remoteAddress ?? '';
      const n = perClient.get(peer) ?? 0;
      if (n >= settings.maxConnectionsPerClient) {
        metrics.counters.refusedPerClient++;
        refuse(socket, TOO_MANY_FROM_CLIENT);
        return;
      }
      perClient.set(peer, n + 1);
      socket.on('close', () => {
        const left = (perClient.get(peer) ?? 1) - 1;
        if (left <= 0) perClient.delete(peer);
        else perClient.set(peer, left);
      });
    }
    // Pause the busy connections so the next loop turns accept what else is queued (F7). A refused
    // socket neither starts nor prolongs a drain: it gets its 421 whatever the loop is doing.
    ctx.drain.accepted();
    served++;
    socket.on('close', () => served--);
    if (implicitTls && settings.proxyProtocol !== 'off') {
      // The PROXY header comes before the TLS handshake: read it from the raw socket, then replay
      // what followed it (the ClientHello, if it came in the same segment) into the TLS layer.
      socket.on('error', () => socket.destroy());
      readProxyHeader(socket, settings.proxyProtocol, settings.timeouts.idleMs).then(
        ({ addresses, rest }) => {
          const raw = new PassThrough();
          raw.write(rest);
          socket.pipe(raw);
          socket.resume();
          const duplex = Duplex.from({ readable: raw, writable: socket });
          const before = { peerAddress: socket.remoteAddress ?? '', peerPort: socket.remotePort ?? 0, proxied: addresses };
          track(new Connection(new tls.TLSSocket(duplex as unknown as net.Socket, { isServer: true, secureContext: secureContext! }), ctx, true, before), socket);
        },
        () => {
          metrics.counters.badProxyHeaders++;
          socket.destroy();
        },
      );
      return;
    }
    const c = implicitTls ? new Connection(new tls.TLSSocket(socket, { isServer: true, secureContext: secureContext! }), ctx, true) : new Connection(socket, ctx);
    track(c, socket);
  };
  const track = (c: Connection, socket: net.Socket) => {
    connections.add(c);
    metrics.activeConnections++;
    socket.on('close', () => {
      connections.delete(c);
      metrics.activeConnections--;
    });
  };
  // Half-open: a client's FIN must not end our side before the replies to what it sent are out
  // (held replies included); each Connection closes its side itself.
  // noDelay: Node sets TCP_NODELAY on the handle as it accepts, cheaper than a setNoDelay per socket.
  const listeners = [net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => accept(s, false))];
  if (settings.tls.port !== null) listeners.push(net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => accept(s, true)));
  // One coarse timer per server for every idle and command-line deadline (house style §9).
  const sweeper = startSweeper(connections, (now) => (ctx.clock.nowMs = now));
  const bound: net.AddressInfo[] = [];
  try {
    for (const [i, l] of listeners.entries()) bound.push(await listen(l, i === 0 ? port : settings.tls.port!, host));
  } catch (err) {
    sweeper.stop();
    for (const l of listeners) l.close();
    throw err;
  }
  return {
    host: bound[0].address,
    port: bound[0].port,
    tlsPort: bound[1]?.port ?? null,
    metrics,
    control: new ServerControl(ctx),
    sessions: () => ctx.sessions.list(),
    messages: () => ctx.captured.newestFirst(),
    close: async () => {
      sweeper.stop();
      ctx.drain.stop();
      const closed = listeners.map((l) => new Promise((resolve) => l.close(resolve)));
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
      return metrics.snapshot();
    },
  };
}

/**
 * Accept-queue length asked of the kernel (capped by `net.core.somaxconn`, 4096 on current Linux).
 * Node's default of 511 overflows when thousands of sessions dial at once: the kernel then drops
 * the client's final ACK, the client believes it is connected, and waits for a greeting that never comes.
 */
export const LISTEN_BACKLOG = 4096;

function listen(server: net.Server, port: number, host: string): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve(server.address() as net.AddressInfo);
    });
  });
}
