/**
 * A bare SMTP test client for server tests (house style §11): connects to 127.0.0.1, writes raw
 * octets, and records every complete reply (multi-line replies joined) with its arrival time on
 * the `performance.now()` clock. It never interprets replies; tests do, except the layered helpers
 * (house style §11): `rawClient` (started) → `greetedClient` → `ehloClient` (after EHLO) →
 * `authedClient` (after AUTH). `rawClient` and `greetedClient` count replies from the connection
 * (the greeting is reply 0); `ehloClient` and `authedClient` count them from where their layer
 * ends, so a test's first own command gets reply 0.
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
  readonly socket: net.Socket;
  /**
   * The replies since this layer began: the connection's own array for `rawClient` and
   * `greetedClient` (it grows as replies arrive); a copy for the later layers (read it again).
   */
  readonly replies: Reply[];
  /** Every reply since connecting, the greeting first. */
  readonly all: Reply[];
  readonly openedMs: number;
  /** True once the server closed (or reset) the connection. */
  readonly closed: boolean;
  write(data: string | Buffer): void;
  /** Resolves once at least `n` replies of this layer have arrived, with them (rejects on close or after `timeoutMs`). */
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
    let current: net.Socket = socket;
    /** The client with replies counted from `base`. */
    const view = (base: number): RawClient & { base: number; layer(n: number): RawClient } => ({
      base,
      get socket() {
        return current;
      },
      get replies() {
        return base === 0 ? replies : replies.slice(base);
      },
      all: replies,
      openedMs,
      get closed() {
        return closed;
      },
      write: (data) => void current.write(data),
      replyCount: async (n, timeoutMs = 5000) => {
        await wait(() => replies.length >= base + n, timeoutMs, `${base + n} replies`);
        return base === 0 ? replies : replies.slice(base);
      },
      closedByServer: (timeoutMs = 5000) =>
        wait(() => closed, timeoutMs + 1, 'the server to close').catch((e) => {
          if (!closed) throw e;
        }),
      startTls: () =>
        new Promise<void>((ok, fail) => {
          current.removeListener('data', onData);
          const t = tls.connect({ socket: current, rejectUnauthorized: false, servername: 'localhost' });
          t.once('secureConnect', () => ok());
          t.once('error', fail);
          current = t;
          attach(t);
        }),
      end: () => current.destroy(),
      layer: (n) => view(base + n),
    });
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve(view(0)));
    socket.once('error', reject);
  });
}

/** Connected and greeted (house style §11: started, then greeted, then after EHLO). */
export async function greetedClient(port: number, opts: { tls?: boolean } = {}): Promise<RawClient> {
  const c = await rawClient(port, opts);
  await c.replyCount(1);
  return c;
}

/** A client's next layer: the same connection, with replies counted from `n` replies on. */
function layer(c: RawClient, n: number): RawClient {
  return (c as RawClient & { layer(n: number): RawClient }).layer(n);
}

/** Greeted, then EHLO `domain` answered with 250; replies count from the first one after EHLO's. */
export async function ehloClient(port: number, opts: { tls?: boolean; domain?: string } = {}): Promise<RawClient> {
  const c = await greetedClient(port, opts);
  c.write(`EHLO ${opts.domain ?? 'client.example'}\r\n`);
  const r = await c.replyCount(2);
  if (r[1].code !== 250) throw new Error(`EHLO answered ${r[1].text.trimEnd()}`);
  return layer(c, 2);
}

/** After EHLO, `AUTH PLAIN` as `user` answered with 235 (RFC 4954); replies count from the first one after it. */
export async function authedClient(port: number, user: string, password: string, opts: { tls?: boolean } = {}): Promise<RawClient> {
  const c = await ehloClient(port, opts);
  c.write(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}\r\n`);
  const r = await c.replyCount(1);
  if (r[0].code !== 235) throw new Error(`AUTH answered ${r[0].text.trimEnd()}`);
  return layer(c, 1);
}
