/**
 * `smtpbench merge`: adds several runs of one profile (the shards of a distributed run, DESIGN §6,
 * docs/distributed.md "Merging shards") into one run, exactly: whole-run histograms add (HdrHistograms add
 * without loss, DESIGN §3 rule 6), counters, replies and errors add, run.hlog seconds and
 * timeline.ndjson lines add by wall-clock second, and every percentile is recomputed from the
 * merged histograms. Nothing is averaged.
 */
import { makeDirs } from './out-dir.js';
import { join } from 'node:path';
import { DEFAULT_PERCENTILES, encodeHistogram, statsOf, type Histogram, type PhaseStats } from '../metrics/histogram.js';
import { PHASES } from '../metrics/phases.js';
import { addCauses, addCountsInto, type EnhancedCounts, type ErrorCauses, type ErrorCounts, type ReplyCounts } from '../metrics/recorder.js';
import { addDomainCounts, type DomainCounts } from '../metrics/domains.js';
import { addFailureReplies, FAILURE_TEXTS_SHOWN, type FailureReplies } from '../metrics/failures.js';
import type { Profile, Threshold } from '../profile/types.js';
import { printable } from '../redact.js';
import { IntervalLog } from './hlog.js';
import { checkInputs, inputName, leavesOf } from './merge-checks.js';
import { mergeIntervals, mergeTimelines, timingOf } from './merge-seconds.js';
import { addInto, mergeDelivery, mergeGenerators, mergeServers, ordered, withMax } from './merge-sums.js';
import { decodeAll, type Interval, type RunData } from './run-data.js';
import { SUMMARY_SCHEMA, type MergeInput, type Summary } from './summary.js';
import { evaluate } from './thresholds.js';
import { targetRateAt, TimelineLog, type Second } from './timeline.js';
import { newRunId, writeReports } from './write.js';

/** Below this overlap of the inputs' measured spans (`MergeInfo.overlap`), merge warns. */
export const MIN_OVERLAP = 0.9;

/** Options of `mergeRuns`. */
export interface MergeOptions {
  /**
   * Merge runs whose profiles differ (beyond merge-checks.ts `PER_MACHINE_KEYS`) or whose shard counts differ; each
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

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * The run id's profile name: `2026-11-30T10-15-02.123Z-smoke-4f2a9c` → `smoke` (`newRunId`'s
 * form; a merged run's `-merged` dropped); `run` for an id of another form.
 */
function profileNameOf(runId: string): string {
  const m = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-(.+)-[0-9a-f]{6}$/.exec(runId);
  return (m?.[1] ?? 'run').replace(/-merged$/, '');
}

/**
 * Adds `runs` into one run (docs/distributed.md "Merging shards"): see the module comment. The inputs'
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
        `${inputName(r)} has no whole-run histogram of ${[...lost, ...lostServer.map((n) => `server.${n}`)].join(', ')} (a summary.json without \`encoded\`, and no run.hlog): the merged latencies leave its values out`,
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
  // Every key any input has (older summaries lack `inFlight`), each summed over the inputs.
  const sumEach = <T extends object>(pick: (s: Summary) => T): T =>
    Object.fromEntries([...new Set(summaries.flatMap((s) => Object.keys(pick(s))))].map((k) => [k, sum((s) => (pick(s) as Record<string, number | undefined>)[k])])) as T;
  const messages = sumEach((s) => s.totals.messages);
  const caps = summaries.flatMap((s) => ((s.totals.recipients.learnedCap ?? 0) > 0 ? [s.totals.recipients.learnedCap as number] : []));
  // A learnt cap is the smallest of the inputs', not their sum.
  const recipients = { ...sumEach((s) => s.totals.recipients), learnedCap: caps.length > 0 ? Math.min(...caps) : null };
  const bytes = sum((s) => s.totals.bytes);
  // Enhanced status codes: the sum of the inputs that counted them (absent from older summaries).
  const counts: { replies: ReplyCounts; errors: ErrorCounts; enhanced?: EnhancedCounts } = { replies: {}, errors: {} };
  // The first cause of each error kind, inputs in order (a kind's cause is an example, not a sum).
  const causes: ErrorCauses = {};
  // Per-domain RCPT outcomes and failure texts: added (texts capped again to the 20 most frequent per phase).
  const domains: DomainCounts = {};
  const failureReplies: FailureReplies = {};
  for (const s of summaries) {
    addCountsInto(counts, s.replies, s.errors, s.enhancedReplies);
    addCauses(causes, s.errorCauses);
    addDomainCounts(domains, s.totals.domains);
    addFailureReplies(failureReplies, s.failureReplies, FAILURE_TEXTS_SHOWN);
  }
  const counted = (f: (s: Summary) => unknown): boolean => summaries.some((s) => f(s) !== undefined);
  const durationS = round(spanMs / 1000, 3);
  const perS = (n: number, digits: number): number => (durationS > 0 ? round(n / durationS, digits) : 0);

  // The reference servers (embedded, one per machine) and the generators.
  const server = mergeServers(summaries, serverHistograms, serverSizes, percentiles);
  const generatorHealth = mergeGenerators(summaries, generator);

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
        `${lacking.map(inputName).join(', ')} ha${lacking.length > 1 ? 've' : 's'} no ${file}: the merged ${file} leaves ${lacking.length > 1 ? 'them' : 'it'} out (its whole-run figures are in)`,
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
    warmupCompleted: summaries.every((s) => s.warmupCompleted ?? true),
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
      clampedValues: sum((s) => s.totals.clampedValues),
      rates: { msgsPerS: perS(messages.accepted, 1), rcptsPerS: perS(recipients.accepted, 1), mbPerS: perS(bytes / 1e6, 3) },
      ...(counted((s) => s.totals.domains) ? { domains } : {}),
    },
    phases,
    replies: counts.replies,
    ...(counts.enhanced ? { enhancedReplies: counts.enhanced } : {}),
    ...(counted((s) => s.failureReplies) ? { failureReplies } : {}),
    errors: counts.errors,
    errorCauses: causes,
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
  makeDirs(dir);
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
