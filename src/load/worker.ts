/**
 * Load worker entry (tinypool task). One long task per thread (methodology B.2): build the wire
 * plan, report `ready`, wait behind the start barrier so thread start-up is not measured
 * (DESIGN §3 rule 5), run the executor, tick counters once a second, return encoded histograms.
 */
import { buildWirePlan } from '../client/message.js';
import { Recorder } from '../metrics/recorder.js';
import { runClosed } from './closed.js';
import type { ControlMessage, ShardSpec, TickMessage, WorkerResult } from './ipc.js';

/** Tick period in ms. */
export const TICK_MS = 1000;

export default async function runShard(spec: ShardSpec): Promise<WorkerResult> {
  const { profile, port2: port } = spec;
  const recorder = new Recorder();
  const plan = buildWirePlan({
    from: profile.envelope.from,
    to: profile.envelope.to,
    recipients: profile.message.recipients,
    sizeBytes: profile.message.sizeBytes,
    helo: profile.envelope.helo,
  });
  let stopRequested = false;
  let onStop: () => void = () => {
    stopRequested = true;
  };
  const started = new Promise<void>((resolve) => {
    port.on('message', (m: ControlMessage) => {
      if (m.type === 'start') resolve();
      else if (m.type === 'stop') onStop();
    });
  });
  port.postMessage({ type: 'ready', index: spec.index });
  await started;

  const t0 = performance.now();
  const run = runClosed(
    {
      host: spec.host,
      port: spec.port,
      plan,
      pipelining: profile.pipelining,
      messagesPerConnection: profile.messagesPerSession,
      timeouts: profile.timeouts,
      recorder,
    },
    spec.sessions,
    spec.messages,
    profile.durationMs,
  );
  onStop = () => run.stop();
  if (stopRequested) run.stop();
  const tick = (): void => {
    const msg: TickMessage = { type: 'tick', index: spec.index, counters: { ...recorder.counters }, activeSessions: run.active() };
    port.postMessage(msg);
  };
  const ticker = setInterval(tick, TICK_MS);
  await run.done;
  clearInterval(ticker);
  tick();
  port.close();
  return { index: spec.index, elapsedMs: performance.now() - t0, ...recorder.snapshot() };
}
