import { describe, expect, it } from 'vitest';
import { parseProxyHeader } from './proxy.js';

const v2 = (cmd: number, family: number, addr: number[]) =>
  Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20 | cmd, family, addr.length >> 8, addr.length & 0xff, ...addr]);
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
