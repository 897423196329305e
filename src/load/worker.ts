/**
 * Load worker entry (tinypool task). One long task per thread (methodology B.2): build the wire
 * plan, report `ready`, wait behind the start barrier so thread start-up is not measured
 * (DESIGN §3 rule 5), run the executor, tick once a second with counters and interval histograms,
 * return the encoded totals.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { buildWirePlan, loadReplay } from '../client/message.js';
import { sessionSettings } from '../client/settings.js';
import { fixed, sampler, weightedPick, workerRng } from '../client/distributions.js';
import { buildStepLines, scenarioPicker } from '../client/steps.js';
import type { SessionConfig } from '../client/config.js';
import { Recorder } from '../metrics/recorder.js';
import { ArrivalClock } from './arrivals.js';
import { runClosed } from './closed.js';
import type { Executor } from './executor.js';
import { stripeShare } from '../profile/shard.js';
import type { ControlMessage, DoneMessage, TickMessage, WorkerResult, WorkerTask } from './ipc.js';
import { runOpen } from './open.js';
import { runRampingSessions } from './ramping-sessions.js';

/** A worker that measured less than this (ms) reports no event-loop utilization: the figure would be its start-up. */
const MIN_UTILIZATION_WINDOW_MS = 1000;

/** Sampling period of the event-loop delay monitors, ms. */
const LOOP_RESOLUTION_MS = 10;

/**
 * How late the event loop was, ms, from a `monitorEventLoopDelay` value (ns). Node records the
 * whole time between two firings of its sampling timer, the period included, so an idle loop reads
 * about 10 ms: the period is subtracted (as Fastify's under-pressure does), leaving the delay.
 */
const lateMs = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);

/** Replayed messages, and a seeded pick of one per message. */
function replayOf(dir: string, rng: ReturnType<typeof workerRng>) {
  const replay = loadReplay(dir);
  return { replay, pickBody: sampler({ dist: 'uniform', min: 0, max: replay.length - 1 }, rng) };
}

/** Mixed into the profile seed for the recipient-domain generator. */
const DOMAIN_SEED = 0x646f6d73;

/** Tick period in ms. */
export const TICK_MS = 1000;

/** Starts the executor the profile names, for this worker's share. */
function startExecutor(task: WorkerTask, cfg: SessionConfig): Executor {
  const p = task.profile;
  const { stripe, lane, sessions, messages } = task.plan;
  if (p.executor === 'closed') return runClosed(cfg, sessions, messages, p.durationMs, p.gracefulStopMs);
  if (p.executor === 'ramping-sessions') {
    // This worker's share of every stage's session count (shard, then worker), and of the messages.
    const stages = p.stages.map((st) => ({ durationMs: st.durationMs, target: stripeShare(st.target, stripe) }));
    return withDuration(runRampingSessions(cfg, stripeShare(p.startSessions, stripe), stages, messages, p.gracefulStopMs), p.durationMs);
  }
  const stages = p.executor === 'open' ? [{ durationMs: p.durationMs ?? Infinity, target: p.rate! }] : p.stages;
  const startRate = p.executor === 'open' ? p.rate! : p.startRate;
  const peak = Math.max(startRate, ...stages.map((s) => s.target));
  const run = runOpen(cfg, {
    clock: new ArrivalClock(lane, startRate, stages, p.messages),
    maxSessions: sessions,
    peakRate: peak / lane.stride,
    gracefulStopMs: p.gracefulStopMs,
    scheduleEndUs: stages.reduce((sum, st) => sum + st.durationMs, 0) * 1000,
  });
  // Ramping stages end the schedule by themselves; a duration as well is a hard bound.
  return p.executor === 'ramping-rate' ? withDuration(run, p.durationMs) : run;
}

/** Stops `run` after `durationMs` (null: never). */
function withDuration(run: Executor, durationMs: number | null): Executor {
  if (durationMs !== null) {
    const t = setTimeout(() => run.stop(), durationMs);
    void run.done.then(() => clearTimeout(t));
  }
  return run;
}

