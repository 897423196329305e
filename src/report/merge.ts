/**
 * `smtpbench merge`: adds several runs of one profile (the shards of a distributed run, DESIGN §6,
 * README "Merging shards") into one run, exactly: whole-run histograms add (HdrHistograms add
 * without loss, DESIGN §3 rule 6), counters, replies and errors add, run.hlog seconds and
 * timeline.ndjson lines add by wall-clock second, and every percentile is recomputed from the
 * merged histograms. Nothing is averaged.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SmtpBenchError } from '../errors.js';
import { DEFAULT_PERCENTILES, encodeHistogram, newHistogram, sizeStatsOf, statsOf, type Histogram, type PhaseStats, type SizeStats } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import { addCountsInto, type ErrorCounts, type ReplyCounts } from '../metrics/recorder.js';
import type { Profile, Threshold } from '../profile/types.js';
import { printable } from '../redact.js';
import { IntervalLog } from './hlog.js';
import { decodeAll, type Interval, type RunData } from './run-data.js';
import type { DeliveryReport } from './sink.js';
import { SATURATION_EVENT_LOOP_P99_MS, SUMMARY_SCHEMA, type MergeInput, type Summary } from './summary.js';
import { evaluate } from './thresholds.js';
import { REPLY_CLASSES, secondPhases, targetRateAt, TimelineLog, type ReplyClass, type Second } from './timeline.js';
import { newRunId, writeReports } from './write.js';

/**
 * Profile keys that may differ between the machines of one distributed run, left out when merge
 * compares profiles: `workers` (default: the machine's cores), `thresholds` and `percentiles` (a
 * shard may gate or report on its own; the merged run is judged and reported with all of them), and
 * `target` (each machine's own embedded server, or the nodes of one MTA cluster; a differing target
 * URL is a warning).
 */
export const PER_MACHINE_KEYS: readonly string[] = ['workers', 'thresholds', 'percentiles', 'target'];

/** Below this overlap of the inputs' measured spans (`MergeInfo.overlap`), merge warns. */
export const MIN_OVERLAP = 0.9;

export interface MergeOptions {
  /**
   * Merge runs whose profiles differ (beyond `PER_MACHINE_KEYS`) or whose shard counts differ; each
   * such difference becomes a warning. Never the same run or the same shard twice: that would count
   * its messages twice.
   */
  readonly force?: boolean;
  /** Thresholds to evaluate after the profile's (`--threshold`), parsed by `resolveThresholds`. */
  readonly thresholds?: readonly Threshold[];
  /** The time the merged run id is stamped with (default: now). */
  readonly now?: Date;
}

/** A merged run, ready to write (`writeMergedRun`). */
export interface MergedRun {
  /** The merged summary.json, thresholds evaluated; `merged` says what went in. */
  readonly summary: Summary;
  /** Whole-run histogram of each phase with data (µs): the sum of the inputs'. */
  readonly histograms: Map<string, Histogram>;
  /** The reference servers' whole-run histograms (µs), summed by name. */
  readonly serverHistograms: Map<string, Histogram>;
  /**
   * The merged run.hlog: its StartTime (epoch ms, the earliest input's start barrier) and its
   * seconds counted from there; null when no input had a run.hlog.
   */
  readonly log: { readonly startMs: number; readonly intervals: readonly Interval[] } | null;
  /** The merged timeline.ndjson lines (counted from `log.startMs`'s origin); null when no input had one. */
  readonly timeline: readonly Second[] | null;
}

