/** `report.md`: the summary as Markdown tables, short enough for a CI step summary. */
import type { Summary } from './summary.js';
import { modelNote, phaseRows } from './table.js';
import { formatValue, type Verdict } from './thresholds.js';

const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

export function renderMarkdown(s: Summary): string {
  const t = s.totals;
  const phases = phaseRows(s);
  const lines = [
    `# smtpbench run ${s.runId}`,
    '',
    `Target ${s.target.url}${s.target.embedded ? ' (embedded reference server)' : ''}; ${modelNote(s)}; ${s.workers} workers; ${s.durationS} s${s.interrupted ? '; **interrupted**' : ''}${s.aborted ? ' (aborted)' : ''}.`,
    ...(s.generator.saturated ? ['', `**The load generator was saturated** (event-loop delay p99 ${s.generator.eventLoopDelayP99Ms} ms): latencies include its own delays.`] : []),
    ...thresholdsMarkdown(s.thresholds ?? []),
    '',
    row(['', 'attempted', 'accepted', 'rejected', 'per second']),
    row(['---', '---:', '---:', '---:', '---:']),
    row(['messages', t.messages.attempted, t.messages.accepted, t.messages.rejected, t.rates.msgsPerS]),
    row(['recipients', t.recipients.attempted, t.recipients.accepted, t.recipients.rejected, t.rates.rcptsPerS]),
    '',
    `Bytes ${t.bytes} (${t.rates.mbPerS} MB/s); failed ${t.messages.failed}, abandoned ${t.messages.abandoned}; connections ${t.connections}.`,
    '',
    row(phases.head),
    row(['---', ...new Array(phases.head.length - 1).fill('---:')]),
    ...phases.rows.map(row),
    '',
    `Errors: ${Object.keys(s.errors).length === 0 ? 'none' : Object.entries(s.errors).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
    '',
    `Generator: ${s.generator.workers.map((w, i) => `worker ${i} event-loop p99 ${w.eventLoopDelayP99Ms} ms, busy ${Math.round(w.eventLoopUtilization * 100)} %`).join('; ')}.`,
    '',
    `Environment: Node ${s.environment.node}, ${s.environment.cpu} (${s.environment.cores} cores), ${s.environment.os}, git ${s.environment.gitSha ?? 'unknown'}.`,
    '',
  ];
  return lines.join('\n');
}

/** The thresholds table (empty when the run had none): each verdict with its measured value. */
export function thresholdsMarkdown(verdicts: readonly Verdict[]): string[] {
  if (verdicts.length === 0) return [];
  const failed = verdicts.filter((v) => !v.ok).length;
  return [
    '',
    `**Thresholds: ${failed === 0 ? `all ${verdicts.length} passed` : `${failed} of ${verdicts.length} failed`}.**`,
    '',
    row(['', 'threshold', 'measured']),
    row(['---', '---', '---:']),
    ...verdicts.map((v) =>
      row([
        v.ok ? 'pass' : '**FAIL**',
        `\`${v.expression}\`${v.abort ? ` (stopped the run at ${v.abort.atS} s with ${formatValue(v.abort.value, v.unit, v.metric)})` : ''}`,
        formatValue(v.value, v.unit, v.metric),
      ]),
    ),
  ];
}
