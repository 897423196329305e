/**
 * Misbehaving servers one helper away (house style §11): a TCP server on 127.0.0.1 port 0 whose
 * every connection runs `script(conn)`, which reads command lines and writes whatever it likes.
 * With `implicitTls` every connection is TLS from the first octet; `conn.startTls()` upgrades a
 * plaintext connection (after a STARTTLS 220).
 */
import net from 'node:net';
import tls from 'node:tls';

/** Key and certificate (PEM) for the server side of TLS. */
export interface ServerCert {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A connection as the script sees it: read one CRLF line at a time, write raw text. */
export interface ScriptConn {
  /** The current socket (a TLS socket after `startTls()`). */
  readonly socket: net.Socket;
  /** Next line the client sent, without CRLF; null when the client closed. */
  line(): Promise<string | null>;
  /** Reads message lines up to and including the lone "." and returns them joined (without the dot line). */
  data(): Promise<string>;
  /** Reads exactly `n` octets (latin1), or fewer when the client closed. */
  bytes(n: number): Promise<string>;
  write(text: string): void;
  /** Every octet the client sent so far (after TLS: decrypted), as latin1 text. */
  received(): string;
  /** Wraps the connection in TLS as the server; resolves when the handshake is done, rejects when it fails. */
  startTls(cert: ServerCert): Promise<void>;
}

export interface ScriptedServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function scriptedServer(script: (c: ScriptConn) => Promise<void>, opts: { implicitTls?: ServerCert } = {}): Promise<ScriptedServer> {
  const sockets = new Set<net.Socket>();
  const onConnection = (first: net.Socket): void => {
    let socket = first;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(first));
    let buffered = '';
    let all = '';
    let closed = false;
    let wake: (() => void) | null = null;
    const attach = (s: net.Socket): void => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        all += d.toString('latin1');
        wake?.();
      });
      s.on('end', () => {
        closed = true;
        wake?.();
      });
    };
    attach(socket);
    const waitMore = async (): Promise<void> => {
      await new Promise<void>((r) => (wake = r));
      wake = null;
    };
    const line = async (): Promise<string | null> => {
      for (;;) {
        const i = buffered.indexOf('\r\n');
        if (i !== -1) {
          const l = buffered.slice(0, i);
          buffered = buffered.slice(i + 2);
          return l;
        }
        if (closed) return null;
        await waitMore();
      }
    };
    const conn: ScriptConn = {
      get socket() {
        return socket;
      },
      line,
      async data() {
        const lines: string[] = [];
        for (;;) {
          const l = await line();
          if (l === null || l === '.') return lines.join('\r\n');
          lines.push(l);
        }
      },
      async bytes(n) {
        while (buffered.length < n && !closed) await waitMore();
        const out = buffered.slice(0, n);
        buffered = buffered.slice(out.length);
        return out;
      },
      write: (text) => {
        if (!socket.destroyed) socket.write(text);
      },
      received: () => all,
      startTls(cert) {
        const raw = socket;
        raw.removeAllListeners('data');
        raw.removeAllListeners('end');
        const secure = new tls.TLSSocket(raw, { isServer: true, key: cert.key, cert: cert.cert });
        socket = secure;
        attach(secure);
        return new Promise<void>((resolve, reject) => {
          secure.once('secure', () => resolve());
          secure.once('error', reject);
          secure.once('close', () => reject(new Error('closed during the TLS handshake')));
        });
      },
    };
    script(conn).catch(() => socket.destroy());
  };
  const server = opts.implicitTls ? tls.createServer({ key: opts.implicitTls.key, cert: opts.implicitTls.cert }, onConnection) : net.createServer(onConnection);
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
