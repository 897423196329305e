/**
 * SMTP command-line framing across input chunks (RFC 5321 §2.3.8, §4.5.3.1.4), for the reference
 * server: finds each CRLF-ended line and says what it is, with no socket and no meaning.
 *
 * Policies (docs/reference-server.md):
 * - Only CRLF ends a line. A bare LF does not: the line runs on to the next CRLF and is then
 *   reported as `FRAME_BARE_LF` as a whole (so `EHLO x<LF>QUIT<CRLF>` never runs QUIT).
 * - A line longer than `maxLength` (CRLF included) is not buffered: its octets are dropped up to
 *   the next CRLF, which is then reported once as `FRAME_TOO_LONG` (resync; memory stays bounded).
 *
 * Input chunks may be borrowed (the server reads every plain connection into one shared buffer,
 * src/server/read-into.ts): the octets of a line that continues into the next chunk are copied,
 * so the framer never keeps a view of a chunk past the call.
 */
import * as octets from './bytes.js';

// Local copies (see bytes.ts).
const { CR, LF } = octets;

/** `next` found a command line; `LineFramer.line(chunk)` gives it without its CRLF. */
export const FRAME_LINE = 0;
/** `next` found the CRLF of a line longer than the limit (its octets were dropped). */
export const FRAME_TOO_LONG = 1;
/** `next` found the CRLF of a line that held a bare LF: not a command. */
export const FRAME_BARE_LF = 2;
/** The chunk ended inside a line: what there is of it was kept (copied) for the next chunk. */
export const FRAME_NEED_MORE = 3;
/** What `LineFramer.next` found: one of the `FRAME_*` constants. */
export type Frame = typeof FRAME_LINE | typeof FRAME_TOO_LONG | typeof FRAME_BARE_LF | typeof FRAME_NEED_MORE;

/**
 * Frames the command lines of one connection. Results are left on the instance (no object per
 * line): call `next`, then read `end`, and `line(chunk)` or `began` as the result says. A line
 * that lies whole in the chunk is kept as two positions, not a Buffer: a Buffer stored in a
 * long-lived object costs V8 a write barrier per line, measurable at a million commands a second.
 */
export class LineFramer {
  // After FRAME_LINE: the line as chunk positions, or joined from kept octets.
  private start = 0;
  private stop = 0;
  private joined: Buffer | null = null;
  /** After any result: the position in the chunk just past what `next` consumed. */
  end = 0;
  /** After `FRAME_NEED_MORE`: the line in progress began in this call (no octets of it came before). */
  began = false;
  // The line in progress: copies of its octets so far, or, while discarding, only whether it ends in CR.
  private partial: Buffer[] = [];
  private partialLen = 0;
  private discarding = false;
  private sawBareLf = false;
  /** The octets kept (or dropped, while discarding) for the current line end in CR: an LF first in the next chunk completes a CRLF. */
  private partialEndsInCr = false;

  /**
   * @param maxLength the longest line accepted, CRLF included, octets (`maxCommandLine`); the owner
   * may change it between lines (a SASL exchange takes longer lines, RFC 4954 §4)
   */
  constructor(public maxLength: number) {}

  /** A line has begun and not ended: its octets are kept, or being dropped for its length. */
  inProgress(): boolean {
    return this.partialLen > 0 || this.discarding;
  }

  /**
   * Frames from `chunk[pos..]` (`pos` < `chunk.length`) up to and including the next CRLF, or to
   * the chunk's end when no CRLF follows; `end` is then where to go on.
   */
  next(chunk: Buffer, pos: number): Frame {
    const len = chunk.length;
    const fresh = this.partialLen === 0 && !this.discarding;
    for (;;) {
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) {
        this.keep(chunk, pos, len);
        this.end = len;
        this.began = fresh;
        return FRAME_NEED_MORE;
      }
      const crBefore = lf > pos ? chunk[lf - 1] === CR : this.partialEndsInCr;
      if (!crBefore) {
        // Bare LF: not a line end (RFC 5321 §2.3.8). Keep the octets; the line is refused at its CRLF.
        this.sawBareLf = true;
        this.keep(chunk, pos, lf + 1);
        pos = lf + 1;
        if (pos === len) {
          this.end = len;
          this.began = fresh;
          return FRAME_NEED_MORE;
        }
        continue;
      }
      this.end = lf + 1;
      if (this.discarding || this.partialLen + (lf + 1 - pos) > this.maxLength) {
        this.reset();
        return FRAME_TOO_LONG;
      }
      if (this.sawBareLf) {
        this.reset();
        return FRAME_BARE_LF;
      }
      if (this.partialLen === 0) {
        this.start = pos;
        this.stop = lf - 1;
      } else {
        this.partial.push(chunk.subarray(pos, lf + 1));
        const whole = Buffer.concat(this.partial);
        this.joined = whole.subarray(0, whole.length - 2);
      }
      this.reset();
      return FRAME_LINE;
    }
  }

  /**
   * After `FRAME_LINE`: the line, CRLF removed, from the `chunk` given to `next`. A view of the
   * chunk when the whole line lies in it (borrowed like the chunk: use it before the next read),
   * else a fresh Buffer. Once per line.
   */
  line(chunk: Buffer): Buffer {
    const j = this.joined;
    if (j === null) return chunk.subarray(this.start, this.stop);
    this.joined = null;
    return j;
  }

  /** Forgets the line in progress. */
  reset(): void {
    if (this.partialLen > 0) {
      this.partial = [];
      this.partialLen = 0;
    }
    this.discarding = false;
    this.sawBareLf = false;
    this.partialEndsInCr = false;
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    if (to > from) this.partialEndsInCr = chunk[to - 1] === CR;
    if (this.discarding) return;
    if (this.partialLen + (to - from) > this.maxLength) {
      // Too long already: drop what we have and skip to the next CRLF.
      this.partial = [];
      this.partialLen = 0;
      this.discarding = true;
      return;
    }
    // Copy: a partial line is short, and keeping a view would pin (or, borrowed, lose) the chunk.
    this.partial.push(Buffer.from(chunk.subarray(from, to)));
    this.partialLen += to - from;
  }
}
