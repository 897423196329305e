import { describe, expect, it } from 'vitest';
import { expandAddresses } from './addresses.js';
import { proxyHeader } from '../client/identity.js';

describe('expandAddresses', () => {
  it('expands IPv4 ranges and lists, keeps single addresses', () => {
    expect(expandAddresses('127.0.0.2-127.0.0.4')).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    expect(expandAddresses('10.0.0.255-10.0.1.0, ::1')).toEqual(['10.0.0.255', '10.0.1.0', '::1']);
  });
  it('names what is wrong', () => {
    expect(() => expandAddresses('127.0.0.9-127.0.0.2')).toThrow('ends before it starts');
    expect(() => expandAddresses('mx.example.test')).toThrow('"mx.example.test" is not an IP address');
    expect(() => expandAddresses('10.0.0.0-10.2.0.0')).toThrow('more than 65536');
    expect(() => expandAddresses('::1-::2')).toThrow('not an IPv4 range');
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
