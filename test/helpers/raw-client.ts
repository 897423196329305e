/**
 * A bare SMTP test client for server tests (house style §11): connects to 127.0.0.1, writes raw
 * octets, and records every complete reply (multi-line replies joined) with its arrival time on
 * the `performance.now()` clock. It never interprets replies; tests do.
 */
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';

/** One complete reply: its code, its raw text (all lines, CRLF kept) and when its last line arrived. */
export interface Reply {
  readonly code: number;
  readonly text: string;
  readonly atMs: number;
}

export interface RawClient {
  socket: net.Socket;
  readonly replies: Reply[];
  readonly openedMs: number;
  /** True once the server closed (or reset) the connection. */
  readonly closed: boolean;
  write(data: string | Buffer): void;
  /** Resolves once at least `n` replies have arrived (rejects on close or after `timeoutMs`). */
  replyCount(n: number, timeoutMs?: number): Promise<Reply[]>;
  /** Resolves once the server closed the connection (rejects after `timeoutMs`). */
  closedByServer(timeoutMs?: number): Promise<void>;
  /** Upgrades to TLS (after the 220 to STARTTLS); replies keep accumulating. */
  startTls(): Promise<void>;
  end(): void;
}

/** Connects and starts recording replies (the greeting is reply 0). */
export function rawClient(port: number, opts: { tls?: boolean } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let pending: string[] = [];
    const replies: Reply[] = [];
    let closed = false;
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of waiters) w();
    };
    const onData = (d: Buffer) => {
      buffered += d.toString('latin1');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl + 1);
        buffered = buffered.slice(nl + 1);
        pending.push(line);
        // RFC 5321 §4.2.1: "250-" continues a reply, "250 " (or a bare "250") ends it.
        if (line[3] !== '-') {
          replies.push({ code: Number(line.slice(0, 3)), text: pending.join(''), atMs: performance.now() });
          pending = [];
        }
      }
      wake();
    };
    const attach = (s: net.Socket) => {
      s.on('data', onData);
      s.on('error', () => {});
      s.on('close', () => {
        closed = true;
        wake();
      });
    };
    const wait = (done: () => boolean, timeoutMs: number, what: string) =>
      new Promise<void>((ok, fail) => {
        const check = () => {
          if (done()) {
            cleanup();
            ok();
          } else if (closed) {
            cleanup();
            fail(new Error(`connection closed while waiting for ${what}; replies: ${replies.map((r) => r.code).join(' ')}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          fail(new Error(`timed out waiting for ${what}; replies: ${replies.map((r) => r.code).join(' ')}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    const openedMs = performance.now();
    const socket = opts.tls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    attach(socket);
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
      const client: RawClient = {
        socket,
        replies,
        openedMs,
        get closed() {
          return closed;
        },
        write: (data) => void client.socket.write(data),
        replyCount: async (n, timeoutMs = 5000) => {
          await wait(() => replies.length >= n, timeoutMs, `${n} replies`);
          return replies;
        },
        closedByServer: (timeoutMs = 5000) =>
          wait(() => closed, timeoutMs + 1, 'the server to close').catch((e) => {
            if (!closed) throw e;
          }),
        startTls: () =>
          new Promise<void>((ok, fail) => {
            client.socket.removeListener('data', onData);
            const t = tls.connect({ socket: client.socket, rejectUnauthorized: false, servername: 'localhost' });
            t.once('secureConnect', () => ok());
            t.once('error', fail);
            client.socket = t;
            attach(t);
          }),
        end: () => client.socket.destroy(),
      };
      resolve(client);
    });
    socket.once('error', reject);
  });
}

/** Connected and greeted (house style §11: started, then greeted, then after EHLO). */
export async function greetedClient(port: number, opts: { tls?: boolean } = {}): Promise<RawClient> {
  const c = await rawClient(port, opts);
  await c.replyCount(1);
  return c;
}
