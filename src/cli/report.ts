/** `smtpbench report DIR`: rebuilds report.md and report.html of a run from its summary.json, run.hlog and timeline.ndjson. */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { SmtpBenchError } from '../errors.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { loadRunDir } from '../report/run-data.js';

export function reportCommand() {
  return new Command('report')
    .description('rebuild report.md and report.html from a run directory (summary.json, run.hlog, timeline.ndjson), e.g. for an older or merged run')
    .argument('<dir>', 'the run directory, or its summary.json')
    .action((path) => {
      // Throws SB_USAGE (exit 2) naming the path when it is missing, unreadable or another schema.
      const run = loadRunDir(path);
      const dir = statSync(path).isFile() ? dirname(path) : path;
      for (const [name, text] of [
        ['report.md', renderMarkdown(run.summary)],
        ['report.html', renderHtml(run)],
      ]) {
        const out = join(dir, name);
        try {
          writeFileSync(out, text);
        } catch (err) {
          throw new SmtpBenchError('SB_USAGE', `cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        process.stdout.write(`${out}\n`);
      }
    });
}
