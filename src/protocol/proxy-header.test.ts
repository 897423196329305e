import { describe, expect, it } from 'vitest';
import { parseProxyHeader, PROXY_V2_SIGNATURE, proxyHeader, type ProxyParse } from './proxy-header.js';
import { splits } from './splits.testkit.js';

const v2 = (cmd: number, family: number, addr: number[]) => Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20 | cmd, family, addr.length >> 8, addr.length & 0xff, ...addr])]);
const V2_TCP4 = v2(1, 0x11, [192, 0, 2, 7, 198, 51, 100, 1, 0xdb, 0xfc, 0x00, 0x19]);
const V2_TCP6 = v2(1, 0x21, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1, 0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 2, 0x30, 0x39, 0x00, 0x19]);

describe('parseProxyHeader', () => {
  const good: [string, Buffer, 'v1' | 'v2', object | null][] = [
    ['v1 TCP4', Buffer.from('PROXY TCP4 192.0.2.7 198.51.100.1 56316 25\r\n'), 'v1', { sourceAddress: '192.0.2.7', sourcePort: 56316, destinationAddress: '198.51.100.1', destinationPort: 25 }],
    ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 12345 25\r\n'), 'v1', { sourceAddress: '2001:db8::1', sourcePort: 12345, destinationAddress: '2001:db8::2', destinationPort: 25 }],
    ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n'), 'v1', null],
    ['v2 TCP4', V2_TCP4, 'v2', { sourceAddress: '192.0.2.7', sourcePort: 56316, destinationAddress: '198.51.100.1', destinationPort: 25 }],
    ['v2 TCP6', V2_TCP6, 'v2', { sourceAddress: '2001:db8:0:0:0:0:0:1', sourcePort: 12345, destinationAddress: '2001:db8:0:0:0:0:0:2', destinationPort: 25 }],
    ['v2 LOCAL', v2(0, 0x00, []), 'v2', null],
  ];
  for (const [name, header, version, addresses] of good) {
    it(`${name}: "more" for every proper prefix, then the header, with SMTP octets after it`, () => {
      for (let i = 0; i < header.length; i++) expect(parseProxyHeader(header.subarray(0, i), version), `prefix ${i}`).toEqual({ kind: 'more' });
      const withTail = Buffer.concat([header, Buffer.from('EHLO x\r\n')]);
      for (const v of [version, 'any'] as const) expect(parseProxyHeader(withTail, v)).toEqual({ kind: 'ok', length: header.length, addresses });
    });
  }

  it('refuses missing, malformed and unexpected headers', () => {
    const bad = (b: string | Buffer, v: 'v1' | 'v2' | 'any' = 'any') => parseProxyHeader(Buffer.from(b), v).kind;
    expect(bad('EHLO x\r\n')).toBe('bad');
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 99999 25\r\n')).toBe('bad');
    expect(bad('PROXY TCP4 1.2.3.4\r\n')).toBe('bad');
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n')).toBe('bad');
    // Addresses of the named family, canonical ports (spec §2.1).
    expect(bad('PROXY TCP4 hello <script> 1 2\r\n')).toBe('bad');
    expect(bad('PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n')).toBe('bad');
    expect(bad('PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n')).toBe('bad');
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 01 00025\r\n')).toBe('bad');
    expect(bad('PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n')).toBe('bad');
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n')).toBe('ok');
    expect(bad(`PROXY ${'x'.repeat(120)}`)).toBe('bad');
    expect(bad(V2_TCP4, 'v1')).toBe('bad');
    expect(bad('PROXY UNKNOWN\r\n', 'v2')).toBe('bad');
    const wrongVersion = Buffer.from(V2_TCP4);
    wrongVersion[12] = 0x11;
    expect(bad(wrongVersion)).toBe('bad');
    const tooLong = Buffer.from(V2_TCP4);
    tooLong.writeUInt16BE(60_000, 14);
    expect(bad(tooLong)).toBe('bad');
  });
});

describe('proxyHeader', () => {
  it('v1 is one text line', () => {
    expect(proxyHeader('v1', '192.0.2.1', '127.0.0.1', 40000, 25).toString()).toBe('PROXY TCP4 192.0.2.1 127.0.0.1 40000 25\r\n');
    expect(proxyHeader('v1', '2001:db8::1', '::1', 1, 2).toString()).toBe('PROXY TCP6 2001:db8::1 ::1 1 2\r\n');
  });
  it('v2 is the binary header of proxy-protocol.txt §2.2', () => {
    expect(proxyHeader('v2', '192.0.2.1', '127.0.0.1', 40000, 25).toString('hex')).toBe('0d0a0d0a000d0a515549540a' + '21' + '11' + '000c' + 'c0000201' + '7f000001' + '9c40' + '0019');
    const v6 = proxyHeader('v2', '2001:db8::1', '::1', 1, 2);
    expect(v6.length).toBe(16 + 36);
    expect(v6.subarray(13, 16).toString('hex')).toBe('210024');
    expect(v6.subarray(16, 32).toString('hex')).toBe('20010db8000000000000000000000001');
  });
});

/** What the writer writes, the parser reads back (v2 spells IPv6 groups in full). */
const ROUND_TRIPS: [string, Buffer, object][] = [
  ['v1 TCP4', proxyHeader('v1', '192.0.2.1', '127.0.0.1', 40000, 25), { sourceAddress: '192.0.2.1', sourcePort: 40000, destinationAddress: '127.0.0.1', destinationPort: 25 }],
  ['v1 TCP6', proxyHeader('v1', '2001:db8::1', '::1', 1, 2), { sourceAddress: '2001:db8::1', sourcePort: 1, destinationAddress: '::1', destinationPort: 2 }],
  ['v2 TCP4', proxyHeader('v2', '192.0.2.1', '127.0.0.1', 40000, 25), { sourceAddress: '192.0.2.1', sourcePort: 40000, destinationAddress: '127.0.0.1', destinationPort: 25 }],
  ['v2 TCP6', proxyHeader('v2', '2001:db8::1', '::1', 65535, 0), { sourceAddress: '2001:db8:0:0:0:0:0:1', sourcePort: 65535, destinationAddress: '0:0:0:0:0:0:0:1', destinationPort: 0 }],
];

describe('PROXY header split at every offset', () => {
  const SMTP = Buffer.from('EHLO x\r\nQUIT\r\n');

  for (const [name, header, addresses] of ROUND_TRIPS) {
    it(`${name}: a receiver that parses what it has so far finds the header once, and the SMTP octets after it`, () => {
      for (const parts of splits(Buffer.concat([header, SMTP]))) {
        // As src/server/connection.ts does: keep the octets so far, parse them again on each chunk.
        let buf = Buffer.alloc(0);
        let result: ProxyParse = { kind: 'more' };
        let rest: Buffer[] = [];
        for (const [i, part] of parts.entries()) {
          buf = Buffer.concat([buf, part]);
          result = parseProxyHeader(buf, 'any');
          if (result.kind !== 'more') {
            rest = [buf, ...parts.slice(i + 1)];
            break;
          }
        }
        expect(result).toEqual({ kind: 'ok', length: header.length, addresses });
        expect(Buffer.concat(rest).subarray(header.length).toString('latin1')).toBe(SMTP.toString('latin1'));
      }
    });
  }
});
