/**
 * The group writer: a transaction's commands and message as wire bytes, views of the plan's
 * precomputed buffers (message.ts), never copies of the shared body. With PIPELINING (RFC 2920
 * §3.1) a whole group `[RSET] MAIL RCPT… DATA` (or `… BDAT…`, RFC 3030 §4.2) goes out at once,
 * else one command per call (lock-step). Every command written is pushed on the in-flight FIFO
 * with its transaction's slot, and the deadline is armed for the FIFO's head. The caller corks
 * and uncorks around a batch.
 */
import * as clock from '../clock.js';
import { NO_CAPABILITIES, type Capabilities } from '../protocol/capabilities.js';
import * as bytes from '../protocol/bytes.js';
import { DEFAULTS } from '../profile/defaults.js';
import type { SessionConfig } from './config.js';
import { Cmd, type InFlight } from './inflight.js';
import { mailParameters } from './message.js';
import { STEP_COMMANDS } from './steps.js';
import { Stage, stamped, type Msg, type Txn } from './transaction.js';
import type { Wire } from './transport.js';

// Local copies (see bytes.ts): a module's own const is folded into optimised code, an import is not.
const { CRLF, CRLF_DOT_CRLF, DOT_CRLF, LF } = bytes;
const { nowUs } = clock;

const RSET_STEP = STEP_COMMANDS.indexOf('RSET');
const EMPTY = Buffer.alloc(0);

/** Where the writer arms the deadline of what it awaits (the session, which the worker's sweeper reads). */
export interface Deadline {
  /** Monotonic ms after which the awaited reply has timed out. */
  deadlineMs: number;
}

/** Writes transactions and scenario steps for one session; `caps`, `lockstep` and `bdat` are set per connection. */
export class GroupWriter {
  /** The server's extensions (MAIL parameters depend on them). */
  caps: Capabilities = NO_CAPABILITIES;
  /** One command at a time (no PIPELINING, or pipelining off). */
  lockstep = false;
  /** BDAT chunks (RFC 3030) instead of DATA. */
  bdat = false;

  constructor(
    private readonly cfg: SessionConfig,
    private readonly transport: Wire,
    private readonly fifo: InFlight,
    private readonly deadline: Deadline,
  ) {}

  /** Deadline for the head of the FIFO: the body timeout while an end of data is awaited, else the reply timeout. */
  armDeadline(): void {
    if (this.fifo.length === 0) return;
    const k = this.fifo.peekKind();
    const ms = k === Cmd.Eod || (k === Cmd.Bdat && this.fifo.headArg() === 1) ? this.cfg.timeouts.bodyMs : this.cfg.timeouts.replyMs;
    this.deadline.deadlineMs = nowUs() / 1000 + ms;
  }

  /**
   * Writes `t`'s commands from its stage on: the whole group when pipelining, else the next single
   * command. Returns true when it stopped at a blocked socket with BDAT chunks left (write the rest
   * after 'drain').
   */
  emit(t: Txn, msg: Msg): boolean {
    const s = this.transport;
    const plan = this.cfg.plan;
    const slot = t.slot;
    const now = nowUs();
    const all = !this.lockstep;
    if (t.stage === Stage.Rset) {
      s.write(plan.rset);
      this.fifo.push(Cmd.Rset, slot, 0, now);
      t.stage = Stage.Mail;
      if (!all) return this.armed();
    }
    if (t.stage === Stage.Mail) {
      const params = mailParameters(plan, msg.shape, this.caps);
      // The usual cases are prebuilt; anything else is one short line per message.
      if (params === '') s.write(plan.mail);
      else if (params === ` SIZE=${plan.sizeBytes}`) s.write(plan.mailWithSize);
      else s.write(Buffer.from(`${plan.mailHead}${params}\r\n`, 'utf8'));
      this.fifo.push(Cmd.Mail, slot, 0, now);
      t.stage = Stage.Rcpt;
      if (!all) return this.armed();
    }
    if (t.stage === Stage.Rcpt) {
      const end = all ? t.count : Math.min(t.count, t.k + 1);
      // Contiguous recipients go out as one view of the shared RCPT block.
      let runStart = -1;
      let runEnd = -1;
      for (; t.k < end; t.k++) {
        const r = t.rcptAt(msg, t.k);
        this.fifo.push(Cmd.Rcpt, slot, r, now);
        if (r === runEnd) runEnd++;
        else {
          if (runStart >= 0) s.write(plan.rcptBlock.subarray(plan.rcptOffsets[runStart], plan.rcptOffsets[runEnd]));
          runStart = r;
          runEnd = r + 1;
        }
      }
      if (runStart >= 0) s.write(plan.rcptBlock.subarray(plan.rcptOffsets[runStart], plan.rcptOffsets[runEnd]));
      if (t.k < t.count) return this.armed();
      t.stage = Stage.Body;
      t.k = 0;
      if (!all) return this.armed();
    }
    if (t.stage === Stage.Body) {
      if (!this.bdat) {
        s.write(plan.dataCommand);
        this.fifo.push(Cmd.Data, slot, 0, now);
        t.stage = Stage.Written;
        return this.armed();
      }
      const end = all ? t.chunks : t.k + 1;
      while (t.k < end) {
        this.writeChunk(t, msg, now);
        // Pipelined chunks stop at a blocked socket and go on after 'drain'.
        if (++t.k < end && s.blocked) {
          this.armDeadline();
          return true;
        }
      }
      if (t.k >= t.chunks) {
        t.stage = Stage.Written;
        const gen = t.gen;
        s.writeThen(EMPTY, () => {
          if (t.gen === gen && t.bodySentUs === 0) t.bodySentUs = nowUs();
        });
      }
    }
    return this.armed();
  }

