import { describe, expect, it } from 'vitest';
import { ReplyParser, enhancedCodeAt, enhancedCodeOf, enhancedCodeText } from './reply-parser.js';
import { splits } from './splits.testkit.js';

interface Seen {
  replies: { code: number; lines: string[] | null }[];
  errors: string[];
}

/** Feeds `parts` to a fresh parser and returns what it reported. */
function parse(parts: Buffer[], captureText = true): Seen {
  const seen: Seen = { replies: [], errors: [] };
  const p = new ReplyParser(
    (code, lines) => seen.replies.push({ code, lines: lines ? lines.map((l) => l.toString('latin1')) : null }),
    (reason) => seen.errors.push(reason),
  );
  p.captureText = captureText;
  for (const part of parts) p.feed(part);
  return seen;
}

const TRANSCRIPT = Buffer.from(
  '220 mx.example.test ESMTP\r\n' +
    '250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n' +
    '250 2.1.0 ok\r\n550 5.1.1 no such user\r\n250 ok\r\n354 go\r\n' +
    '250 2.0.0 queued\r\n221 bye\r\n',
);

const EXPECTED = [
  { code: 220, lines: ['mx.example.test ESMTP'] },
  { code: 250, lines: ['mx.example.test', 'PIPELINING', 'SIZE 1000000', '8BITMIME'] },
  { code: 250, lines: ['2.1.0 ok'] },
  { code: 550, lines: ['5.1.1 no such user'] },
  { code: 250, lines: ['ok'] },
  { code: 354, lines: ['go'] },
  { code: 250, lines: ['2.0.0 queued'] },
  { code: 221, lines: ['bye'] },
];

