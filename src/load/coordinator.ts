/**
 * The coordinator (main thread): starts the embedded reference server in its own thread when
 * the profile has no target, splits the profile exactly across a tinypool of load workers, lifts
 * the start barrier once every worker is ready, merges the workers' ticks second by second
 * (progress and the interval log), and adds the workers' histograms into one result (DESIGN §1).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import Tinypool from 'tinypool';
import { addEncoded, newHistogram, type Histogram } from '../metrics/histogram.js';
import type { Phase } from '../metrics/phases.js';
import { addCountsInto, Merged, zeroCounters, type Counters, type ErrorCounts, type ReplyCounts } from '../metrics/recorder.js';
import { planShard, WHOLE, type Part, type ShardPlan } from '../profile/shard.js';
import type { Profile } from '../profile/types.js';
import type { IntervalLog } from '../report/hlog.js';
import type { ServerStats } from '../server/stats.js';
import type { ControlMessage, GeneratorHealth, ServerMessage, TickMessage, WorkerMessage, WorkerResult, WorkerTask } from './ipc.js';

/** Compiled (`.js`) or source (`.ts`, via the tsx shims) sibling module. */
function sibling(base: string): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? `${base}.shim.mjs` : `${base}.js`, import.meta.url);
}

/** One second of the whole run: every worker's tick with the same `seq`, added up. */
export interface Progress {
  readonly seq: number;
  /** Seconds since the start barrier, at the end of this interval. */
  readonly elapsedS: number;
  /** Cumulative since the start (or the end of warm-up). */
  readonly counters: Counters;
  /** Cumulative reply codes per phase and errors by kind, like `counters`. */
  readonly replies: ReplyCounts;
  readonly errors: ErrorCounts;
  /** This interval's merged histograms, by phase. */
  readonly intervals: ReadonlyMap<Phase, Histogram>;
  readonly intervalS: number;
  readonly activeSessions: number;
  /** Worst worker's event-loop delay p99 in this interval, ms. */
  readonly eventLoopDelayP99Ms: number;
  readonly measuring: boolean;
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
  /** This machine's plan: its shard, its workers' shares, and whether it had nothing to do. Set by `startRun`. */
  readonly plan?: ShardPlan;
  /** Measured seconds (after warm-up): the longest worker's. */
  readonly durationS: number;
  readonly interrupted: boolean;
  readonly workers: number;
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

/** Hooks and options of a run. */
export interface RunHooks {
  /** Called once per completed second. */
  onProgress?: (p: Progress) => void;
  /** The interval log to append every completed second to. */
  intervalLog?: (startMs: number) => IntervalLog;
  /** This machine's shard of the profile (`--shard i/N`); the whole profile when absent. */
  shard?: Part;
  /**
   * Lift the start barrier at this epoch ms of the local clock (`--start-at`, already corrected by
   * the clock offset), not before; at once when it has passed. A stop while waiting ends the run.
   */
  startAtMs?: number | null;
  /** Told once the workers are ready, with the ms left until `startAtMs` (<= 0: it has passed). */
  onWaiting?: (msLeft: number) => void;
}

/** Starts the embedded server thread and resolves with its address and a `stop()` that returns its statistics. */
export async function startServerThread(profile: Profile): Promise<{ host: string; port: number; reset(): void; stop(): Promise<ServerStats> }> {
  const worker = new Worker(sibling('../server/thread'), { workerData: { settings: profile.server, host: '127.0.0.1' } });
  const listening = await new Promise<{ host: string; port: number }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: ServerMessage) => {
      worker.off('error', reject);
      if (m.type === 'listening') resolve(m);
      else reject(new Error('server thread did not report listening'));
    });
  });
  return {
    ...listening,
    reset: () => worker.postMessage('reset'),
    stop: () =>
      new Promise<ServerStats>((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (m: ServerMessage) => {
          if (m.type === 'stats') {
            resolve(m.stats);
            void worker.terminate();
          }
        });
        worker.postMessage('stop');
      }),
  };
}

/**
 * Adds up the workers' ticks by `seq` and releases each second once every worker still running
 * has reported it (a worker says `done` after its last tick, so it is not waited for later).
 */
export class TickMerger {
  private readonly pending = new Map<number, TickMessage[]>();
  private readonly lastSeq: (number | null)[];
  private readonly latest: Counters[];
  private readonly latestCounts: { replies: ReplyCounts; errors: ErrorCounts }[];
  private next = 0;

  constructor(
    private readonly workers: number,
    private readonly t0: () => number,
    private readonly emit: (p: Progress, ticks: readonly TickMessage[]) => void,
  ) {
    this.lastSeq = new Array<number | null>(workers).fill(null);
    this.latest = Array.from({ length: workers }, zeroCounters);
    this.latestCounts = Array.from({ length: workers }, () => ({ replies: {}, errors: {} }));
  }

  tick(t: TickMessage): void {
    let list = this.pending.get(t.seq);
    if (!list) this.pending.set(t.seq, (list = []));
    list.push(t);
    this.latest[t.index] = t.counters;
    this.latestCounts[t.index] = { replies: t.replies, errors: t.errors };
    this.flush(false);
  }

