import { describe, it, expect } from 'vitest';
import { parseDuration, parseSize } from './units.js';

describe('parseSize', () => {
  it.each([
    [512, 512],
    [0, 0],
    ['512', 512],
    ['0', 0],
    ['1B', 1],
    ['4KiB', 4096],
    ['4kib', 4096],
    ['1MiB', 1_048_576],
    ['1GiB', 1_073_741_824],
    ['1KB', 1000],
    ['2kb', 2000],
    ['1.5MB', 1_500_000],
    ['1.1KB', 1100],
    ['1.5KiB', 1536],
    ['1GB', 1_000_000_000],
    [' 8 KiB ', 8192],
    ['100MiB', 104_857_600],
  ])('%j → %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([
    [-1, /negative/],
    ['-4KiB', /negative/],
    [Number.NaN, /finite/],
    [Number.POSITIVE_INFINITY, /finite/],
    ['abc', /not a size/],
    ['', /not a size/],
    ['2k', /unknown unit "k"/],
    ['4 TiB', /unknown unit/],
    ['0.1KiB', /whole number of bytes/],
    [1.5, /whole number of bytes/],
  ])('rejects %j', (input, message) => {
    expect(() => parseSize(input)).toThrow(message);
  });
});

describe('parseDuration', () => {
  it.each([
    [250, 250],
    [0, 0],
    ['0', 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2H', 7_200_000],
    ['10 s', 10_000],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    [-5, /negative/],
    ['-1s', /negative/],
    [Number.NaN, /finite/],
    ['30', /needs a unit/],
    ['30d', /unknown unit "d"/],
    ['soon', /not a duration/],
    ['0.5ms', /whole number of milliseconds/],
  ])('rejects %j', (input, message) => {
    expect(() => parseDuration(input)).toThrow(message);
  });
});
