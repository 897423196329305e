/**
 * The coordinator (main thread): starts the embedded reference server in its own thread when
 * the profile has no target, splits the profile exactly across a tinypool of load workers, lifts
 * the start barrier once every worker is ready, merges the workers' ticks second by second
 * (progress and the interval log), and adds the workers' histograms into one result (DESIGN §1).
 */
import { MessageChannel } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Tinypool } from 'tinypool';
import type { Histogram } from '../metrics/histogram.js';
import { Merged } from '../metrics/recorder.js';
import { planShard, WHOLE, type ShardPlan } from '../profile/shard.js';
import type { Profile } from '../profile/types.js';
import type { ServerStats } from '../server/stats.js';
import { startServerThread, type ServerThread } from '../server/thread-client.js';
import type { ControlMessage, GeneratorHealth, WorkerMessage, WorkerResult, WorkerTask } from './ipc.js';
import { TickMerger, type Progress } from './tick-merger.js';

/** The compiled worker entry (`worker.js`), or, when smtpbench runs from src/, its tsx shim. */
function workerEntry(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './worker.shim.mjs' : './worker.js', import.meta.url);
}

/** Everything a finished (or interrupted) run produced. */
export interface RunOutcome {
  readonly merged: Merged;
  readonly server: ServerStats | null;
  readonly target: { readonly host: string; readonly port: number; readonly embedded: boolean };
  readonly startedAt: Date;
  /** When the start barrier was lifted (the load began), epoch ms; `startedAt`'s time until then. */
  readonly barrierAtMs: number;
  /** With `startAtMs`: how much later than it the barrier was lifted, ms (0 on time); null without. Set by `startRun`. */
  readonly lateMs?: number | null;
  /** Measured seconds (after warm-up): the longest worker's; an abort's, the seconds merged while measuring. */
  readonly durationS: number;
  /**
   * False when the run ended inside its warm-up (a message quota, a stop): nothing was measured,
   * and every figure, the embedded server's too, is empty rather than warm-up data (hostile review F3).
   */
  readonly warmupCompleted: boolean;
  /** Most sessions open at once, sampled once a second from the workers' ticks (warm-up included). */
  readonly sessionsPeak: number;
  readonly interrupted: boolean;
  readonly workers: number;
  /** Each worker's health; empty when the workers never reported (an abort): unknown, not zero. */
  readonly health: readonly GeneratorHealth[];
}

/** A run in progress. */
export interface RunHandle {
  readonly outcome: Promise<RunOutcome>;
  /** Graceful stop (Ctrl-C): nothing new starts; transactions in flight finish within the grace time. */
  stop(): void;
  /**
   * What has been merged so far (every completed second, from the workers' ticks), for an abort
   * (a second Ctrl-C): the process may then exit without waiting for the workers.
   */
  partial(): RunOutcome;
}

/**
 * Where the coordinator writes each completed second's merged histograms (run.hlog's
 * `IntervalLog` is one). Owned here, so the run engine names no report class.
 */
export interface IntervalSink {
  /** One interval of `phase` (µs histogram), covering epoch ms `fromMs`..`toMs`. */
  write(phase: string, h: Histogram, fromMs: number, toMs: number): void;
  close(): void;
}

/** Hooks and options of a run. */
export interface RunHooks {
  /** Called once per completed second. */
  onProgress?: (p: Progress) => void;
  /**
   * The interval log to append every completed second to, made once the start barrier lifts (epoch
   * ms), before the workers are told to start. May be async (a module loaded on demand).
   */
  intervalLog?: (startMs: number) => IntervalSink | Promise<IntervalSink>;
  /**
   * This machine's share of the profile (`planShard`, `--shard i/N`), when the caller planned it
   * already; else the whole profile on `profile.workers` workers.
   */
  plan?: ShardPlan;
  /**
   * Lift the start barrier at this epoch ms of the local clock (`--start-at`, already corrected by
   * the clock offset), not before; at once when it has passed. A stop while waiting ends the run.
   */
  startAtMs?: number | null;
  /** Told once the workers are ready, with the ms left until `startAtMs` (<= 0: it has passed). */
  onWaiting?: (msLeft: number) => void;
}

