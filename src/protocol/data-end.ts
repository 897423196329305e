/**
 * End-of-data detection for the DATA stream (RFC 5321 §4.1.1.4): the data ends at the first
 * `<CRLF>.<CRLF>`. Only that exact sequence counts: `<LF>.<CRLF>`, `<CRLF>.<LF>` and other bare
 * LF/CR forms are message text. That is the anti-smuggling policy (CVE-2023-51764 class): one
 * DATA can never be read as two messages, because the client's and our idea of the terminator
 * are the same five octets.
 *
 * The match state lives here, across chunks (house style §5, after go-smtp `data.go`), so no
 * leftover bytes are ever concatenated onto the next chunk.
 */
import * as bytes from './bytes.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { CR, CRLF_DOT_CRLF: TERMINATOR } = bytes;

/**
 * Scans a DATA stream for its terminator. One instance per connection; call `begin()` after each
 * 354 reply. Octets are never copied or decoded.
 */
export class DataEndScanner {
  /**
   * How many octets of `TERMINATOR` ended the input so far (0..4). It starts at 2: the CRLF that
   * ended the DATA command line counts, so a message that is just `.<CRLF>` is empty and a first
   * line `.<CRLF>` ends the data (RFC 5321 §4.5.2).
   */
  private matched = 2;

  /** Resets for a new message (after the 354). */
  begin(): void {
    this.matched = 2;
  }

  /**
   * Looks for the end of data in `chunk[from..]`. Returns the index just past the terminator's
   * final LF, or -1 when the chunk ends inside the message (state is kept for the next chunk).
   * The message content is `chunk[from, result - 3)` plus earlier chunks: the terminator's first
   * CRLF belongs to the last line.
   */
  feed(chunk: Buffer, from: number): number {
    let i = from;
    const len = chunk.length;
    // Finish a terminator begun in an earlier chunk, octet by octet (at most 4 octets).
    while (this.matched > 0 && i < len) {
      const b = chunk[i++];
      if (b === TERMINATOR[this.matched]) {
        if (++this.matched === TERMINATOR.length) {
          this.matched = 0;
          return i;
        }
      } else {
        // Every proper prefix of CRLF.CRLF that can restart on a mismatch is a lone CR.
        this.matched = b === CR ? 1 : 0;
      }
    }
    if (i >= len) return -1;
    // Fast path: memmem-style search of the whole remaining chunk.
    const at = chunk.indexOf(TERMINATOR, i);
    if (at !== -1) {
      this.matched = 0;
      return at + TERMINATOR.length;
    }
    // Not found: carry over the longest suffix that is a prefix of the terminator. Such a suffix
    // is at most 4 octets, so running the matcher from 4 octets before the end finds it.
    let m = 0;
    for (let j = Math.max(i, len - 4); j < len; j++) {
      const b = chunk[j];
      m = b === TERMINATOR[m] ? m + 1 : b === CR ? 1 : 0;
    }
    this.matched = m;
    return -1;
  }
}
