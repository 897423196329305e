import { describe, expect, it } from 'vitest';
import { parseEsmtpParams } from './address.js';
import { bdatSizeLenient, checkMailParameters, decodeStrictBase64, decodeXtext, parseAuthArgs, parseBdatArgs, parseXclientArgs } from './command-args.js';

const line = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('checkMailParameters', () => {
  const check = (params: string, max = 1000, chunking = true, authOffered = true) => {
    const b = line(`MAIL FROM:<a@b>${params}`);
    const parsed = parseEsmtpParams(b, 15);
    return parsed === null ? 'grammar' : checkMailParameters(parsed, max, chunking, authOffered);
  };
  it('takes SIZE, BODY, SMTPUTF8 and AUTH in any case', () => {
    for (const p of ['', ' ', ' SIZE=10', ' size=1000 body=8bitmime smtputf8', ' SIZE=1 BODY=7BIT ', ' AUTH=<>', ' AUTH=a+2Bb', ' BODY=BINARYMIME']) expect(check(p), p).toBe('ok');
  });
  it('refuses what is not the esmtp-param grammar (RFC 5321 §4.1.2)', () => {
    for (const p of ['  SIZE=1', ' SIZE=1  BODY=7BIT', 'SIZE=1', ' =1', ' -X=1', ' SIZE==1', ' X=a b=']) expect(check(p), p).toBe('grammar');
  });
  it('names what is wrong', () => {
    expect(check(' SIZE=')).toBe('grammar');
    expect(check(' SIZE=1e3')).toBe('syntax');
    expect(check(` SIZE=${'9'.repeat(21)}`)).toBe('syntax');
    expect(check(' SIZE=1001')).toBe('size-too-big');
    expect(check(' SIZE=1001', 0)).toBe('ok');
    expect(check(' BODY=9BIT')).toBe('syntax');
    expect(check(' BODY=BINARYMIME', 1000, false)).toBe('syntax');
    expect(check(' AUTH=<>', 1000, true, false)).toBe('unknown');
    expect(check(' RET=HDRS')).toBe('unknown');
    expect(check(' SIZE=1 SIZE=2')).toBe('syntax');
    expect(check(' SMTPUTF8=yes')).toBe('syntax');
    expect(check(' AUTH=a+2bb')).toBe('syntax');
    expect(check(' AUTH')).toBe('syntax');
  });
});

describe('parseBdatArgs', () => {
  it('reads the size and LAST in any case', () => {
    expect(parseBdatArgs(line('BDAT 0'))).toEqual({ size: 0, last: false });
    expect(parseBdatArgs(line('BDAT 65536 LAST'))).toEqual({ size: 65536, last: true });
    expect(parseBdatArgs(line('bdat 7 last'))).toEqual({ size: 7, last: true });
    expect(parseBdatArgs(line(`BDAT ${'9'.repeat(15)}`))).toEqual({ size: 999_999_999_999_999, last: false });
    // RFC 3030 §2: chunk-size = 1*DIGIT, so leading zeros are digits like any other (hostile review of issue 13).
    expect(parseBdatArgs(line('BDAT 0000000000000006 LAST'))).toEqual({ size: 6, last: true });
    // RFC 5321 §4.1.1: trailing white space is tolerated.
    expect(parseBdatArgs(line('BDAT 6 LAST \t'))).toEqual({ size: 6, last: true });
    expect(parseBdatArgs(line('BDAT 6 '))).toEqual({ size: 6, last: false });
  });
  it('refuses anything else', () => {
    for (const text of [
      'BDAT',
      'BDAT ',
      'BDAT x',
      'BDAT -1',
      'BDAT 1  LAST',
      'BDAT  1',
      'BDAT 1\tLAST',
      'BDAT 6x',
      'BDAT 1 LASTX',
      'BDAT 1 FIRST',
      `BDAT ${'9'.repeat(16)}`,
      `BDAT ${'1'.repeat(30)} LAST`,
    ])
      expect(parseBdatArgs(line(text)), text).toBeNull();
  });
  it('every truncation of a valid line is a smaller size or refused', () => {
    const whole = 'BDAT 1234 LAST';
    for (let i = 0; i < whole.length; i++) {
      const cut = whole.slice(0, i);
      const want = /^BDAT \d+ ?$/.test(cut) ? { size: Number(cut.slice(5)), last: false } : null;
      expect(parseBdatArgs(line(cut)), cut).toEqual(want);
    }
  });
});

describe('bdatSizeLenient', () => {
  it('finds the size a malformed BDAT meant, so its octets can be skipped; none when there is no size', () => {
    for (const [text, want] of [
      ['BDAT 5 LAST extra', 5],
      ['BDAT  5', 5],
      ['BDAT 5 FIRST', 5],
      ['BDAT x', null],
      ['BDAT', null],
      ['BDAT 5x', 5],
      ['BDAT 6\tLAST', 6],
      ['BDAT 0000000000000006 LAST', 6],
      [`BDAT ${'9'.repeat(16)}`, null],
    ] as const)
      expect(bdatSizeLenient(line(text)), text).toBe(want);
  });
});

describe('parseAuthArgs', () => {
  it('a mechanism and an optional initial response', () => {
    expect(parseAuthArgs(line('AUTH PLAIN'))).toEqual({ mechanism: 'PLAIN', initial: null });
    expect(parseAuthArgs(line('AUTH plain AGFiAGM= '))).toEqual({ mechanism: 'PLAIN', initial: 'AGFiAGM=' });
    expect(parseAuthArgs(line('AUTH PLAIN ='))).toEqual({ mechanism: 'PLAIN', initial: '=' });
    for (const text of ['AUTH', 'AUTH ', 'AUTH PLAIN a b', 'AUTH  PLAIN', 'AUTH PLAIN  a', `AUTH ${'X'.repeat(21)}`, 'AUTH PL@IN']) expect(parseAuthArgs(line(text)), text).toBeNull();
  });
});

describe('decodeStrictBase64', () => {
  it('decodes padded base64 and nothing else', () => {
    expect(decodeStrictBase64('YWxpY2U=')?.toString()).toBe('alice');
    expect(decodeStrictBase64('')?.length).toBe(0);
    for (const text of ['YWxpY2U', 'YWxp Y2U=', 'YWxpY2U=YQ==', 'YW=pY2U=', 'YWxpY2U==='.slice(0, 9), '*', '=']) expect(decodeStrictBase64(text), text).toBeNull();
  });
});

describe('XCLIENT arguments', () => {
  it('decodes xtext: +XX in upper-case hex only', () => {
    expect(decodeXtext('a+2Bb+3Dc')).toBe('a+b=c');
    expect(decodeXtext('a+2bb')).toBe('a+2bb');
    expect(decodeXtext('[UNAVAILABLE]')).toBe('[UNAVAILABLE]');
  });
  it('takes known attributes by upper-case name, in order', () => {
    expect(parseXclientArgs(line('XCLIENT addr=192.0.2.1  HELO=mx+2Eexample'))).toEqual({ ADDR: '192.0.2.1', HELO: 'mx.example' });
    expect(Object.keys(parseXclientArgs(line('XCLIENT NAME=x ADDR=y PORT=1'))!)).toEqual(['NAME', 'ADDR', 'PORT']);
    for (const text of ['XCLIENT', 'XCLIENT ', 'XCLIENT ADDR', 'XCLIENT =x', 'XCLIENT FOO=1', 'XCLIENT ADDR=1 FOO=2']) expect(parseXclientArgs(line(text)), text).toBeNull();
  });
});
