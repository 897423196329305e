/**
 * Everything that crosses the thread boundary, in one module (house style §10). All of it is
 * structured-clone safe: plain data, no functions, no class instances.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Phase } from '../metrics/phases.js';
import type { Counters, EnhancedCounts, ErrorCauses, ErrorCounts, MetricsSnapshot, ReplyCounts } from '../metrics/recorder.js';
import type { WorkerPlan } from '../profile/shard.js';
import type { Profile } from '../profile/types.js';

/** The task one load worker runs: its exact share of the profile (`profile/shard.ts`, the one rule). */
export interface WorkerTask {
  /** Worker index on this machine, 0-based (ticks and results carry it). */
  readonly index: number;
  /** Its stripe, lane and counts. */
  readonly plan: WorkerPlan;
  /** The whole profile (every shard's is the same). */
  readonly profile: Profile;
  /** Coordinator ↔ worker control and ticks. */
  readonly port2: MessagePort;
}

/** Worker → coordinator: loaded, plan built, nothing connected yet; waiting behind the start barrier. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly index: number;
}

/** Worker → coordinator, once a second: cumulative counters and the last interval's histograms. */
export interface TickMessage {
  readonly type: 'tick';
  readonly index: number;
  /** 0-based tick number since the start barrier; ticks with the same `seq` cover the same second. */
  readonly seq: number;
  /** Wall-clock interval covered, epoch ms. */
  readonly startMs: number;
  readonly endMs: number;
  readonly counters: Counters;
  /** Cumulative reply codes per phase, enhanced status codes per phase and errors by kind (small; sent whole each second). */
  readonly replies: ReplyCounts;
  readonly enhanced: EnhancedCounts;
  readonly errors: ErrorCounts;
  /** The first cause of each error kind (small; sent whole each second). */
  readonly causes: ErrorCauses;
  readonly intervals: Partial<Record<Phase, string>>;
  readonly activeSessions: number;
  /** Event-loop delay p99 over the interval, ms (generator health). */
  readonly eventLoopDelayP99Ms: number;
  /** True once the warm-up has ended (counters restarted then). */
  readonly measuring: boolean;
}

/** Coordinator → worker. */
/**
 * Coordinator → worker. `start` lifts the barrier and names the resolved target (the embedded
 * server's port when the profile has none): the workers load while the server thread starts.
 */
export type ControlMessage = { readonly type: 'start'; readonly host: string; readonly port: number } | { readonly type: 'stop' };

/** Worker → coordinator, after its last tick on the same port: no tick after `seq` will come. */
export interface DoneMessage {
  readonly type: 'done';
  readonly index: number;
  readonly seq: number;
}

export type WorkerMessage = ReadyMessage | TickMessage | DoneMessage;

/** Generator health of one worker over the measured part of the run. */
export interface GeneratorHealth {
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /**
   * Share of the measured time the worker's event loop was busy, 0..1 (`performance.eventLoopUtilization`):
   * near 1, the worker had no idle time left and its sessions waited on each other. Null when it
   * tells nothing: a worker that started no session, or one that measured less than a second (its loop
   * was busy starting up, which reads as 100 %: hostile review F9).
   */
  readonly eventLoopUtilization: number | null;
}

/** What a load worker's task returns. */
export interface WorkerResult extends MetricsSnapshot {
  readonly index: number;
  /** Measured time (after warm-up), ms. */
  readonly elapsedMs: number;
  readonly health: GeneratorHealth;
}
