/**
 * Intended start times of the open models (DESIGN §3 rule 3): a constant arrival rate, or
 * piecewise-linear ramping stages (k6's ramping-arrival-rate). Times are exact functions of the
 * arrival index, so a stalled generator never shifts the schedule: late messages are late, and
 * their latency counts from the time they should have started.
 *
 * Work is striped across shards and workers like k6's execution segments (the one rule of
 * `profile/shard.ts`): a worker takes global arrivals `offset, offset+stride, …` of its `Lane`, so
 * every worker's arrivals interleave evenly and all of them add up to the schedule exactly.
 */

import type { Lane } from '../profile/shard.js';
import type { Stage } from '../profile/types.js';

/**
 * Offset in µs from the run's start of global arrival number `n` (0-based), for stages that start
 * at `startRate` messages/s; Infinity after the last stage. The arrival count up to time t within a
 * stage is N(t) = r0·t + (r1 − r0)·t²/(2D); its inverse gives the time of the n-th arrival.
 */
export function arrivalOffsetUs(n: number, startRate: number, stages: readonly Stage[]): number {
  let base = 0; // arrivals before this stage
  let t0 = 0; // stage start, seconds
  let r0 = startRate;
  // Arrival n (0-based) is at the time the cumulative count N(t) reaches n: the first at t = 0, as in k6 and wrk2.
  for (const stage of stages) {
    const D = stage.durationMs / 1000;
    const r1 = stage.target;
    const inStage = ((r0 + r1) * D) / 2;
    const k = n - base;
    if (k < inStage) {
      let t: number;
      const a = (r1 - r0) / (2 * D);
      if (Math.abs(a) < 1e-12) t = k / r0;
      else t = (-r0 + Math.sqrt(r0 * r0 + 4 * a * k)) / (2 * a);
      return Math.round((t0 + t) * 1e6);
    }
    base += inStage;
    t0 += D;
    r0 = r1;
  }
  return Infinity;
}

/** A worker's stream of intended start offsets (µs since the run's start), its stripe of the global schedule. */
export class ArrivalClock {
  private k = 0;

  /**
   * @param lane this worker's stripe of the global schedule
   * @param startRate messages/s at the start (the constant rate for the open model)
   * @param stages ramping stages; for a constant rate, one stage of the run's duration at that rate
   * @param messages total across all shards and workers, or null
   */
  constructor(
    private readonly lane: Lane,
    private readonly startRate: number,
    private readonly stages: readonly Stage[],
    private readonly messages: number | null,
  ) {}

  /** Offset of this worker's next arrival without consuming it; Infinity when the schedule is over. */
  peek(): number {
    const n = this.lane.offset + this.k * this.lane.stride;
    if (this.messages !== null && n >= this.messages) return Infinity;
    return arrivalOffsetUs(n, this.startRate, this.stages);
  }

  /** Why `peek()` answers Infinity: the message count is reached, or the schedule's time is over. */
  endReason(): 'count' | 'time' {
    return this.messages !== null && this.lane.offset + this.k * this.lane.stride >= this.messages ? 'count' : 'time';
  }

  /** Consumes the arrival `peek()` returned. */
  take(): void {
    this.k++;
  }
}
