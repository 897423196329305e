/**
 * The PROXY protocol header (HAProxy's "PROXY protocol" spec, versions 1 and 2), which a load
 * balancer sends before any SMTP octet to say who the real client is. Framing only: this module
 * turns the first octets of a connection into an address pair; the connection decides what to do.
 */
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { CR, LF } from '../protocol/bytes.js';

/** The client and server addresses a PROXY header names; null for `UNKNOWN` / `LOCAL` (keep the real peer). */
export interface ProxiedAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

/** Result of `parseProxyHeader`: more octets needed, a bad header, or the header's length and addresses. */
export type ProxyParse = { readonly kind: 'more' } | { readonly kind: 'bad'; readonly reason: string } | { readonly kind: 'ok'; readonly length: number; readonly addresses: ProxiedAddresses | null };

/** v2 signature: \r\n\r\n\0\r\nQUIT\n (spec §2.2). */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** v1 lines are at most 107 octets, CRLF included (spec §2.1). */
const V1_MAX = 107;
/** We accept v2 headers up to this many octets (addresses plus a few TLVs); longer ones are refused. */
export const V2_MAX = 16 + 512;

/**
 * Parses a PROXY header at the start of `buf` (the connection's first octets so far).
 * @param version which versions are accepted
 */
export function parseProxyHeader(buf: Buffer, version: 'v1' | 'v2' | 'any'): ProxyParse {
  if (buf.length === 0) return { kind: 'more' };
  const v2 = buf[0] === CR;
  if (v2 ? version === 'v1' : version === 'v2') return { kind: 'bad', reason: `PROXY ${v2 ? 'v2' : 'v1'} header where ${version} is expected` };
  return v2 ? parseV2(buf) : parseV1(buf);
}

function parseV1(buf: Buffer): ProxyParse {
  const n = Math.min(buf.length, V1_PREFIX.length);
  if (buf.compare(V1_PREFIX, 0, n, 0, n) !== 0) return { kind: 'bad', reason: 'no PROXY header' };
  const lf = buf.indexOf(LF);
  if (lf === -1) return buf.length >= V1_MAX ? { kind: 'bad', reason: 'PROXY v1 line too long' } : { kind: 'more' };
  if (lf + 1 > V1_MAX || buf[lf - 1] !== CR) return { kind: 'bad', reason: 'PROXY v1 line too long or not ended by CRLF' };
  const parts = buf.toString('latin1', 0, lf - 1).split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'ok', length: lf + 1, addresses: null };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return { kind: 'bad', reason: 'malformed PROXY v1 line' };
  const [, family, src, dst, sport, dport] = parts;
  // Spec §2.1: addresses of the named family, ports as canonical decimal 0..65535 (no leading zeros).
  const isIp = family === 'TCP4' ? isIPv4 : isIPv6;
  if (!isIp(src) || !isIp(dst)) return { kind: 'bad', reason: `bad ${family} address in PROXY v1 line` };
  const port = (p: string) => (/^(0|[1-9]\d{0,4})$/.test(p) && Number(p) <= 65_535 ? Number(p) : -1);
  if (port(sport) < 0 || port(dport) < 0) return { kind: 'bad', reason: 'bad port in PROXY v1 line' };
  return { kind: 'ok', length: lf + 1, addresses: { sourceAddress: src, sourcePort: port(sport), destinationAddress: dst, destinationPort: port(dport) } };
}

function parseV2(buf: Buffer): ProxyParse {
  const n = Math.min(buf.length, V2_SIGNATURE.length);
  if (buf.compare(V2_SIGNATURE, 0, n, 0, n) !== 0) return { kind: 'bad', reason: 'bad PROXY v2 signature' };
  if (buf.length < 16) return { kind: 'more' };
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return { kind: 'bad', reason: 'PROXY v2 header with another version' };
  const length = 16 + buf.readUInt16BE(14);
  if (length > V2_MAX) return { kind: 'bad', reason: 'PROXY v2 header too long' };
  if (buf.length < length) return { kind: 'more' };
  // LOCAL (health checks by the proxy itself): keep the real peer. Spec §2.2: command 0x0 LOCAL, 0x1 PROXY.
  if ((verCmd & 0x0f) === 0) return { kind: 'ok', length, addresses: null };
  if ((verCmd & 0x0f) !== 1) return { kind: 'bad', reason: 'unknown PROXY v2 command' };
  const family = buf[13];
  if (family === 0x11 && length >= 16 + 12) {
    const ip = (at: number) => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
    return { kind: 'ok', length, addresses: { sourceAddress: ip(16), destinationAddress: ip(20), sourcePort: buf.readUInt16BE(24), destinationPort: buf.readUInt16BE(26) } };
  }
  if (family === 0x21 && length >= 16 + 36) {
    const ip = (at: number) => Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(at + 2 * i).toString(16)).join(':');
    return { kind: 'ok', length, addresses: { sourceAddress: ip(16), destinationAddress: ip(32), sourcePort: buf.readUInt16BE(48), destinationPort: buf.readUInt16BE(50) } };
  }
  // UNSPEC or UNIX sockets: no TCP identity to record.
  return family === 0x00 || family >> 4 === 3 ? { kind: 'ok', length, addresses: null } : { kind: 'bad', reason: 'PROXY v2 address block too short or unknown family' };
}

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
