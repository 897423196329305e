import { describe, expect, it } from 'vitest';
import { expandAddresses } from './addresses.js';

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