export default async function runWorker(spec: WorkerTask): Promise<WorkerResult> {
  const { profile, port2: port } = spec;
  const recorder = new Recorder();
  // Seeded per worker (profile.seed, recorded in summary.json) by its lane, distinct across every
  // shard and worker; one generator for sizes and counts.
  const rng = workerRng(profile.seed, spec.plan.lane.offset);
  const m = profile.message;
  const plan = buildWirePlan({
    sizes: m.sizeDist ? sampler(m.sizeDist, rng) : fixed(m.sizeBytes),
    recipientCounts: m.recipientsDist ? sampler(m.recipientsDist, rng, 1) : fixed(m.recipients),
    from: profile.envelope.from,
    to: profile.envelope.to,
    recipients: profile.message.recipients,
    sizeBytes: profile.message.sizeBytes,
    helo: profile.envelope.helo,
    lmtp: profile.target?.scheme === 'lmtp',
    text: m.text,
    ...(m.attachmentBytes !== null && { attachmentBytes: m.attachmentBytes }),
    ...(m.replay !== null && replayOf(m.replay, rng)),
    // Weighted recipient domains: their own generator (the same seed and lane), so adding them
    // leaves the size and count draws as they were.
    ...(profile.envelope.domains !== null && {
      domains: profile.envelope.domains.map((d) => d.domain),
      pickDomain: weightedPick(
        profile.envelope.domains.map((d) => d.weight),
        workerRng(profile.seed ^ DOMAIN_SEED, spec.plan.lane.offset),
      ),
    }),
  });
  // The CLI has read these files once already; a failure here is a file changed under the run.
  const settings = sessionSettings(profile);
  let stopRequested = false;
  let onStop: () => void = () => {
    stopRequested = true;
  };
  // 'start' lifts the barrier; a 'stop' before it (Ctrl-C while waiting for --start-at) ends the
  // task without a connection: nothing ran, nothing is reported.
  const started = new Promise<{ host: string; port: number } | null>((resolve) => {
    port.on('message', (m: ControlMessage) => {
      if (m.type === 'start') resolve(m);
      else if (m.type === 'stop') {
        onStop();
        resolve(null);
      }
    });
  });
  port.postMessage({ type: 'ready', index: spec.index });
  const target = await started;
  if (target === null) {
    port.postMessage({ type: 'done', index: spec.index, seq: -1 } satisfies DoneMessage);
    port.close();
    return { index: spec.index, elapsedMs: 0, health: { eventLoopDelayP99Ms: 0, eventLoopDelayMaxMs: 0, eventLoopUtilization: null }, ...recorder.snapshot() };
  }

  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const tickDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  tickDelay.enable();
  let elu0 = performance.eventLoopUtilization();
  let t0 = performance.now();
  let measuring = profile.warmupMs === 0;
  const run = startExecutor(spec, {
    host: target.host,
    port: target.port,
    plan,
    pipelining: profile.pipelining,
    messagesPerConnection: profile.messagesPerSession,
    timeouts: profile.timeouts,
    recorder,
    ...settings,
    scenario: profile.scenario ? { pick: scenarioPicker(profile.scenario, rng), lines: buildStepLines(profile.envelope.from, profile.envelope.to) } : null,
    // Message-IDs unique across runs (start time), seeds, shards (shards start in the same second) and workers.
    stamp: { run: (Date.now() / 1000) ^ Math.imul(profile.seed, 0x9e3779b1) ^ Math.imul(spec.plan.stripe.shard.index, 0x85ebca6b), worker: spec.index },
  });
  onStop = () => run.stop();
  if (stopRequested) run.stop();
  let seq = 0;
  let intervalStart = Date.now();
  const tick = (): void => {
    const now = Date.now();
    const msg: TickMessage = {
      type: 'tick',
      index: spec.index,
      seq: seq++,
      startMs: intervalStart,
      endMs: now,
      counters: { ...recorder.counters },
      replies: recorder.replies,
      enhanced: recorder.enhancedCounts(),
      errors: recorder.errors,
      causes: recorder.causes,
      intervals: recorder.interval(),
      activeSessions: run.active(),
      eventLoopDelayP99Ms: lateMs(tickDelay.percentile(99)),
      measuring,
    };
    tickDelay.reset();
    intervalStart = now;
    port.postMessage(msg);
  };
  let ticker = setInterval(tick, TICK_MS);
  const warmupTimer = measuring
    ? null
    : setTimeout(() => {
        // The warm-up's last interval is reported as it was (measuring: false), then everything
        // restarts and the ticks realign to the start of measurement: otherwise the first measured
        // tick would cover a second whose warm-up part was thrown away and read as a dip.
        tick();
        recorder.reset();
        loopDelay.reset();
        elu0 = performance.eventLoopUtilization();
        t0 = performance.now();
        measuring = true;
        clearInterval(ticker);
        ticker = setInterval(tick, TICK_MS);
      }, profile.warmupMs);
  await run.done;
  // The measured time ends with the load, before the last tick's histograms are encoded.
  const measuredMs = measuring ? performance.now() - t0 : 0;
  clearInterval(ticker);
  if (warmupTimer) clearTimeout(warmupTimer);
  tick();
  // After the last tick, on the same port (so it arrives after it): no more ticks from this worker.
  port.postMessage({ type: 'done', index: spec.index, seq: seq - 1 } satisfies DoneMessage);
  port.close();
  loopDelay.disable();
  tickDelay.disable();
  // Stopped before warm-up ended (Ctrl-C): everything recorded was warm-up, and nothing was measured.
  if (!measuring) recorder.reset();
  return {
    index: spec.index,
    elapsedMs: measuredMs,
    health: {
      eventLoopDelayP99Ms: lateMs(loopDelay.percentile(99)),
      eventLoopDelayMaxMs: lateMs(loopDelay.max),
      eventLoopUtilization: run.started() === 0 || measuredMs < MIN_UTILIZATION_WINDOW_MS ? null : performance.eventLoopUtilization(elu0).utilization,
    },
    ...recorder.snapshot(),
  };
}
