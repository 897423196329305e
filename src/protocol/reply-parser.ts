/**
 * SMTP reply framing: bytes in, complete replies out. No meaning here (house style §3):
 * the session decides what a code means for its state.
 *
 * Grammar (RFC 5321 §4.2): `Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 * Reply-code [ SP textstring ] CRLF`. A multi-line reply is complete at its first line whose
 * fourth octet is not `-`; every line of it must carry the same code (§4.2.1).
 */
import * as bytes from './bytes.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { CR, DIGIT_0, HYPHEN, LF, SP } = bytes;

/** Longest reply line we buffer (RFC 5321 §4.5.3.1.5 says 512 octets; MTAs send longer texts). */
export const MAX_REPLY_LINE_BYTES = 64 * 1024;
/** Most octets one multi-line reply may hold: its lines are kept until the last one, so it is bounded too. */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** Called once per complete reply. `lines` holds each line's text (after `NNN-`/`NNN `) only when the parser's `captureText` is on. */
export type ReplyHandler = (code: number, lines: readonly Buffer[] | null) => void;

/** Called for a malformed reply (not three digits, mixed codes, overlong line). The stream is unusable afterwards. */
export type ReplyErrorHandler = (reason: string) => void;

/**
 * Incremental reply parser. Feed it socket chunks split anywhere; it keeps at most one
 * partial line between chunks and never converts text to strings. Chunks may be borrowed (read
 * into a reused buffer): nothing the parser keeps after `feed` returns is a view of one.
 */
export class ReplyParser {
  /** When true, each reply's text lines are collected (EHLO capabilities). Off on the hot path. */
  captureText = false;
  private partial: Buffer | null = null;
  private lines: Buffer[] = [];
  /** Code of the multi-line reply in progress, or 0. */
  private pendingCode = 0;
  /** Octets of the multi-line reply in progress. */
  private pendingBytes = 0;
  private failed = false;

  constructor(
    private readonly onReply: ReplyHandler,
    private readonly onError: ReplyErrorHandler,
  ) {}

  /** Parses as much of `chunk` as forms complete lines. Throws nothing; errors go to `onError`. */
  feed(chunk: Buffer): void {
    if (this.failed) return;
    let start = 0;
    if (this.partial !== null) {
      const lf = chunk.indexOf(LF);
      if (lf === -1) {
        this.stash(chunk, 0);
        return;
      }
      const line = Buffer.concat([this.partial, chunk.subarray(0, lf + 1)]);
      this.partial = null;
      if (!this.line(line, 0, line.length - 1)) return;
      start = lf + 1;
    }
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        this.stash(chunk, start);
        return;
      }
      if (!this.line(chunk, start, lf)) return;
      start = lf + 1;
    }
  }

  /** Delivers no more replies until `reset()`: the rest of the current chunk is dropped (the connection is being closed). */
  halt(): void {
    this.failed = true;
    this.partial = null;
  }

  /** Forgets any partial input (after STARTTLS or a reconnect). */
  reset(): void {
    this.partial = null;
    this.lines = [];
    this.pendingCode = 0;
    this.pendingBytes = 0;
    this.failed = false;
  }

  private stash(chunk: Buffer, from: number): void {
    const rest = chunk.subarray(from);
    // Copy: the socket may reuse or the caller may hold the chunk; a partial line is rare and short.
    this.partial = this.partial === null ? Buffer.from(rest) : Buffer.concat([this.partial, rest]);
    if (this.partial.length > MAX_REPLY_LINE_BYTES) this.fail(`reply line longer than ${MAX_REPLY_LINE_BYTES} octets`);
  }

  /** One line `buf[start, lf)`, LF excluded; a CR before the LF is dropped. Returns false after a failure. */
  private line(buf: Buffer, start: number, lf: number): boolean {
    const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    if (end - start < 3) return this.fail('reply line shorter than a reply code');
    const d0 = buf[start] - DIGIT_0;
    const d1 = buf[start + 1] - DIGIT_0;
    const d2 = buf[start + 2] - DIGIT_0;
    // RFC 5321 §4.2: first digit 2..5, second 0..5, third 0..9. Be exact: a wrong code is a broken server.
    if (d0 < 2 || d0 > 5 || d1 < 0 || d1 > 5 || d2 < 0 || d2 > 9) return this.fail('reply does not start with a reply code');
    const code = d0 * 100 + d1 * 10 + d2;
    const sep = end - start > 3 ? buf[start + 3] : SP;
    if (sep !== SP && sep !== HYPHEN) return this.fail('reply code not followed by space or hyphen');
    if (this.pendingCode !== 0 && this.pendingCode !== code) return this.fail(`multi-line reply mixes codes ${this.pendingCode} and ${code}`);
    this.pendingBytes += lf + 1 - start;
    if (this.pendingBytes > MAX_REPLY_BYTES) return this.fail(`reply longer than ${MAX_REPLY_BYTES} octets`);
    // A copy: a multi-line reply may span reads, and the client reads into one reused buffer.
    if (this.captureText) this.lines.push(Buffer.from(buf.subarray(Math.min(start + 4, end), end)));
    if (sep === HYPHEN) {
      this.pendingCode = code;
      return true;
    }
    this.pendingCode = 0;
    this.pendingBytes = 0;
    if (this.captureText) {
      const lines = this.lines;
      this.lines = [];
      this.onReply(code, lines);
    } else {
      this.onReply(code, null);
    }
    return !this.failed;
  }

  private fail(reason: string): false {
    this.failed = true;
    this.partial = null;
    this.onError(reason);
    return false;
  }
}

/**
 * The enhanced status code (RFC 3463, announced by ENHANCEDSTATUSCODES, RFC 2034) at the start
 * of a reply text, such as `2.1.5`, or null. For reports and errors, not the hot path.
 */
export function enhancedCodeOf(text: Buffer | string): string | null {
  const s = typeof text === 'string' ? text : text.toString('latin1', 0, Math.min(text.length, 16));
  const m = /^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)/.exec(s);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : null;
}
