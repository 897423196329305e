/**
 * The client's reply parser under fast-check: random reply streams, valid and mutated, cut at
 * random offsets. Properties: it never throws, a valid stream parses the same however it is cut,
 * and the partial line it keeps is bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REPLY_LINE_BYTES, ReplyParser } from './reply-parser.js';

function parse(parts: Buffer[]) {
  const replies: string[] = [];
  const errors: string[] = [];
  const p = new ReplyParser(
    (code, lines) => replies.push(`${code}:${(lines ?? []).map((l) => l.toString('latin1')).join('|')}`),
    (reason) => errors.push(reason),
  );
  p.captureText = true;
  for (const part of parts) {
    p.feed(part);
    const partial = (p as unknown as { partial: Buffer | null }).partial;
    expect(partial?.length ?? 0).toBeLessThanOrEqual(MAX_REPLY_LINE_BYTES);
  }
  return { replies, errors };
}

function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const at = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, o));
    prev = o;
  }
  return out;
}

/** A valid reply: a code (RFC 5321 §4.2: digits 2-5, 0-5, 0-9) and 1..4 lines of printable text. */
const code = fc.tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 9 })).map(([a, b, c]) => a * 100 + b * 10 + c);
const reply = fc
  .tuple(
    code,
    fc.array(
      fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x')),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([code, lines]) => lines.map((l, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));

describe('reply parser under fast-check', () => {
  it('parses a valid stream the same however it is cut', () => {
    fc.assert(
      fc.property(fc.array(reply, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), (replies, offsets) => {
        const bytes = Buffer.from(replies.join(''), 'latin1');
        const whole = parse([bytes]);
        expect(whole.errors).toEqual([]);
        expect(whole.replies.length).toBe(replies.length);
        expect(parse(cut(bytes, offsets))).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on random or mutated input', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.array(reply, { minLength: 1, maxLength: 6 }), fc.nat(), fc.constantFrom('\n', '\r', '-', ' ', '\0', '9', 'x'.repeat(70_000))).map(([rs, at, ins]) => {
        const s = rs.join('');
        const i = at % (s.length + 1);
        return Buffer.from(s.slice(0, i) + ins + s.slice(i), 'latin1');
      }),
    );
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 8 }), (bytes, offsets) => {
        parse(cut(bytes, offsets));
      }),
      { numRuns: 300 },
    );
  });
});
