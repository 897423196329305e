/**
 * The PROXY protocol header (HAProxy v1 text or v2 binary) that tells a server which client
 * address a connection speaks for (address lists: src/profile/addresses.ts).
 */
import { isIP } from 'node:net';

const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt) claiming a connection from `src:srcPort`
 * to `dst:dstPort`; both addresses of one family.
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
  const bytes = (a: string): number[] => (v6 ? v6Bytes(a) : a.split('.').map(Number));
  Buffer.from(bytes(src)).copy(out, 16);
  Buffer.from(bytes(dst)).copy(out, v6 ? 32 : 20);
  out.writeUInt16BE(srcPort, v6 ? 48 : 24);
  out.writeUInt16BE(dstPort, v6 ? 50 : 26);
  return out;
}

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
