/**
 * Everything that crosses the thread boundary, in one module (house style §10). All of it is
 * structured-clone safe: plain data, no functions, no class instances.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Counters, MetricsSnapshot } from '../metrics/recorder.js';
import type { Profile } from '../profile/types.js';

/** The task one load worker runs: its exact share of the profile. */
export interface ShardSpec {
  readonly index: number;
  readonly profile: Profile;
  /** Resolved target (the embedded server's port when the profile has no target). */
  readonly host: string;
  readonly port: number;
  /** This worker's sessions. */
  readonly sessions: number;
  /** This worker's messages, or null when the run is bounded by time only. */
  readonly messages: number | null;
  /** Coordinator ↔ worker control and ticks. */
  readonly port2: MessagePort;
}

/** Worker → coordinator: loaded and connected nothing yet; waiting behind the start barrier. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly index: number;
}

/** Worker → coordinator, about once a second: counters so far (cumulative). */
export interface TickMessage {
  readonly type: 'tick';
  readonly index: number;
  readonly counters: Counters;
  readonly activeSessions: number;
}

/** Coordinator → worker. */
export type ControlMessage = { readonly type: 'start' } | { readonly type: 'stop' };

export type WorkerMessage = ReadyMessage | TickMessage;

/** What a load worker's task returns. */
export interface WorkerResult extends MetricsSnapshot {
  readonly index: number;
  readonly elapsedMs: number;
}

/** Server thread → coordinator. */
export type ServerMessage =
  | { readonly type: 'listening'; readonly host: string; readonly port: number }
  | { readonly type: 'stats'; readonly stats: import('../server/stats.js').ServerStats };
