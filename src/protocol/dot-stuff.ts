/**
 * Client-side DATA payload preparation (RFC 5321 §4.5.2 transparency, §2.3.8 line endings).
 * Done once per distinct message, never per send: the result is shared by every session and
 * every recipient (house style §7).
 */
import { CR, CRLF, DOT, LF } from './bytes.js';

/**
 * Turns message content into the exact octets to send after a 354: every line ending becomes
 * CRLF (bare LF and bare CR included, because only CRLF is a line terminator on the wire), every
 * line-initial `.` is doubled, a final CRLF is added when the content does not end in one, and
 * the terminator `.<CRLF>` is appended.
 *
 * @param content message octets (headers, blank line, body), any line endings
 * @param stuff false: line endings only, no dot doubling (the BDAT form, RFC 3030 §2, before its
 *   terminator is cut off)
 * @returns a new Buffer ending in `<CRLF>.<CRLF>` (or just `.<CRLF>` for empty content)
 */
export function toDataPayload(content: Buffer, stuff = true): Buffer {
  // Worst case every octet is a bare LF/CR (doubles) or a line-initial dot (doubles).
  const out = Buffer.allocUnsafe(content.length * 2 + 5);
  let o = 0;
  let lineStart = true;
  for (let i = 0; i < content.length; i++) {
    const b = content[i];
    if (b === CR || b === LF) {
      out[o++] = CR;
      out[o++] = LF;
      if (b === CR && content[i + 1] === LF) i++;
      lineStart = true;
      continue;
    }
    if (stuff && lineStart && b === DOT) out[o++] = DOT;
    out[o++] = b;
    lineStart = false;
  }
  if (!lineStart) {
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = DOT;
  out[o++] = CR;
  out[o++] = LF;
  return Buffer.from(out.subarray(0, o));
}

/**
 * Server side of transparency (RFC 5321 §4.5.2): removes the first `.` of every line that starts
 * with one. Lines start at the beginning and after CRLF only (a bare LF ends no line, §2.3.8,
 * the same rule the end-of-data scanner follows). Only a content-capturing sink needs this.
 *
 * @param data the octets received after 354, up to and excluding the terminator's `.<CRLF>`
 * @returns the message content, a new Buffer
 */
export function unstuff(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  let from = 0;
  while (from < data.length) {
    if (data[from] === DOT) from++; // a line-initial dot: drop it
    const crlf = data.indexOf(CRLF, from);
    const end = crlf === -1 ? data.length : crlf + 2;
    o += data.copy(out, o, from, end);
    from = end;
  }
  return Buffer.from(out.subarray(0, o));
}
