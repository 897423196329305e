/**
 * Server thread entry: the embedded reference server runs in its own worker thread, apart from
 * the client pool, so client and server CPU can be told apart. The messages on the parent port
 * and the parent's side are in `thread-client.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ServerSettings } from '../profile/types.js';
import { startReferenceServer, withoutErrorStacks } from './server.js';
import type { CredentialsMessage, ServerMessage } from './thread-client.js';
import type { Credentials } from './certificate.js';
import { SmtpBenchError } from '../errors.js';

const { settings, host, credentials } = workerData as { settings: ServerSettings; host: string; credentials: boolean };
withoutErrorStacks();

/** The TLS credentials the parent reads or makes while this thread starts (thread-client.ts). */
const made = credentials
  ? new Promise<Credentials>((resolve, reject) =>
      parentPort!.once('message', (m: CredentialsMessage) => ('credentials' in m ? resolve(m.credentials) : reject(new SmtpBenchError(m.error.code, m.error.message)))),
    )
  : undefined;

/** Starts the server, tells the parent where it listens, then answers its `reset` and `stop`. */
async function serve(): Promise<void> {
  const server = await startReferenceServer(settings, host, 0, made);
  const port = parentPort!;
  port.postMessage({ type: 'listening', host: server.host, port: server.port } satisfies ServerMessage);
  port.on('message', async (m: unknown) => {
    if (m === 'reset') server.metrics.reset();
    if (m !== 'stop') return;
    const stats = await server.close();
    port.postMessage({ type: 'stats', stats } satisfies ServerMessage);
    port.close();
  });
}
// A bundle is a classic script (scripts/build.mjs): no top-level await. A failure before listening
// is an unhandled rejection, which ends the thread with an error event, as a top-level throw would.
void serve();