/** When one input measured, in epoch ms. */
interface Timing {
  /** An idle shard (nothing to do): left out of the span, the overlap and the time origin. */
  readonly idle: boolean;
  readonly startMs: number;
  readonly endMs: number;
  /** Its start barrier, which its run.hlog and timeline.ndjson count from. */
  readonly barrierMs: number;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const name = (run: RunData): string => printable(run.source);

function timingOf(run: RunData): Timing {
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

/** A value for a one-line message: JSON, cut short. */
function show(v: unknown): string {
  const text = v === undefined ? 'absent' : JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The dotted paths where `a` and `b` differ, each `path a ≠ b` (arrays compared whole). */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path || '(root)'} ${show(a)} ≠ ${show(b)}`];
}

/** The differences between two profiles that matter: `PER_MACHINE_KEYS` left out. */
function profileDifferences(a: Profile, b: Profile): string[] {
  const strip = (p: Profile): Record<string, unknown> => Object.fromEntries(Object.entries(p).filter(([k]) => !PER_MACHINE_KEYS.includes(k)));
  return differences(strip(a), strip(b));
}

/** At most three differences, then how many more, on one line. */
const listed = (diffs: readonly string[]): string => diffs.slice(0, 3).join('; ') + (diffs.length > 3 ? `; and ${diffs.length - 3} more` : '');

/**
 * Checks that `runs` can be added up. Returns the warnings (missing shards; with `force`, the
 * differences it merged despite).
 * @throws SmtpBenchError SB_USAGE, one line naming the inputs: no input; the same run twice (runId)
 *   or the same shard twice; unless `force`, different profiles or shard counts
 */
function checkInputs(runs: readonly RunData[], force: boolean): string[] {
  if (runs.length === 0) throw new SmtpBenchError('SB_USAGE', 'merge needs at least one run directory');
  const warnings: string[] = [];
  // Different schema versions cannot get here: loadRunDir reads schema 1 only, and names any other.
  // A merged input stands for the runs it was merged from: each of them counts, so merging a merged
  // run with one of its own runs (or with another merge of it) is the same run twice.
  const leaves = runs.flatMap((r) => leavesOf(r).map((leaf) => ({ r, leaf })));
  const byRunId = new Map<string, RunData>();
  for (const { r, leaf } of leaves) {
    const seen = byRunId.get(leaf.runId);
    if (seen) {
      const plain = seen.summary.runId === leaf.runId && r.summary.runId === leaf.runId;
      const what = plain ? `are the same run (${printable(leaf.runId)})` : `${seen === r ? 'hold' : 'both hold'} the run ${printable(leaf.runId)}`;
      throw new SmtpBenchError('SB_USAGE', `cannot merge: ${name(seen)} and ${name(r)} ${what}; merging it twice would count its messages twice`);
    }
    byRunId.set(leaf.runId, r);
  }
  const refuse = (message: string): void => {
    if (!force) throw new SmtpBenchError('SB_USAGE', `cannot merge: ${message}; --force merges them anyway`);
    warnings.push(`merged despite: ${message} (--force)`);
  };
  // Shards: one count N, each index once. A "shard" of 1 (an unsharded run given --start-at) is a whole run.
  const partOf = (leaf: MergeInput): { index: number; count: number } | null => (leaf.shard && leaf.shard.count > 1 ? leaf.shard : null);
  const shardOf = (leaf: MergeInput): string => {
    const sh = partOf(leaf);
    return sh ? `shard ${sh.index}/${sh.count}` : 'not a shard';
  };
  const first = leaves[0];
  const other = leaves.find(({ leaf }) => (partOf(leaf)?.count ?? null) !== (partOf(first.leaf)?.count ?? null));
  if (other)
    refuse(`${name(first.r)} is ${shardOf(first.leaf)} but ${name(other.r)} ${other.r === first.r ? 'also holds' : 'is'} ${shardOf(other.leaf)}: shards of different splits cover different shares`);
  const byShard = new Map<string, RunData>();
  for (const { r, leaf } of leaves) {
    const sh = partOf(leaf);
    if (!sh) continue;
    const key = `${sh.index}/${sh.count}`;
    const seen = byShard.get(key);
    if (seen) throw new SmtpBenchError('SB_USAGE', `cannot merge: ${name(seen)} and ${name(r)} ${seen === r ? 'hold' : 'are'} both shard ${key}; merging both would count that share twice`);
    byShard.set(key, r);
  }
  for (const count of new Set(
    leaves.flatMap(({ leaf }) => {
      const sh = partOf(leaf);
      return sh ? [sh.count] : [];
    }),
  )) {
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byShard.has(`${i}/${count}`));
    if (missing.length > 0) {
      warnings.push(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing: the merged run covers ${count - missing.length} of ${count} shares of the profile`);
    }
  }
  for (const r of runs.slice(1)) {
    const diffs = profileDifferences(runs[0].summary.profile, r.summary.profile);
    if (diffs.length > 0) refuse(`${name(runs[0])} and ${name(r)} ran different profiles (${listed(diffs)})`);
  }
  return warnings;
}

/**
 * The runs an input stands for: a merged run's own inputs (themselves the runs it was made of, so a
 * merge of merges lists every run once), or the input itself.
 */
function leavesOf(r: RunData): MergeInput[] {
  const s = r.summary;
  if (s.merged && s.merged.inputs.length > 0) return [...s.merged.inputs];
  return [
    {
      source: r.source,
      runId: s.runId,
      shard: s.shard ?? null,
      host: s.shard?.host ?? null,
      startedAt: s.startedAt,
      measured: s.measured ?? null,
      durationS: s.durationS,
      workers: s.workers,
      accepted: s.totals.messages.accepted,
    },
  ];
}

