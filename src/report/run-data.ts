/**
 * A finished run read back from disk: `summary.json`, the per-second `run.hlog` and
 * `timeline.ndjson`. What `smtpbench report`, `compare` and report.html work from, so a report
 * can be rebuilt for an older or merged run without the process that measured it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { SmtpBenchError } from '../errors.js';
import { addEncoded, newHistogram, type Histogram } from '../metrics/histogram.js';
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
  /** timeline.ndjson's lines; empty when the file is missing. */
  readonly timeline: readonly Second[];
}

/**
 * Checks that `json` is a summary.json this version reads.
 * @throws SmtpBenchError SB_USAGE naming `source` when it is not a smtpbench summary of schema 1
 */
export function checkSummary(json: unknown, source: string): Summary {
  const s = json as Partial<Summary> | null;
  if (s === null || typeof s !== 'object' || !('schema' in s) || typeof s.totals !== 'object' || typeof s.phases !== 'object') {
    throw new SmtpBenchError('SB_USAGE', `${source} is not a smtpbench summary.json`);
  }
  if (s.schema !== SUMMARY_SCHEMA) throw new SmtpBenchError('SB_USAGE', `${source} has summary schema ${String(s.schema)}; this smtpbench reads schema ${SUMMARY_SCHEMA}`);
  return s as Summary;
}

/** Decodes a map of encoded histograms (HdrHistogram V2 compressed base64). */
export function decodeAll(encoded: Record<string, string> | undefined): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  for (const [name, b64] of Object.entries(encoded ?? {})) {
    const h = newHistogram();
    addEncoded(h, b64);
    out.set(name, h);
  }
  return out;
}

/** Parses `run.hlog` text into seconds; lines of one interval (same start) are grouped. */
export function parseIntervalLog(text: string): Interval[] {
  const reader = new hdr.HistogramLogReader(text, 32, false);
  const byStart = new Map<number, Interval>();
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    // The reader learns StartTime from the header while reading the first interval, not before.
    const start = (reader.startTimeSec ?? 0) * 1000;
    const startS = Math.round(h.startTimeStampMsec - start) / 1000;
    let iv = byStart.get(startS);
    if (!iv) byStart.set(startS, (iv = { startS, endS: Math.round(h.endTimeStampMsec - start) / 1000, phases: new Map() }));
    const into = newHistogram();
    into.add(h);
    iv.phases.set(h.tag ?? 'untagged', into);
  }
  return [...byStart.values()].sort((a, b) => a.startS - b.startS);
}

/** Parses `timeline.ndjson`; a torn last line (a crash mid-write) is skipped. */
export function parseTimeline(text: string): Second[] {
  const out: Second[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as Second);
    } catch {
      // Only the last line can be torn: it was being written when the process died.
    }
  }
  return out;
}

/** Builds run data from a parsed summary and the texts of its sibling files (either may be absent). */
export function runDataOf(source: string, summary: Summary, hlog: string | null, timeline: string | null): RunData {
  const intervals = hlog === null ? [] : parseIntervalLog(hlog);
  let histograms = decodeAll(summary.encoded?.phases);
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
    serverHistograms: decodeAll(summary.encoded?.server),
    intervals,
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
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  };
  return runDataOf(basename(summaryPath) === 'summary.json' ? dir : summaryPath, summary, sibling('run.hlog'), sibling('timeline.ndjson'));
}
