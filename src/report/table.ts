/** The terminal summary: one table of totals and one of per-phase latency (ms), via cli-table3. */
import Table from 'cli-table3';
import { DEFAULT_PERCENTILES, type PhaseStats } from '../metrics/histogram.js';
import type { Summary } from './summary.js';

// No colours (they garble logs and CI output) and no rule between rows.
const look = {
  style: { head: [], border: [] },
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
};

export function renderConsole(s: Summary): string {
  const t = s.totals;
  const totals = new Table({ head: ['', 'attempted', 'accepted', 'rejected', 'per second'], ...look });
  totals.push(
    ['messages', t.messages.attempted, t.messages.accepted, t.messages.rejected, t.rates.msgsPerS],
    ['recipients', t.recipients.attempted, t.recipients.accepted, t.recipients.rejected, t.rates.rcptsPerS],
  );
  const rows = phaseRows(s);
  const phases = new Table({ head: rows.head, ...look });
  phases.push(...rows.rows);
  const errors = Object.entries(s.errors);
  return [
    `target ${s.target.url}${s.target.embedded ? ' (embedded)' : ''} · ${modelNote(s)} · ${s.workers} workers · ${s.durationS} s${s.warmupS ? ` after ${s.warmupS} s warm-up` : ''}${s.interrupted ? ' · INTERRUPTED' : ''}${s.aborted ? ' (aborted)' : ''}`,
    totals.toString(),
    `bytes ${t.bytes} (${t.rates.mbPerS} MB/s) · failed ${t.messages.failed} · abandoned ${t.messages.abandoned} · connections ${t.connections}`,
    phases.toString(),
    `errors: ${errors.length === 0 ? 'none' : errors.map(([k, n]) => `${k}=${n}`).join(' ')}`,
    `generator: event-loop p99 ${s.generator.eventLoopDelayP99Ms} ms · busy ${Math.round(s.generator.eventLoopUtilizationMax * 100)} %${s.model === 'open' ? ` · schedule lag p99 ${s.generator.scheduleLagP99Ms} ms · late ${t.messages.late} · dropped ${t.messages.dropped}` : ''}${s.generator.saturated ? ' · SATURATED: the generator fell behind; latencies include its own delays' : ''}`,
  ].join('\n');
}

/** The configured percentiles of a summary (older summaries: the default four). */
export function percentilesOf(s: Summary): readonly number[] {
  return s.profile.percentiles ?? DEFAULT_PERCENTILES;
}

/**
 * The per-phase latency table every report shows (terminal, report.md, report.html): a header and
 * one row per phase with data, the configured percentiles as columns, values in ms.
 */
export function phaseRows(s: Summary): { head: string[]; rows: (string | number)[][] } {
  const ps = percentilesOf(s);
  const legacy: Record<string, keyof PhaseStats> = { '50': 'p50', '90': 'p90', '99': 'p99', '99.9': 'p999' };
  const at = (v: PhaseStats, p: number): number | string => v.percentiles?.[String(p)] ?? (legacy[String(p)] ? (v[legacy[String(p)]] as number) : '-');
  return {
    head: ['phase (ms)', 'count', 'min', 'mean', ...ps.map((p) => `p${p}`), 'max'],
    rows: Object.entries(s.phases).map(([phase, v]) => [phase, v.count, v.min, v.mean, ...ps.map((p) => at(v, p)), v.max]),
  };
}

/** How to read the latencies of this run's model. */
export function modelNote(s: Summary): string {
  return s.model === 'closed'
    ? `${s.executor === 'closed' ? `closed model, ${s.sessions} sessions` : `${s.executor} (closed) model`} (latencies are service times, not corrected for coordinated omission)`
    : `${s.executor} model (transaction latency from each message's intended start; service = uncorrected)`;
}
