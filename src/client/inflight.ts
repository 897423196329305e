/**
 * The in-flight FIFO of a pipelining session (house style §6, after undici's kRunningIdx /
 * kPendingIdx): every command written and not yet answered, in write order. RFC 2920 §3.1 has
 * the server answer in order, so the head entry is what the next reply answers. A ring of
 * parallel typed arrays with head/tail cursors: pushing and shifting allocate nothing, and the
 * ring doubles only when a bigger group (a large fan-out) is written than ever before.
 */
import type { CommandStep } from '../error-kinds.js';
import { STEP_COMMANDS, STEP_PHASE } from './steps.js';

/** What a command in flight is. */
export const Cmd = {
  Rset: 0,
  Mail: 1,
  Rcpt: 2,
  Data: 3,
  /** The end-of-data reply (one per accepted recipient in LMTP, RFC 2033 §4.2). */
  Eod: 4,
  Bdat: 5,
  /** A scenario step (VRFY, NOOP, …); `arg` is the step index. */
  Step: 6,
} as const;
export type Cmd = (typeof Cmd)[keyof typeof Cmd];

/** Phase (histogram and reply counts) of each in-flight command kind (`Cmd.Step`: the step's own phase). */
const PHASE_OF: Readonly<Record<Exclude<Cmd, typeof Cmd.Step>, CommandStep>> = {
  [Cmd.Rset]: 'rset',
  [Cmd.Mail]: 'mail',
  [Cmd.Rcpt]: 'rcpt',
  [Cmd.Data]: 'data',
  [Cmd.Eod]: 'body',
  [Cmd.Bdat]: 'bdat',
};

/** The phase of an in-flight command `kind` with its `arg` (a step: the step's own phase). */
export function phaseOf(kind: Cmd, arg: number): CommandStep {
  return kind === Cmd.Step ? STEP_PHASE[STEP_COMMANDS[arg]] : PHASE_OF[kind];
}

export class InFlight {
  private kind: Uint8Array;
  private slot: Uint8Array;
  private arg: Int32Array;
  private sent: Float64Array;
  private head = 0;
  private count = 0;

  constructor(capacity = 64) {
    this.kind = new Uint8Array(capacity);
    this.slot = new Uint8Array(capacity);
    this.arg = new Int32Array(capacity);
    this.sent = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /**
   * Appends a command. `slot` names the transaction it belongs to (a session has at most two in
   * flight: one finishing its body, the next pipelined behind it); `arg` is its detail (recipient
   * index, last-chunk flag, step index); `sentUs` is the write time of its batch.
   */
  push(kind: Cmd, slot: number, arg: number, sentUs: number): void {
    if (this.count === this.kind.length) this.grow();
    const i = (this.head + this.count) % this.kind.length;
    this.kind[i] = kind;
    this.slot[i] = slot;
    this.arg[i] = arg;
    this.sent[i] = sentUs;
    this.count++;
  }

  /** Kind of the head entry; only valid while `length > 0`. */
  peekKind(): Cmd {
    return this.kind[this.head] as Cmd;
  }

  /** Removes the head entry; read its fields first with `headSlot()` etc. */
  shift(): void {
    this.head = (this.head + 1) % this.kind.length;
    this.count--;
  }

  headSlot(): number {
    return this.slot[this.head];
  }

  headArg(): number {
    return this.arg[this.head];
  }

  headSentUs(): number {
    return this.sent[this.head];
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const cap = this.kind.length * 2;
    const order = (a: Uint8Array | Int32Array | Float64Array): number[] => {
      const out: number[] = [];
      for (let k = 0; k < this.count; k++) out.push(a[(this.head + k) % a.length]);
      return out;
    };
    const kind = new Uint8Array(cap);
    const slot = new Uint8Array(cap);
    const arg = new Int32Array(cap);
    const sent = new Float64Array(cap);
    kind.set(order(this.kind));
    slot.set(order(this.slot));
    arg.set(order(this.arg));
    sent.set(order(this.sent));
    this.kind = kind;
    this.slot = slot;
    this.arg = arg;
    this.sent = sent;
    this.head = 0;
  }
}
