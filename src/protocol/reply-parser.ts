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
const { CR, DIGIT_0, DOT, HYPHEN, LF, SP, TAB } = bytes;
const HT = TAB;
const ZERO = DIGIT_0;

/** Longest reply line we buffer (RFC 5321 §4.5.3.1.5 says 512 octets; MTAs send longer texts). */
export const MAX_REPLY_LINE_BYTES = 64 * 1024;
/** Most octets one multi-line reply may hold: its lines are kept until the last one, so it is bounded too. */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** Most octets of a multi-line failure reply's text kept for `textBuf` (the lines after are left out). */
export const MAX_FAILURE_TEXT_BYTES = 512;

const EMPTY = new Uint8Array(0);

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
  /**
   * The enhanced status code of the reply being delivered (read it inside the reply handler),
   * packed by `enhancedCodeAt` from its last line; 0 when it has none.
   */
  enhanced = 0;
  /**
   * The text of the 4yz or 5yz reply being delivered (read it inside the reply handler):
   * `textBuf[textStart, textEnd)`, its lines' texts joined by a space (a multi-line reply's at most
   * `MAX_FAILURE_TEXT_BYTES` octets). Not set for other replies; a view valid only during the call.
   */
  textBuf: Uint8Array = EMPTY;
  textStart = 0;
  textEnd = 0;
  /** The texts of a multi-line failure reply's earlier lines (copies), or null. */
  private failParts: Buffer[] | null = null;
  private failBytes = 0;
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
    this.failParts = null;
    this.failBytes = 0;
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
      if (code >= 400 && this.failBytes < MAX_FAILURE_TEXT_BYTES) this.keepFailLine(buf, Math.min(start + 4, end), end);
      return true;
    }
    this.pendingCode = 0;
    this.pendingBytes = 0;
    if (code >= 400) this.failText(buf, Math.min(start + 4, end), end);
    // RFC 2034 §4 puts the enhanced code at the start of every line's text; the last line's is read.
    this.enhanced = enhancedCodeAt(buf, start + 4, end);
    if (this.captureText) {
      const lines = this.lines;
      this.lines = [];
      this.onReply(code, lines);
    } else {
      this.onReply(code, null);
    }
    return !this.failed;
  }

  /** Keeps a copy of a multi-line failure reply's line text `buf[from, end)`. */
  private keepFailLine(buf: Buffer, from: number, end: number): void {
    const part = Buffer.from(buf.subarray(from, Math.min(end, from + MAX_FAILURE_TEXT_BYTES - this.failBytes)));
    (this.failParts ??= []).push(part);
    this.failBytes += part.length + 1;
  }

  /** Points `textBuf` at a failure reply's text: the last line's `buf[from, end)` as a view, after any earlier lines' kept text. */
  private failText(buf: Buffer, from: number, end: number): void {
    const parts = this.failParts;
    if (parts === null) {
      this.textBuf = buf;
      this.textStart = from;
      this.textEnd = end;
      return;
    }
    this.failParts = null;
    this.failBytes = 0;
    const joined = Buffer.from(
      [...parts, buf.subarray(from, end)]
        .map((p) => p.toString('latin1'))
        .join(' ')
        .slice(0, MAX_FAILURE_TEXT_BYTES),
      'latin1',
    );
    this.textBuf = joined;
    this.textStart = 0;
    this.textEnd = joined.length;
  }

  private fail(reason: string): false {
    this.failed = true;
    this.partial = null;
    this.onError(reason);
    return false;
  }
}

/**
 * The enhanced status code (RFC 3463 §2, announced by ENHANCEDSTATUSCODES, RFC 2034) at
 * `buf[from, end)`, the start of a reply text: `class "." subject "." detail`, class 2, 4 or 5,
 * subject and detail of 1 to 3 digits, then white space or the end of the line. Packed into one
 * integer, `class × 10^6 + subject × 10^3 + detail` (`4.2.1` → 4_002_001), so counting it needs
 * no string; 0 when the text does not start with one. A few byte compares: cheap enough for every
 * reply, and most texts without a code fail at the first octet.
 */
export function enhancedCodeAt(buf: Uint8Array, from: number, end: number): number {
  // The shortest code is `2.0.0`.
  if (end - from < 5) return 0;
  const cls = buf[from] - ZERO;
  if ((cls !== 2 && cls !== 4 && cls !== 5) || buf[from + 1] !== DOT) return 0;
  // The usual shape, one digit each (`2.1.5`, `4.7.0`): no loop.
  const subject = buf[from + 2] - ZERO;
  const detail = buf[from + 4] - ZERO;
  if (buf[from + 3] === DOT && isDigitValue(subject) && isDigitValue(detail) && (end - from === 5 || isSpace(buf[from + 5]))) return cls * 1_000_000 + subject * 1000 + detail;
  return longerCodeAt(buf, from + 2, end, cls);
}

/** `enhancedCodeAt` past `class "."`, at `buf[i]`: subject and detail of 1 to 3 digits each (`5.7.26`). */
function longerCodeAt(buf: Uint8Array, i: number, end: number, cls: number): number {
  const subjectAt = i;
  let subject = 0;
  for (; i < end && i - subjectAt < 3 && isDigitValue(buf[i] - ZERO); i++) subject = subject * 10 + (buf[i] - ZERO);
  if (i === subjectAt || i >= end || buf[i] !== DOT) return 0;
  const detailAt = ++i;
  let detail = 0;
  for (; i < end && i - detailAt < 3 && isDigitValue(buf[i] - ZERO); i++) detail = detail * 10 + (buf[i] - ZERO);
  if (i === detailAt || (i < end && !isSpace(buf[i]))) return 0;
  return cls * 1_000_000 + subject * 1000 + detail;
}

/** An octet minus `'0'` that is a decimal digit. */
const isDigitValue = (v: number): boolean => v >= 0 && v <= 9;
/** White space after a code (RFC 3463's `\s`); CR and LF only when a caller passes a whole line. */
const isSpace = (b: number): boolean => b === SP || b === HT || b === CR || b === LF;

/** A packed enhanced status code (`enhancedCodeAt`) as text: 4_002_001 → `4.2.1`. */
export function enhancedCodeText(packed: number): string {
  return `${Math.floor(packed / 1_000_000)}.${Math.floor(packed / 1000) % 1000}.${packed % 1000}`;
}

/**
 * The enhanced status code at the start of a reply text, such as `2.1.5`, or null (RFC 3463;
 * the grammar of `enhancedCodeAt`; leading zeros are dropped: `2.01.5` → `2.1.5`).
 */
export function enhancedCodeOf(text: Buffer | string): string | null {
  const b = typeof text === 'string' ? Buffer.from(text.slice(0, 16), 'latin1') : text;
  const packed = enhancedCodeAt(b, 0, Math.min(b.length, 16));
  return packed === 0 ? null : enhancedCodeText(packed);
}
