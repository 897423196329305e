/**
 * The sections of report.html drawn from summary.json alone: threshold verdicts (values by
 * `formatValue`, as on the console), a chart's frame and caption, reply codes (basic and enhanced), generator health,
 * the reference server, the glossary of the run's phases (`glossary.ts`) and the environment.
 * Every string from the run goes through `esc`.
 */
import type { ChartSpec } from './chart-spec.js';
import { phaseMeaning, serverCommandMeaning } from './glossary.js';
import { esc, scroller, tableHtml } from './html-page.js';
import { busyText, DOMAINS_CLOSED_NOTE, domainsTable, failureRepliesTable, sinkChangesTable, measuredNote, modelNote, serverScopeNote, serverTable, type SummaryTable } from './markdown.js';
import type { Summary } from './summary.js';
import { formatValue, type Verdict } from './thresholds.js';

/** The thresholds section: a pass/fail line, then one row per verdict (measured value, limit, abortOnFail). */
export function thresholdsHtml(verdicts: readonly Verdict[]): string {
  if (verdicts.length === 0) return '<p>No thresholds were set for this run.</p>';
  const failed = verdicts.filter((v) => !v.ok).length;
  // Values as the console and report.md print them.
  const f = (v: Verdict, x: number | boolean | null): string => formatValue(x, v.unit, v.metric);
  const onFail = (v: Verdict): string => (v.abort ? `stopped the run ${v.abort.atS} s into the measured time, at ${f(v, v.abort.value)}` : v.abortOnFail ? 'yes (did not fire)' : 'no');
  const rows = verdicts
    .map(
      (v) =>
        `<tr class="${v.ok ? 'pass' : 'fail'}"><td>${v.ok ? '✓ pass' : '✗ FAIL'}</td><td><code>${esc(v.expression)}</code></td><td>${esc(f(v, v.value))}</td><td>${esc(`${v.op} ${f(v, v.limit)}`)}</td><td>${esc(onFail(v))}</td></tr>`,
    )
    .join('\n');
  return `<p class="${failed ? 'fail' : 'pass'}">${failed === 0 ? `All ${verdicts.length} thresholds passed.` : `${failed} of ${verdicts.length} thresholds failed.`}</p>
${scroller(`<table id="thresholds"><thead><tr><th>verdict</th><th>threshold</th><th>measured</th><th>limit</th><th>abortOnFail (stop the run when it fails)</th></tr></thead><tbody>
${rows}
</tbody></table>`)}`;
}

/** The frame of one chart (the browser script draws into it), with its caption and, on a time chart, what the warm-up band means. */
export function chartHtml(c: ChartSpec, warmupS: number): string {
  const end = c.warmupEndS;
  const warm =
    c.kind === 'time' && end !== undefined
      ? ` Each point is the second ending there; the grey band is the ${warmupS} s warm-up${end > warmupS ? ` (to ${end} s, the end of the last second counted in it)` : ''}: shown, but left out of every figure in the tables.`
      : '';
  const hover = ` Hover over the chart to read the values${c.views[0].series.length > 1 ? '; click a name in the legend to show or hide its line' : ''}.`;
  const single = c.kind === 'time' && c.x.length === 1 ? ' This run lasted less than two seconds, so each line is a single point.' : '';
  return `<figure class="chart" id="chart-${esc(c.id)}">
<h3>${esc(c.title)}</h3>
<div class="controls"></div>
<div class="plot"></div>
<figcaption>${esc(c.caption)}${esc(warm)}${esc(single)}${esc(hover)}</figcaption>
</figure>`;
}

/** Reply codes per phase: one column per code seen. */
export function repliesTable(s: Summary): SummaryTable {
  return perPhaseTable(s.replies);
}

/** Enhanced status codes per phase (RFC 3463), beside the reply codes; empty when the run counted none. */
export function enhancedHtml(s: Summary): string {
  if (Object.keys(s.enhancedReplies ?? {}).length === 0) return '';
  return `<h3>Enhanced status codes per phase</h3>
<p class="small">The RFC 3463 code at the start of a reply's text (<code>4.2.2</code>: mailbox full), beside its basic code above; replies without one are not counted here.</p>
${tableHtml(perPhaseTable(s.enhancedReplies!), 'enhanced-replies')}`;
}

/** RCPT replies per recipient domain (top 20, then `(other)`); empty without per-domain counts. */
export function domainsHtml(s: Summary): string {
  const t = domainsTable(s);
  if (t === null) return '';
  return `<h3>Recipient domains</h3>
<p class="small">RCPT replies per recipient domain: accepted (2yz), deferred (4yz), rejected (5yz); the 20 domains with the most, the rest as (other)${esc(DOMAINS_CLOSED_NOTE.replace(/`/g, ''))}</p>
${tableHtml(t, 'domains')}`;
}

/** The sink's run-time changes, each at its second (also drawn on the time charts); empty without any. */
export function sinkChangesHtml(s: Summary): string {
  const t = sinkChangesTable(s);
  if (t === null) return '';
  return `<h3>Changes at the sink during the run</h3>
<p class="small">Faults and domain policies the sink was given while the run went on (<code>PUT</code> or <code>DELETE /faults</code>, <code>/domains</code>), in seconds since the load started, the sink's clock offset taken out; the dashed lines on the time charts mark them.</p>
${tableHtml(t, 'sink-changes', (i) => (i === 2 ? 'text' : ''))}`;
}

/** The distinct failure reply texts per phase, normalised, with counts; empty when there were none. */
export function failureRepliesHtml(s: Summary): string {
  const t = failureRepliesTable(s);
  if (t === null) return '';
  return `<h3>Failure replies</h3>
