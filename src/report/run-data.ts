/**
 * A finished run read back from disk: `summary.json`, the per-second `run.hlog` and
 * `timeline.ndjson`. What `smtpbench report`, `compare` and report.html work from, so a report
 * can be rebuilt for an older or merged run without the process that measured it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { SmtpBenchError } from '../errors.js';
import { MAX_SHARDS } from '../profile/shard.js';
import { MAX_CLOCK_OFFSET_MS } from '../load/clock-offset.js';
import { addEncoded, intervalLogReader, newHistogram, type Histogram } from '../metrics/histogram.js';
import { SUMMARY_SCHEMA, type Summary } from './summary.js';
import type { Second } from './timeline.js';

/** One second of `run.hlog`: each phase's interval histogram (µs). */
export interface Interval {
  /** Seconds since the run's start (the log's StartTime). */
  readonly startS: number;
  readonly endS: number;
  readonly phases: Map<string, Histogram>;
}

/** Everything a report is drawn from. */
export interface RunData {
  /** Where it was read from (a directory, a file or a URL), for messages. */
  readonly source: string;
  readonly summary: Summary;
  /** Whole-run histogram of each phase with data (µs): from summary.json's `encoded`, else the sum of run.hlog. */
  readonly histograms: Map<string, Histogram>;
  /** The reference server's whole-run histograms (µs), when summary.json carries them. */
  readonly serverHistograms: Map<string, Histogram>;
  /** run.hlog's seconds in order; empty when the log is missing. */
  readonly intervals: readonly Interval[];
  /**
   * run.hlog's `StartTime` (the start barrier), epoch ms: what `intervals` count from, so `merge`
   * can align several runs' seconds by the wall clock. Null without a log or an interval in it.
   */
  readonly logStartMs?: number | null;
  /** timeline.ndjson's lines; empty when the file is missing. */
  readonly timeline: readonly Second[];
}

// What the readers of a summary (report, compare, thresholds) rely on; other fields pass through.
// Fields added after the first schema-1 summaries (thresholds, encoded, percentiles…) are optional.
const num = z.number();
const counts = z.record(z.string(), num);
const Stats = z.looseObject({ count: num, min: num, mean: num, p50: num, p90: num, p99: num, p999: num, max: num, percentiles: counts.optional() });
// A shard as `run --shard` writes it (src/cli/shard-flags.ts bounds): what merge counts and aligns by.
const Shard = z
  .looseObject({
    index: z.int().nonnegative(),
    count: z.int().positive().max(MAX_SHARDS),
    host: z.string(),
    idle: z.boolean(),
    lateMs: z.number().finite().nonnegative().nullable().optional(),
    clock: z.looseObject({ offsetMs: z.number().min(-MAX_CLOCK_OFFSET_MS).max(MAX_CLOCK_OFFSET_MS).nullable() }).optional(),
  })
  .refine((sh) => sh.index < sh.count, { message: 'index must be less than count' });
