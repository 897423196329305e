/**
 * What a session sends next: a continuation of the current message, a scenario step, or a new
 * message from the source (drawn recipient count and size, admitted against the server's
 * capabilities). The session owns the lifecycle; this owns the bookkeeping between it and its
 * source: a message assigned while busy, a WAIT answered, the messages of this connection.
 */
import type { Capabilities } from '../protocol/capabilities.js';
import { DONE, WAIT, type MessageSource, type SessionConfig } from './config.js';
import { messageShape } from './message.js';
import type { Pipeline } from './pipeline.js';
import { admitMessage, type Txn } from './transaction.js';

/** `take()` result: a scenario step was written instead of a transaction. */
export const STEP_SENT = 'step';
/** Messages skipped in a row (a size drawn over SIZE) before the session lets the event loop run. */
const MAX_SKIPS_PER_TURN = 64;

/** The session's next unit of work, between it and its source. `S`: the session as the source knows it. */
export class Work<S> {
  /** A `next()` answered WAIT: the source will `assign()` the session. */
  awaiting = false;
  /** Intended start of a message assigned while the session was busy, or -1. */
  assigned = -1;
  /** Too many skips in a row: waiting one event-loop turn before drawing again (`onYielded` then). */
  yielding = false;
  /** Messages and steps taken on this connection (reset at each connect). */
  onConnection = 0;
  /** The scenario's draw for the next unit of work, or null when not drawn yet (or no scenario). */
  private nextPick: number | null = null;
  /** VRFY/EXPN walk the plan's recipients in turn (a directory-harvest probe). */
  private stepSeq = 0;

  constructor(
    private readonly cfg: SessionConfig,
    private readonly source: MessageSource<S>,
    private readonly session: S,
    private readonly pipeline: Pipeline,
    private readonly onYielded: () => void,
  ) {}

  /**
   * The next transaction to write, or null: a continuation of the current message first (its
   * deferred and not yet sent recipients), else a new message from the source. With a scenario a
   * unit of work may be a step instead: it is written here (`STEP_SENT`), never as `lookahead`
   * behind a message body (RFC 2920 §3.1 puts VRFY, EXPN, TURN and NOOP last in a group).
   */
  take(lookahead: boolean, caps: Capabilities, stopping: boolean): Txn | null | typeof STEP_SENT {
    const cont = this.pipeline.continuation();
    if (cont !== null) return cont;
    const cfg = this.cfg;
    const plan = cfg.plan;
    for (let skips = 0; ; skips++) {
      if (stopping || this.awaiting || this.onConnection >= cfg.messagesPerConnection) return null;
      if (skips === MAX_SKIPS_PER_TURN) {
        // Every message so far was drawn too large: let timers (duration, stop) run before trying more.
        this.yielding = true;
        setImmediate(() => {
          this.yielding = false;
          this.onYielded();
        });
        return null;
      }
      const scenario = cfg.scenario;
      if (scenario) {
        this.nextPick ??= scenario.pick();
        if (this.nextPick >= 0 && lookahead) return null;
      }
      // Draw this message's recipient count and size (seeded, per worker); O(1), nothing is copied.
      const n = plan.recipientCounts.draw();
      const shape = messageShape(plan, plan.sizes.draw());
      let intended = this.assigned;
      this.assigned = -1;
      if (intended < 0) {
        intended = this.source.next(this.session);
        if (intended === WAIT) {
          this.awaiting = true;
          return null;
        }
        if (intended === DONE) return null;
      }
      if (scenario && this.nextPick !== null && this.nextPick >= 0) {
        const step = this.nextPick;
        this.nextPick = null;
        this.onConnection++;
        cfg.recorder.counters.steps++;
        this.pipeline.writeStep(step, (this.stepSeq++ % plan.recipients) + 1);
        return STEP_SENT;
      }
      this.nextPick = null;
      const msg = admitMessage(cfg, caps, n, shape, intended);
      if (msg === null) continue;
      this.onConnection++;
      return this.pipeline.startMessage(msg);
    }
  }
}
