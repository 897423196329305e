/**
 * Closed model (DESIGN §3 rule 4): N sessions, each sending its messages back to back as fast
 * as the target answers. For peak-throughput probing; its latencies are service times, labelled
 * closed-model in reports, because a closed loop stops sending while the server stalls
 * (coordinated omission).
 */
import { ClientSession, type SessionConfig } from '../client/session.js';
import { splitMessagesAcrossSessions } from '../profile/shard.js';
import { startSweeper } from './sweeper.js';

/** Handle on a running closed-model executor. */
export interface ClosedRun {
  /** Resolves when every session has finished. */
  readonly done: Promise<void>;
  /** Graceful stop: transactions in flight finish, then QUIT. */
  stop(): void;
  /** Sessions still running. */
  active(): number;
}

/**
 * Starts `sessions` sessions sharing `messages` exactly (null: unbounded, stopped by
 * `durationMs` or `stop()`).
 *
 * @param durationMs wall-clock bound in ms, or null
 */
export function runClosed(cfg: SessionConfig, sessions: number, messages: number | null, durationMs: number | null): ClosedRun {
  const quotas = messages === null ? new Array<number>(sessions).fill(Infinity) : splitMessagesAcrossSessions(messages, sessions);
  let active = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const list: ClientSession[] = [];
  const sweeper = startSweeper(list);
  let timer: NodeJS.Timeout | null = null;
  const finish = (): void => {
    if (--active > 0) return;
    sweeper.stop();
    if (timer) clearTimeout(timer);
    resolveDone();
  };
  for (const quota of quotas) {
    if (quota <= 0) continue;
    active++;
    list.push(new ClientSession(cfg, quota, finish));
  }
  const stop = (): void => {
    for (const s of list) s.stop();
  };
  if (active === 0) {
    sweeper.stop();
    resolveDone();
  } else {
    if (durationMs !== null) timer = setTimeout(stop, durationMs);
    for (const s of list) s.start();
  }
  return { done, stop, active: () => active };
}
