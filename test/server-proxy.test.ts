/**
 * The reference server's PROXY preface (src/protocol/proxy-header.ts parsed by
 * src/server/connection.ts) through an in-memory socket: the header and the commands behind it
 * split at every offset.
 */
import { describe, expect, it } from 'vitest';
import { FakeSocket } from './helpers/fake-socket.js';
import { resolveProfile } from '../src/profile/index.js';
import { proxyHeader } from '../src/protocol/proxy-header.js';
import { splits } from '../src/protocol/splits.testkit.js';
import { Connection, serverContext } from '../src/server/connection.js';

const SMTP = Buffer.from('EHLO x\r\nQUIT\r\n');

describe('PROXY preface through Connection', () => {
  it('greets after the header and answers the commands behind it, however the octets arrive', () => {
    const ctx = serverContext(resolveProfile({ server: { proxyProtocol: 'any', tls: { starttls: false }, sessionLog: 10 } }).server, null);
    const headers: [Buffer, object][] = [
      [proxyHeader('v1', '192.0.2.1', '127.0.0.1', 40000, 25), { sourceAddress: '192.0.2.1', sourcePort: 40000, destinationAddress: '127.0.0.1', destinationPort: 25 }],
      [proxyHeader('v2', '2001:db8::1', '::1', 65535, 0), { sourceAddress: '2001:db8:0:0:0:0:0:1', sourcePort: 65535, destinationAddress: '0:0:0:0:0:0:0:1', destinationPort: 0 }],
    ];
    for (const [header, addresses] of headers) {
      for (const parts of splits(Buffer.concat([header, SMTP]))) {
        const sock = new FakeSocket();
        new Connection(sock.asSocket(), ctx);
        for (const p of parts) sock.feed(p);
        expect(sock.codes()).toEqual([220, 250, 221]);
        expect(ctx.sessions.list()[0].proxied).toEqual(addresses);
      }
    }
  });

  it('closes without a word on a bad header, wherever it is cut', () => {
    const ctx = serverContext(resolveProfile({ server: { proxyProtocol: 'v2', tls: { starttls: false } } }).server, null);
    for (const parts of splits(Buffer.concat([proxyHeader('v1', '192.0.2.1', '127.0.0.1', 1, 25), SMTP]))) {
      const sock = new FakeSocket();
      new Connection(sock.asSocket(), ctx);
      for (const p of parts) sock.feed(p);
      expect(sock.codes()).toEqual([]);
      expect(sock.ended).toBe(true);
    }
  });
});
