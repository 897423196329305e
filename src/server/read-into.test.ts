import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readInto } from './read-into.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A server on 127.0.0.1 port 0 and one client connected to it; resolves with both sockets. */
async function pair(): Promise<{ accepted: net.Socket; client: net.Socket }> {
  const accepted = new Promise<net.Socket>((resolve) => {
    const server = net.createServer(resolve);
    closers.push(() => server.close());
    server.listen(0, '127.0.0.1', () => {
      const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      closers.push(() => client.destroy());
      connected = client;
    });
  });
  let connected: net.Socket | null = null;
  const socket = await accepted;
  return { accepted: socket, client: connected! };
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('readInto', () => {
  it('reads an accepted socket into the given buffer, in order, through a buffer far smaller than the input', async () => {
    const { accepted, client } = await pair();
    const buffer = Buffer.alloc(16);
    const got: Buffer[] = [];
    const views: Buffer[] = [];
    expect(readInto(accepted, buffer, (view) => (got.push(Buffer.from(view)), views.push(view)))).toBe(true);
    const sent = Buffer.from(Array.from({ length: 1000 }, (_, i) => String.fromCharCode(0x21 + (i % 90))).join(''));
    client.write(sent);
    await until(() => got.reduce((n, b) => n + b.length, 0) >= sent.length);
    expect(Buffer.concat(got).equals(sent)).toBe(true);
    expect(got.length).toBeGreaterThanOrEqual(1000 / 16);
    // Every view lies in the one buffer: nothing was allocated per read.
    for (const v of views) expect(v.buffer === buffer.buffer && v.byteOffset === buffer.byteOffset).toBe(true);
    // A second call finds the fields taken and changes nothing.
    expect(readInto(accepted, Buffer.alloc(16), () => {})).toBe(false);
  });

  it('stops calling back while paused and carries on after resume', async () => {
    const { accepted, client } = await pair();
    let octets = 0;
    readInto(accepted, Buffer.alloc(64), (view) => (octets += view.length));
    client.write('a'.repeat(10));
    await until(() => octets === 10);
    accepted.pause();
    client.write('b'.repeat(10));
    await new Promise((r) => setTimeout(r, 100));
    expect(octets).toBe(10);
    accepted.resume();
    await until(() => octets === 20);
    expect(octets).toBe(20);
  });
});
