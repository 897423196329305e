/**
 * The data behind report.html's charts: every chart a run read back from disk (`RunData`) has data
 * for, in page order, as plain arrays uPlot draws (shapes in `chart-spec.ts`). No HTML here (that
 * is `html.ts`), so the numbers can be unit-tested.
 */
import { phaseColor, type ChartSpec, type PageData } from './chart-spec.js';
import { SERVER_SPECTRUM_SHOWN, sharedDecades, SPECTRUM_SHOWN, spectrumChart } from './chart-spectrum.js';
import { errorsChart, latencyOverTime, repliesChart, throughputChart } from './chart-time.js';
import type { RunData } from './run-data.js';
import { targetRateAt } from './timeline.js';

/** Every chart of report.html that has data, in page order. */
export function pageDataOf(run: RunData): PageData {
  const s = run.summary;
  const warmupS = s.warmupS ?? 0;
  const client = spectrumChart(
    'spectrum',
    'Latency by percentile, client side',
    `Each phase's latency (log scale) at every percentile of the whole run: read 99 % on the x axis to see what the slowest 1 % of ${s.model === 'open' ? 'transactions waited (from their intended start)' : 'commands took'}; a line ends at its maximum. Shown first: the whole message (transaction; service dashed), the end of data (body) and connection set-up (connect); the other phases are in the legend.`,
    run.histograms,
    phaseColor,
    SPECTRUM_SHOWN,
  );
  const server = spectrumChart(
    'server-spectrum',
    'Latency by percentile, reference server side',
    `The embedded reference server's own time by percentile: per command from the parsed line to its queued reply (cmd.*), per message from the 354 to the end of data (data-stream), and send-to-arrival (delivery). A server line has the colour of the client phase it serves (cmd.rcpt as rcpt); the per-session commands start hidden.${warmupS > 0 ? ` Its figures restart when the ${warmupS} s warm-up ends, as the client's do.` : ''}`,
    run.serverHistograms,
    phaseColor,
    SERVER_SPECTRUM_SHOWN,
  );
  // One y axis for both spectra, so the server's time reads against the client's at a glance.
  const shared = client && server ? sharedDecades([client, server]) : null;
  const withRange = (c: ChartSpec | null, note: string): ChartSpec | null => (c && shared ? { ...c, yRange: shared, caption: `${c.caption} ${note}` } : c);
  const sameAxis = `Both percentile charts open on one latency axis (${shared?.[0]} to ${shared?.[1]} ms)`;
  const charts = [
    withRange(client, `${sameAxis}, so a line compares with the server's.`),
    withRange(server, `${sameAxis}: the gap between a client line and the server line of its colour is time outside the server's command handling (network, queues, the client).`),
    latencyOverTime(run.intervals, run.timeline, warmupS),
    throughputChart(run.timeline, run.intervals, { targetAt: (tS) => targetRateAt(s.profile, tS), warmupS, late: s.totals?.messages?.late, dropped: s.totals?.messages?.dropped }),
    repliesChart(run.timeline, warmupS),
    errorsChart(run.timeline, warmupS),
  ];
  const marks = (s.delivery?.changes ?? []).map((c) => ({ atS: c.atS, label: `${c.target} ${c.action === 'clear' ? 'cleared' : 'changed'}` }));
  return { warmupS, charts: charts.filter((c): c is ChartSpec => c !== null), marks };
}
