/**
 * Aligning runs in time for `smtpbench merge`: when each input measured (on the reference clock
 * when it measured its offset), and its run.hlog intervals and timeline.ndjson seconds added by
 * wall-clock second from one origin, each value kept exactly once.
 */
import type { Histogram } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import { addCountsInto, type ErrorCounts } from '../metrics/recorder.js';
import { addInto, ordered } from './merge-sums.js';
import type { Interval, RunData } from './run-data.js';
import { REPLY_CLASSES, secondPhases, type ReplyClass, type Second } from './timeline.js';

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** When one input measured, in epoch ms. */
export interface Timing {
  /** An idle shard (nothing to do): left out of the span, the overlap and the time origin. */
  readonly idle: boolean;
  readonly startMs: number;
  readonly endMs: number;
  /** Its start barrier, which its run.hlog and timeline.ndjson count from. */
  readonly barrierMs: number;
}

/** When `run` measured and where its per-second files count from, in epoch ms on the reference clock when it has one. */
export function timingOf(run: RunData): Timing {
  const s = run.summary;
  let startMs: number;
  let endMs: number;
  if (s.measured) {
    startMs = Date.parse(s.measured.start);
    endMs = Date.parse(s.measured.end);
  } else {
    // A summary written before `measured`: startedAt (when the run began, a little before its start
    // barrier, and before any warm-up) plus durationS, the nearest span it has.
    startMs = Date.parse(s.startedAt);
    endMs = startMs + s.durationS * 1000;
  }
  // The barrier: run.hlog's own StartTime, else the measured start less the warm-up (buildSummary
  // adds the warm-up only to a run that measured something).
  const warmupMs = s.measured && s.durationS > 0 ? s.warmupS * 1000 : 0;
  // A shard that measured its clock against a reference (--clock-ref) is put on that clock:
  // local time t is reference time t + offset, so every shard aligns on the one reference clock.
  const shift = s.shard?.clock?.offsetMs ?? 0;
  // An input that measured nothing (idle, or stopped before its start) says nothing about when the load ran.
  return { idle: s.shard?.idle === true || s.durationS === 0, startMs: startMs + shift, endMs: endMs + shift, barrierMs: (run.logStartMs ?? startMs - warmupMs) + shift };
}

/** The bucket of a span `fromMs`..`toMs`: the wall-clock second after `originMs` its midpoint falls in. */
const bucketOf = (fromMs: number, toMs: number, originMs: number): number => Math.floor(((fromMs + toMs) / 2 - originMs) / 1000);

/**
 * A merged second's span: bucket `k` from its start, as long as its longest input interval and at
 * most a second, so the short last second of a run stays short (readers skip short seconds).
 */
function spanOf(k: number, originMs: number, longestMs: number): { fromMs: number; toMs: number } {
  const fromMs = originMs + k * 1000;
  return { fromMs, toMs: fromMs + Math.min(1000, longestMs) };
}

/**
 * run.hlog of the inputs, added by wall-clock second: each input interval goes whole into the
 * second (counted from `originMs`) its midpoint falls in, and histograms of one phase there add.
 * The inputs' tick timers are not aligned (each machine started on its own) and an interval cannot
 * be split, so this rule keeps every value exactly once, in the second that holds most of its
 * interval; a second may hold two of one input's intervals when its ticks drift across a boundary.
 */
export function mergeIntervals(runs: readonly RunData[], barriers: readonly number[], originMs: number): Interval[] {
  const buckets = new Map<number, { fromMs: number; toMs: number; warmup: boolean; phases: ReadonlyMap<string, Histogram> }[]>();
  runs.forEach((run, i) => {
    const base = barriers[i];
    // A warm-up interval ends at the warm-up's end (the last one is a sliver); measured ones end a
    // second or so later. run.hlog has no flag for it, so the half-second mark tells them apart.
    const warmupEndMs = base + run.summary.warmupS * 1000 + 500;
    for (const iv of run.intervals) {
      const fromMs = base + iv.startS * 1000;
      const toMs = base + iv.endS * 1000;
      const k = bucketOf(fromMs, toMs, originMs);
      let list = buckets.get(k);
      if (!list) buckets.set(k, (list = []));
      list.push({ fromMs, toMs, warmup: run.summary.warmupS > 0 && toMs < warmupEndMs, phases: iv.phases });
    }
  });
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([k, all]) => {
      // A measured second holds measured intervals only: a warm-up sliver in it is left out.
      const list = all.some((e) => !e.warmup) ? all.filter((e) => !e.warmup) : all;
      const phases = new Map<string, Histogram>();
      for (const e of list) addInto(phases, e.phases);
      const span = spanOf(k, originMs, Math.max(...list.map((e) => e.toMs - e.fromMs)));
      return { startS: Math.round(span.fromMs - originMs) / 1000, endS: Math.round(span.toMs - originMs) / 1000, phases: ordered(phases, PHASES) };
    });
}

