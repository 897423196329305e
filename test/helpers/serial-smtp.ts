/**
 * A test SMTP server whose capacity is known by construction: it handles one message at a time
 * across ALL connections and spends a fixed `serviceMs` on each, so it cannot accept more than
 * 1000 / serviceMs messages per second (5 ms: 200 msg/s). Every end-of-data reply goes through one
 * global queue whose slots are `serviceMs` apart on a monotonic clock: a timer that fires late
 * delays that reply but never lets the next slot start earlier, so the limit holds exactly.
 *
 * Just enough SMTP for the client (RFC 5321): greeting, EHLO (PIPELINING), HELO, MAIL, RCPT, DATA
 * with the end-of-data `<CRLF>.<CRLF>` found across chunk boundaries, RSET, NOOP, QUIT. Replies to
 * one connection keep their order (RFC 2920 §3.1): commands are handled one after the other.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SerialServer {
  readonly port: number;
  /** Messages accepted (250 after DATA). */
  accepted(): number;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1, port 0. */
export async function serialSmtp(serviceMs = 5): Promise<SerialServer> {
  let freeAt = 0;
  let accepted = 0;
  const sockets = new Set<Socket>();
  /** Waits for this message's slot in the one global queue. */
  const serve = async (): Promise<void> => {
    const now = performance.now();
    const start = Math.max(now, freeAt);
    freeAt = start + serviceMs;
    await sleep(freeAt - now);
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    let buf = '';
    let inData = false;
    let busy = false;
    let closed = false;
    socket.on('close', () => (closed = true));
    const write = (s: string): void => {
      if (!closed) socket.write(s);
    };
    // Handles what `buf` holds, one command (or one message body) at a time, in order.
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          if (inData) {
            // The body starts right after the 354: its end is CRLF.CRLF (or .CRLF at its very start).
            const end = buf.startsWith('.\r\n') ? 0 : buf.indexOf('\r\n.\r\n');
            if (end < 0) return;
            buf = buf.slice(end === 0 ? 3 : end + 5);
            inData = false;
            await serve();
            accepted++;
            write('250 2.0.0 queued\r\n');
            continue;
          }
          const eol = buf.indexOf('\r\n');
          if (eol < 0) return;
          const line = buf.slice(0, eol);
          buf = buf.slice(eol + 2);
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO') write('250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
          else if (verb === 'HELO') write('250 mx.example.test\r\n');
          else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') write('250 2.0.0 ok\r\n');
          else if (verb === 'DATA') {
            inData = true;
            write('354 go ahead\r\n');
          } else if (verb === 'QUIT') {
            write('221 2.0.0 bye\r\n');
            socket.end();
            return;
          } else write('500 5.5.2 unknown command\r\n');
        }
      } finally {
        busy = false;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      void pump().then(() => (buf.length > 0 && !busy ? pump() : undefined));
    });
    write('220 mx.example.test ESMTP serial\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
