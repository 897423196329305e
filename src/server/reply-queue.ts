/**
 * The replies of one connection on their way to the socket: queued per input chunk and written in
 * one corked burst (RFC 2920 §3.2 rule 7: a pipelining client never waits on us), counted
 * (negative replies, the client's protocol errors against `maxErrors`), and held when a fault
 * delays one. A held reply holds every reply after it, and the input that arrives meanwhile is
 * stashed, so replies always leave in command order. No meaning of SMTP beyond the reply code.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ServerContext } from './context.js';
import { faultIndex, type FaultIndex } from './faults.js';

const F_CONNECT = faultIndex('connect');

/** Queued replies, fault holds and the input stashed behind a hold, for one connection. */
export class ReplyQueue {
  /** Replies not yet written. From `holdFrom` on they wait for the hold timer. */
  private readonly out: Buffer[] = [];
  /** A reply is held (fault injection): input processing stops until the hold timer releases it. */
  held = false;
  private holdFrom = 0;
  /** `performance.now()` ms before which the held reply must not go out. */
  private holdUntil = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private holdImmediate: NodeJS.Immediate | null = null;
  /** Input that arrived (or was left over) while replies were held; the socket is paused meanwhile. */
  readonly stash: Buffer[] = [];
  /** Fault-table index of the command being answered: its reply delays are drawn from it. */
  fc: FaultIndex = F_CONNECT;
  /** Negative replies sent on this connection (the tarpit counts them). */
  private errors = 0;
  /** Protocol errors (50x but 502) on this connection, for `maxErrors`. */
  private protocolErrors = 0;

  /** @param onRelease called once held replies may go: the owner consumes the stash and flushes. */
  constructor(
    private readonly ctx: ServerContext,
    private readonly onRelease: () => void,
  ) {}

  /**
   * Queues a reply to the current command. With faults, draws its delay: a delayed reply is held
   * with everything after it. Returns true when this reply was the client's `maxErrors`-th
   * protocol error: the closing 421 is queued after it and the connection must close.
   */
  push(buf: Buffer): boolean {
    // Negative completion replies start with '4' or '5'.
    if (buf[0] >= 0x34) {
      this.ctx.metrics.counters.negativeReplies++;
      this.errors++;
      // 500, 501, 503, 504 are the client's protocol errors (502 is our gap, not its fault).
      if (buf[0] === 0x35 && buf[1] === 0x30 && buf[2] !== 0x32 && ++this.protocolErrors === this.ctx.settings.maxErrors) {
        this.out.push(buf, this.ctx.replies.tooManyErrors);
        return true;
      }
    }
    this.out.push(buf);
    if (this.ctx.faults.active && !this.held) {
      const ms = this.ctx.faults.delayMs(this.fc, performance.now(), this.errors);
      if (ms > 0) {
        this.ctx.metrics.counters.delayedReplies++;
        this.held = true;
        this.holdFrom = this.out.length - 1;
        this.holdUntil = performance.now() + ms;
      }
    }
    return false;
  }

  /**
   * Holds the reply just pushed `ms` longer (a domain policy's latency, `slow@`, bandwidth): when
   * nothing is held it is held from now; when it is the held reply its hold grows by `ms`; behind
   * an earlier held reply it goes out with that one.
   */
  delayLast(ms: number): void {
    if (!(ms > 0) || this.out.length === 0) return;
    if (!this.held) {
      this.ctx.metrics.counters.delayedReplies++;
      this.held = true;
      this.holdFrom = this.out.length - 1;
      this.holdUntil = performance.now() + ms;
    } else if (this.holdFrom === this.out.length - 1) this.holdUntil += ms;
  }

  /** Forgets the replies not yet written (a timeout's 421 replaces them). */
  clear(): void {
    this.out.length = 0;
  }

  /**
   * Writes every queued reply that is not held to `s`, in one corked burst. Returns false while a
   * reply is held: the socket is then paused and the hold timer armed.
   */
  write(s: Socket): boolean {
    const out = this.out;
    const n = this.held ? this.holdFrom : out.length;
    if (n > 0 && !s.destroyed) {
      if (n === 1) s.write(out[0]);
      else {
        s.cork();
        for (let i = 0; i < n; i++) s.write(out[i]);
        s.uncork();
      }
    }
    if (this.held) {
      out.splice(0, n);
      this.holdFrom = 0;
      s.pause();
      // One timer per connection, and only while a reply is held (faults only).
      // Wake a little early; release() waits out the rest precisely.
      if (this.holdTimer === null && this.holdImmediate === null) {
        this.holdTimer = setTimeout(() => this.release(), Math.max(0, this.holdUntil - performance.now() - 1));
      }
      return false;
    }
    // pop() for the usual single reply: shrinking `length` is a slow runtime call in V8.
    if (out.length === 1) out.pop();
    else out.length = 0;
    return true;
  }

  /** The socket closed: no hold timer may fire on it. */
  stop(): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    if (this.holdImmediate !== null) clearImmediate(this.holdImmediate);
  }

  /** Drops the stashed input (after STARTTLS: plaintext that must not be read); returns its octets. */
  dropStash(): number {
    const n = this.stash.reduce((sum, b) => sum + b.length, 0);
    this.stash.length = 0;
    return n;
  }

  /** The hold timer fired: let the held replies go once their time has come. */
  private release(): void {
    this.holdTimer = null;
    this.holdImmediate = null;
    // libuv times a setTimeout from the loop's cached time, which lags when the loop is busy, so the
    // timer can fire early by that lag: an injected delay must never be shorter than asked.
    // The last millisecond or two is waited out in setImmediate turns (timers are 1 ms coarse and
    // fire late); this only runs while a fault holds a reply.
    const left = this.holdUntil - performance.now();
    if (left > 2) {
      this.holdTimer = setTimeout(() => this.release(), left - 1);
      return;
    }
    if (left > 0) {
      this.holdImmediate = setImmediate(() => this.release());
      return;
    }
    this.held = false;
    this.onRelease();
  }
}
