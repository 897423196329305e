/**
 * The embedded reference SMTP server: a plain `node:net` server whose connections are
 * `Connection`s. It is the default target of `smtpbench run` and the sink of `smtpbench serve`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { startSweeper } from '../load/sweeper.js';
import type { ServerSettings } from '../profile/types.js';
import { loadCredentials } from './certificate.js';
import { Connection, type ServerContext } from './connection.js';
import { FaultPlan } from './faults.js';
import { buildReplies } from './replies.js';
import { ServerMetrics, type ServerStats } from './stats.js';

/** A started reference server. */
export interface ReferenceServer {
  readonly host: string;
  readonly port: number;
  readonly metrics: ServerMetrics;
  /** Stops accepting, closes every connection, and returns the final statistics. */
  close(): Promise<ServerStats>;
}

/**
 * Starts a reference server on `host:port` (port 0: any free port). With STARTTLS on and no
 * certificate configured, first makes an ephemeral self-signed one (`openssl`, once per process).
 * @throws the `listen` error (EADDRINUSE, EACCES) as Node reports it; SmtpBenchError
 *   `SB_TLS_SETUP` when the TLS credentials cannot be read or made
 */
export async function startReferenceServer(settings: ServerSettings, host = '127.0.0.1', port = 0): Promise<ReferenceServer> {
  const secureContext = settings.tls.starttls
    ? tls.createSecureContext(await loadCredentials(settings.tls.certFile, settings.tls.keyFile, settings.hostname))
    : null;
  const replies = buildReplies(settings, secureContext !== null);
  const metrics = new ServerMetrics();
  const ctx: ServerContext = {
    settings,
    replies,
    metrics,
    faults: new FaultPlan(settings.faults),
    secureContext,
    authOffered: Object.keys(settings.auth.users).length > 0,
    refusedLocalParts: settings.refusedLocalParts.map((lp) => Buffer.from(lp.toLowerCase(), 'latin1')),
  };
  const connections = new Set<Connection>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    if (settings.maxConnections > 0 && sockets.size > settings.maxConnections) {
      // Over the limit: 421 at once (RFC 5321 §3.8), without a Connection.
      metrics.counters.refusedConnections++;
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
      socket.end(replies.tooManyConnections);
      return;
    }
    const c = new Connection(socket, ctx);
    connections.add(c);
    socket.on('close', () => {
      sockets.delete(socket);
      connections.delete(c);
    });
  });
  // One coarse timer per server for every idle and command-line deadline (house style §9).
  const sweeper = startSweeper(connections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err) => {
    sweeper.stop();
    throw err;
  });
  const addr = server.address() as net.AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    metrics,
    close: () =>
      new Promise<ServerStats>((resolve) => {
        sweeper.stop();
        server.close(() => resolve(metrics.snapshot()));
        for (const s of sockets) s.destroy();
      }),
  };
}
