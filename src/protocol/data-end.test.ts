import { describe, expect, it } from 'vitest';
import { DataEndScanner } from './data-end.js';
import { splits } from './splits.testkit.js';

/**
 * Feeds `parts` through a scanner and returns the offset (in the concatenated stream) just past
 * the terminator, or -1.
 */
function endOf(parts: Buffer[]): number {
  const s = new DataEndScanner();
  let base = 0;
  for (const part of parts) {
    const end = s.feed(part, 0);
    if (end !== -1) return base + end;
    base += part.length;
  }
  return -1;
}

const cases: [string, string, number][] = [
  // [name, stream after the DATA command's CRLF, expected end offset or -1]
  ['simple message', 'Subject: x\r\n\r\nhello\r\n.\r\n', 'Subject: x\r\n\r\nhello\r\n.\r\n'.length],
  ['empty message', '.\r\n', 3],
  ['dot-stuffed lines are not the end', '..\r\n...x\r\nbody\r\n.\r\n', '..\r\n...x\r\nbody\r\n.\r\n'.length],
  ['a dot ending a sentence at a line start is text', 'A sentence\r\n.x\r\nlast\r\n.\r\n', 'A sentence\r\n.x\r\nlast\r\n.\r\n'.length],
  ['smuggling: LF.CRLF is text', 'outer\n.\r\nMAIL FROM:<a@b>\r\n', -1],
  ['smuggling: CRLF.LF is text', 'outer\r\n.\nmore\r\n', -1],
  ['smuggling: CR.CR is text', 'outer\r.\rmore\r\n', -1],
  ['a stray CR before the terminator is message text', 'x\r\r\n.\r\n', 'x\r\r\n.\r\n'.length],
  ['terminator after a lone CR', 'x\r\r\n.\r\r\n.\r\n', 'x\r\r\n.\r\r\n.\r\n'.length],
  ['stops at the first terminator', 'a\r\n.\r\nQUIT\r\n', 'a\r\n.\r\n'.length],
  ['no terminator', 'abc\r\n.', -1],
];

describe('DataEndScanner', () => {
  it.each(cases)('%s — at every split', (_name, text, expected) => {
    for (const parts of splits(Buffer.from(text, 'latin1'), 3)) expect(endOf(parts)).toBe(expected);
  });

  it('resumes in the same chunk after the terminator, and begin() restarts', () => {
    const s = new DataEndScanner();
    const buf = Buffer.from('NOOP\r\n.\r\nx\r\n.\r\n');
    expect(s.feed(buf, 6)).toBe(9);
    s.begin();
    expect(s.feed(buf, 9)).toBe(buf.length);
  });

  it('finds the end of a 1 MiB body fed in 64 KiB chunks', () => {
    const line = Buffer.from(`${'x'.repeat(76)}\r\n`);
    const body = Buffer.concat([...Array.from({ length: 13_500 }, () => line), Buffer.from('.\r\n')]);
    const parts: Buffer[] = [];
    for (let i = 0; i < body.length; i += 65_536) parts.push(body.subarray(i, i + 65_536));
    expect(endOf(parts)).toBe(body.length);
  });
});
