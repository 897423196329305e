/**
 * `smtpbench merge DIR... --out DIR`: adds the runs of one profile (the shards of a distributed
 * run) into one run directory, exactly (docs/distributed.md "Merging shards"), and applies thresholds.
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { ProfileError, SmtpBenchError, type ProfileIssue } from '../errors.js';
import { knownMetricsNote, resolveThresholds } from '../profile/thresholds.js';
import { printable } from '../redact.js';
import { junitXml } from '../report/junit.js';
import { mergeRuns, writeMergedRun } from '../report/merge.js';
import { loadRunDir } from '../report/run-data.js';
import { renderConsole } from '../report/table.js';
import { renderVerdicts } from '../report/thresholds.js';
import { claimOutDir, makeDirs, settleOutDir } from '../report/out-dir.js';
import { collect, outIssue, outputIssue, sameDir } from './flags.js';

export function mergeCommand() {
  return new Command('merge')
    .description('add the runs of one profile (the shards of a distributed run) into one run directory, exactly; thresholds apply to the merged run')
    .argument('<dirs...>', 'run directories (or their summary.json), e.g. one per shard')
    .requiredOption('--out <dir>', 'the merged run directory (report files of an earlier run there are replaced)')
    .option('--force', 'merge runs of different profiles or shard counts (never the same run or shard twice), and write into an --out directory that holds files smtpbench did not write')
    .option('--threshold <expr>', 'pass/fail criterion on the merged run, after the profile\'s (repeatable; docs/results.md "Thresholds"); a failure exits 99', collect)
    .option('--junit <file>', 'write the threshold verdicts as JUnit XML')
    .option('--json', 'print the merged summary.json to stdout (the table goes to stderr)')
    .action((dirs, opts) => {
      const issues: ProfileIssue[] = [];
      const flagThresholds = resolveThresholds(opts.threshold ?? [], (path, message) => issues.push({ path: `--threshold${path.map((p) => `[${p}]`).join('')}`, message }));
      const outDir = resolve(opts.out);
      const junitPath = opts.junit === undefined ? null : resolve(opts.junit);
      // Each throws SB_USAGE (exit 2) naming the path: missing, no summary.json, another schema, corrupt.
      const runs = dirs.map(loadRunDir);
      const inputDirs = dirs.map((d) => (statSync(d).isFile() ? dirname(d) : d));
      for (const issue of [outIssue(opts.out), outputIssue('--junit', junitPath, [outDir, ...inputDirs])]) if (issue) issues.push(issue);
      if (issues.length > 0) throw new ProfileError(issues, 'merge flags', knownMetricsNote(issues));
      // Writing into an input would replace the files being merged (a symbolic link to it too).
      const clash = inputDirs.find((d) => sameDir(d, outDir));
      if (clash !== undefined) throw new SmtpBenchError('SB_USAGE', `--out ${printable(opts.out)} is the input ${printable(clash)}: merge into a new directory`);
      const merged = mergeRuns(runs, { force: opts.force ?? false, thresholds: flagThresholds });
      for (const w of merged.summary.merged?.warnings ?? []) process.stderr.write(`smtpbench: warning: ${w}\n`);
      const claim = claimOutDir(outDir, merged.summary.runId, { force: opts.force ?? false, streaming: [] });
      const written = writeMergedRun(outDir, merged);
      const s = merged.summary;
      const verdicts = renderVerdicts(s.thresholds);
      const table = `${renderConsole(s)}\n${verdicts ? `${verdicts}\n` : ''}merged ${runs.length} run${runs.length === 1 ? '' : 's'} into ${outDir}\n`;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        process.stderr.write(table);
      } else process.stdout.write(table);
      if (junitPath !== null) {
        try {
          makeDirs(dirname(junitPath));
          writeFileSync(junitPath, junitXml(s.thresholds, s));
          written.push(junitPath);
        } catch (err) {
          process.stderr.write(`smtpbench: cannot write --junit ${printable(junitPath)}: ${(err as Error).message}\n`);
        }
      }
      settleOutDir(claim, written, (m) => void process.stderr.write(`smtpbench: ${m}\n`));
      if (!written.includes(join(outDir, 'summary.json'))) throw new SmtpBenchError('SB_WRITE', `the merged results could not be written to ${outDir} (the summary above is all there is)`);
      const failed = s.thresholds.filter((v) => !v.ok).length;
      if (failed > 0) throw new SmtpBenchError('SB_THRESHOLD_FAILED', `${failed} of ${s.thresholds.length} threshold(s) failed (results: ${outDir})`);
    });
}