/**
 * Runs `profile` to completion.
 * @throws when the server thread or a worker cannot start (the CLI maps this to exit code 1)
 */
export function startRun(profile: Profile, hooks: RunHooks = {}): RunHandle {
  let stopRequested = false;
  let stopWorkers: () => void = () => {};
  const stop = (): void => {
    stopRequested = true;
    stopWorkers();
  };
  // Running totals of the measured seconds, from ticks: what an abort can still report.
  const live = new Merged();
  const startedAt = new Date();
  // The one splitting rule: this machine's shard, then its workers (the workers may be fewer, open models).
  const plan = hooks.plan ?? planShard(profile, WHOLE, profile.workers);
  const W = plan.workers.length;
  let lateMs: number | null = null;
  let t0 = 0;
  let barrierAtMs = 0;
  // From the merged ticks, for an abort's outcome: seconds merged while measuring, and the peak of open sessions.
  let measuredS = 0;
  let sessionsPeak = 0;
  let target = { host: profile.target?.host ?? '127.0.0.1', port: profile.target?.port ?? 0, embedded: profile.target === null };
  const partial = (): RunOutcome => ({
    merged: live,
    server: null,
    target,
    startedAt,
    barrierAtMs: barrierAtMs || startedAt.getTime(),
    lateMs,
    durationS: measuredS,
    warmupCompleted: profile.warmupMs === 0 || measuredS > 0,
    sessionsPeak,
    interrupted: true,
    workers: W,
    health: [],
  });
  const outcome = (async (): Promise<RunOutcome> => {
    // A shard with no share of the work (more shards than sessions) runs nothing: an empty result
    // that merges as zeros, without a server thread or workers.
    if (plan.idle !== null) return { ...partial(), interrupted: false, warmupCompleted: true, barrierAtMs: Date.now(), workers: 0 };
    // The server thread and the load workers start side by side (start-up is every run's fixed
    // cost); the workers learn the target with the `start` message.
    const starting = profile.target === null ? startServerThread(profile.server) : null;
    let pool: Tinypool;
    try {
      pool = new Tinypool({ filename: workerEntry().href, minThreads: W, maxThreads: W, concurrentTasksPerWorker: 1, idleTimeout: 0 });
    } catch (err) {
      // The server thread is starting: stop it, or it keeps the process alive after the failure.
      void starting?.then((s) => s.stop()).catch(() => undefined);
      throw err;
    }
    const ports = Array.from({ length: W }, () => new MessageChannel());
    let log: IntervalSink | null = null;
    const merger = new TickMerger(
      W,
      () => t0,
      (p, ticks) => {
        sessionsPeak = Math.max(sessionsPeak, p.activeSessions);
        if (p.measuring) {
          measuredS += p.intervalS;
          for (const [phase, h] of p.intervals) live.histograms.get(phase)!.add(h);
          Object.assign(live.counters, p.counters);
          live.replies = p.replies;
          live.enhanced = p.enhanced;
          live.errors = p.errors;
          live.causes = p.causes;
        }
        if (log) {
          const from = Math.min(...ticks.map((t) => t.startMs));
          const to = Math.max(...ticks.map((t) => t.endMs));
          for (const [phase, h] of p.intervals) log.write(phase, h, from, to);
        }
        hooks.onProgress?.(p);
      },
    );
    let warmupTimer: NodeJS.Timeout | undefined;
    let readyCount = 0;
    let releaseBarrier!: () => void;
    const barrier = new Promise<void>((r) => (releaseBarrier = r));
    const drained = ports.map(
      (ch) =>
        new Promise<void>((resolveDrained) => {
          ch.port1.on('message', (m: WorkerMessage) => {
            if (m.type === 'ready') {
              if (++readyCount === W) releaseBarrier();
            } else if (m.type === 'tick') merger.tick(m);
            else if (m.type === 'done') {
              merger.done(m.index, m.seq);
              resolveDrained();
            }
          });
        }),
    );
    const tasks = plan.workers.map((share, i) => {
      const task: WorkerTask = { index: i, plan: share, profile, port2: ports[i].port2 };
      return pool.run(task, { transferList: [ports[i].port2] }) as Promise<WorkerResult>;
    });
    // Handled here so a worker that fails while the server thread is starting is not an unhandled
    // rejection; the start barrier's race below still sees the failure.
    for (const t of tasks) t.catch(() => undefined);
    let server: ServerThread | null;
    try {
      server = await starting;
    } catch (err) {
      ports.forEach((ch) => ch.port1.postMessage({ type: 'stop' } satisfies ControlMessage));
      await Promise.allSettled(tasks);
      await pool.destroy();
      throw err;
    }
    const host = profile.target?.host ?? server!.host;
    const port = profile.target?.port ?? server!.port;
    target = { host, port, embedded: server !== null };
    let serverStopped = false;
    const stopServer = (): Promise<ServerStats> => {
      serverStopped = true;
      return server!.stop();
    };
    try {
      // Start barrier (DESIGN §3 rule 5): a worker that fails before `ready` rejects the race.
      await Promise.race([barrier, Promise.all(tasks).then(() => undefined)]);
      if (hooks.startAtMs != null && !stopRequested) {
        // The common start of every shard (--start-at): wait for it, unless a stop comes first.
        const left = hooks.startAtMs - Date.now();
        hooks.onWaiting?.(left);
        if (left > 0)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left);
            stopWorkers = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        if (!stopRequested) lateMs = Math.max(0, Date.now() - hooks.startAtMs);
      }
      const send = (m: ControlMessage): void => ports.forEach((ch) => ch.port1.postMessage(m));
      const startMessage: ControlMessage = { type: 'start', host, port };
      if (stopRequested) {
        // Stopped before the load began (Ctrl-C during start-up or the --start-at wait): the workers
        // end without connecting, and the outcome says nothing ran.
        send({ type: 'stop' });
        await Promise.all(tasks);
        return { ...partial(), barrierAtMs: Date.now(), server: server ? await stopServer() : null, target: { host, port, embedded: server !== null } };
      }
      t0 = performance.now();
      barrierAtMs = Date.now();
      log = (await hooks.intervalLog?.(barrierAtMs)) ?? null;
      send(startMessage);
      // The server's own figures leave the warm-up out too, as the workers' do (their timers start now).
      if (server && profile.warmupMs > 0) warmupTimer = setTimeout(() => server.reset(), profile.warmupMs);
      stopWorkers = () => send({ type: 'stop' });
      if (stopRequested) stopWorkers();
      const results = await Promise.all(tasks);
      // Every worker's last tick and `done` arrive on its port; wait for them (briefly) before the last flush.
      // Unref'd: once the ports have drained, a pending timer would hold the process up for a second.
      await Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, 1000).unref())]);
      merger.flush(true);
      const merged = new Merged();
      for (const r of results) merged.add(r);
      const warmupCompleted = profile.warmupMs === 0 || results.some((r) => r.elapsedMs > 0);
      // The workers threw their warm-up away; the server's figures would still be warm-up data.
      if (server && !warmupCompleted) server.reset();
      return {
        merged,
        server: server ? await stopServer() : null,
        target: { host, port, embedded: server !== null },
        startedAt,
        barrierAtMs,
        lateMs,
        durationS: Math.max(...results.map((r) => r.elapsedMs)) / 1000,
        warmupCompleted,
        sessionsPeak,
        interrupted: stopRequested,
        workers: W,
        health: results.map((r) => r.health),
      };
    } finally {
      clearTimeout(warmupTimer);
      // On any failure too: the embedded server thread would otherwise keep the process alive.
      if (server && !serverStopped) await server.stop().catch(() => undefined);
      log?.close();
      for (const ch of ports) ch.port1.close();
      await pool.destroy();
    }
  })();
  return { outcome, stop, partial };
}
