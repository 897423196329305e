/** `report.md`: the summary as Markdown tables, short enough for a CI step summary. */
import type { PhaseStats } from '../metrics/histogram.js';
import type { Summary } from './summary.js';
import { modelNote } from './table.js';

/** One table of the summary, as report.md and report.html show it: the first column labels a row, the others are numbers. */
export interface SummaryTable {
  readonly head: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/** Messages and recipients: attempted, accepted, rejected, accepted per second. */
export function totalsTable(s: Summary): SummaryTable {
  const t = s.totals;
  return {
    head: ['', 'attempted', 'accepted', 'rejected', 'per second'],
    rows: [
      ['messages', t.messages.attempted, t.messages.accepted, t.messages.rejected, t.rates.msgsPerS],
      ['recipients', t.recipients.attempted, t.recipients.accepted, t.recipients.rejected, t.rates.rcptsPerS],
    ],
  };
}

/** One row per histogram: count, min, mean, p50, p90, p99, p99.9, max (ms). */
export function latencyTable(label: string, stats: Readonly<Record<string, PhaseStats>>): SummaryTable {
  return {
    head: [`${label} (ms)`, 'count', 'min', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    rows: Object.entries(stats).map(([p, v]) => [p, v.count, v.min, v.mean, v.p50, v.p90, v.p99, v.p999, v.max]),
  };
}

const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
const table = (t: SummaryTable): string[] => [row(t.head), row(t.head.map((_, i) => (i === 0 ? '---' : '---:'))), ...t.rows.map(row)];

export function renderMarkdown(s: Summary): string {
  const t = s.totals;
  const lines = [
    `# smtpbench run ${s.runId}`,
    '',
    `Target ${s.target.url}${s.target.embedded ? ' (embedded reference server)' : ''}; ${modelNote(s)}; ${s.workers} workers; ${s.durationS} s${s.interrupted ? '; **interrupted**' : ''}${s.aborted ? ' (aborted)' : ''}.`,
    ...(s.generator.saturated ? ['', `**The load generator was saturated** (event-loop delay p99 ${s.generator.eventLoopDelayP99Ms} ms): latencies include its own delays.`] : []),
    '',
    ...table(totalsTable(s)),
    '',
    `Bytes ${t.bytes} (${t.rates.mbPerS} MB/s); failed ${t.messages.failed}, abandoned ${t.messages.abandoned}; connections ${t.connections}.`,
    '',
    ...table(latencyTable('phase', s.phases)),
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
