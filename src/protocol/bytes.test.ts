import { describe, expect, it } from 'vitest';
import { CR, CRLF, CRLF_DOT_CRLF, DOT, DOT_CRLF, equalsCI, LF, SP, startsWithCI } from './bytes.js';

describe('byte constants', () => {
  it('are the octets their names say', () => {
    expect(Buffer.from([CR, LF, SP, DOT]).toString('latin1')).toBe('\r\n .');
    expect(CRLF.toString('latin1')).toBe('\r\n');
    expect(DOT_CRLF.toString('latin1')).toBe('.\r\n');
    expect(CRLF_DOT_CRLF.toString('latin1')).toBe('\r\n.\r\n');
  });
});

describe('startsWithCI', () => {
  const FROM = Buffer.from('FROM:');
  it('matches ASCII letters in either case, at an offset, and other octets exactly', () => {
    expect(startsWithCI(Buffer.from('MAIL FROM:<a@b>'), 5, FROM)).toBe(true);
    expect(startsWithCI(Buffer.from('mail from:<a@b>'), 5, FROM)).toBe(true);
    expect(startsWithCI(Buffer.from('mail FrOm:'), 5, FROM)).toBe(true);
    // ':' (bit 5 set) matches only itself: '\x1a' would fold onto it without the exact test.
    expect(startsWithCI(Buffer.from('MAIL FROM\x1a'), 5, FROM)).toBe(false);
    expect(startsWithCI(Buffer.from('MAIL FROM;'), 5, FROM)).toBe(false);
  });
  it('is false when the buffer is shorter than the word', () => {
    expect(startsWithCI(Buffer.from('MAIL FRO'), 5, FROM)).toBe(false);
    expect(startsWithCI(Buffer.from('FROM:'), 1, FROM)).toBe(false);
    expect(startsWithCI(Buffer.from(''), 0, Buffer.from(''))).toBe(true);
  });
});

describe('equalsCI', () => {
  const lower = Buffer.from('postmaster');
  it('compares a range, folding A-Z only', () => {
    const line = Buffer.from('RCPT TO:<PostMaster@x>');
    expect(equalsCI(line, 9, 19, lower)).toBe(true);
    expect(equalsCI(line, 9, 18, lower)).toBe(false);
    expect(equalsCI(Buffer.from('postmastEr'), 0, 10, lower)).toBe(true);
    // Non-letters are not folded: '@' (0x40) is not '`' (0x60), 'É' is not 'é'.
    expect(equalsCI(Buffer.from('@'), 0, 1, Buffer.from('`'))).toBe(false);
    expect(equalsCI(Buffer.from('É', 'latin1'), 0, 1, Buffer.from('é', 'latin1'))).toBe(false);
  });
});