  /** Worker `index` will send no tick after `seq`. */
  done(index: number, seq: number): void {
    this.lastSeq[index] = seq;
    this.flush(false);
  }

  /** Releases every complete second in order; `all` releases the rest too (end of run). */
  flush(all: boolean): void {
    for (;;) {
      const list = this.pending.get(this.next);
      if (!list) return;
      const expected = this.lastSeq.filter((l) => l === null || l >= this.next).length;
      if (!all && list.length < expected) return;
      this.pending.delete(this.next);
      this.next++;
      this.emit(this.merge(list), list);
    }
  }

  private merge(list: readonly TickMessage[]): Progress {
    const intervals = new Map<Phase, Histogram>();
    for (const t of list) {
      for (const [phase, b64] of Object.entries(t.intervals)) {
        let h = intervals.get(phase as Phase);
        if (!h) intervals.set(phase as Phase, (h = newHistogram()));
        addEncoded(h, b64!);
      }
    }
    const counters = zeroCounters();
    for (const c of this.latest) for (const k of Object.keys(counters) as (keyof Counters)[]) counters[k] += c[k];
    const counts = { replies: {}, errors: {} };
    for (const c of this.latestCounts) addCountsInto(counts, c.replies, c.errors);
    return {
      seq: list[0].seq,
      elapsedS: (performance.now() - this.t0()) / 1000,
      counters,
      replies: counts.replies,
      errors: counts.errors,
      intervals,
      // Each worker counted over its own tick interval; their timers are not aligned, so the span
      // from the earliest start to the latest end is longer than the time any worker counted over.
      intervalS: list.reduce((sum, t) => sum + (t.endMs - t.startMs), 0) / list.length / 1000,
      activeSessions: list.reduce((a, t) => a + t.activeSessions, 0),
      eventLoopDelayP99Ms: Math.max(...list.map((t) => t.eventLoopDelayP99Ms)),
      measuring: list.every((t) => t.measuring),
    };
  }
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
  const plan = planShard(profile, hooks.shard ?? WHOLE, profile.workers);
  const W = plan.workers.length;
  let lateMs: number | null = null;
  let t0 = 0;
  let barrierAtMs = 0;
  let target = { host: profile.target?.host ?? '127.0.0.1', port: profile.target?.port ?? 0, embedded: profile.target === null };
  const partial = (): RunOutcome => ({
    merged: live,
    server: null,
    target,
    startedAt,
    barrierAtMs: barrierAtMs || startedAt.getTime(),
    lateMs,
    plan,
    durationS: t0 === 0 ? 0 : (performance.now() - t0) / 1000,
    interrupted: true,
    workers: W,
    health: [],
  });
  const outcome = (async (): Promise<RunOutcome> => {
    // A shard with no share of the work (more shards than sessions) runs nothing: an empty result
    // that merges as zeros, without a server thread or workers.
    if (plan.idle !== null) return { ...partial(), interrupted: false, barrierAtMs: Date.now(), workers: 0 };
    const server = profile.target === null ? await startServerThread(profile) : null;
    const host = profile.target?.host ?? server!.host;
    const port = profile.target?.port ?? server!.port;
    target = { host, port, embedded: server !== null };
    let serverStopped = false;
    const stopServer = (): Promise<ServerStats> => {
      serverStopped = true;
      return server!.stop();
    };
    const pool = new Tinypool({ filename: sibling('./worker').href, minThreads: W, maxThreads: W, concurrentTasksPerWorker: 1, idleTimeout: 0 });
    const ports = Array.from({ length: W }, () => new MessageChannel());
    let log: IntervalLog | null = null;
    const merger = new TickMerger(
      W,
      () => t0,
      (p, ticks) => {
        if (p.measuring) {
          for (const [phase, h] of p.intervals) live.histograms.get(phase)!.add(h);
          Object.assign(live.counters, p.counters);
          live.replies = p.replies;
          live.errors = p.errors;
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
      const task: WorkerTask = { index: i, plan: share, profile, host, port, port2: ports[i].port2 };
      return pool.run(task, { transferList: [ports[i].port2] }) as Promise<WorkerResult>;
    });
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
      if (stopRequested) {
        // Stopped before the load began (Ctrl-C during start-up or the --start-at wait): the workers
        // end without connecting, and the outcome says nothing ran.
        send({ type: 'stop' });
        await Promise.all(tasks);
        return { ...partial(), barrierAtMs: Date.now(), server: server ? await stopServer() : null, target: { host, port, embedded: server !== null } };
      }
      t0 = performance.now();
      barrierAtMs = Date.now();
      log = hooks.intervalLog?.(barrierAtMs) ?? null;
      send({ type: 'start' });
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
      return {
        merged,
        server: server ? await stopServer() : null,
        target: { host, port, embedded: server !== null },
        startedAt,
        barrierAtMs,
        lateMs,
        plan,
        durationS: Math.max(...results.map((r) => r.elapsedMs)) / 1000,
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
