/**
 * Ramping sessions (k6's ramping-vus): a closed model whose number of sessions
 * follows piecewise-linear `stages` of session counts. Every `STEP_MS` the executor starts or
 * gracefully stops sessions to match the target; the sessions share one message quota (or none).
 * Latencies are service times, as in every closed model.
 */
import { nowUs } from '../clock.js';
import { ClientSession } from '../client/session.js';
import { DONE, type MessageSource, type SessionConfig } from '../client/config.js';
import type { Stage } from '../profile/types.js';
import { Lifecycle, type Executor } from './executor.js';

/** How often the session count is adjusted, ms. */
export const STEP_MS = 100;
/**
 * Most sessions started in one step: about 10,000 connections a second, the pace of the closed
 * model's start waves, so a large `startSessions` does not overflow the server's accept queue at once.
 */
const MAX_STARTS_PER_STEP = 1024;

/**
 * Target session count `ms` after the start, for stages that move linearly from `start` sessions
 * (k6's startVUs) through each stage's target; null after the last stage.
 */
export function sessionTarget(ms: number, stages: readonly Stage[], start = 0): number | null {
  let t0 = 0;
  let from = start;
  for (const st of stages) {
    if (ms < t0 + st.durationMs) return Math.round(from + ((st.target - from) * (ms - t0)) / st.durationMs);
    t0 += st.durationMs;
    from = st.target;
  }
  return null;
}

/**
 * Runs sessions following `stages` (targets are session counts), from `startSessions` at the
 * start, until the stages end, `messages` are used up (null: no bound), or `stop()`.
 */
export function runRampingSessions(cfg: SessionConfig, startSessions: number, stages: readonly Stage[], messages: number | null, gracefulStopMs: number): Executor {
  let remaining = messages ?? Infinity;
  const live: ClientSession[] = []; // running, newest last
  // Every session not yet ended (live and retiring): the lifecycle sweeps and aborts these only, so
  // oscillating stages keep no dead session (hostile review F12).
  const running = new Set<ClientSession>();
  const retiring = new Set<ClientSession>();
  const life = new Lifecycle(running, gracefulStopMs);
  let active = 0;
  let started = 0;
  const t0 = nowUs() / 1000;

  const source: MessageSource<ClientSession> = {
    next(s) {
      if (life.stopped || retiring.has(s) || remaining <= 0) return DONE;
      remaining--;
      return nowUs();
    },
    hasMore: (s) => !life.stopped && !retiring.has(s) && remaining > 0,
    ended(s, gaveUp) {
      active--;
      running.delete(s);
      const i = live.indexOf(s);
      if (i !== -1) live.splice(i, 1);
      retiring.delete(s);
      if (gaveUp && Number.isFinite(remaining)) {
        // Unreachable target: what is left is abandoned (counted), or new sessions would redial for ever.
        cfg.recorder.counters.messagesAbandoned += remaining;
        remaining = 0;
      }
      if (active === 0 && (life.stopped || remaining <= 0)) finish();
    },
  };

  const step = (): void => {
    const target = sessionTarget(nowUs() / 1000 - t0, stages, startSessions);
    if (target === null || remaining <= 0) return stop();
    for (let n = 0; live.length < target && n < MAX_STARTS_PER_STEP; n++) {
      const s = new ClientSession(cfg, source);
      started++;
      live.push(s);
      running.add(s);
      active++;
      s.start();
    }
    while (live.length > target) {
      const s = live.pop()!;
      retiring.add(s);
      s.stop();
    }
  };
  const timer = setInterval(step, STEP_MS);

  function finish(): void {
    clearInterval(timer);
    life.finish();
  }

  function stop(): void {
    if (!life.stop(live, () => clearInterval(timer))) return;
    if (active === 0) finish();
  }

  step();
  return { done: life.done, stop, active: () => active, started: () => started };
}
