/**
 * Open models (DESIGN §3 rule 3): messages start at intended times from an `ArrivalClock`
 * (constant or ramping arrival rate), whatever the server is doing. Sessions are opened on demand
 * up to `maxSessions`; a session that finishes a transaction waits, connected, for the next due
 * message. When every session is busy, due messages queue: they start late and their latency
 * still counts from the intended start, so a server stall shows in the tail instead of being
 * hidden (coordinated omission). Late starts are counted, the lag is recorded, and messages beyond
 * a 10-second backlog are dropped and counted; the schedule itself never moves. When the
 * schedule's time is over, nothing new is scheduled, but messages already due still start (late)
 * within `gracefulStop`; what has not started by then is dropped, what is in flight aborted.
 */
import { nowUs } from '../clock.js';
import { ClientSession } from '../client/session.js';
import { DONE, WAIT, type MessageSource, type SessionConfig } from '../client/config.js';
import type { ArrivalClock } from './arrivals.js';
import { Lifecycle, type Executor } from './executor.js';

/** Most due messages kept waiting for a session; beyond it the oldest are dropped (counted). */
export const MAX_BACKLOG = 100_000;

/** A start later than this after its intended time counts as late (µs). Timer resolution is about 1 ms. */
export const LATE_START_US = 10_000;

/** Options of one worker's open-model executor. */
export interface OpenOptions {
  readonly clock: ArrivalClock;
  /** This worker's session cap. */
  readonly maxSessions: number;
  /** Messages per second this worker schedules at most (for the backlog bound). */
  readonly peakRate: number;
  readonly gracefulStopMs: number;
  /** When the schedule's time is over, µs after the start (the duration, or the stages' total). */
  readonly scheduleEndUs: number;
}

/**
 * Runs the open model until the clock's schedule is over (duration or message count) or `stop()`.
 * Every scheduled message is either started, dropped (counted) or, at a stop, left unscheduled.
 */
export function runOpen(cfg: SessionConfig, opts: OpenOptions): Executor {
  const rec = cfg.recorder;
  const clock = opts.clock;
  // Ten seconds of arrivals, within fixed bounds so memory stays bounded whatever the rate.
  const maxBacklog = Math.min(MAX_BACKLOG, Math.max(100, Math.ceil(opts.peakRate * 10)));
  const due: number[] = []; // intended start times (µs) of messages due but not started; `head` is the oldest
  let head = 0;
  const idle: ClientSession[] = [];
  // Sessions not yet ended: the lifecycle sweeps and aborts these only, so a soak run against a
  // failing target keeps no dead session (hostile review F12: a list of all grew without bound).
  const sessions = new Set<ClientSession>();
  const connecting = new Set<ClientSession>();
  const life = new Lifecycle(sessions, opts.gracefulStopMs);
  let t0 = 0;
  /** Sessions opened so far. */
  let opened = 0;
  /** The next arrival's (or the schedule end's) timer. */
  let timer: NodeJS.Timeout | null = null;
  let scheduling = true;

  const started = (intendedUs: number): void => {
    const lag = nowUs() - intendedUs;
    rec.recordGenerator('scheduleLag', lag);
    if (lag > LATE_START_US) rec.counters.messagesLate++;
  };

  const source: MessageSource<ClientSession> = {
    next(s) {
      connecting.delete(s);
      if (head < due.length) {
        const t = due[head++];
        started(t);
        return t;
      }
      if (!scheduling) return DONE;
      idle.push(s);
      return WAIT;
    },
    hasMore(s) {
      const more = scheduling || head < due.length;
      if (more) connecting.add(s);
      return more;
    },
    ended(s, gaveUp) {
      sessions.delete(s);
      connecting.delete(s);
      if (gaveUp) {
        // Its connections kept failing: the messages waiting for a session are given up too (counted),
        // or an unreachable target would be redialled for ever. Later arrivals try again.
        rec.counters.messagesAbandoned += due.length - head;
        head = due.length;
      }
      if (sessions.size === 0 && !scheduling && head >= due.length) finish();
      else if (!life.stopped) dispatch();
    },
  };

  /** Hands due messages to waiting sessions, and opens sessions for the rest while allowed. */
  function dispatch(): void {
    while (head < due.length && idle.length > 0) {
      const s = idle.pop()!;
      const t = due[head];
      if (s.assign(t)) {
        head++;
        started(t);
      }
    }
    if (head > 1024 && head * 2 > due.length) {
      due.splice(0, head); // compact now and then; the queue is normally short
      head = 0;
    }
    while (due.length - head > connecting.size && sessions.size < opts.maxSessions) {
      const s = new ClientSession(cfg, source);
      opened++;
      sessions.add(s);
      s.start();
    }
    const backlog = due.length - head;
    if (backlog > maxBacklog) {
      rec.counters.messagesDropped += backlog - maxBacklog;
      head += backlog - maxBacklog;
    }
    if (!scheduling && head >= due.length) {
      // Nothing more will come: waiting sessions QUIT.
      for (const s of idle.splice(0)) s.stop();
      if (sessions.size === 0) finish();
    }
  }

  /** Moves every arrival whose time has come into `due`, dispatches, and sleeps until the next one. */
  function pump(): void {
    timer = null;
    const now = nowUs();
    let next = clock.peek();
    while (t0 + next <= now) {
      due.push(t0 + next);
      clock.take();
      next = clock.peek();
    }
    if (next === Infinity && clock.endReason() === 'time') {
      // The last arrival is in; when the schedule's time is over (duration, last stage) the run ends
      // within gracefulStop. (When the message count ran out instead, the queued messages are sent.)
      dispatch();
      timer = setTimeout(endOfSchedule, Math.max(0, (t0 + opts.scheduleEndUs - nowUs()) / 1000));
      return;
    }
    if (next === Infinity) scheduling = false;
    dispatch();
    if (scheduling) timer = setTimeout(pump, Math.max(0, (t0 + next - nowUs()) / 1000));
  }

  /**
   * The schedule's time is over. Messages due before it were intended to start, and a session that
   * was still connecting or finishing a transaction must not make them vanish at the boundary:
   * they start late (counted) until `gracefulStop`; then the rest is dropped and in-flight aborted.
   */
  function endOfSchedule(): void {
    timer = null;
    scheduling = false;
    // After the schedule's end: the bound on draining the messages that were already due.
    life.after(opts.gracefulStopMs, () => {
      stop();
      life.abortAll();
    });
    dispatch();
  }

  function finish(): void {
    if (timer) clearTimeout(timer);
    life.finish();
  }

  /** Nothing new starts; transactions in flight finish within gracefulStop, then are aborted. */
  function stop(): void {
    const first = life.stop(sessions, () => {
      scheduling = false;
      if (timer) clearTimeout(timer);
      // Due messages that never got a session are dropped, and counted as such.
      rec.counters.messagesDropped += due.length - head;
      head = due.length;
    });
    if (first && sessions.size === 0) finish();
  }

  t0 = nowUs();
  pump();
  if (!scheduling && sessions.size === 0) finish();

  return { done: life.done, stop, active: () => sessions.size, started: () => opened };
}