const SummarySchema = z.looseObject({
  schema: z.literal(SUMMARY_SCHEMA),
  runId: z.string(),
  startedAt: z.string(),
  durationS: num,
  model: z.enum(['closed', 'open']),
  executor: z.string(),
  warmupS: num,
  interrupted: z.boolean(),
  target: z.looseObject({ url: z.string(), embedded: z.boolean() }),
  workers: num,
  sessions: num,
  profile: z.looseObject({ percentiles: z.array(num).optional() }),
  environment: z.looseObject({ node: z.string(), cpu: z.string(), cores: num, os: z.string(), gitSha: z.string().nullable() }),
  totals: z.looseObject({
    messages: z.looseObject({ attempted: num, accepted: num, rejected: num, failed: num, abandoned: num, late: num, dropped: num }),
    recipients: z.looseObject({ attempted: num, accepted: num, rejected: num, failed: num, deferred: num }),
    transactions: num,
    bytes: num,
    connections: num,
    rates: z.looseObject({ msgsPerS: num, rcptsPerS: num, mbPerS: num }),
    domains: z.record(z.string(), z.looseObject({ accepted: num, deferred: num, rejected: num })).optional(),
  }),
  phases: z.record(z.string(), Stats),
  replies: z.record(z.string(), counts),
  enhancedReplies: z.record(z.string(), counts).optional(),
  failureReplies: z.record(z.string(), counts).optional(),
  // Only what the reports draw of it; the rest of `delivery` is text in a note.
  delivery: z
    .looseObject({
      changes: z.array(z.looseObject({ atS: num, target: z.enum(['faults', 'domains']), action: z.enum(['set', 'clear']), what: z.string() })).optional(),
    })
    .nullable()
    .optional(),
  errors: counts,
  errorCauses: z.record(z.string(), z.string()).optional(),
  // Null when unknown (an aborted run); a worker's utilization null when it tells nothing.
  generator: z
    .looseObject({
      eventLoopDelayP99Ms: num,
      eventLoopDelayMaxMs: num,
      scheduleLagP99Ms: num,
      saturated: z.boolean(),
      workers: z.array(z.looseObject({ eventLoopDelayP99Ms: num, eventLoopUtilization: num.nullable() })).optional(),
    })
    .nullable(),
  server: z.looseObject({ counters: counts, histograms: z.record(z.string(), Stats) }).nullable(),
  thresholds: z.array(z.looseObject({ expression: z.string(), metric: z.string(), ok: z.boolean() })).optional(),
  // What `merge` aligns, checks and adds (fields of later schema-1 summaries).
  measured: z.looseObject({ start: z.iso.datetime(), end: z.iso.datetime() }).optional(),
  shard: Shard.nullable().optional(),
  merged: z.looseObject({ inputs: z.array(z.looseObject({ source: z.string(), runId: z.string(), shard: Shard.nullable().optional() })), overlap: num, warnings: z.array(z.string()) }).optional(),
  encoded: z
    .looseObject({
      phases: z.record(z.string(), z.string()),
      server: z.record(z.string(), z.string()),
      generator: z.record(z.string(), z.string()).optional(),
      serverSizes: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

/**
 * Checks that `json` is a summary.json this version reads: schema 1, and every field a report,
 * a comparison or a threshold reads of the right type.
 * @throws SmtpBenchError SB_USAGE naming `source` and every bad field (dotted paths, at most 5 shown)
 */
export function checkSummary(json: unknown, source: string): Summary {
  const s = json as { schema?: unknown } | null;
  if (s === null || typeof s !== 'object' || Array.isArray(s) || !('schema' in s)) throw new SmtpBenchError('SB_USAGE', `${source} is not a smtpbench summary.json`);
  if (s.schema !== SUMMARY_SCHEMA) throw new SmtpBenchError('SB_USAGE', `${source} has summary schema ${JSON.stringify(s.schema)}; this smtpbench reads schema ${SUMMARY_SCHEMA}`);
  const r = SummarySchema.safeParse(json);
  if (!r.success) {
    const bad = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    const shown = bad.slice(0, 5).join('; ') + (bad.length > 5 ? `; and ${bad.length - 5} more` : '');
    throw new SmtpBenchError('SB_USAGE', `${source} is not a valid smtpbench summary.json: ${shown}`);
  }
  return json as Summary;
}

/**
 * Decodes a map of encoded histograms (HdrHistogram V2 compressed base64).
 * @throws SmtpBenchError SB_USAGE naming the entry (`what.name`) that does not decode
 */
export function decodeAll(encoded: Record<string, string> | undefined, what = 'encoded'): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  for (const [name, b64] of Object.entries(encoded ?? {})) {
    const h = newHistogram();
    try {
      addEncoded(h, b64);
    } catch (err) {
      throw new SmtpBenchError('SB_USAGE', `${what}.${name} is not an encoded histogram (${(err as Error).message})`);
    }
    out.set(name, h);
  }
  return out;
}

/**
 * Parses `run.hlog` text into seconds; lines of one interval (same start) are grouped. A last line
 * without its newline was being written when the process died: it is left out.
 * @throws Error when a complete line does not decode
 */
export function parseIntervalLog(text: string): Interval[] {
  return readIntervalLog(text).intervals;
}

/**
 * `parseIntervalLog`, with the log's `StartTime` (epoch ms; null when the log has no interval:
 * the reader parses the header while looking for the first one).
 * @throws Error when a complete line does not decode
 */
export function readIntervalLog(text: string): { startMs: number | null; intervals: Interval[] } {
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  const reader = intervalLogReader(complete);
  const byStart = new Map<number, Interval>();
  let startMs: number | null = null;
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    // The reader parses the StartTime header while looking for the first interval, not before.
    const start = (reader.startTimeSec ?? 0) * 1000;
    startMs = reader.startTimeSec === undefined ? null : Math.round(start);
    const startS = Math.round(h.startTimeStampMsec - start) / 1000;
    let iv = byStart.get(startS);
    if (!iv) byStart.set(startS, (iv = { startS, endS: Math.round(h.endTimeStampMsec - start) / 1000, phases: new Map() }));
    const into = newHistogram();
    into.add(h);
    iv.phases.set(h.tag ?? 'untagged', into);
  }
  return { startMs, intervals: [...byStart.values()].sort((a, b) => a.startS - b.startS) };
}

/** The fields of a timeline line that charts and comparisons read. */
const SecondSchema = z.looseObject({
  // Seconds since the start: a line of 10^308 s is damage, not a run of three billion years.
  t: num.nonnegative().max(1e8),
  intervalS: num.nonnegative().max(1e8),
  measuring: z.boolean(),
  messages: z.looseObject({ accepted: num, rejected: num, failed: num, late: num, dropped: num }),
  rates: z.looseObject({ msgsPerS: num, rcptsPerS: num }),
  targetRate: num.nullable(),
  replies: counts,
  errors: counts,
  phases: z.record(z.string(), z.looseObject({ p50: num, p90: num, p99: num, max: num })),
});

/**
 * Parses `timeline.ndjson`. Lines that are not timeline lines (a torn last line from a crash
 * mid-write, anything else) are skipped: the timeline only draws charts and never decides a figure.
 */
export function parseTimeline(text: string): Second[] {
  const out: Second[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = SecondSchema.safeParse(JSON.parse(line));
      if (r.success) out.push(r.data as unknown as Second);
    } catch {
      // Not JSON: skipped, as above.
    }
  }
  return out;
}

/** Builds run data from a parsed summary and the texts of its sibling files (either may be absent). */
export function runDataOf(source: string, summary: Summary, hlog: string | null, timeline: string | null): RunData {
  let intervals: Interval[] = [];
  let logStartMs: number | null = null;
  try {
    if (hlog !== null) ({ startMs: logStartMs, intervals } = readIntervalLog(hlog));
  } catch (err) {
    throw new SmtpBenchError('SB_USAGE', `${source}: run.hlog is corrupt (${(err as Error).message})`);
  }
  let histograms = decodeAll(summary.encoded?.phases, `${source}: summary.json encoded.phases`);
  if (histograms.size === 0) {
    // An older summary without `encoded`: the sum of the log's seconds is the whole run, exactly.
    histograms = new Map();
    for (const iv of intervals) {
      for (const [phase, h] of iv.phases) {
        let into = histograms.get(phase);
        if (!into) histograms.set(phase, (into = newHistogram()));
        into.add(h);
      }
    }
  }
  return {
    source,
    summary,
    histograms,
    serverHistograms: decodeAll(summary.encoded?.server, `${source}: summary.json encoded.server`),
    intervals,
    logStartMs,
    timeline: timeline === null ? [] : parseTimeline(timeline),
  };
}

/**
 * Reads a run from its directory, or from a summary.json path (its siblings are read too).
 * @throws SmtpBenchError SB_USAGE naming the path when it is missing, unreadable or not a summary
 */
export function loadRunDir(path: string): RunData {
  let dir = path;
  let summaryPath = join(path, 'summary.json');
  try {
    if (statSync(path).isFile()) {
      dir = dirname(path);
      summaryPath = path;
    }
  } catch {
    throw new SmtpBenchError('SB_USAGE', `${path}: no such run directory or file`);
  }
  let text: string;
  try {
    text = readFileSync(summaryPath, 'utf8');
  } catch (err) {
    throw new SmtpBenchError('SB_USAGE', `${summaryPath}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SmtpBenchError('SB_USAGE', `${summaryPath} is not JSON`);
  }
  const summary = checkSummary(json, summaryPath);
  const sibling = (name: string): string | null => {
    const p = join(dir, name);
    if (!existsSync(p)) return null;
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new SmtpBenchError('SB_USAGE', `${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  return runDataOf(basename(summaryPath) === 'summary.json' ? dir : summaryPath, summary, sibling('run.hlog'), sibling('timeline.ndjson'));
}
