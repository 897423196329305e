/**
 * Misbehaving servers one helper away (house style §11): a TCP server on 127.0.0.1 port 0 whose
 * every connection runs `script(conn)`, which reads command lines and writes whatever it likes.
 */
import net from 'node:net';

/** A connection as the script sees it: read one CRLF line at a time, write raw text. */
export interface ScriptConn {
  readonly socket: net.Socket;
  /** Next line the client sent, without CRLF; null when the client closed. */
  line(): Promise<string | null>;
  /** Reads message lines up to and including the lone "." and returns them joined (without the dot line). */
  data(): Promise<string>;
  write(text: string): void;
  /** Every octet the client sent so far, as latin1 text. */
  received(): string;
}

export interface ScriptedServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function scriptedServer(script: (c: ScriptConn) => Promise<void>): Promise<ScriptedServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    let all = '';
    let closed = false;
    let wake: (() => void) | null = null;
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      all += d.toString('latin1');
      wake?.();
    });
    socket.on('end', () => {
      closed = true;
      wake?.();
    });
    const line = async (): Promise<string | null> => {
      for (;;) {
        const i = buffered.indexOf('\r\n');
        if (i !== -1) {
          const l = buffered.slice(0, i);
          buffered = buffered.slice(i + 2);
          return l;
        }
        if (closed) return null;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    };
    const conn: ScriptConn = {
      socket,
      line,
      async data() {
        const lines: string[] = [];
        for (;;) {
          const l = await line();
          if (l === null || l === '.') return lines.join('\r\n');
          lines.push(l);
        }
      },
      write: (text) => {
        if (!socket.destroyed) socket.write(text);
      },
      received: () => all,
    };
    script(conn).catch(() => socket.destroy());
  });
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
