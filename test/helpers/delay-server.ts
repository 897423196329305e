/**
 * A small SMTP sink with timing faults, for accuracy tests: it delays each end-of-data reply by a
 * fixed time and can stall every reply during a window. Replies on a connection stay in order (a
 * held reply holds back the ones after it), as a real server's would. Until the reference server's
 * fault injection lands, this is the "scripted test server" of the load-model issue.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DataEndScanner } from '../../src/protocol/data-end.js';

export interface DelayServerOptions {
  /** Added to every end-of-data reply, ms. */
  readonly endOfDataDelayMs?: number;
  /** Stall window, ms after the first MAIL the server sees: every reply due inside it waits for its end. */
  readonly stall?: { readonly afterMs: number; readonly forMs: number };
}

export interface DelayServer {
  readonly port: number;
  /** Messages accepted. */
  messages(): number;
  close(): Promise<void>;
}

export async function delayServer(opts: DelayServerOptions): Promise<DelayServer> {
  let accepted = 0;
  let firstMailAt = -1;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Held replies, in order; one timer for the head (timers of different lengths may fire out of order).
    const queue: { at: number; text: string }[] = [];
    let timer: NodeJS.Timeout | null = null;
    let lastRelease = 0;
    const drain = (): void => {
      timer = null;
      const now = performance.now();
      while (queue.length > 0 && queue[0].at <= now + 0.5) if (!socket.destroyed) socket.write(queue.shift()!.text);
      if (queue.length > 0) timer = setTimeout(drain, queue[0].at - now);
    };
    /** Sends `text` no earlier than `delayMs` from now, after the stall, and after the previous reply. */
    const reply = (text: string, delayMs = 0): void => {
      const now = performance.now();
      let at = Math.max(now + delayMs, lastRelease);
      if (opts.stall && firstMailAt >= 0) {
        const from = firstMailAt + opts.stall.afterMs;
        const to = from + opts.stall.forMs;
        if (at >= from && at < to) at = to;
      }
      lastRelease = at;
      queue.push({ at, text });
      if (timer === null) drain();
    };
    const scanner = new DataEndScanner();
    let inData = false;
    let pending = '';
    reply('220 delay.example.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      let pos = 0;
      while (pos < chunk.length) {
        if (inData) {
          const end = scanner.feed(chunk, pos);
          if (end === -1) return;
          inData = false;
          accepted++;
          reply('250 2.0.0 ok\r\n', opts.endOfDataDelayMs ?? 0);
          pos = end;
          continue;
        }
        const lf = chunk.indexOf(10, pos);
        if (lf === -1) {
          pending += chunk.toString('latin1', pos);
          return;
        }
        const line = (pending + chunk.toString('latin1', pos, lf)).replace(/\r$/, '');
        pending = '';
        pos = lf + 1;
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') reply('250-delay.example.test\r\n250 PIPELINING\r\n');
        else if (verb === 'DATA') {
          reply('354 go\r\n');
          inData = true;
          scanner.begin();
        } else if (verb === 'QUIT') {
          reply('221 bye\r\n');
          setTimeout(() => socket.end(), Math.max(0, lastRelease - performance.now()) + 1);
        } else {
          if (verb === 'MAIL' && firstMailAt < 0) firstMailAt = performance.now();
          reply('250 ok\r\n');
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