/** Adds every histogram of `from` into `into`, by name. */
function addInto(into: Map<string, Histogram>, from: ReadonlyMap<string, Histogram>): void {
  for (const [key, h] of from) {
    let to = into.get(key);
    if (!to) into.set(key, (to = newHistogram()));
    to.add(h);
  }
}

/** `map` with the names in `order` first (in that order), then the others sorted. */
function ordered<T>(map: ReadonlyMap<string, T>, order: readonly string[]): Map<string, T> {
  const names = [...order.filter((n) => map.has(n)), ...[...map.keys()].filter((n) => !order.includes(n)).sort()];
  return new Map(names.map((n) => [n, map.get(n)!]));
}

/**
 * The run id's profile name: `2026-11-30T10-15-02.123Z-smoke-4f2a9c` → `smoke` (`newRunId`'s
 * form; a merged run's `-merged` dropped); `run` for an id of another form.
 */
function profileNameOf(runId: string): string {
  const m = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-(.+)-[0-9a-f]{6}$/.exec(runId);
  return (m?.[1] ?? 'run').replace(/-merged$/, '');
}

/** The sum of the inputs' figures; null when any is null (unknown stays unknown). */
const sumOrNull = <T>(list: readonly T[], f: (x: T) => number | null): number | null => (list.some((x) => f(x) === null) ? null : list.reduce((a, x) => a + f(x)!, 0));

/**
 * The delivery figures of several shards that each checked the sink (`run --sink`): counts add
 * (null when any is unknown), the drain is done when every shard's was, and the rate is the
 * delivered messages over the longest window (the shards' windows run side by side).
 */
export function mergeDelivery(list: readonly DeliveryReport[]): DeliveryReport {
  const delivered = sumOrNull(list, (d) => d.delivered);
  const windowS = Math.max(...list.map((d) => d.windowS));
  const errors = list.flatMap((d) => (d.error ? [d.error] : []));
  return {
    sink: [...new Set(list.map((d) => d.sink))].join(', '),
    accepted: list.reduce((a, d) => a + d.accepted, 0),
    delivered,
    deliveredAtLeast: list.some((d) => d.deliveredAtLeast),
    deliveredAtLoadEnd: sumOrNull(list, (d) => d.deliveredAtLoadEnd),
    queued: sumOrNull(list, (d) => d.queued),
    drained: list.some((d) => d.drained === false) ? false : list.every((d) => d.drained === true) ? true : null,
    drainStopped: list.some((d) => d.drainStopped),
    drainS: Math.max(...list.map((d) => d.drainS)),
    drainTimeoutS: Math.max(...list.map((d) => d.drainTimeoutS)),
    ratePerS: delivered === null ? null : windowS > 0 ? round(delivered / windowS, 1) : 0,
    windowS,
    // Each shard measured its own clock against the sink: the offset furthest from 0, the widest uncertainty.
    clockOffsetMs: list.map((d) => d.clockOffsetMs).reduce((a, x) => (Math.abs(x) > Math.abs(a) ? x : a), 0),
    clockUncertaintyMs: Math.max(...list.map((d) => d.clockUncertaintyMs)),
    error: errors.length > 0 ? errors.join('; ') : null,
  };
}

/**
 * `stats` with the exact maximum: the largest of the inputs' (each recorded it exactly, while a
 * histogram decoded from its encoding knows only the top of its highest bucket, 3 significant
 * digits). Every other statistic is the merged histogram's own. Inputs without the row (no value
 * there) do not count; with none, `stats` stays as it is.
 */
