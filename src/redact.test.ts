import { describe, expect, it } from 'vitest';
import { maskUserinfo, printable } from './redact.js';

describe('maskUserinfo', () => {
  it.each([
    ['smtp://user:TGTSECRET@127.0.0.1:1', 'smtp://***@127.0.0.1:1'],
    // A password with `/`, `@` or `[`: a URL parser would read path, host or an IPv6 literal there.
    ['http://u:pa/ss@host', 'http://***@host'],
    ['http://u:p@ss@[bad/', 'http://***@[bad/'],
    ['https://u:p%40ss@hooks.example/x', 'https://***@hooks.example/x'],
    // No scheme, or a scheme without slashes: `user:` is not kept as if it were one.
    ['user:secret@host:25', '***@host:25'],
    ['http:u:secret@host', '***@host'],
    ['not a url //bob:secret@x', '***@x'],
    // An `@` past the host masks more than needed, never less.
    ['smtp://h:25/?to=a@b', 'smtp://***@b'],
  ])('%s → %s', (text, masked) => {
    expect(maskUserinfo(text)).toBe(masked);
  });

  it('leaves text without @ as it is', () => {
    for (const text of ['smtp://127.0.0.1:25', 'nope', '', 'ftp://x/y?z']) expect(maskUserinfo(text)).toBe(text);
  });
});

describe('printable', () => {
  it('removes C0, DEL, C1, bidi overrides and isolates; folds white space', () => {
    const text = 'a\x1b[31mb\x07\x7f c\u009b31m\u0085d \u202eevil\u202c \u2066iso\u2069\r\n  end\t';
    expect(printable(text)).toBe('a[31mb c31md evil iso end');
    for (let c = 0; c <= 0x9f; c++) if (c < 0x20 || c >= 0x7f) expect(printable(`x${String.fromCharCode(c)}y`)).toMatch(/^x ?y$/);
    for (const c of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) expect(printable(`x${String.fromCharCode(c)}y`)).toBe('xy');
  });

  it('keeps other text, non-ASCII letters included', () => {
    expect(printable('HTTP 404 Not Found — café ✓')).toBe('HTTP 404 Not Found — café ✓');
  });
});
