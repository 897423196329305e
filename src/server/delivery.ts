/**
 * The delivery sink: when a message carries `X-Smtpbench-Sent: <wall-clock epoch µs>` in its
 * header block, the server records arrival minus that time as the `delivery` histogram. The
 * probe looks only at the first `SCAN_LIMIT` octets of a message, with `Buffer.indexOf` on the
 * socket chunks in place; the name is matched exactly as smtpbench writes it (header names are
 * case-insensitive in RFC 5322 §1.2.2, but only our own client sets this one).
 */

import * as bytes from '../protocol/bytes.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { CR, DIGIT_0, LF, SP, TAB } = bytes;

const NAME = Buffer.from('X-Smtpbench-Sent:');

/** Octets of a message searched for the header. */
export const SCAN_LIMIT = 8192;
/**
 * Octets kept across a chunk boundary: the LF that makes the name a line start, the name, and
 * 40 octets of white space and digits after it.
 */
const CARRY_MAX = 1 + NAME.length + 40;
const START = Buffer.from('\n');

/** Finds the send time of one message at a time. Call `begin()` per message, `feed()` per piece. */
export class DeliveryProbe {
  /** The header's value in epoch µs, or -1 while not (yet) found. */
  sentUs = -1;
  private scanned = 0;
  /**
   * The last few octets seen, for a header line cut by a chunk boundary (a small copy). It starts
   * as one LF, so the first line of the message is a line start like any other.
   */
  private carry: Buffer = START;
  /** Storage for a full-length carry, reused from chunk to chunk. */
  private readonly carryStore = Buffer.allocUnsafe(CARRY_MAX);
  private done = false;

  begin(): void {
    this.sentUs = -1;
    this.scanned = 0;
    this.carry = START;
    this.done = false;
  }

  /** True while the probe still wants message octets. */
  get active(): boolean {
    return !this.done;
  }

  /** Looks at message octets `chunk[from, to)` as received (a header line never starts with a dot, so stuffing does not matter). */
  feed(chunk: Buffer, from: number, to: number): void {
    if (this.done || to <= from) return;
    const end = Math.min(to, from + (SCAN_LIMIT - this.scanned));
    this.scanned += end - from;
    const carry = this.carry;
    // Only names that start inside the carried octets: the rest is searched in place below. The
    // initial carry (one LF) cannot hold a name, so a message's first piece costs no copy.
    if (carry !== START) {
      const joined = Buffer.concat([carry, chunk.subarray(from, Math.min(end, from + CARRY_MAX))]);
      if (this.find(joined, 0, joined.length, carry.length - 1, 0)) return;
    }
    if (this.find(chunk, from, end, end, carry[carry.length - 1])) return;
    // A copy, not a view: the server's input chunks are borrowed (read into one reused buffer).
    const tailFrom = Math.max(from, end - CARRY_MAX);
    if (end - tailFrom >= CARRY_MAX) {
      chunk.copy(this.carryStore, 0, tailFrom, end);
      this.carry = this.carryStore;
    } else this.carry = Buffer.concat([carry, chunk.subarray(tailFrom, end)]).subarray(-CARRY_MAX);
    if (this.scanned >= SCAN_LIMIT) this.done = true;
  }

  /**
   * Searches `buf[from, to)` for the header name at a line start (`prev` is the octet before
   * `from`), starting no later than `maxStart`. True when the header line was complete in the
   * range (its value, if well-formed, is then in `sentUs`); a value cut at `to` is left for the carry.
   */
  private find(buf: Buffer, from: number, to: number, maxStart: number, prev: number): boolean {
    for (let at = buf.indexOf(NAME, from); at !== -1 && at <= maxStart && at + NAME.length <= to; at = buf.indexOf(NAME, at + 1)) {
      if ((at > from ? buf[at - 1] : prev) !== LF) continue;
      let i = at + NAME.length;
      while (i < to && (buf[i] === SP || buf[i] === TAB)) i++;
      let value = 0;
      let digits = 0;
      while (i < to && buf[i] >= DIGIT_0 && buf[i] <= DIGIT_0 + 9 && digits < 20) {
        value = value * 10 + (buf[i++] - DIGIT_0);
        digits++;
      }
      if (i >= to) return false;
      this.done = true;
      if (digits > 0 && (buf[i] === CR || buf[i] === SP || buf[i] === TAB)) this.sentUs = value;
      return true;
    }
    return false;
  }
}
