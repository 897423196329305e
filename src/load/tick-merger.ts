/**
 * Merging the load workers' ticks into whole seconds of the run: each worker reports once a second
 * (`TickMessage`, cumulative counters and that second's histograms), and the coordinator turns the
 * ticks with one `seq` into one `Progress` for the progress line, timeline.ndjson and run.hlog.
 */
import { performance } from 'node:perf_hooks';
import { addEncoded, newHistogram, type Histogram } from '../metrics/histogram.js';
import type { Phase } from '../metrics/phases.js';
import { addCauses, addCountsInto, zeroCounters, type Counters, type EnhancedCounts, type ErrorCauses, type ErrorCounts, type ReplyCounts } from '../metrics/recorder.js';
import type { TickMessage } from './ipc.js';

/** One second of the whole run: every worker's tick with the same `seq`, added up. */
export interface Progress {
  readonly seq: number;
  /** Seconds since the start barrier, at the end of this interval. */
  readonly elapsedS: number;
  /** Cumulative since the start (or the end of warm-up). */
  readonly counters: Counters;
  /** Cumulative reply codes per phase, enhanced status codes per phase and errors by kind, like `counters`. */
  readonly replies: ReplyCounts;
  readonly enhanced: EnhancedCounts;
  readonly errors: ErrorCounts;
  /** The first cause of each error kind (workers in index order). */
  readonly causes: ErrorCauses;
  /** This interval's merged histograms, by phase. */
  readonly intervals: ReadonlyMap<Phase, Histogram>;
  readonly intervalS: number;
  readonly activeSessions: number;
  /** Worst worker's event-loop delay p99 in this interval, ms. */
  readonly eventLoopDelayP99Ms: number;
  readonly measuring: boolean;
}

/**
 * Adds up the workers' ticks by `seq` and releases each second once every worker still running
 * has reported it (a worker says `done` after its last tick, so it is not waited for later).
 */
export class TickMerger {
  private readonly pending = new Map<number, TickMessage[]>();
  private readonly lastSeq: (number | null)[];
  private readonly latest: Counters[];
  private readonly latestCounts: { replies: ReplyCounts; enhanced: EnhancedCounts; errors: ErrorCounts; causes: ErrorCauses }[];
  private next = 0;

  constructor(
    private readonly workers: number,
    private readonly t0: () => number,
    private readonly emit: (p: Progress, ticks: readonly TickMessage[]) => void,
  ) {
    this.lastSeq = new Array<number | null>(workers).fill(null);
    this.latest = Array.from({ length: workers }, zeroCounters);
    this.latestCounts = Array.from({ length: workers }, () => ({ replies: {}, enhanced: {}, errors: {}, causes: {} }));
  }

  tick(t: TickMessage): void {
    let list = this.pending.get(t.seq);
    if (!list) this.pending.set(t.seq, (list = []));
    list.push(t);
    this.latest[t.index] = t.counters;
    this.latestCounts[t.index] = { replies: t.replies, enhanced: t.enhanced, errors: t.errors, causes: t.causes };
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
    const counts = { replies: {}, enhanced: {}, errors: {} };
    const causes: ErrorCauses = {};
    for (const c of this.latestCounts) {
      addCountsInto(counts, c.replies, c.errors, c.enhanced);
      addCauses(causes, c.causes);
    }
    return {
      seq: list[0].seq,
      elapsedS: (performance.now() - this.t0()) / 1000,
      counters,
      replies: counts.replies,
      enhanced: counts.enhanced,
      errors: counts.errors,
      causes,
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
