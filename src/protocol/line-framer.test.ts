import { describe, expect, it } from 'vitest';
import { FRAME_BARE_LF, FRAME_LINE, FRAME_TOO_LONG, LineFramer } from './line-framer.js';
import { splits } from './splits.testkit.js';

const MAX = 20;

/**
 * Feeds `parts` to a fresh framer as the server does (pos to `end`, until the chunk is used up)
 * and lists what it found, then whether a line is left in progress. Each chunk is a private copy,
 * scribbled over once framed, as a shared read buffer is by the next read: nothing the framer
 * reports later may still point into it.
 */
function frame(parts: Buffer[], max = MAX): string[] {
  const f = new LineFramer(max);
  const seen: string[] = [];
  for (const part of parts) {
    const chunk = Buffer.from(part);
    let pos = 0;
    while (pos < chunk.length) {
      const r = f.next(chunk, pos);
      pos = f.end;
      if (r === FRAME_LINE) seen.push(`line ${JSON.stringify(f.line(chunk).toString('latin1'))}`);
      else if (r === FRAME_TOO_LONG) seen.push('too long');
      else if (r === FRAME_BARE_LF) seen.push('bare LF');
    }
    chunk.fill(0x5a);
  }
  seen.push(f.inProgress() ? 'in progress' : 'idle');
  return seen;
}

const TRANSCRIPT = Buffer.from(
  'EHLO a.example\r\n' +
    `${'x'.repeat(MAX - 2)}\r\n` + // exactly at the limit (CRLF counts)
    `${'y'.repeat(MAX - 1)}\r\n` + // one over
    'EHLO x\nQUIT\r\n' + // a bare LF does not end a line
    'NOOP\r\n' +
    '\r\n' +
    'a\rb\r\n' + // a bare CR is just an octet
    `${'z'.repeat(2 * MAX)}\nw\r\n` + // too long wins over bare LF
    '\n\r\n' +
    'RSET\r\n' +
    'QU',
  'latin1',
);

const EXPECTED = ['line "EHLO a.example"', `line "${'x'.repeat(MAX - 2)}"`, 'too long', 'bare LF', 'line "NOOP"', 'line ""', 'line "a\\rb"', 'too long', 'bare LF', 'line "RSET"', 'in progress'];

describe('LineFramer', () => {
  it('frames a transcript whole: lines, too long, bare LF, and a line left in progress', () => {
    expect(frame([TRANSCRIPT])).toEqual(EXPECTED);
  });

  it('frames it identically however it is split (every 2- and 3-way cut, and octet by octet)', () => {
    for (const parts of splits(TRANSCRIPT, 3)) expect(frame(parts)).toEqual(EXPECTED);
  });

  it('reports a CRLF split between chunks as one line end, and a CR alone as no line end', () => {
    expect(frame([Buffer.from('NOOP\r'), Buffer.from('\nRSET\r\n')])).toEqual(['line "NOOP"', 'line "RSET"', 'idle']);
    expect(frame([Buffer.from('NOOP\r'), Buffer.from('X\n')])).toEqual(['in progress']);
  });

  it('keeps memory bounded on an endless line: no octets kept once it is over the limit', () => {
    const f = new LineFramer(MAX);
    for (let i = 0; i < 100; i++) f.next(Buffer.from('q'.repeat(1000)), 0);
    expect(f.inProgress()).toBe(true);
    expect((f as unknown as { partialLen: number }).partialLen).toBe(0);
    expect(f.next(Buffer.from('\r\nNOOP\r\n'), 0)).toBe(FRAME_TOO_LONG);
    const crlfNoop = Buffer.from('\r\nNOOP\r\n');
    expect(f.next(crlfNoop, 2)).toBe(FRAME_LINE);
    expect(f.line(crlfNoop).toString()).toBe('NOOP');
  });

  it('says when a line began in this chunk, for the command-line timeout', () => {
    const f = new LineFramer(MAX);
    f.next(Buffer.from('NOOP\r\nMA'), 0);
    f.next(Buffer.from('NOOP\r\nMA'), f.end);
    expect(f.began).toBe(true);
    f.next(Buffer.from('IL'), 0);
    expect(f.began).toBe(false);
  });
});
