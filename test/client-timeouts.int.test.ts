/**
 * Timeouts that start at the right moment (hostile review F4, F5): a server that answers QUIT and
 * never closes costs a second, not a reply timeout; a server that reads a large body slowly is
 * waited for while octets still leave the socket, and the end-of-data timeout runs from the
 * terminator handed to the kernel (RFC 5321 §4.5.3.2.5–6). Real sockets on 127.0.0.1.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runSession } from './helpers/run-session.js';

let server: net.Server | null = null;
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

/**
 * A minimal server: greets, answers EHLO with PIPELINING, MAIL/RCPT with 250, DATA with 354, the
 * end of data with 250 and QUIT with 221. `slowBody`: read the body `kib` KiB every 20 ms (a slow
 * reader); `keepOpenAfterQuit`: answer QUIT but never close.
 */
async function listen(opts: { slowBodyKiB?: number; keepOpenAfterQuit?: boolean }): Promise<number> {
  // allowHalfOpen: the client's end after QUIT does not close this side by itself.
  server = net.createServer({ allowHalfOpen: true }, (sock) => {
    let buf = Buffer.alloc(0);
    let inData = false;
    let timer: NodeJS.Timeout | null = null;
    sockets.add(sock);
    sock.write('220 slow.example.test ESMTP\r\n');
    const onChunk = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) {
            buf = buf.subarray(Math.max(0, buf.length - 4));
            return;
          }
          buf = buf.subarray(end + 5);
          inData = false;
          sock.write('250 2.0.0 queued\r\n');
          continue;
        }
        const lf = buf.indexOf('\n');
        if (lf < 0) return;
        const line = buf
          .subarray(0, lf + 1)
          .toString('latin1')
          .toUpperCase();
        buf = buf.subarray(lf + 1);
        if (line.startsWith('EHLO')) sock.write('250-slow.example.test\r\n250 PIPELINING\r\n');
        else if (line.startsWith('DATA')) {
          inData = true;
          sock.write('354 go ahead\r\n');
          if (opts.slowBodyKiB !== undefined && timer === null) slowDown(opts.slowBodyKiB);
        } else if (line.startsWith('QUIT')) {
          sock.write('221 2.0.0 bye\r\n');
          if (!opts.keepOpenAfterQuit) sock.end();
        } else sock.write('250 2.0.0 ok\r\n');
      }
    };
    // From the 354 on, pull at most `kib` KiB every 20 ms: the kernel's buffers fill and the
    // client's socket backs up, as behind a slow link or a rate-limiting MTA.
    const slowDown = (kib: number): void => {
      sock.off('data', onChunk);
      sock.pause();
      timer = setInterval(() => {
        if (kib === 0 || sock.readableLength === 0) return;
        const chunk = sock.read(Math.min(kib * 1024, sock.readableLength)) as Buffer | null;
        if (chunk) onChunk(chunk);
      }, 20);
    };
    sock.on('data', onChunk);
    sock.on('close', () => timer && clearInterval(timer));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server!.address() as net.AddressInfo).port;
}

describe('client timeouts start at the right moment', () => {
  it('a server that answers QUIT with 221 and keeps the connection open costs about a second, and is counted (F4)', async () => {
    const port = await listen({ keepOpenAfterQuit: true });
    const t0 = performance.now();
    // 4 messages, 2 per connection: two QUITs, each left open by the server.
    const rec = await runSession({ port, messages: 4, cfg: { messagesPerConnection: 2 }, timeoutMs: 30_000 });
    const wallMs = performance.now() - t0;
    expect(rec.counters.messagesAccepted).toBe(4);
    expect(rec.errors).toEqual({ 'closing-timeout': 2 });
    expect(wallMs).toBeGreaterThan(1800);
    expect(wallMs).toBeLessThan(6000); // not 2 × the 30 s reply timeout
  });

  it('a large body read slowly is waited for while it drains; the body timeout counts from the terminator (F5)', async () => {
    // 16 MiB at about 6 MB/s: about 2.5 s to upload, with a body timeout of 1 s.
    const port = await listen({ slowBodyKiB: 128 });
    const rec = await runSession({ port, messages: 1, spec: { sizeBytes: 16 * 1024 * 1024 }, timeoutMs: 1000 });
    expect(rec.errors).toEqual({});
    expect(rec.counters.messagesAccepted).toBe(1);
  });

  it('a reader that stops altogether still times out, once no octet has left for the body timeout (F5)', async () => {
    const port = await listen({ slowBodyKiB: 0 });
    const t0 = performance.now();
    const rec = await runSession({ port, messages: 1, spec: { sizeBytes: 16 * 1024 * 1024 }, timeoutMs: 1000 });
    expect(rec.errors).toEqual({ 'body-timeout': 1 });
    expect(rec.counters.messagesFailed).toBe(1);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