  /**
   * After the 354: the message (stamp prefix, a view of the shared stuffed body, the terminator),
   * and its end-of-data entries on the FIFO (LMTP: one per accepted recipient, RFC 2033 §4.2).
   */
  writeBody(t: Txn, msg: Msg): void {
    const s = this.transport;
    const now = nowUs();
    t.stage = Stage.Written;
    t.bodySentUs = 0;
    const prefix = stamped(this.cfg, msg);
    if (prefix !== null) s.write(prefix);
    // Generated content: a prefix view of the shared body (its own stuffed form). Explicit content: all of its stuffed form.
    const body = msg.shape.body;
    s.write(body.sliceable && msg.shape.len < body.data.length ? body.data.subarray(0, msg.shape.len) : body.data);
    const gen = t.gen;
    if (body.suffix !== null) {
      if (msg.shape.tail) s.write(CRLF);
      s.write(body.suffix);
    }
    s.writeThen(msg.shape.tail && body.suffix === null ? CRLF_DOT_CRLF : DOT_CRLF, () => {
      if (t.gen !== gen || t.bodySentUs !== 0) return;
      t.bodySentUs = nowUs();
      // The end-of-data timeout runs from here, the terminator handed to the kernel (RFC 5321
      // §4.5.3.2.6), not from when the body was queued (hostile review F5).
      this.armDeadline();
    });
    t.eodLeft = this.cfg.lmtp ? t.rcptOk : 1;
    for (let i = 0; i < t.eodLeft; i++) this.fifo.push(Cmd.Eod, t.slot, i, now);
  }

  /**
   * Writes scenario step `step` (index in STEP_COMMANDS); VRFY/EXPN name recipient `n` (1-based) of
   * the plan. `rset`: an RSET (as a step) goes first.
   */
  writeStep(step: number, n: number, rset: boolean): void {
    const s = this.transport;
    const plan = this.cfg.plan;
    const lines = this.cfg.scenario?.lines ?? [];
    const line = lines[step];
    const now = nowUs();
    s.cork();
    if (rset) {
      s.write(lines[RSET_STEP]);
      this.fifo.push(Cmd.Step, 0, RSET_STEP, now);
    }
    s.write(line);
    if (line[line.length - 1] !== LF) {
      // `RCPT TO:<addr>\r\n` → `<addr>\r\n`: the argument is a view of the RCPT block.
      const i = Math.min(n, plan.recipients) - 1;
      s.write(plan.rcptBlock.subarray(plan.rcptOffsets[i] + 8, plan.rcptOffsets[i + 1]));
    }
    s.uncork();
    this.fifo.push(Cmd.Step, 0, step, now);
    this.armDeadline();
  }

  /** BDAT chunk `t.k` (RFC 3030 §2): `BDAT n [LAST]` then n octets of the message, not stuffed. */
  private writeChunk(t: Txn, msg: Msg, now: number): void {
    const s = this.transport;
    const chunk = this.cfg.chunkBytes ?? DEFAULTS.message.chunkBytes;
    const from = t.k * chunk;
    const to = Math.min(msg.shape.size, from + chunk);
    const last = t.k === t.chunks - 1;
    s.write(Buffer.from(`BDAT ${to - from}${last ? ' LAST' : ''}\r\n`, 'latin1'));
    // The message is [prefix][raw body, len octets][CRLF when tail]; a chunk may span all three.
    let base = 0;
    const body = msg.shape.body;
    for (const part of [stamped(this.cfg, msg), body.sliceable ? body.raw.subarray(0, msg.shape.len) : body.raw, msg.shape.tail ? CRLF : null, body.suffix]) {
      if (part === null) continue;
      const a = Math.max(from, base);
      const b = Math.min(to, base + part.length);
      if (a < b) s.write(part.subarray(a - base, b - base));
      base += part.length;
    }
    this.fifo.push(Cmd.Bdat, t.slot, last ? 1 : 0, now);
  }

  private armed(): false {
    this.armDeadline();
    return false;
  }
}
