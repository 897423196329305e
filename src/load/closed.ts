/**
 * Closed model (DESIGN §3 rule 4): N sessions, each sending its messages back to back as fast
 * as the target answers. For peak-throughput probing; its latencies are service times, labelled
 * closed-model in reports, because a closed loop stops sending while the server stalls
 * (coordinated omission).
 */
import { nowUs } from '../clock.js';
import { ClientSession } from '../client/session.js';
import { DONE, type MessageSource, type SessionConfig } from '../client/config.js';
import { splitExactly } from '../profile/shard.js';
import { Lifecycle, type Executor } from './executor.js';

/**
 * Sessions start in waves of this many, one wave per `START_WAVE_MS`: 10,000 sessions dialling at
 * the same instant overflow the server's accept queue (SYN retransmits after 1 s, 3 s) and measure
 * that instead of SMTP. At about 10,000 connections per second, small runs still start at once.
 */
export const START_WAVE = 256;
export const START_WAVE_MS = 25;

/**
 * One session's message quota: intended start = actual start, so latency is service time.
 * `onEnd` runs once when the session has ended.
 */
export class QuotaSource implements MessageSource<ClientSession> {
  constructor(
    private remaining: number,
    private readonly cfg: SessionConfig,
    private readonly onEnd: () => void,
  ) {}

  next(): number {
    if (this.remaining <= 0) return DONE;
    this.remaining--;
    return nowUs();
  }

  hasMore(): boolean {
    return this.remaining > 0;
  }

  ended(_s: ClientSession, gaveUp: boolean): void {
    // A session whose connections keep failing gives its unsent quota up; count it, never hide it.
    if (gaveUp && Number.isFinite(this.remaining)) this.cfg.recorder.counters.messagesAbandoned += this.remaining;
    this.remaining = 0;
    this.onEnd();
  }
}

/**
 * Starts `sessions` sessions sharing `messages` exactly (null: unbounded, stopped by
 * `durationMs` or `stop()`).
 *
 * @param durationMs wall-clock bound in ms, or null
 * @param gracefulStopMs after a stop, how long transactions in flight may take before they are aborted
 */
export function runClosed(cfg: SessionConfig, sessions: number, messages: number | null, durationMs: number | null, gracefulStopMs: number): Executor {
  // A worker may get no sessions (more workers than sessions): it then has nothing to do.
  const quotas = sessions === 0 ? [] : messages === null ? new Array<number>(sessions).fill(Infinity) : splitExactly(messages, sessions);
  let active = 0;
  const list: ClientSession[] = [];
  const life = new Lifecycle(list, gracefulStopMs);
  const ended = (): void => {
    if (--active <= 0) life.finish();
  };
  for (const quota of quotas) {
    if (quota <= 0) continue;
    active++;
    list.push(new ClientSession(cfg, new QuotaSource(quota, cfg, ended)));
  }
  const stop = (): void => void life.stop(list);
  if (active === 0) {
    life.finish();
  } else {
    if (durationMs !== null) life.after(durationMs, stop);
    let started = 0;
    const wave = (): void => {
      for (const end = Math.min(list.length, started + START_WAVE); started < end; started++) if (!life.stopped) list[started].start();
      if (started < list.length && !life.stopped) life.after(START_WAVE_MS, wave);
    };
    wave();
  }
  return { done: life.done, stop, active: () => active, started: () => list.length };
}