/**
 * timeline.ndjson of the inputs, added by wall-clock second as `mergeIntervals` does: counts add,
 * rates are the second's counts over its length, running totals add each input's latest, active
 * sessions add, the event-loop delay is the worst. A second's per-phase latencies come from the
 * merged run.hlog second of the same bucket (exact, never from the inputs' percentiles); with no
 * run.hlog they are left out. The target rate of a sharded run is the whole profile's (every shard
 * runs its share of one schedule); of unsharded runs, the sum of theirs.
 */
export function mergeTimelines(runs: readonly RunData[], barriers: readonly number[], originMs: number, intervals: readonly Interval[], targetAt: ((tS: number) => number | null) | null): Second[] {
  const buckets = new Map<number, { input: number; line: Second; fromMs: number; toMs: number }[]>();
  runs.forEach((run, input) => {
    for (const line of run.timeline) {
      const toMs = barriers[input] + line.t * 1000;
      const fromMs = toMs - line.intervalS * 1000;
      const k = bucketOf(fromMs, toMs, originMs);
      let list = buckets.get(k);
      if (!list) buckets.set(k, (list = []));
      list.push({ input, line, fromMs, toMs });
    }
  });
  const logByBucket = new Map(intervals.map((iv) => [Math.floor((iv.startS + iv.endS) / 2), iv]));
  const latest: (Second['totals'] | null)[] = runs.map(() => null);
  const out: Second[] = [];
  for (const [k, all] of [...buckets.entries()].sort(([a], [b]) => a - b)) {
    // A measured second holds measured lines only: the warm-up's last sliver in it is left out.
    const list = all.some((e) => e.line.measuring) ? all.filter((e) => e.line.measuring) : all;
    const span = spanOf(k, originMs, Math.max(...list.map((e) => e.toMs - e.fromMs)));
    const intervalS = Math.round(span.toMs - span.fromMs) / 1000;
    const t = Math.round(span.toMs - originMs) / 1000;
    const sum = (f: (s: Second) => number | undefined): number => list.reduce((a, e) => a + (f(e.line) ?? 0), 0);
    // An input's last line in this second has its current active sessions and running totals.
    const last = new Map<number, Second>();
    for (const e of list) {
      last.set(e.input, e.line);
      latest[e.input] = e.line.totals ?? latest[e.input];
    }
    const totals = { attempted: 0, accepted: 0, rejected: 0, failed: 0, late: 0, dropped: 0 };
    for (const tot of latest) if (tot) for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += tot[key] ?? 0;
    const messages = {
      accepted: sum((s) => s.messages.accepted),
      rejected: sum((s) => s.messages.rejected),
      failed: sum((s) => s.messages.failed),
      late: sum((s) => s.messages.late),
      dropped: sum((s) => s.messages.dropped),
    };
    const recipients = { accepted: sum((s) => s.recipients?.accepted), rejected: sum((s) => s.recipients?.rejected), failed: sum((s) => s.recipients?.failed) };
    const errors: ErrorCounts = {};
    for (const e of list) addCountsInto({ replies: {}, errors }, {}, e.line.errors);
    const rates = list.map((e) => e.line.targetRate).filter((r): r is number => r !== null);
    const targetRate = targetAt ? targetAt(t) : rates.length > 0 ? rates.reduce((a, r) => a + r, 0) : null;
    const dt = intervalS > 0 ? intervalS : 1;
    out.push({
      t,
      intervalS,
      measuring: list.every((e) => e.line.measuring),
      totals,
      messages,
      recipients,
      rates: { msgsPerS: round(messages.accepted / dt, 1), rcptsPerS: round(recipients.accepted / dt, 1) },
      targetRate: targetRate === null ? null : round(targetRate, 1),
      replies: Object.fromEntries(REPLY_CLASSES.map((cls) => [cls, sum((s) => s.replies[cls])])) as Record<ReplyClass, number>,
      errors,
      activeSessions: [...last.values()].reduce((a, s) => a + (s.activeSessions ?? 0), 0),
      eventLoopDelayP99Ms: Math.max(...list.map((e) => e.line.eventLoopDelayP99Ms ?? 0)),
      phases: secondPhases(logByBucket.get(k)?.phases ?? []),
    });
  }
  return out;
}
