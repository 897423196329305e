/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2): the first octets of a
 * connection, before any SMTP (and before the TLS handshake of implicit TLS), that say which client
 * a load balancer speaks for. The client writes one to vary its apparent address
 * (src/client/session.ts, address lists in src/profile/addresses.ts); the reference server parses
 * one before its greeting (src/server/connection.ts, src/server/proxy.ts). Framing only: bytes in,
 * an address pair out; the caller decides what to do with it.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { CR, LF } from './bytes.js';

/** The client and server addresses a PROXY header names. */
export interface ProxiedAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

/**
 * Result of `parseProxyHeader`: more octets needed, a bad header, or the header's length and
 * addresses (null for v1 `UNKNOWN`, v2 `LOCAL` and v2 address families without a TCP identity:
 * keep the real peer).
 */
export type ProxyParse = { readonly kind: 'more' } | { readonly kind: 'bad'; readonly reason: string } | { readonly kind: 'ok'; readonly length: number; readonly addresses: ProxiedAddresses | null };

/** The v2 signature, `\r\n\r\n\0\r\nQUIT\n` (spec §2.2): the first 12 octets of every v2 header. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** v1 lines are at most 107 octets, CRLF included (spec §2.1). */
const V1_MAX = 107;
/** We accept v2 headers up to this many octets (addresses plus a few TLVs); longer ones are refused. */
export const V2_MAX = 16 + 512;

// ---------------------------------------------------------------------------------------
// Writer

/**
 * The PROXY header claiming a connection from `src:srcPort` to `dst:dstPort` (both addresses of one
 * family): v1 is one text line (spec §2.1), v2 the binary form (spec §2.2: version 2, command
 * PROXY, TCP over IPv4 or IPv6).
 */
export function proxyHeader(version: 'v1' | 'v2', src: string, dst: string, srcPort: number, dstPort: number): Buffer {
  const v6 = isIP(src) === 6;
  if (version === 'v1') return Buffer.from(`PROXY ${v6 ? 'TCP6' : 'TCP4'} ${src} ${dst} ${srcPort} ${dstPort}\r\n`, 'latin1');
  const addrLen = v6 ? 36 : 12;
  const out = Buffer.alloc(16 + addrLen);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, command PROXY
  out[13] = v6 ? 0x21 : 0x11; // AF_INET6 / AF_INET, STREAM
  out.writeUInt16BE(addrLen, 14);
  const octets = (a: string): number[] => (v6 ? v6Bytes(a) : a.split('.').map(Number));
  Buffer.from(octets(src)).copy(out, 16);
  Buffer.from(octets(dst)).copy(out, v6 ? 32 : 20);
  out.writeUInt16BE(srcPort, v6 ? 48 : 24);
  out.writeUInt16BE(dstPort, v6 ? 50 : 26);
  return out;
}

/** The 16 octets of an IPv6 address in text form (`::` expanded). */
function v6Bytes(a: string): number[] {
  const [head, tail = ''] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = a.includes('::') ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 255];
  });
}

// ---------------------------------------------------------------------------------------
// Parser

/**
 * Parses a PROXY header at the start of `buf` (the connection's first octets so far; call again
 * with more octets after `more`). A bad header is never guessed at (spec §2: the receiver must not
 * try to parse what follows).
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
  const n = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  if (buf.compare(PROXY_V2_SIGNATURE, 0, n, 0, n) !== 0) return { kind: 'bad', reason: 'bad PROXY v2 signature' };
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
