/**
 * The message data of one connection, DATA or BDAT: what happens to the octets between the
 * command and the final reply, and that final reply. For DATA the end-of-data scanner finds
 * `<CRLF>.<CRLF>` (RFC 5321 §4.1.1.4); for BDAT the chunk sizes count it off (RFC 3030 §2). On the
 * way: the size limit (RFC 1870), the text-line limit (RFC 5321 §4.5.3.1.6), NUL octets counted,
 * the delivery probe, capture for a test sink; at the end: one reply, or with LMTP one reply per
 * recipient (RFC 2033 §4.2). No socket: octets in, replies out through a `ReplySink`.
 *
 * Input chunks are borrowed (src/server/read-into.ts): captured content is copied.
 */
import { performance } from 'node:perf_hooks';
import * as octets from '../protocol/bytes.js';
import { DataEndScanner } from '../protocol/data-end.js';
import { unstuff } from '../protocol/dot-stuff.js';
import { epochUs } from '../clock.js';
import { injectFault, type ReplySink, type ServerContext } from './context.js';
import { DeliveryProbe } from './delivery.js';
import { faultIndex } from './faults.js';
import { closesSession } from './replies.js';
import type { SessionRecord } from './sessions.js';

// Local copies (see bytes.ts).
const { CR, LF } = octets;

/**
 * The last line end in `chunk[lo..at]`: an LF preceded by CR, since only CRLF ends a line (RFC 5321
 * §2.3.8; a bare LF is text). An LF at position 0 counts: its CR was the previous piece's last
 * octet, or it is the line's own. -1 when there is none.
 */
function lastLineEnd(chunk: Buffer, lo: number, at: number): number {
  for (let lf = chunk.lastIndexOf(LF, at); lf >= lo; lf = chunk.lastIndexOf(LF, lf - 1)) {
    if (lf === 0 || chunk[lf - 1] === CR) return lf;
  }
  return -1;
}

/** `feedData` / `feedChunk`: a disconnect fault's octet count was reached; drop the connection. */
export const STREAM_CUT = -2;

const F_DATA = faultIndex('data');
const F_DATA_END = faultIndex('data-end');

