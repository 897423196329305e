/** The terminal summary: one table of totals and one of per-phase latency (ms), via cli-table3. */
import Table from 'cli-table3';
import { printable } from '../redact.js';
import {
  acceptWaitNote,
  busyText,
  totalsNote,
  deliveryNote,
  domainsTable,
  failureRepliesTable,
  sinkChangesTable,
  latencyTable,
  measuredNote,
  modelNote,
  percentilesOf,
  shardNote,
  type SummaryTable,
} from './markdown.js';
import { SATURATION_EVENT_LOOP_P99_MS, type Summary } from './summary.js';
import { plural } from './compare-metrics.js';

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
  const rows = latencyTable('phase', s.phases, percentilesOf(s));
  const phases = new Table({ head: [...rows.head], ...look });
  phases.push(...rows.rows.map((r) => [...r]));
  const errors = Object.entries(s.errors);
  const acceptWait = acceptWaitNote(s);
  const domains = domainsTable(s);
  const failures = failureRepliesTable(s);
  const changes = sinkChangesTable(s);
  return [
    `target ${s.target.url}${s.target.embedded ? ' (embedded)' : ''} · ${modelNote(s)} · ${plural(s.workers, 'worker')} · ${measuredNote(s)}${s.interrupted ? ' · INTERRUPTED' : ''}${s.aborted ? ' (aborted)' : ''}`,
    ...(s.shard && s.shard.count > 1 ? [shardNote(s, printable)!] : []),
    totals.toString(),
    `bytes ${t.bytes} (${t.rates.mbPerS} MB/s) · failed ${t.messages.failed} · abandoned ${t.messages.abandoned} · connections ${t.connections}${totalsNote(s)}`,
    phases.toString(),
    ...(acceptWait ? [`WARNING: ${acceptWait.replace(/`/g, '')}`] : []),
    ...(s.delivery ? [deliveryNote(s)!] : []),
    ...(changes ? ['changes at the sink (s since the load started):', consoleTable({ ...changes, rows: changes.rows.map(([at, target, now]) => [at, target, printable(String(now))]) })] : []),
    ...(domains ? [consoleTable(domains)] : []),
    ...(failures ? ['failure replies (normalised):', consoleTable({ ...failures, rows: failures.rows.map(([p, n, text]) => [p, n, printable(String(text))]) })] : []),
    `error kinds: ${errors.length === 0 ? 'none' : errors.map(([k, n]) => `${k}=${n}${s.errorCauses?.[k] ? ` (${printable(s.errorCauses[k])})` : ''}`).join(' ')}`,
    s.generator === null
      ? 'generator: unknown (aborted before the workers reported, or nothing measured)'
      : `generator: event-loop p99 ${s.generator.eventLoopDelayP99Ms} ms · busy ${busyText(s.generator.eventLoopUtilizationMax)}${s.model === 'open' ? ` · schedule lag p99 ${s.generator.scheduleLagP99Ms} ms · late ${t.messages.late} · dropped ${t.messages.dropped}` : ''}${s.generator.saturated ? ` · SATURATED (event-loop delay p99 over ${SATURATION_EVENT_LOOP_P99_MS} ms): the generator fell behind; latencies include its own delays` : ''}`,
  ].join('\n');
}

/** A summary table in the console's look. */
function consoleTable(t: SummaryTable): string {
  const out = new Table({ head: [...t.head], ...look });
  out.push(...t.rows.map((r) => [...r]));
  return out.toString();
}

/**
 * Errors by kind for a one-line message, each with its first cause: `connect-failed ×15 (getaddrinfo
 * ENOTFOUND mx.example.invalid), rcpt-timeout ×2`; empty when there were none.
 */
export function errorList(s: Pick<Summary, 'errors' | 'errorCauses'>): string {
  return Object.entries(s.errors)
    .map(([k, n]) => `${k} ×${n}${s.errorCauses?.[k] ? ` (${printable(s.errorCauses[k])})` : ''}`)
    .join(', ');
}
