/**
 * The embedded reference SMTP server: a plain `node:net` server whose connections are
 * `Connection`s. It is the default target of `smtpbench run` and the sink of `smtpbench serve`.
 */
import net from 'node:net';
import type { ServerSettings } from '../profile/types.js';
import { Connection } from './connection.js';
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
 * Starts a reference server on `host:port` (port 0: any free port).
 * @throws the `listen` error (EADDRINUSE, EACCES) as Node reports it
 */
export async function startReferenceServer(settings: ServerSettings, host = '127.0.0.1', port = 0): Promise<ReferenceServer> {
  const replies = buildReplies(settings);
  const metrics = new ServerMetrics();
  const faults = new FaultPlan(settings.faults);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket, settings, replies, metrics, faults);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    metrics,
    close: () =>
      new Promise<ServerStats>((resolve) => {
        server.close(() => resolve(metrics.snapshot()));
        for (const s of sockets) s.destroy();
      }),
  };
}
