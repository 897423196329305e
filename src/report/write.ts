/**
 * Writes a run's results under `results/<run-id>/`: `summary.json`, one `<phase>.hgrm` per
 * phase with data (ms), `server.<name>.hgrm` for the reference server's own histograms,
 * `report.md` (fits a CI step summary) and `report.html` (charts; drawn from the directory's
 * run.hlog and timeline.ndjson, which the run has finished writing by then).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirs } from './out-dir.js';
import { join } from 'node:path';
import { hgrmOf, type Histogram } from '../metrics/histogram.js';
import type { RunOutcome } from '../load/coordinator.js';
import { renderHtml } from './html.js';
import { decodeServerStats } from './server-stats.js';
import { renderMarkdown } from './markdown.js';
import { runDataOf } from './run-data.js';
import type { Summary } from './summary.js';

/**
 * Writes every report file of a finished run into `dir` (created if missing). Returns the paths written.
 * A file that cannot be written (a full disk) is one line on stderr and the others are still
 * tried; report.html comes last: when it cannot be drawn, the other files are already written and
 * one line on stderr says why (the run's results are never lost to a chart).
 */
export function writeResults(dir: string, summary: Summary, outcome: RunOutcome): string[] {
  return writeReports(dir, summary, outcome.merged.histograms, outcome.server ? decodeServerStats(outcome.server) : new Map());
}

/**
 * The files of `writeResults` from a summary and its whole-run histograms (µs): summary.json, a
 * `<phase>.hgrm` per phase and a `server.<name>.hgrm` per server histogram with data, report.md,
 * and report.html drawn from the run.hlog and timeline.ndjson already in `dir` (`run` and `merge`
 * write those first). Same failure rules as `writeResults`.
 */
export function writeReports(dir: string, summary: Summary, histograms: ReadonlyMap<string, Histogram>, serverHistograms: ReadonlyMap<string, Histogram>): string[] {
  makeDirs(dir);
  const written: string[] = [];
  const put = (name: string, text: string): void => {
    const path = join(dir, name);
    try {
      writeFileSync(path, text);
      written.push(path);
    } catch (err) {
      process.stderr.write(`smtpbench: cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    }
  };
  put('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  for (const [phase, h] of histograms) if (h.totalCount > 0) put(`${phase}.hgrm`, hgrmOf(h));
  for (const [name, h] of serverHistograms) if (h.totalCount > 0) put(`server.${name}.hgrm`, hgrmOf(h));
  put('report.md', renderMarkdown(summary));
  try {
    const sibling = (name: string): string | null => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
    put('report.html', renderHtml(runDataOf(dir, summary, sibling('run.hlog'), sibling('timeline.ndjson'))));
  } catch (err) {
    process.stderr.write(`smtpbench: report.html not written: ${(err as Error).message}\n`);
  }
  return written;
}

/**
 * A sortable, file-system-safe run id, unique even for runs started in the same millisecond:
 * `2026-11-30T10-15-02.123Z-smoke-4f2a9c`.
 */
export function newRunId(profileName: string, at = new Date()): string {
  const stamp = at.toISOString().replaceAll(':', '-');
  return `${stamp}-${profileName.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${randomBytes(3).toString('hex')}`;
}
