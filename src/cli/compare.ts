/** `smtpbench compare BASELINE CURRENT`: two runs side by side; exit 3 on a regression. */
import { statSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../report/out-dir.js';
import { dirname, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { ProfileError, SmtpBenchError, type ProfileIssue } from '../errors.js';
import { parseDuration } from '../profile/units.js';
import { printable } from '../redact.js';
import { compareBenchDocuments, readBenchDocument, renderBenchComparison } from '../report/bench-compare.js';
import { compareRuns } from '../report/compare.js';
import { renderCompareMarkdown, renderCompareTable } from '../report/compare-render.js';
import { parseTolerances } from '../report/compare-tolerance.js';
import type { RunData } from '../report/run-data.js';
import { DEFAULT_FETCH_TIMEOUTS, loadRunSource, MAX_FETCH_TIMEOUT_MS, type FetchTimeouts } from '../report/run-source.js';
import { collect } from './flags.js';

/** Exit code of a comparison that found a regression (distinct from 1 run failed, 2 usage, 99 threshold failed). */
export const EXIT_REGRESSION = 3;

// Defaults are written in the help text rather than given to commander, which would print them
// as `(default: "0.05")` and `(default: [])`.
const DEFAULT_ALPHA = '0.05';
const DEFAULT_TIMEOUT = `${DEFAULT_FETCH_TIMEOUTS.totalMs / 1000}s`;

/** The `compare` subcommand: loads both sources, compares, prints, and sets the exit code (0 or 3). */
export function compareCommand() {
  return new Command('compare')
    .description('compare two runs metric by metric (Welch t-test on per-second values); exit 3 on a regression')
    .argument('<baseline>', 'run directory, summary.json, or http(s) URL of a summary.json (run.hlog and timeline.ndjson are read beside it); or a results/bench-*.json of `npm run bench`')
    .argument('<current>', 'the run to judge: the same forms')
    .option('--alpha <p>', `significance level of the t-test, 0 < p < 1 (default ${DEFAULT_ALPHA})`)
    .option(
      '--tolerance <spec>',
      'N% (latencies and rates), Nms (latency floor), Npp (error and reply shares), or METRIC=VALUE (repeatable; defaults: latencies 5% and 1ms, rates 5%, shares 0.5pp)',
      collect,
    )
    .option('--md <file>', 'also write the comparison as Markdown (for a PR comment)')
    .option('--json', 'print the comparison as JSON on stdout (the table goes to stderr)')
    .option('--timeout <time>', `URL sources: the most time to fetch one run (default ${DEFAULT_TIMEOUT})`)
    .action(async (baselineArg, currentArg, opts) => {
      // Every bad flag in one error, before anything is fetched.
      const issues: ProfileIssue[] = [];
      const alphaText = opts.alpha ?? DEFAULT_ALPHA;
      const alpha = Number(alphaText);
      if (!(alpha > 0 && alpha < 1)) issues.push({ path: '--alpha', message: `expected a number between 0 and 1, got ${JSON.stringify(alphaText)}` });
      const { settings, problems } = parseTolerances(opts.tolerance ?? []);
      for (const p of problems) issues.push({ path: '--tolerance', message: p });
      let totalMs = DEFAULT_FETCH_TIMEOUTS.totalMs;
      try {
        totalMs = parseDuration(opts.timeout ?? DEFAULT_TIMEOUT);
        if (totalMs === 0) throw new Error('must be more than 0');
        // AbortSignal.timeout throws above 2^32 − 1 ms and Node timers fire at once above 2^31 − 1.
        if (totalMs > MAX_FETCH_TIMEOUT_MS) throw new Error(`must be at most 24 days (${MAX_FETCH_TIMEOUT_MS} ms)`);
      } catch (err) {
        issues.push({ path: '--timeout', message: (err as Error).message });
      }
      const mdPath = opts.md === undefined ? null : resolve(opts.md);
      const mdIssue = mdPath === null ? null : outputFileIssue(mdPath);
      if (mdIssue !== null) issues.push({ path: '--md', message: mdIssue });
      if (issues.length > 0) throw new ProfileError(issues, 'compare flags');
      if (compareBench(baselineArg, currentArg, opts.json === true, mdPath)) return;
      const timeouts = { ...DEFAULT_FETCH_TIMEOUTS, totalMs, connectMs: Math.min(DEFAULT_FETCH_TIMEOUTS.connectMs, totalMs), idleMs: Math.min(DEFAULT_FETCH_TIMEOUTS.idleMs, totalMs) };
      const [baseline, current] = await loadBoth(baselineArg, currentArg, timeouts);
      const result = compareRuns(baseline, current, { alpha, tolerances: settings });
      emit(`${renderCompareTable(result)}\n`, result, opts.json === true, mdPath, () => renderCompareMarkdown(result));
      process.exitCode = result.regression ? EXIT_REGRESSION : 0;
    });
}

/**
 * Two benchmark documents of `npm run bench` (results/bench-*.json): prints how each ratio moved,
 * writes `--md`, exit 0 (ratios are for reading; see bench/README.md). Returns false when neither
 * argument is one (two runs: the caller compares them).
 * @throws SmtpBenchError SB_USAGE when only one of the two is a benchmark document
 */
function compareBench(baselineArg: string, currentArg: string, json: boolean, mdPath: string | null): boolean {
  const a = readBenchDocument(baselineArg);
  const b = readBenchDocument(currentArg);
  if (a === null && b === null) return false;
  if (a === null || b === null) {
    throw new SmtpBenchError('SB_USAGE', `compare: ${printable(a === null ? baselineArg : currentArg)} is not a benchmark document (results/bench-*.json) like the other`);
  }
  const result = compareBenchDocuments(a, b);
  const text = renderBenchComparison(result);
  emit(text, result, json, mdPath, () => text);
  process.exitCode = 0;
  return true;
}

/**
 * Loads both sources at once. When one fails the other is stopped (its fetch aborted), and the
 * first failure is thrown once both have settled: no socket or timer of the other is left to
 * keep the process alive until its timeout.
 */
async function loadBoth(baseline: string, current: string, timeouts: FetchTimeouts): Promise<[RunData, RunData]> {
  const stop = new AbortController();
  const failures: unknown[] = []; // in the order they happened: the first is the cause
  const load = (source: string): Promise<RunData | null> =>
    loadRunSource(source, timeouts, stop.signal).catch((err: unknown) => {
      failures.push(err);
      stop.abort();
      return null;
    });
  const [a, b] = await Promise.all([load(baseline), load(current)]);
  if (failures.length > 0) throw failures[0];
  return [a!, b!];
}

/**
 * What is wrong with an output file path, or null: it must not be a directory, and its directory
 * must exist or be possible to make (it is made when the file is written, as `run --junit` does).
 */
function outputFileIssue(path: string): string | null {
  try {
    if (statSync(path).isDirectory()) return `${printable(path)} is a directory`;
  } catch {
    // Not there yet: fine.
  }
  // The nearest existing ancestor must be a directory.
  for (let d = dirname(path); ; d = dirname(d)) {
    try {
      return statSync(d).isDirectory() ? null : `${printable(d)} is not a directory`;
    } catch {
      if (dirname(d) === d) return null;
    }
  }
}

/**
 * Prints a comparison: `text` on stdout, or with `json` the JSON of `result` on stdout and `text`
 * on stderr; then writes `--md`. The comparison is done and printed: a file that cannot be written
 * is one line on stderr, and the exit code stays the comparison's (a regression must not hide
 * behind a usage error).
 */
function emit(text: string, result: unknown, json: boolean, mdPath: string | null, markdown: () => string): void {
  if (json) {
    process.stderr.write(text);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else process.stdout.write(text);
  if (mdPath === null) return;
  try {
    makeDirs(dirname(mdPath));
    writeFileSync(mdPath, markdown());
  } catch (err) {
    process.stderr.write(`smtpbench: cannot write --md ${printable(mdPath)}: ${printable((err as Error).message)}\n`);
  }
}
