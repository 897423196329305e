/**
 * Server thread entry: the embedded reference server runs in its own worker thread, apart from
 * the client pool, so client and server CPU can be told apart. The messages on the parent port
 * and the parent's side are in `thread-client.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ServerSettings } from '../profile/types.js';
import { startReferenceServer, withoutErrorStacks } from './server.js';
import type { ServerMessage } from './thread-client.js';

const { settings, host } = workerData as { settings: ServerSettings; host: string };
withoutErrorStacks();
const server = await startReferenceServer(settings, host, 0);
const port = parentPort!;
port.postMessage({ type: 'listening', host: server.host, port: server.port } satisfies ServerMessage);
port.on('message', async (m: unknown) => {
  if (m === 'reset') server.metrics.reset();
  if (m !== 'stop') return;
  const stats = await server.close();
  port.postMessage({ type: 'stats', stats } satisfies ServerMessage);
  port.close();
});