/** The message being received on one connection, one at a time. */
export class MessageStream {
  private readonly scanner = new DataEndScanner();
  private readonly probe = new DeliveryProbe();
  /** Octets of the current message so far (DATA: the final `.<CRLF>` included once seen). */
  bytes = 0;
  private startMs = 0;
  /** Drop the connection once the current message reaches this many octets (-1: never). */
  private disconnectAt = -1;
  /** Octets of the current DATA text line so far, and whether one was over `maxTextLine`. */
  private textLineLength = 0;
  private textLineTooLong = false;
  /** Copies of the current message's octets, kept only for a capturing sink; null otherwise. */
  private captureParts: Buffer[] | null = null;
  private captureBdat = false;
  // BDAT (RFC 3030): octets of the current chunk still to read, and the decision taken for it.
  /** Octets of the current BDAT chunk not yet read. */
  chunkRemaining = 0;
  /** The current BDAT chunk is the last (`BDAT n LAST`). */
  chunkLast = false;
  /** The reply refusing the current chunk (its octets are still read and thrown away), or null. */
  private chunkRefusal: Buffer | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly session: SessionRecord,
    private readonly sink: ReplySink,
  ) {}

  /** After 354: a new message whose end `<CRLF>.<CRLF>` the scanner looks for. */
  beginData(): void {
    this.scanner.begin();
    this.begin(false);
  }

  /**
   * The BDAT chunk `size` octets long begins. `refusal` refuses it (read and thrown away);
   * `newMessage`: it is the first accepted chunk of a message.
   */
  beginChunk(size: number, last: boolean, refusal: Buffer | null, newMessage: boolean): void {
    this.chunkRemaining = size;
    this.chunkLast = last;
    this.chunkRefusal = refusal;
    if (newMessage) this.begin(true);
  }

  private begin(bdat: boolean): void {
    this.bytes = 0;
    // Only with `capture` (a test sink): copies of the content, since input chunks are borrowed.
    this.captureParts = this.ctx.settings.capture > 0 ? [] : null;
    this.captureBdat = bdat;
    this.textLineLength = 0;
    this.textLineTooLong = false;
    this.probe.begin();
    this.startMs = performance.now();
    if (this.ctx.faults.active) this.disconnectAt = this.ctx.faults.disconnectAfterBytes(F_DATA);
  }

  /**
   * Message data from `chunk[pos..]`. Returns the position just past `<CRLF>.<CRLF>`, -1 when
   * the chunk ended first (all of it was data), or `STREAM_CUT`.
   */
  feedData(chunk: Buffer, pos: number): number {
    const end = this.scanner.feed(chunk, pos);
    const upTo = end === -1 ? chunk.length : end;
    if (this.probe.active) this.probe.feed(chunk, pos, upTo);
    if (this.captureParts !== null) this.capture(chunk, pos, upTo);
    this.inspectText(chunk, pos, upTo);
    this.bytes += upTo - pos;
    if (this.disconnectAt >= 0 && this.bytes >= this.disconnectAt) return STREAM_CUT;
    return end;
  }

  /**
   * BDAT chunk octets from `chunk[pos..]`: as many as the chunk has left (RFC 3030 §2: exactly
   * that many, CRLF or not). Returns the position after them, or `STREAM_CUT`.
   */
  feedChunk(chunk: Buffer, pos: number): number {
    const take = Math.min(this.chunkRemaining, chunk.length - pos);
    this.chunkRemaining -= take;
    if (this.chunkRefusal === null) {
      if (this.probe.active) this.probe.feed(chunk, pos, pos + take);
      if (this.captureParts !== null) this.capture(chunk, pos, pos + take);
      this.bytes += take;
      if (this.disconnectAt >= 0 && this.bytes >= this.disconnectAt) return STREAM_CUT;
    }
    return pos + take;
  }

  /** The refusal of the chunk just read, or null; cleared. */
  takeRefusal(): Buffer | null {
    const r = this.chunkRefusal;
    this.chunkRefusal = null;
    return r;
  }

  /** The message so far is over the SIZE limit (RFC 1870 §6), when there is one. */
  overSize(): boolean {
    const max = this.ctx.settings.maxMessageSize;
    return max > 0 && this.bytes > max;
  }

  /**
   * The end of a message (DATA's terminator or BDAT LAST), `bytes` octets of content, for
   * `recipients` accepted recipients: its final reply (LMTP: one per recipient), the counters,
   * the delivery time and the capture. The transaction ends with it (the caller's part).
   * `refusal`: a domain policy's outcome at the end of data (a 4xx/5xx reply), or null;
   * `perRecipient` under LMTP: each accepted recipient's, in RCPT order (`RecipientOutcomes.endOutcomeEach`).
   */
  finish(bytes: number, recipients: number, refusal: Buffer | null, perRecipient: readonly (Buffer | null)[] | null = null): void {
    const m = this.ctx.metrics;
    m.record('data-stream', (performance.now() - this.startMs) * 1000);
    this.disconnectAt = -1;
    this.sink.answering(F_DATA_END);
    const max = this.ctx.settings.maxMessageSize;
    if (this.ctx.settings.lmtp) {
      this.lmtpReplies(bytes, recipients, perRecipient);
    } else if (this.ctx.faults.active && injectFault(this.ctx, F_DATA_END, this.sink) !== null) {
      m.counters.messagesRejected++;
    } else if (refusal !== null) {
      m.counters.messagesRejected++;
      this.sink.reply(refusal);
      if (closesSession(refusal)) this.sink.close();
    } else if (max > 0 && bytes > max) {
      m.counters.messagesRejected++;
      this.sink.reply(this.ctx.replies.sizeTooBig);
    } else if (this.textLineTooLong) {
      m.counters.messagesRejected++;
      this.sink.reply(this.ctx.replies.textLineTooLong);
    } else {
      m.counters.messages++;
      m.counters.recipients += recipients;
      m.counters.bytes += bytes;
      this.session.messages++;
      this.session.recipients += recipients;
      this.recordDelivery();
      this.keepContent(bytes);
      this.sink.reply(this.ctx.replies.messageOk);
    }
  }

  /**
   * DATA content checks that need the octets: NULs are passed through but counted (memchr, one
   * pass per piece), and with `maxTextLine` set, lines are measured across chunks (RFC 5321
   * §4.5.3.1.6: 1000 octets with CRLF). Off by default: MTAs take longer lines in practice.
   *
   * The line check does not visit every line end. A line is too long exactly when some run of
   * `max` octets from a line start holds no LF, so from each line start it asks for the last LF
   * within `max` octets (`lastIndexOf`, backwards from the window's end) and jumps past it: one
   * native call per ~`max` octets instead of one per line.
   */
  private inspectText(chunk: Buffer, from: number, to: number): void {
    for (let z = chunk.indexOf(0, from); z !== -1 && z < to; z = chunk.indexOf(0, z + 1)) this.ctx.metrics.counters.nulOctets++;
    const max = this.ctx.settings.maxTextLine;
    if (max === 0 || this.textLineTooLong || to <= from) return;
    // Where the current line starts, as a position in `chunk` (before `from` when it began in an earlier piece).
    let lineStart = from - this.textLineLength;
    // The line's LF may be at most at lineStart + max - 1 (the CRLF counts in the limit).
    for (let last = lineStart + max - 1; last < to; last = lineStart + max - 1) {
      // An LF before `from` belongs to an earlier command or message, not to this line.
      const lf = lastLineEnd(chunk, Math.max(lineStart, from), last);
      if (lf < 0) {
        this.textLineTooLong = true;
        return;
      }
      lineStart = lf + 1;
    }
    // The window now ends past the piece: the rest fits so far. Carry only the octets after its last LF.
    const lf = lastLineEnd(chunk, Math.max(lineStart, from), to - 1);
    if (lf >= 0) lineStart = lf + 1;
    this.textLineLength = to - lineStart;
  }

  /** Capturing sink: keeps a copy of message octets, and gives up on a message past the SIZE limit (it will be refused). */
  private capture(chunk: Buffer, from: number, to: number): void {
    const max = this.ctx.settings.maxMessageSize;
    if (max > 0 && this.bytes + (to - from) > max + 3) this.captureParts = null;
    else this.captureParts!.push(Buffer.from(chunk.subarray(from, to)));
  }

  /** An accepted message's size histogram, and for a capturing sink its content (DATA: without the terminator, unstuffed). */
  private keepContent(bytes: number): void {
    this.ctx.metrics.recordBytes('message-bytes', bytes);
    const parts = this.captureParts;
    if (parts === null) return;
    this.captureParts = null;
    const raw = Buffer.concat(parts).subarray(0, bytes);
    this.ctx.captured.push({ session: this.session.id, content: this.captureBdat ? Buffer.from(raw) : unstuff(raw) });
  }

  /** Delivery sink: arrival (now) minus the message's `X-Smtpbench-Sent` time, when it had one. */
  private recordDelivery(): void {
    if (this.probe.sentUs >= 0) this.ctx.metrics.record('delivery', epochUs() - this.probe.sentUs);
  }

  /**
   * LMTP (RFC 2033 §4.2): one reply per accepted recipient, in RCPT order. Each draws the
   * `data-end` faults on its own, and a domain policy's outcome at the end of data is drawn per
   * recipient (`perRecipient[i]`), so some recipients of a message can fail while others succeed.
   */
  private lmtpReplies(bytes: number, recipients: number, perRecipient: readonly (Buffer | null)[] | null): void {
    const m = this.ctx.metrics;
    const f = this.ctx.faults;
    const tooBig = this.ctx.settings.maxMessageSize > 0 && bytes > this.ctx.settings.maxMessageSize;
    let accepted = 0;
    for (let i = 0; i < recipients; i++) {
      const o = f.active ? f.override(F_DATA_END) : undefined;
      if (o !== undefined) {
        m.counters.faults++;
        this.sink.reply(o.reply);
      } else if (perRecipient !== null && perRecipient[i] !== null) this.sink.reply(perRecipient[i]!);
      else if (tooBig) this.sink.reply(this.ctx.replies.sizeTooBig);
      else {
        accepted++;
        this.sink.reply(this.ctx.replies.messageOk);
      }
    }
    if (accepted === 0) m.counters.messagesRejected++;
    else {
      this.recordDelivery();
      this.keepContent(bytes);
      this.session.messages++;
      this.session.recipients += accepted;
      m.counters.messages++;
      m.counters.recipients += accepted;
      m.counters.bytes += bytes;
    }
  }
}