<p class="small">Distinct 4yz and 5yz reply texts per phase, normalised: numbers as #, IDs as &lt;id&gt;, addresses as &lt;email&gt;, IPs as &lt;ip&gt;; at most 20 per phase, the rest as (others).</p>
${tableHtml(t, 'failure-replies', (i) => (i === 2 ? 'text' : ''))}`;
}

/** Counts per phase and code: one column per code seen, in numeric order (`2.2.0` before `2.10.0`). */
function perPhaseTable(byPhase: Readonly<Record<string, Readonly<Record<string, number>>>>): SummaryTable {
  const codes = [...new Set(Object.values(byPhase).flatMap((byCode) => Object.keys(byCode)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return {
    head: ['phase', ...codes],
    rows: Object.entries(byPhase).map(([phase, byCode]) => [phase, ...codes.map((c) => byCode[c] ?? '')]),
  };
}

/** The load generator's health: event-loop delay, the busiest worker, saturation, and each worker's figures. */
export function generatorHtml(s: Summary): string {
  const g = s.generator;
  if (g === null) return '<p>Unknown: the run was aborted before its workers reported their health, or ended inside its warm-up.</p>';
  // The open model's schedule (late and dropped starts, lag) is under Totals, as in report.md.
  const open = s.model === 'open' ? ' The schedule lag is under Totals.' : '';
  const workers: SummaryTable = {
    head: ['worker', 'event-loop delay p99 (ms)', 'max (ms)', 'busy'],
    rows: (g.workers ?? []).map((w, i) => [String(i), w.eventLoopDelayP99Ms, w.eventLoopDelayMaxMs, busyText(w.eventLoopUtilization)]),
  };
  // Every value escaped, numbers too: a summary.json read back may have been edited by hand.
  return `<p>Event-loop delay p99 ${esc(g.eventLoopDelayP99Ms)} ms (max ${esc(g.eventLoopDelayMaxMs)} ms), busiest worker ${esc(busyText(g.eventLoopUtilizationMax ?? null))} busy.${esc(open)} ${g.saturated ? '<strong>Saturated.</strong>' : 'Not saturated: the generator kept its own clock.'}</p>
${workers.rows.length > 0 ? tableHtml(workers, 'generator') : ''}`;
}

/** The reference server section (its own latencies and counters); empty for an external target. */
export function serverHtml(s: Summary): string {
  const table = serverTable(s);
  if (!s.server || !table) return '';
  const counters = Object.entries(s.server.counters)
    .map(([k, v]) => `${esc(k)} ${esc(v)}`)
    .join(' · ');
  return `<section>
<h2>Reference server</h2>
<p>The embedded reference server measured itself: processing time per command (<code>cmd.*</code>), DATA stream time per message and send-to-arrival time (<code>delivery</code>); the <a href="#glossary">glossary</a> defines each. ${esc(serverScopeNote(s))}</p>
${tableHtml(table, 'server')}
<p class="small">Counters: ${counters}.</p>
</section>`;
}

/** Every phase and server histogram of this run, from → to; the server's commands share one row. */
export function glossaryHtml(s: Summary): string {
  const server = Object.keys(s.server?.histograms ?? {});
  const commands = server.filter((n) => n.startsWith('cmd.'));
  const rows: [string[], string][] = [...Object.keys(s.phases), ...server.filter((n) => !n.startsWith('cmd.'))].map((n) => [[n], phaseMeaning(n, s.model) ?? 'not described by this version']);
  if (commands.length > 0) rows.push([commands, serverCommandMeaning()]);
  // Each name kept whole (data-stream would break at its hyphen); a list of names wraps between them.
  const tr = ([names, meaning]: [string[], string]): string =>
    `<tr><th scope="row">${names.map((n) => `<span class="name">${esc(n)}</span>`).join(', ')}</th><td class="text">${esc(meaning)}</td></tr>`;
  return `<section id="glossary">
<h2>Glossary: what each phase measures</h2>
<p class="small">Latencies are measured from → to as below, with a monotonic clock, in µs, shown in ms. With PIPELINING a command's latency runs from the write of its batch to its own reply (RFC 2920).</p>
${scroller(`<table id="phase-glossary"><thead><tr><th>phase</th><th>from → to</th></tr></thead><tbody>
${rows.map(tr).join('\n')}
</tbody></table>`)}
</section>`;
}

/** The run's identity and environment (Node, CPU, OS, git), and the resolved profile folded away. */
export function environmentHtml(s: Summary): string {
  const e = s.environment;
  const rows: [string, string | number][] = [
    ['run id', s.runId],
    ['started at', s.startedAt],
    ['measured', measuredNote(s)],
    ['target', `${s.target.url}${s.target.embedded ? ' (embedded reference server)' : ''}`],
    ['load model', modelNote(s)],
    ['workers', s.workers],
    ['Node', e.node],
    ['CPU', `${e.cpu} (${e.cores} cores)`],
    ['OS', e.os],
    ['git', e.gitSha ?? 'unknown'],
  ];
  return `${scroller(`<table id="environment"><tbody>
${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td class="text">${esc(v)}</td></tr>`).join('\n')}
</tbody></table>`)}
<details><summary>Resolved profile</summary><pre>${esc(JSON.stringify(s.profile, null, 2))}</pre></details>`;
}
