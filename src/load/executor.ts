/** What every executor (closed, open, ramping) gives the worker. */
export interface Executor {
  /** Resolves when every session has ended. */
  readonly done: Promise<void>;
  /** Graceful stop: nothing new starts; transactions in flight finish within the grace time, then are aborted. */
  stop(): void;
  /** Sessions not yet ended. */
  active(): number;
}
