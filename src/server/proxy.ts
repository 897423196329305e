/**
 * Reading the PROXY protocol header from a socket before anything else does: the implicit-TLS
 * port, where the header precedes the TLS handshake. The header itself (framing, both versions)
 * is src/protocol/proxy-header.ts; plain connections parse it in src/server/connection.ts.
 */
import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxiedAddresses } from '../protocol/proxy-header.js';

/**
 * Reads a PROXY header from a raw socket before anything else reads it (the implicit-TLS port,
 * where the header precedes the TLS handshake). Resolves with the addresses and the octets that
 * followed the header in the same reads (the start of the TLS handshake, to be replayed).
 * @param timeoutMs the whole header must arrive within this time (the server's idle timeout)
 * @throws Error (rejects) on a bad header, when the socket ends first, or after `timeoutMs`
 */
export function readProxyHeader(socket: Socket, version: 'v1' | 'v2' | 'any', timeoutMs: number): Promise<{ addresses: ProxiedAddresses | null; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      done();
      reject(new Error('no complete PROXY header in time'));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    const onEnd = () => {
      done();
      reject(new Error('connection ended before the PROXY header'));
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf, version);
      if (r.kind === 'more') return;
      done();
      socket.pause();
      if (r.kind === 'bad') reject(new Error(r.reason));
      else resolve({ addresses: r.addresses, rest: buf.subarray(r.length) });
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
  });
}
