/**
 * The parent side of the server thread (`thread.ts`): starts the embedded reference server in its
 * own worker thread and talks to it. The messages both sides send are declared here, in one place
 * (house style §10: structured-clone safe, no functions):
 * → `{type:'listening', host, port}` once bound; ← `'reset'` (warm-up over: statistics restart);
 * ← `'stop'`; → `{type:'stats', stats}`, then the thread exits.
 */
import { Worker } from 'node:worker_threads';
import type { ServerSettings } from '../profile/types.js';
import type { ServerStats } from './stats.js';
import { loadCredentials, needsCredentials, type Credentials } from './certificate.js';
import type { ErrorCode, SmtpBenchError } from '../errors.js';

/** Server thread → parent. */
export type ServerMessage = { readonly type: 'listening'; readonly host: string; readonly port: number } | { readonly type: 'stats'; readonly stats: ServerStats };

/** Parent → server thread. */
export type ServerControl = 'reset' | 'stop';

/**
 * Parent → server thread, first of all when `workerData.credentials` is true: the TLS credentials,
 * or why they could not be read or made (a SmtpBenchError's code and message).
 */
export type CredentialsMessage =
  { readonly type: 'credentials'; readonly credentials: Credentials } | { readonly type: 'credentials'; readonly error: { readonly code: ErrorCode; readonly message: string } };

/** A running server thread. */
export interface ServerThread {
  readonly host: string;
  readonly port: number;
  /** Restarts the server's statistics (the end of the client's warm-up). */
  reset(): void;
  /** Closes the server and resolves with its statistics; the thread then ends. */
  stop(): Promise<ServerStats>;
}

/** The compiled thread entry (`thread.js`), or, when smtpbench runs from src/, its tsx shim. */
function threadEntry(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './thread.shim.mjs' : './thread.js', import.meta.url);
}

/**
 * Starts the embedded reference server with `settings` in its own thread, on 127.0.0.1 and a
 * free port, and resolves once it listens.
 * @throws the thread's error when it fails before listening
 */
export async function startServerThread(settings: ServerSettings): Promise<ServerThread> {
  // The TLS credentials are read or made here while the thread starts (an ephemeral certificate is an
  // openssl process, about 13 ms), not on the thread's way to listening.
  const credentials = needsCredentials(settings.tls);
  const worker = new Worker(threadEntry(), { workerData: { settings, host: '127.0.0.1', credentials } });
  if (credentials)
    loadCredentials(settings.tls.certFile, settings.tls.keyFile, settings.hostname).then(
      (c) => worker.postMessage({ type: 'credentials', credentials: c } satisfies CredentialsMessage),
      (err: SmtpBenchError) => worker.postMessage({ type: 'credentials', error: { code: err.code, message: err.message } } satisfies CredentialsMessage),
    );
  const send = (m: ServerControl): void => worker.postMessage(m);
  const listening = await new Promise<{ host: string; port: number }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: ServerMessage) => {
      worker.off('error', reject);
      if (m.type === 'listening') resolve(m);
      else reject(new Error('server thread did not report listening'));
    });
  });
  return {
    ...listening,
    reset: () => send('reset'),
    stop: () =>
      new Promise<ServerStats>((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (m: ServerMessage) => {
          if (m.type === 'stats') {
            resolve(m.stats);
            void worker.terminate();
          }
        });
        send('stop');
      }),
  };
}
