import { describe, expect, it } from 'vitest';
import { toDataPayload, unstuff } from './dot-stuff.js';
import { DataEndScanner } from './data-end.js';

describe('toDataPayload', () => {
  it.each([
    ['plain CRLF text', 'a\r\nb\r\n', 'a\r\nb\r\n.\r\n'],
    ['adds the final CRLF', 'a\r\nb', 'a\r\nb\r\n.\r\n'],
    ['bare LF and bare CR become CRLF', 'a\nb\rc\r\n', 'a\r\nb\r\nc\r\n.\r\n'],
    ['doubles only line-initial dots', '.\r\n..x\r\nmid.dot\r\n', '..\r\n...x\r\nmid.dot\r\n.\r\n'],
    ['a lone dot line in LF text', 'x\n.\ny', 'x\r\n..\r\ny\r\n.\r\n'],
    ['empty content', '', '.\r\n'],
  ])('%s', (_name, input, expected) => {
    expect(toDataPayload(Buffer.from(input, 'latin1')).toString('latin1')).toBe(expected);
  });

  it('produces payloads whose only terminator is the last one', () => {
    const inputs = ['\n.\n', '.\r\n.\r\n', '\r\n.\r\n', 'a\r\n.\r\nMAIL FROM:<x@y>\r\n', '...'];
    for (const input of inputs) {
      const payload = toDataPayload(Buffer.from(input));
      expect(new DataEndScanner().feed(payload, 0)).toBe(payload.length);
    }
  });
});

describe('unstuff', () => {
  it.each([
    ['dot-stuffed lines', '..leading\r\n...two\r\nmid.dot\r\n', '.leading\r\n..two\r\nmid.dot\r\n'],
    ['a line of one dot (stuffed) ', '..\r\nx\r\n', '.\r\nx\r\n'],
    ['a dot after a bare LF is not line-initial', 'a\n.b\r\n', 'a\n.b\r\n'],
    ['no final CRLF', '..x', '.x'],
    ['empty', '', ''],
  ])('%s', (_name, input, expected) => {
    expect(unstuff(Buffer.from(input, 'latin1')).toString('latin1')).toBe(expected);
  });

  it('undoes toDataPayload for CRLF content', () => {
    for (const content of ['a\r\n.\r\n..b\r\n', '.\r\n', 'x\r\n']) {
      const payload = toDataPayload(Buffer.from(content));
      expect(unstuff(payload.subarray(0, payload.length - 3)).toString()).toBe(content);
    }
  });
});
