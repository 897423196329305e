/**
 * What every executor (closed, open, ramping sessions) gives the worker, and the lifecycle they
 * share: one deadline sweeper over their sessions, the `done` promise, a graceful stop that aborts
 * whatever still runs after the grace time, and a `finish` that clears every timer.
 */
import { startSweeper, type HasDeadline } from '../clock.js';

/** What every executor (closed, open, ramping) gives the worker. */
export interface Executor {
  /** Resolves when every session has ended. */
  readonly done: Promise<void>;
  /** Graceful stop: nothing new starts; transactions in flight finish within the grace time, then are aborted. */
  stop(): void;
  /** Sessions not yet ended. */
  active(): number;
  /** Sessions started so far (0: this worker had no share of the load; its health tells nothing). */
  started(): number;
}

/** The part of a client session the lifecycle drives (`ClientSession`). */
export interface StoppableSession extends HasDeadline {
  /** Graceful stop: no new transaction; those in flight complete, then QUIT. */
  stop(): void;
  /** Hard stop: the connection is dropped. A no-op for a session that has ended. */
  abort(): void;
}

/**
 * The lifecycle an executor shares with the others. It sweeps `sessions` (read live: push each
 * session the executor starts) from construction until `finish`.
 */
export class Lifecycle {
  /** Resolves once, at `finish`. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly sweeper: { stop(): void };
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped_ = false;
  private finished = false;

  /**
   * @param sessions every session the executor starts, read live
   * @param gracefulStopMs after `stop`, how long sessions may finish what is in flight before they are aborted
   */
  constructor(
    private readonly sessions: Iterable<StoppableSession>,
    private readonly gracefulStopMs: number,
  ) {
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    this.sweeper = startSweeper(sessions);
  }

  /** True once `stop` has begun: nothing new may start. */
  get stopped(): boolean {
    return this.stopped_;
  }

  /** `setTimeout(fn, ms)`, cleared by `finish` if it has not fired by then. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /**
   * Graceful stop, once (false on later calls): marks the executor stopped, runs `first` (the
   * executor's own bookkeeping, before any session is told), asks `running` to stop, and unless
   * that already finished the executor, aborts every session after the grace time.
   */
  stop(running: Iterable<StoppableSession>, first?: () => void): boolean {
    if (this.stopped_) return false;
    this.stopped_ = true;
    first?.();
    for (const s of running) s.stop();
    if (!this.finished) this.after(this.gracefulStopMs, () => this.abortAll());
    return true;
  }

  /** Aborts every session (those that have ended ignore it). */
  abortAll(): void {
    for (const s of this.sessions) s.abort();
  }

  /** Every session has ended: stops the sweeper, clears the timers, resolves `done`. Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.sweeper.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.resolveDone();
  }
}