describe('ReplyParser', () => {
  it('parses a transcript identically however it is split', () => {
    for (const parts of splits(TRANSCRIPT)) {
      const seen = parse(parts);
      expect(seen.errors).toEqual([]);
      expect(seen.replies).toEqual(EXPECTED);
    }
  });

  it('keeps captured text intact when every chunk is read into one reused buffer (borrowed chunks)', () => {
    for (let cut = 1; cut < TRANSCRIPT.length; cut++) {
      const seen: Seen = { replies: [], errors: [] };
      const p = new ReplyParser(
        (code, lines) => seen.replies.push({ code, lines: lines ? lines.map((l) => l.toString('latin1')) : null }),
        (reason) => seen.errors.push(reason),
      );
      p.captureText = true;
      // Like a socket with `onread`: one buffer, overwritten by each read, garbage after each chunk.
      const shared = Buffer.alloc(TRANSCRIPT.length);
      for (const [from, to] of [
        [0, cut],
        [cut, TRANSCRIPT.length],
      ]) {
        TRANSCRIPT.copy(shared, 0, from, to);
        p.feed(shared.subarray(0, to - from));
        shared.fill(0x7e);
      }
      expect(seen.errors).toEqual([]);
      expect(seen.replies).toEqual(EXPECTED);
    }
  });

  it('reports codes without text when text capture is off', () => {
    const seen = parse([TRANSCRIPT], false);
    expect(seen.replies.map((r) => r.code)).toEqual(EXPECTED.map((r) => r.code));
    expect(seen.replies.every((r) => r.lines === null)).toBe(true);
  });

  it('accepts a bare code line and a bare LF line end', () => {
    const seen = parse([Buffer.from('250\r\n354\n')]);
    expect(seen.replies).toEqual([
      { code: 250, lines: [''] },
      { code: 354, lines: [''] },
    ]);
  });

  it('does not report a multi-line reply before its last line', () => {
    const seen = parse([Buffer.from('250-a\r\n250-b\r\n')]);
    expect(seen.replies).toEqual([]);
  });

  it.each([
    ['not digits', 'abc hello\r\n'],
    ['first digit out of range', '650 nope\r\n'],
    ['bad separator', '250x\r\n'],
    ['mixed codes in a multi-line reply', '250-a\r\n251 b\r\n'],
    ['too short', '25\r\n'],
  ])('fails on %s, every split alike', (_name, text) => {
    for (const parts of splits(Buffer.from(text))) {
      const seen = parse(parts);
      expect(seen.errors.length).toBe(1);
      expect(seen.replies).toEqual([]);
    }
  });

  it('bounds a line that never ends', () => {
    const seen = parse(Array.from({ length: 70 }, () => Buffer.alloc(1024, 0x41)));
    expect(seen.errors).toHaveLength(1);
  });

  it('bounds a multi-line reply that never ends', () => {
    const seen = parse(Array.from({ length: 40_000 }, () => Buffer.from('250-XXXXXXXXXXXXXXXXXXXXXXXXXXXX\r\n')));
    expect(seen.errors).toEqual(['reply longer than 1048576 octets']);
    expect(seen.replies).toEqual([]);
  });

  it('reads enhanced status codes', () => {
    expect(enhancedCodeOf('5.1.1 no such user')).toBe('5.1.1');
    expect(enhancedCodeOf(Buffer.from('2.0.0'))).toBe('2.0.0');
    expect(enhancedCodeOf('ok')).toBeNull();
    expect(enhancedCodeOf('3.0.0 x')).toBeNull();
  });

  it('hands each reply its enhanced status code, packed, however the transcript is split and whether or not text is captured', () => {
    for (const captureText of [false, true]) {
      for (const parts of splits(TRANSCRIPT)) {
        const seen: number[] = [];
        const p = new ReplyParser(
          () => seen.push(p.enhanced),
          (reason) => expect.unreachable(reason),
        );
        p.captureText = captureText;
        for (const part of parts) p.feed(part);
        expect(seen).toEqual([0, 0, 2_001_000, 5_001_001, 0, 0, 2_000_000, 0]);
      }
    }
  });

  it("hands each failure reply its text (a multi-line one's lines joined), however the transcript is split, into a reused buffer", () => {
    const t = Buffer.from('250 2.1.5 Ok\r\n450 4.2.1 Mailbox busy\r\n550-5.1.1 The account\r\n550-5.1.1 does not exist\r\n550 5.1.1 see https://help.example.test\r\n354 go\r\n');
    for (const parts of splits(t)) {
      const seen: string[] = [];
      const p = new ReplyParser(
        (code) => seen.push(code >= 400 ? `${code} ${Buffer.from(p.textBuf.subarray(p.textStart, p.textEnd)).toString('latin1')}` : String(code)),
        (reason) => expect.unreachable(reason),
      );
      const scratch = Buffer.alloc(t.length);
      for (const part of parts) {
        part.copy(scratch);
        p.feed(scratch.subarray(0, part.length));
        scratch.fill(0x58);
      }
      expect(seen).toEqual(['250', '450 4.2.1 Mailbox busy', '550 5.1.1 The account 5.1.1 does not exist 5.1.1 see https://help.example.test', '354']);
    }
  });

  it("reads a multi-line reply's enhanced code from its last line", () => {
    const seen: number[] = [];
    const p = new ReplyParser(
      () => seen.push(p.enhanced),
      (reason) => expect.unreachable(reason),
    );
    p.feed(Buffer.from('452-4.2.2 mailbox full\r\n452 4.2.2 try later\r\n250-first\r\n250 second\r\n421 4.7.0\r\n'));
    expect(seen).toEqual([4_002_002, 0, 4_007_000]);
  });

  it('packs the RFC 3463 grammar and nothing else', () => {
    const at = (text: string): number => enhancedCodeAt(Buffer.from(text, 'latin1'), 0, text.length);
    expect(at('4.2.1')).toBe(4_002_001);
    expect(at('4.2.1 busy')).toBe(4_002_001);
    expect(at('4.2.1\tbusy')).toBe(4_002_001);
    expect(at('5.999.999 x')).toBe(5_999_999);
    expect(at('4.02.1 x')).toBe(4_002_001);
    for (const bad of ['', '4', '4.2', '4.2.', '4..1', '.2.1', '4.2.1x', '4.1234.1', '4.1.1234', '3.0.0', '6.0.0', '2-0-0', ' 2.0.0', 'ok']) expect(at(bad), bad).toBe(0);
    // Only `buf[from, end)` is read.
    expect(enhancedCodeAt(Buffer.from('250 2.1.5 ok'), 4, 9)).toBe(2_001_005);
    expect(enhancedCodeAt(Buffer.from('250 2.1.55'), 4, 9)).toBe(2_001_005);
    expect(enhancedCodeText(4_002_001)).toBe('4.2.1');
    expect(enhancedCodeText(5_999_999)).toBe('5.999.999');
    expect(enhancedCodeOf('4.02.1 x')).toBe('4.2.1');
  });
});