function withMax<S extends { count: number; max: number }>(stats: S, inputs: readonly (S | undefined)[]): S {
  const maxima = inputs.flatMap((st) => (st && st.count > 0 ? [st.max] : []));
  return maxima.length === 0 ? stats : { ...stats, max: Math.max(...maxima) };
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

/**
 * Adds `runs` into one run (README "Merging shards"): see the module comment. The inputs'
 * profile (the first's, with the thresholds and percentiles of all, `workers` the sum) is the
 * merged run's; its thresholds and `options.thresholds` are evaluated on the merged histograms.
 * Rates are over the merged measured span (earliest start to latest end).
 * @throws SmtpBenchError SB_USAGE, one line naming the inputs: see `checkInputs`
 */
export function mergeRuns(runs: readonly RunData[], options: MergeOptions = {}): MergedRun {
  const warnings = checkInputs(runs, options.force ?? false);
  const summaries = runs.map((r) => r.summary);
  const first = summaries[0];

  // Time: idle shards ran nothing, so they say nothing about when the load ran.
  const timings = runs.map(timingOf);
  const active = timings.some((t) => !t.idle) ? timings.filter((t) => !t.idle) : timings;
  const spanStart = Math.min(...active.map((t) => t.startMs));
  const spanEnd = Math.max(...active.map((t) => t.endMs));
  const spanMs = Math.max(0, spanEnd - spanStart);
  const latestStart = Math.max(...active.map((t) => t.startMs));
  const earliestEnd = Math.min(...active.map((t) => t.endMs));
  const overlap = active.length < 2 || spanMs === 0 ? 1 : round(Math.max(0, earliestEnd - latestStart) / spanMs, 3);
  if (overlap < MIN_OVERLAP) {
    warnings.push(
      `the runs overlap poorly in time: ${round(overlap * 100, 1)} % (latest start ${new Date(latestStart).toISOString()} to earliest end ${new Date(earliestEnd).toISOString()}, of a merged span of ${round(spanMs / 1000, 3)} s); merged rates are over the whole span, so they understate what ran at once`,
    );
  }

  // The profile: the first input's, with what may differ per machine gathered from all.
  const thresholds: Threshold[] = [];
  for (const t of [...summaries.flatMap((s) => s.profile.thresholds ?? []), ...(options.thresholds ?? [])]) {
    if (!thresholds.some((u) => u.expression === t.expression)) thresholds.push(t);
  }
  const percentiles = [...new Set(summaries.flatMap((s) => s.profile.percentiles ?? DEFAULT_PERCENTILES))].sort((a, b) => a - b);
  const workers = summaries.reduce((a, s) => a + s.workers, 0);
  const profile: Profile = { ...first.profile, workers, thresholds, percentiles };
  const leaves = runs.flatMap(leavesOf);
  const sharded = leaves.every((i) => i.shard && i.shard.count > 1) && new Set(leaves.map((i) => i.shard!.count)).size === 1;

  // Histograms: added, never averaged.
  const histograms = new Map<string, Histogram>();
  const serverHistograms = new Map<string, Histogram>();
  const serverSizes = new Map<string, Histogram>();
  const generator = new Map<string, Histogram>();
  for (const r of runs) {
    addInto(histograms, r.histograms);
    addInto(serverHistograms, r.serverHistograms);
    addInto(serverSizes, decodeAll(r.summary.encoded?.serverSizes, `${r.source}: summary.json encoded.serverSizes`));
    addInto(generator, decodeAll(r.summary.encoded?.generator, `${r.source}: summary.json encoded.generator`));
    const lost = Object.entries(r.summary.phases)
      .filter(([phase, st]) => st.count > 0 && !r.histograms.has(phase))
      .map(([phase]) => phase);
    const lostServer = Object.entries(r.summary.server?.histograms ?? {})
      .filter(([n, st]) => st.count > 0 && !r.serverHistograms.has(n))
      .map(([n]) => n);
    if (lost.length + lostServer.length > 0) {
      warnings.push(
        `${name(r)} has no whole-run histogram of ${[...lost, ...lostServer.map((n) => `server.${n}`)].join(', ')} (a summary.json without \`encoded\`, and no run.hlog): the merged latencies leave its values out`,
      );
    }
  }
  const phases: Record<string, PhaseStats> = {};
  const encodedPhases: Record<string, string> = {};
  for (const [phase, h] of ordered(histograms, PHASES)) {
    if (h.totalCount === 0) continue;
    phases[phase] = withMax(
      statsOf(h, percentiles),
      summaries.map((s) => s.phases[phase]),
    );
    encodedPhases[phase] = encodeHistogram(h);
  }
  const encodeAll = (m: ReadonlyMap<string, Histogram>): Record<string, string> => Object.fromEntries([...m].filter(([, h]) => h.totalCount > 0).map(([n, h]) => [n, encodeHistogram(h)]));

  // Counts: added.
  const sum = (f: (s: Summary) => number | undefined): number => summaries.reduce((a, s) => a + (f(s) ?? 0), 0);
  // Every count of a totals section, by the first input's keys (summary.json's fields for it).
  const sumEach = <T extends object>(pick: (s: Summary) => T): T => Object.fromEntries(Object.keys(pick(first)).map((k) => [k, sum((s) => (pick(s) as Record<string, number | undefined>)[k])])) as T;
  const messages = sumEach((s) => s.totals.messages);
  const recipients = sumEach((s) => s.totals.recipients);
  const bytes = sum((s) => s.totals.bytes);
  const counts = { replies: {} as ReplyCounts, errors: {} as ErrorCounts };
  for (const s of summaries) addCountsInto(counts, s.replies, s.errors);
  const durationS = round(spanMs / 1000, 3);
  const perS = (n: number, digits: number): number => (durationS > 0 ? round(n / durationS, digits) : 0);

  // The reference servers (embedded, one per machine): counters added, histograms recomputed.
  const servers = summaries.flatMap((s) => (s.server ? [s.server] : []));
  let server: Summary['server'] = null;
  if (servers.length > 0) {
    const counters: Record<string, number> = {};
    for (const sv of servers) for (const [k, n] of Object.entries(sv.counters)) counters[k] = (counters[k] ?? 0) + n;
    const names = (f: (sv: NonNullable<Summary['server']>) => Record<string, unknown> | undefined, m: ReadonlyMap<string, Histogram>): string[] => [
      ...new Set([...servers.flatMap((sv) => Object.keys(f(sv) ?? {})), ...m.keys()]),
    ];
    const histogramsStats: Record<string, PhaseStats> = {};
    for (const n of names((sv) => sv.histograms, serverHistograms))
      histogramsStats[n] = withMax(
        statsOf(serverHistograms.get(n) ?? newHistogram(), percentiles),
        servers.map((sv) => sv.histograms[n]),
      );
    const sizes: Record<string, SizeStats> = {};
    for (const n of names((sv) => sv.sizes, serverSizes))
      sizes[n] = withMax(
        sizeStatsOf(serverSizes.get(n) ?? newHistogram(), percentiles),
        servers.map((sv) => sv.sizes?.[n]),
      );
    server = { counters: counters as unknown as NonNullable<Summary['server']>['counters'], histograms: histogramsStats, sizes };
  }

  // The generators: the worst of each figure, every worker listed with the input it came from.
  const lag = generator.get('scheduleLag');
  const worst = (f: (g: Summary['generator']) => number | undefined): number => Math.max(0, ...summaries.map((s) => f(s.generator) ?? 0));
  const loopP99 = worst((g) => g.eventLoopDelayP99Ms);
  const generatorHealth: Summary['generator'] = {
    eventLoopDelayP99Ms: loopP99,
    eventLoopDelayMaxMs: worst((g) => g.eventLoopDelayMaxMs),
    eventLoopUtilizationMax: worst((g) => g.eventLoopUtilizationMax),
    // From the merged histogram; inputs without it (older summaries) give their own worst.
    scheduleLagP99Ms: lag && lag.totalCount > 0 ? lag.getValueAtPercentile(99) / 1000 : worst((g) => g.scheduleLagP99Ms),
    // The inputs' own maxima are exact (see withMax).
    scheduleLagMaxMs: worst((g) => g.scheduleLagMaxMs),
    saturated: summaries.some((s) => s.generator.saturated) || loopP99 > SATURATION_EVENT_LOOP_P99_MS,
    workers: summaries.flatMap((s, input) => (s.generator.workers ?? []).map((w) => ({ ...w, input }))),
  };

  // One target: the same URL everywhere, or a warning. Embedded servers are each machine's own.
  const urls = [...new Set(summaries.map((s) => s.target.url))];
  const embedded = summaries.every((s) => s.target.embedded);
  if (urls.length > 1 && !embedded) warnings.push(`the runs loaded different targets (${urls.map(printable).join(', ')}): merged as one`);

  const deliveries = summaries.flatMap((s) => (s.delivery ? [s.delivery] : []));
  if (deliveries.length > 0 && deliveries.length < summaries.length) warnings.push(`only ${deliveries.length} of ${summaries.length} runs checked delivery (--sink): the delivery figures are theirs`);

  // The per-second files, aligned by wall-clock second from the earliest start barrier.
  const barriers = timings.map((t) => t.barrierMs);
  const timed = timings.filter((t, i) => !t.idle || runs[i].intervals.length > 0 || runs[i].timeline.length > 0);
  const originMs = Math.min(...(timed.length > 0 ? timed : timings).map((t) => t.barrierMs));
  const withLog = runs.filter((r) => r.intervals.length > 0);
  const intervals = mergeIntervals(runs, barriers, originMs);
  const withTimeline = runs.filter((r) => r.timeline.length > 0);
  const missing = (have: readonly RunData[], file: string): void => {
    const lacking = runs.filter((r, i) => !have.includes(r) && !timings[i].idle);
    if (have.length > 0 && lacking.length > 0)
      warnings.push(
        `${lacking.map(name).join(', ')} ha${lacking.length > 1 ? 've' : 's'} no ${file}: the merged ${file} leaves ${lacking.length > 1 ? 'them' : 'it'} out (its whole-run figures are in)`,
      );
  };
  missing(withLog, 'run.hlog');
  missing(withTimeline, 'timeline.ndjson');
  const timeline = withTimeline.length === 0 ? null : mergeTimelines(runs, barriers, originMs, intervals, sharded ? (tS) => targetRateAt(profile, tS) : null);

  const inputs: MergeInput[] = leaves;
  const built: Summary = {
    schema: SUMMARY_SCHEMA,
    runId: newRunId(`${profileNameOf(first.runId)}-merged`, options.now),
    startedAt: new Date(Math.min(...summaries.filter((_, i) => active.includes(timings[i])).map((s) => Date.parse(s.startedAt)))).toISOString(),
    durationS,
    model: first.model,
    executor: first.executor,
    warmupS: first.warmupS,
    interrupted: summaries.some((s) => s.interrupted),
    aborted: summaries.some((s) => s.aborted ?? false),
    target: { url: urls[0], embedded },
    workers,
    // Shards' sessions are their shares (the whole profile's when every shard is here); separate runs each had theirs.
    sessions: sum((s) => s.sessions),
    profile,
    // The first input's: shards normally run one image; each input's host is in `merged.inputs`.
    environment: first.environment,
    totals: {
      messages,
      recipients,
      transactions: sum((s) => s.totals.transactions),
      bytes,
      connections: sum((s) => s.totals.connections),
      tls: { handshakes: sum((s) => s.totals.tls?.handshakes), resumed: sum((s) => s.totals.tls?.resumed) },
      steps: sum((s) => s.totals.steps),
      rates: { msgsPerS: perS(messages.accepted, 1), rcptsPerS: perS(recipients.accepted, 1), mbPerS: perS(bytes / 1e6, 3) },
    },
    phases,
    replies: counts.replies,
    errors: counts.errors,
    generator: generatorHealth,
    server,
    ...(deliveries.length > 0 ? { delivery: mergeDelivery(deliveries) } : {}),
    thresholds: [],
    measured: { start: new Date(spanStart).toISOString(), end: new Date(spanStart + spanMs).toISOString() },
    shard: null,
    merged: { inputs, overlap, warnings },
    encoded: { phases: encodedPhases, server: encodeAll(serverHistograms), generator: encodeAll(generator), serverSizes: encodeAll(serverSizes) },
  };
  const summary: Summary = { ...built, thresholds: evaluate(profile.thresholds, { summary: built, histograms, serverHistograms }) };
  return {
    summary,
    histograms: ordered(new Map([...histograms].filter(([, h]) => h.totalCount > 0)), PHASES),
    serverHistograms,
    log: withLog.length === 0 ? null : { startMs: originMs, intervals },
    timeline,
  };
}

/**
 * Writes a merged run into `dir` (made if missing): run.hlog and timeline.ndjson when the inputs
 * had them, then every file `writeReports` writes (summary.json, .hgrm, report.md, report.html
 * drawn from those two). Returns the paths written; a file that cannot be written is one line on
 * stderr, as for `run`.
 */
export function writeMergedRun(dir: string, run: MergedRun): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const warn = (message: string): void => void process.stderr.write(`smtpbench: ${message}\n`);
  const attempt = (file: string, write: (path: string) => void): void => {
    const path = join(dir, file);
    try {
      write(path);
      written.push(path);
    } catch (err) {
      warn(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const { log, timeline } = run;
  if (log) {
    attempt('run.hlog', (path) => {
      const out = new IntervalLog(path, log.startMs, warn);
      for (const iv of log.intervals) for (const [phase, h] of iv.phases) out.write(phase, h, log.startMs + iv.startS * 1000, log.startMs + iv.endS * 1000);
      out.close();
    });
  }
  if (timeline) {
    attempt('timeline.ndjson', (path) => {
      const out = new TimelineLog(path, warn);
      for (const second of timeline) out.write(second);
      out.close();
    });
  }
  return [...written, ...writeReports(dir, run.summary, run.histograms, run.serverHistograms)];
}
