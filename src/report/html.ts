/**
 * `report.html`: one self-contained page per run (the page shell is `html-page.ts`) with the chart
 * data embedded as JSON (`chart-data.ts` prepares it, `chart-client.ts` draws it), the summary
 * tables and notes of report.md (the same functions write both), threshold verdicts, generator
 * health, a glossary of the run's phases and the environment (`html-sections.ts`). Every string
 * from the run goes through `esc`; every table sits in a box that scrolls sideways.
 */
import { pageDataOf } from './chart-data.js';
import { CHART_CLIENT } from './chart-client.js';
import { errorKindMeaning } from './glossary.js';
import { esc, pageHtml, tableHtml } from './html-page.js';
import { chartHtml, domainsHtml, enhancedHtml, failureRepliesHtml, sinkChangesHtml, environmentHtml, generatorHtml, glossaryHtml, repliesTable, serverHtml, thresholdsHtml } from './html-sections.js';
import { printable } from '../redact.js';
import { acceptWaitNote, deliveryNote, latencyTable, measuredNote, mergedNote, shardNote, modelNote, percentilesOf, scheduleNote, stopNote, totalsTable, type SummaryTable } from './markdown.js';
import type { RunData } from './run-data.js';
import { plural } from './compare-metrics.js';

/** The whole page for `run`. @throws when the uplot package cannot be read (not installed) */
export function renderHtml(run: RunData): string {
  const s = run.summary;
  const page = pageDataOf(run);
  const t = s.totals;
  // Each row is a grid of its own: side by side on a wide screen, and a chart alone spans the row.
  const charts = (rows: string[][]): string => {
    const html = rows
      .map((ids) => page.charts.filter((c) => ids.includes(c.id)))
      .filter((list) => list.length > 0)
      .map((list) => `<div class="charts">\n${list.map((c) => chartHtml(c, page.warmupS)).join('\n')}\n</div>`);
    return html.length === 0 ? '<p>No per-second data in this run.</p>' : html.join('\n');
  };
  const errors = Object.entries(s.errors);
  const errorsTable: SummaryTable = {
    head: ['error kind', 'count', 'first cause', 'meaning'],
    rows: errors.map(([kind, n]) => [kind, n, printable(s.errorCauses?.[kind] ?? ''), errorKindMeaning(kind)]),
  };
  const stop = stopNote(s, (e) => `“${e}”`);
  const schedule = scheduleNote(s);
  const delivery = deliveryNote(s);
  const merged = mergedNote(s, printable) ?? shardNote(s, printable);
  const acceptWait = acceptWaitNote(s);
  return pageHtml(
    `smtpbench run ${s.runId}`,
    `<p class="lead">${esc(`Target ${s.target.url}${s.target.embedded ? ' (embedded reference server)' : ''}; ${plural(s.workers, 'worker')}; ${measuredNote(s)}; started ${s.startedAt}.`)}</p>
<p class="banner notice"><strong>How to read the latencies:</strong> ${esc(modelNote(s))}.${s.model === 'open' ? ' Latencies from the intended start include any wait the server caused, so they are not hidden by coordinated omission.' : ' A closed-model run hides queueing delay (coordinated omission): use an open model (executor: open) for latency claims.'}</p>
${merged ? `<p class="banner${s.merged?.warnings.length || (s.shard?.lateMs ?? 0) > 1000 ? ' warning' : ''}" id="${s.merged ? 'merged' : 'shard'}">${esc(merged)}</p>` : ''}
${stop ? `<p class="banner warning" id="stopped">${esc(stop)}</p>` : ''}
${delivery ? `<p class="banner${s.delivery?.drained ? '' : ' warning'}" id="delivery">${esc(delivery)}</p>` : ''}
${acceptWait ? `<p class="banner warning" id="accept-wait">${esc(acceptWait.replace(/`/g, ''))}</p>` : ''}
${s.generator?.saturated ? `<p class="banner warning" id="saturated"><strong>The load generator was saturated</strong> (event-loop delay p99 ${esc(s.generator.eventLoopDelayP99Ms)} ms): latencies include the generator's own delays, so they overstate the server's. Use more workers or a lower rate.</p>` : ''}
<section>
<h2>Thresholds</h2>
${thresholdsHtml(s.thresholds ?? [])}
</section>
<section>
<h2>Totals</h2>
${tableHtml(totalsTable(s), 'totals')}
<p>${esc(`Bytes ${t.bytes} (${t.rates.mbPerS} MB/s); failed ${t.messages.failed}, abandoned ${t.messages.abandoned}; connections ${t.connections}; transactions ${t.transactions}.`)}</p>
${schedule ? `<p id="schedule">${esc(schedule)}</p>` : ''}
<h2>Latency per phase</h2>
<p class="small">What each phase runs from and to: see the <a href="#glossary">glossary</a> below.</p>
${tableHtml(latencyTable('phase', s.phases, percentilesOf(s)), 'phases')}
</section>
<section>
<h2>Latency charts</h2>
${charts([['spectrum', 'server-spectrum'], ['latency-over-time']])}
</section>
<section>
<h2>Throughput, replies and errors</h2>
${charts([['throughput'], ['replies', 'errors']])}
<h3>Errors by kind</h3>
${errors.length === 0 ? '<p>Errors: none.</p>' : tableHtml(errorsTable, 'errors', (i) => (i >= 2 ? 'text' : ''))}
<h3>Reply codes per phase</h3>
${tableHtml(repliesTable(s), 'replies')}
${enhancedHtml(s)}
${sinkChangesHtml(s)}
${domainsHtml(s)}
${failureRepliesHtml(s)}
</section>
${serverHtml(s)}
<section>
<h2>Load generator</h2>
${generatorHtml(s)}
</section>
${glossaryHtml(s)}
<section>
<h2>Environment</h2>
${environmentHtml(s)}
</section>`,
    'chart-data',
    page,
    CHART_CLIENT,
  );
}
