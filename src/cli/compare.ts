/** `smtpbench compare BASELINE CURRENT`: two runs side by side; exit 3 on a regression. */
import { writeFileSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { ProfileError, SmtpBenchError, type ProfileIssue } from '../errors.js';
import { parseDuration } from '../profile/units.js';
import { compareRuns, parseTolerances, renderCompareMarkdown, renderCompareTable } from '../report/compare.js';
import { DEFAULT_FETCH_TIMEOUTS, loadRunSource } from '../report/run-source.js';

/** Exit code of a comparison that found a regression (distinct from 1 run failed, 2 usage, 99 threshold failed). */
export const EXIT_REGRESSION = 3;

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
// Defaults are written in the help text rather than given to commander, which would print them
// as `(default: "0.05")` and `(default: [])`.
const DEFAULT_ALPHA = '0.05';
const DEFAULT_TIMEOUT = `${DEFAULT_FETCH_TIMEOUTS.totalMs / 1000}s`;

/** The `compare` subcommand: loads both sources, compares, prints, and sets the exit code (0 or 3). */
export function compareCommand() {
  return new Command('compare')
    .description('compare two runs metric by metric (Welch t-test on per-second values); exit 3 on a regression')
    .argument('<baseline>', 'run directory, summary.json, or http(s) URL of a summary.json (run.hlog and timeline.ndjson are read beside it)')
    .argument('<current>', 'the run to judge: the same forms')
    .option('--alpha <p>', `significance level of the t-test, 0 < p < 1 (default ${DEFAULT_ALPHA})`)
    .option('--tolerance <spec>', 'N% (latencies and rates), Nms (latency floor), Npp (error and reply shares), or METRIC=VALUE (repeatable; defaults: latencies 5% and 1ms, rates 5%, shares 0.5pp)', collect)
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
      } catch (err) {
        issues.push({ path: '--timeout', message: (err as Error).message });
      }
      if (issues.length > 0) throw new ProfileError(issues, 'compare flags');
      const timeouts = { ...DEFAULT_FETCH_TIMEOUTS, totalMs, connectMs: Math.min(DEFAULT_FETCH_TIMEOUTS.connectMs, totalMs), idleMs: Math.min(DEFAULT_FETCH_TIMEOUTS.idleMs, totalMs) };
      const [baseline, current] = await Promise.all([loadRunSource(baselineArg, timeouts), loadRunSource(currentArg, timeouts)]);
      const result = compareRuns(baseline, current, { alpha, tolerances: settings });
      const text = `${renderCompareTable(result)}\n`;
      if (opts.json) {
        process.stderr.write(text);
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else process.stdout.write(text);
      if (opts.md !== undefined) {
        try {
          writeFileSync(opts.md, renderCompareMarkdown(result));
        } catch (err) {
          throw new SmtpBenchError('SB_USAGE', `cannot write ${opts.md}: ${(err as Error).message}`);
        }
      }
      process.exitCode = result.regression ? EXIT_REGRESSION : 0;
    });
}
