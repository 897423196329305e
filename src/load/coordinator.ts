/**
 * The coordinator (main thread): starts the embedded reference server in its own thread when
 * the profile has no target, splits the profile exactly across a tinypool of load workers, lifts
 * the start barrier once every worker is ready, relays ticks as progress, and adds the workers'
 * histograms into one result (DESIGN §1).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import Tinypool from 'tinypool';
import { Merged, zeroCounters, type Counters } from '../metrics/recorder.js';
import { shardProfile } from '../profile/shard.js';
import type { Profile } from '../profile/types.js';
import type { ServerStats } from '../server/stats.js';
import type { ControlMessage, ServerMessage, ShardSpec, WorkerMessage, WorkerResult } from './ipc.js';

/** Compiled (`.js`) or source (`.ts`, via the tsx shims) sibling module. */
function sibling(base: string): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? `${base}.shim.mjs` : `${base}.js`, import.meta.url);
}

/** Live figures, about once a second. Counters are cumulative since the start barrier. */
export interface Progress {
  readonly elapsedMs: number;
  readonly counters: Counters;
  readonly activeSessions: number;
}

/** Everything a finished (or interrupted) run produced. */
export interface RunOutcome {
  readonly merged: Merged;
  readonly server: ServerStats | null;
  readonly target: { readonly host: string; readonly port: number; readonly embedded: boolean };
  readonly startedAt: Date;
  /** From the start barrier to the last worker's result, in seconds. */
  readonly durationS: number;
  readonly interrupted: boolean;
  readonly workers: number;
}

/** A run in progress. */
export interface RunHandle {
  readonly outcome: Promise<RunOutcome>;
  /** Graceful stop (Ctrl-C): no new transactions; those in flight finish; results are still returned. */
  stop(): void;
}

/** Starts the embedded server thread and resolves with its address and a `stop()` that returns its statistics. */
export async function startServerThread(profile: Profile): Promise<{ host: string; port: number; stop(): Promise<ServerStats> }> {
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
 * Runs `profile` to completion. `onProgress` is called about once a second.
 * @throws when the server thread or a worker cannot start (the CLI maps this to exit code 1)
 */
export function startRun(profile: Profile, onProgress?: (p: Progress) => void): RunHandle {
  let stopRequested = false;
  let stopWorkers: () => void = () => {};
  const stop = (): void => {
    stopRequested = true;
    stopWorkers();
  };
  const outcome = (async (): Promise<RunOutcome> => {
    const startedAt = new Date();
    const server = profile.target === null ? await startServerThread(profile) : null;
    const host = profile.target?.host ?? server!.host;
    const port = profile.target?.port ?? server!.port;
    const W = profile.workers;
    const pool = new Tinypool({ filename: sibling('./worker').href, minThreads: W, maxThreads: W, concurrentTasksPerWorker: 1, idleTimeout: 0 });
    const shards = shardProfile(profile, W);
    const latest: Progress[] = [];
    const ports = shards.map(() => new MessageChannel());
    let readyCount = 0;
    let releaseBarrier!: () => void;
    const barrier = new Promise<void>((r) => (releaseBarrier = r));
    const counters = new Array<Counters>(W).fill(zeroCounters());
    const active = new Array<number>(W).fill(0);
    ports.forEach((ch, i) => {
      ch.port1.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          if (++readyCount === W) releaseBarrier();
        } else if (m.type === 'tick') {
          counters[i] = m.counters;
          active[i] = m.activeSessions;
        }
      });
    });
    const tasks = shards.map((shard, i) => {
      const spec: ShardSpec = { index: i, profile, host, port, sessions: shard.sessions, messages: shard.messages, port2: ports[i].port2 };
      return pool.run(spec, { transferList: [ports[i].port2] }) as Promise<WorkerResult>;
    });
    let t0 = 0;
    let ticker: NodeJS.Timeout | null = null;
    try {
      // Start barrier (DESIGN §3 rule 5): a worker that fails before `ready` rejects the race.
      await Promise.race([barrier, Promise.all(tasks).then(() => undefined)]);
      t0 = performance.now();
      const send = (m: ControlMessage): void => ports.forEach((ch) => ch.port1.postMessage(m));
      send({ type: 'start' });
      stopWorkers = () => send({ type: 'stop' });
      if (stopRequested) stopWorkers();
      if (onProgress) {
        ticker = setInterval(() => {
          const sum = zeroCounters();
          for (const c of counters) for (const k of Object.keys(sum) as (keyof Counters)[]) sum[k] += c[k];
          latest[0] = { elapsedMs: performance.now() - t0, counters: sum, activeSessions: active.reduce((a, b) => a + b, 0) };
          onProgress(latest[0]);
        }, 1000);
      }
      const results = await Promise.all(tasks);
      const durationS = (performance.now() - t0) / 1000;
      const merged = new Merged();
      for (const r of results) merged.add(r);
      return {
        merged,
        server: server ? await server.stop() : null,
        target: { host, port, embedded: server !== null },
        startedAt,
        durationS,
        interrupted: stopRequested,
        workers: W,
      };
    } finally {
      if (ticker) clearInterval(ticker);
      for (const ch of ports) ch.port1.close();
      await pool.destroy();
    }
  })();
  return { outcome, stop };
}
