/** `report.md`: the summary as Markdown tables, short enough for a CI step summary. */
import { DEFAULT_PERCENTILES, statsPercentile, type PhaseStats } from '../metrics/histogram.js';
import { printable } from '../redact.js';
import { topDomains, volumeOf } from '../metrics/domains.js';
import { FAILURE_TEXTS_SHOWN, OTHERS } from '../metrics/failures.js';
import type { Summary } from './summary.js';
import { formatValue, type Verdict } from './thresholds.js';
import { plural } from './compare-metrics.js';

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

const pct = (n: number, of: number): string => (of > 0 ? `${((100 * n) / of).toFixed(1)} %` : '-');

/**
 * RCPT replies per recipient domain (`totals.domains`): the `DOMAINS_SHOWN` domains with the most,
 * then one `(other)` row for the rest; null when the summary has none (older summaries), or one
 * domain that accepted every recipient.
 */
export function domainsTable(s: Summary): SummaryTable | null {
  const counts = s.totals.domains;
  if (counts === undefined || Object.keys(counts).length === 0) return null;
  // One domain whose every RCPT was accepted says nothing the totals do not: no table.
  const only = Object.values(counts);
  if (only.length === 1 && only[0].deferred === 0 && only[0].rejected === 0 && !only[0].closed) return null;
  const rows = topDomains(counts);
  // A column for 421s only when there were any: a connection limit ends sessions, it refuses no recipient.
  const closed = rows.some(([, o]) => (o.closed ?? 0) > 0);
  return {
    // RCPT replies, not final outcomes: a refusal after the data is in the data-end replies (docs/results.md).
    head: ['domain', 'RCPT replies', 'RCPT 2yz', 'RCPT 4yz', 'RCPT 5yz', '4yz share', '5yz share', ...(closed ? ['RCPT 421 (closed)'] : [])],
    rows: rows.map(([d, o]) => {
      const all = volumeOf(o);
      // `<Postmaster>` has no domain (RFC 5321 §4.1.1.3): counted under the empty name.
      return [d === '' ? '(no domain)' : d, all, o.accepted, o.deferred, o.rejected, pct(o.deferred, all), pct(o.rejected, all), ...(closed ? [o.closed ?? 0] : [])];
    }),
  };
}

/** What the per-domain table leaves out, said under it (report.md and report.html). */
export const DOMAINS_CLOSED_NOTE =
  '; a 421 ends the session (a connection limit) and has its own column when there was one. A refusal after the data (a `data-end` policy) is not a RCPT reply: see the body phase in the failure replies.';

/**
 * The distinct failure reply texts (`failureReplies`): one row per phase and text, each phase's
 * most frequent first and `(others)` last; null when there were none.
 */
export function failureRepliesTable(s: Summary): SummaryTable | null {
  const rows: (string | number)[][] = [];
  for (const [phase, texts] of Object.entries(s.failureReplies ?? {})) {
    const sorted = Object.entries(texts).sort((a, b) => Number(a[0] === OTHERS) - Number(b[0] === OTHERS) || b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [text, n] of sorted) rows.push([phase, n, text]);
  }
  return rows.length === 0 ? null : { head: ['phase', 'count', 'reply (normalised)'], rows };
}

/**
 * The sink's run-time changes (`delivery.changes`: `PUT`/`DELETE /faults`, `/domains` on its
 * `serve --http`), one row each with its second on the run's timeline; null when there were none.
 */
export function sinkChangesTable(s: Summary): SummaryTable | null {
  const changes = s.delivery?.changes ?? [];
  if (changes.length === 0) return null;
  return {
    head: ['at (s)', 'changed', 'now'],
    rows: changes.map((c) => [c.atS, c.target, c.what]),
  };
}

/** The configured percentiles of a summary (older summaries: the default four). */
export function percentilesOf(s: Summary): readonly number[] {
  return s.profile.percentiles ?? DEFAULT_PERCENTILES;
}

/**
 * One row per histogram: count, min, mean, the configured percentiles, max (ms). The one latency
 * table of every report: terminal, report.md and report.html.
 */
export function latencyTable(label: string, stats: Readonly<Record<string, PhaseStats>>, percentiles: readonly number[]): SummaryTable {
  const at = (v: PhaseStats, p: number): number | string => statsPercentile(v, p) ?? '-';
  return {
    head: [`${label} (ms)`, 'count', 'min', 'mean', ...percentiles.map((p) => `p${p}`), 'max'],
    rows: Object.entries(stats).map(([name, v]) => [name, v.count, v.min, v.mean, ...percentiles.map((p) => at(v, p)), v.max]),
  };
}

/** How to read the latencies of this run's model. */
export function modelNote(s: Summary): string {
  return s.model === 'closed'
    ? `${s.executor === 'closed' ? `closed model, ${s.sessions} sessions` : `${s.executor} (closed) model`} (latencies are service times, not corrected for coordinated omission)`
    : `${s.executor} model (transaction latency from each message's intended start; service = uncorrected)`;
}

/**
 * What changed the shape of the load or the reach of the histograms, as sentences after the totals:
 * a recipient cap learnt from a 452 (`totals.recipients.learnedCap`), latencies clamped at 1 h
 * (`totals.clampedValues`); '' when neither.
 */
export function totalsNote(s: Summary): string {
  const cap = s.totals.recipients.learnedCap;
  const clamped = s.totals.clampedValues ?? 0;
  return (
    (cap ? ` Recipient cap learnt: ${cap} per transaction (from a 452); later messages were split.` : '') +
    (clamped > 0 ? ` ${clamped} latencies above 1 h were recorded as 1 h (the histograms' highest trackable value): those maxima and top percentiles are lower bounds.` : '')
  );
}

/**
 * An event-loop utilization as a share: `48 %`, or `unknown` for a worker with no sessions or under a
 * second of measured time (its start-up alone would read as 100 %).
 */
export function busyText(utilization: number | null): string {
  return utilization === null ? 'unknown' : `${Math.round(utilization * 100)} %`;
}

/**
 * How long the run measured: `3.997 s after 2 s warm-up`, or, for a run that ended inside its
 * warm-up, `nothing measured: the run ended inside its 3 s warm-up` (its figures are empty, not warm-up data).
 */
export function measuredNote(s: Summary): string {
  if (s.warmupCompleted === false) return `nothing measured: the run ended inside its ${s.warmupS} s warm-up`;
  return `${s.durationS} s${s.warmupS ? ` after ${s.warmupS} s warm-up` : ''}`;
}

/**
 * Why a run ended early, for people, or null when it ran to its end: the threshold that stopped it
 * (abortOnFail: which one, after how many measured seconds, with what value; values as the
 * console prints them, `formatValue`), or a signal (Ctrl-C, SIGTERM; a second one aborts).
 * `code` sets the threshold's expression apart (Markdown: in backquotes).
 */
export function stopNote(s: Summary, code: (expression: string) => string = (e) => `\`${e}\``): string | null {
  if (!s.interrupted && !s.aborted) return null;
  const by = (s.thresholds ?? []).find((v) => v.abort);
  const cover = `the figures cover the ${s.durationS} s it measured`;
  if (by?.abort) {
    const f = (x: number | boolean | null): string => formatValue(x, by.unit, by.metric);
    return `Stopped early by the threshold ${code(by.expression)} (abortOnFail): ${by.abort.atS} s into the measured time, ${by.metric} was ${f(by.abort.value)} (limit ${by.op} ${f(by.limit)}); ${cover}.`;
  }
  return s.aborted
    ? `Aborted by a second Ctrl-C (or SIGTERM): only the seconds merged before it are reported, without the reference server's figures; ${cover}.`
    : `Interrupted by Ctrl-C (or SIGTERM) before its end: messages in flight finished; ${cover}.`;
}

/**
 * The open model's schedule, as the console's generator line prints it: starts more than 10 ms
 * late, starts dropped, and the schedule lag. Null for the closed models (no schedule).
 */
export function scheduleNote(s: Summary): string | null {
  if (s.model !== 'open') return null;
  const m = s.totals.messages;
  return `Schedule (${s.executor} model): late starts ${m.late} (more than 10 ms behind), dropped ${m.dropped} (never started); ${s.generator ? `schedule lag p99 ${s.generator.scheduleLagP99Ms} ms, max ${s.generator.scheduleLagMaxMs} ms` : 'schedule lag unknown (aborted)'}.`;
}

/** Greeting p99 over this many times connect p99 (and over `ACCEPT_WAIT_FLOOR_MS`) is flagged. */
export const ACCEPT_WAIT_RATIO = 2;
/** Below this greeting p99 (ms) nothing is flagged: a loopback connect takes microseconds, a greeting a server turn. */
export const ACCEPT_WAIT_FLOOR_MS = 100;

/**
 * A warning when the greeting took much longer than the connect (p99 over twice connect's and
 * over 100 ms), else null. A connection is complete when the kernel has it; the greeting comes only
 * once the server process accepts it, so a server whose loop is too busy to accept (an accept
 * queue holding thousands of connections: hostile review F7) or that delays its greeting on
 * purpose (postscreen, a `connect: delay` fault) shows here, and `greeting` then measures that wait.
 */
export function acceptWaitNote(s: Summary): string | null {
  const connect = s.phases.connect;
  const greeting = s.phases.greeting;
  if (!connect || !greeting || greeting.count === 0) return null;
  if (greeting.p99 <= ACCEPT_WAIT_FLOOR_MS || greeting.p99 <= ACCEPT_WAIT_RATIO * connect.p99) return null;
  const ratio = connect.p99 > 0 ? ` (${Math.round((greeting.p99 / connect.p99) * 10) / 10}×)` : '';
  return `greeting latency dominated by accept wait at the target: greeting p99 ${greeting.p99} ms against connect p99 ${connect.p99} ms${ratio}. The target was slow to accept connections the kernel had completed (a busy server's accept queue) or delayed its greeting on purpose; \`greeting\` measures that wait, not SMTP.`;
}

/**
 * `run --sink`: what the sink behind the MTA received, or null without a sink: accepted,
 * delivered, still queued, time to drain, delivery rate, the clock offset, and why figures are
 * missing. The delivery latencies are the `delivery` row of the phase table.
 */
export function deliveryNote(s: Summary): string | null {
  const d = s.delivery;
  if (!d) return null;
  const head = `Delivery via sink ${d.sink}: accepted ${d.accepted}`;
  const clock = `sink clock offset ${d.clockOffsetMs} ms ± ${d.clockUncertaintyMs} ms`;
  // Unknown figures are said to be unknown, never shown as counts (summary.json has them as null).
  if (d.delivered === null) return `${head}; delivered and queued unknown: ${d.error ?? 'no reading'}; ${clock}.`;
  const rate = `${d.ratePerS} msg/s delivered over ${d.windowS} s`;
  const atLoadEnd = d.deliveredAtLoadEnd === null ? '' : ` (${d.deliveredAtLoadEnd} when the load stopped)`;
  if (d.deliveredAtLeast) {
    return `${head}, delivered at least ${d.delivered}${atLoadEnd} (its last good reading), queued unknown: the sink could not be read at the end (${d.error}); ${rate}; ${clock}.`;
  }
  const drain = d.drained
    ? `drained in ${d.drainS} s after the load stopped`
    : d.drainStopped
      ? `drain stopped by the user after ${d.drainS} s: ${d.queued} still queued then`
      : `NOT drained: ${d.queued} still queued after the ${d.drainTimeoutS} s drain timeout`;
  return `${head}, delivered ${d.delivered}${atLoadEnd}, queued ${d.queued}; ${drain}; ${rate}; ${clock}${d.error ? `; incomplete: ${d.error}` : ''}.`;
}

/**
 * A merged run (`smtpbench merge`): what it was added up from, how well the inputs overlapped in
 * time, and merge's warnings; null for a run that was not merged.
 */
export function mergedNote(s: Summary, text: (t: string) => string = mdInline): string | null {
  const m = s.merged;
  if (!m) return null;
  const shards = m.inputs.flatMap((i) => (i.shard ? [i.shard] : []));
  const which =
    shards.length === m.inputs.length
      ? `shard${shards.length > 1 ? 's' : ''} ${shards.map((sh) => sh.index).join(', ')} of ${shards[0].count}`
      : `${m.inputs.length} run${m.inputs.length > 1 ? 's' : ''}`;
  const hosts = [...new Set(m.inputs.flatMap((i) => (i.host ? [text(i.host)] : [])))];
  const warnings = m.warnings.length > 0 ? ` Warnings: ${m.warnings.map(text).join('; ')}.` : '';
  return `Merged from ${which}${hosts.length > 0 ? ` on ${hosts.join(', ')}` : ''}: histograms and counts added; their measured spans overlap ${Math.round(m.overlap * 1000) / 10} %, and rates are over the merged span.${warnings}`;
}

/**
 * Text from a summary.json (host names, paths, URLs: anything a file may carry) made safe inside a
 * line of Markdown: one line, no control characters, and the characters that start emphasis, code,
 * links, tables or HTML (a `<!--` would hide the rest of a CI step summary) escaped.
 */
export function mdInline(text: string): string {
  return printable(text).replace(/[\\`*_[\]|~<>]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

/**
 * What share of a distributed run this is (`--shard i/N`, docs/distributed.md "Shards"), or null when unsharded:
 * the host, how late it started for `--start-at`, and its clock against `--clock-ref`.
 */
export function shardNote(s: Summary, text: (t: string) => string = mdInline): string | null {
  const sh = s.shard;
  if (!sh) return null;
  const who = sh.count > 1 ? `Shard ${sh.index} of ${sh.count} on ${text(sh.host)}` : `This run (on ${text(sh.host)})`;
  if (sh.idle) return `${who} had nothing to do (more shards than sessions or messages): an empty result that merges as zeros.`;
  const share = sh.count > 1 ? ": one exact share of the profile; its figures are this share's (`smtpbench merge` the shards for the whole run)" : '';
  const start =
    sh.startAt === null
      ? ''
      : sh.lateMs === null
        ? `; stopped before --start-at ${sh.startAt}: it never started`
        : sh.lateMs > 0
          ? `; started ${sh.lateMs} ms after --start-at ${sh.startAt}`
          : `; started at --start-at ${sh.startAt}`;
  const clock = sh.clock.offsetMs === null ? '' : `; clock offset ${sh.clock.offsetMs} ms ± ${sh.clock.errorMs} ms against ${text(sh.clock.source ?? '')}`;
  return `${who}${share}${start}${clock}.`;
}

/** The reference server's latency table, or null for an external target (or an aborted run). */
export function serverTable(s: Summary): SummaryTable | null {
  return s.server && Object.keys(s.server.histograms).length > 0 ? latencyTable('server', s.server.histograms, percentilesOf(s)) : null;
}

/**
 * What the reference server's figures cover: they restart when the warm-up ends, as the client's
 * do; a message in flight at that moment is the client's warm-up but the server's measured time.
 */
export function serverScopeNote(s: Summary): string {
  return s.warmupS
    ? `The server's figures restart when the ${s.warmupS} s warm-up ends, as the client's do (messages in flight at that moment count on the server's side only).`
    : 'The server measures the whole run, as the client does.';
}

/**
 * One table row. A cell's `|` would end the cell and a line break the table (GFM tables): a
 * summary.json read back may carry either in a name, so they are escaped here, once for every table.
 */
const row = (cells: readonly (string | number)[]): string =>
  `| ${cells
    .map((c) =>
      String(c)
        .replace(/\|/g, '\\|')
        .replace(/[\r\n]+/g, ' '),
    )
    .join(' | ')} |`;
/** A Markdown table; the first column and those in `text` are left-aligned, the others (numbers) right-aligned. */
const table = (t: SummaryTable, text: readonly number[] = []): string[] => [row(t.head), row(t.head.map((_, i) => (i === 0 || text.includes(i) ? '---' : '---:'))), ...t.rows.map(row)];

/** report.md: compact enough for a CI step summary, with the numbers the console prints. */
export function renderMarkdown(s: Summary): string {
  const t = s.totals;
  const stop = stopNote(s);
  const schedule = scheduleNote(s);
  const delivery = deliveryNote(s);
  const server = serverTable(s);
  const merged = mergedNote(s) ?? shardNote(s);
  const acceptWait = acceptWaitNote(s);
  const counters = s.server ? Object.entries(s.server.counters).filter(([, n]) => n !== 0) : [];
  const lines = [
    `# smtpbench run ${s.runId}`,
    '',
    `Target ${s.target.url}${s.target.embedded ? ' (embedded reference server)' : ''}; ${modelNote(s)}; ${plural(s.workers, 'worker')}; ${measuredNote(s)}${s.interrupted ? '; **interrupted**' : ''}${s.aborted ? ' (aborted)' : ''}.`,
    ...(merged ? ['', merged] : []),
    ...(stop ? ['', `**${stop}**`] : []),
    ...(s.generator?.saturated ? ['', `**The load generator was saturated** (event-loop delay p99 ${s.generator.eventLoopDelayP99Ms} ms): latencies include its own delays.`] : []),
    ...(acceptWait ? ['', `**Warning:** ${acceptWait}`] : []),
    ...thresholdsMarkdown(s.thresholds ?? []),
    '',
    ...table(totalsTable(s)),
    '',
    `Bytes ${t.bytes} (${t.rates.mbPerS} MB/s); failed ${t.messages.failed}, abandoned ${t.messages.abandoned}; connections ${t.connections}.${totalsNote(s)}`,
    ...(schedule ? ['', schedule] : []),
    '',
    ...table(latencyTable('phase', s.phases, percentilesOf(s))),
    '',
    ...(delivery ? [delivery, ''] : []),
    `Errors: ${
      Object.keys(s.errors).length === 0
        ? 'none'
        : Object.entries(s.errors)
            .map(([k, n]) => `${k} ${n}${s.errorCauses?.[k] ? ` (first: ${mdInline(printable(s.errorCauses[k]))})` : ''}`)
            .join(', ')
    }.`,
    ...enhancedMarkdown(s),
    ...sinkChangesMarkdown(s),
    ...domainsMarkdown(s),
    ...failureRepliesMarkdown(s),
    ...(server ? ['', ...table(server), '', `Reference server: ${serverScopeNote(s)}${counters.length > 0 ? ` Counters: ${counters.map(([k, n]) => `${k} ${n}`).join(', ')}.` : ''}`] : []),
    '',
    s.generator === null
      ? 'Generator: unknown (the run was aborted before its workers reported, or ended inside its warm-up).'
      : `Generator: ${(s.generator.workers ?? []).map((w, i) => `worker ${i} event-loop p99 ${w.eventLoopDelayP99Ms} ms, busy ${busyText(w.eventLoopUtilization)}`).join('; ')}.`,
    '',
    `Environment: Node ${s.environment.node}, ${s.environment.cpu} (${s.environment.cores} cores), ${s.environment.os}, git ${s.environment.gitSha ?? 'unknown'}.`,
    '',
  ];
  return lines.join('\n');
}

/** One section of report.md's tail: a heading, a paragraph saying how to read it, and its table's lines. */
const mdSection = (heading: string, text: string, lines: readonly string[]): string[] => ['', `## ${heading}`, '', text, '', ...lines];

/** `text` as Markdown inline code on one line (a backtick inside becomes a quote). */
const mdCode = (text: string): string => `\`${printable(text).replace(/`/g, "'")}\``;

/** The sink's run-time changes (`sinkChangesTable`) under a heading, plans as code; empty without any. */
function sinkChangesMarkdown(s: Summary): string[] {
  const t = sinkChangesTable(s);
  if (t === null) return [];
  return mdSection(
    'Changes at the sink during the run',
    `Faults and domain policies the sink was given while the run went on, in seconds since the load started (the sink's clock offset of ${s.delivery!.clockOffsetMs} ms taken out): compare a step in the per-second figures (timeline.ndjson, report.html) with these.`,
    table({ ...t, rows: t.rows.map(([at, target, now]) => [at, target, mdCode(String(now))]) }, [1, 2]),
  );
}

/** The per-domain table (`domainsTable`) under a heading; empty without per-domain counts. */
function domainsMarkdown(s: Summary): string[] {
  const t = domainsTable(s);
  if (t === null) return [];
  return mdSection(
    'Recipient domains',
    `RCPT replies per recipient domain: accepted (2yz), deferred (4yz), rejected (5yz)${DOMAINS_CLOSED_NOTE}`,
    table({ ...t, rows: t.rows.map(([d, ...rest]) => [mdInline(String(d)), ...rest]) }),
  );
}

/** The distinct failure replies (`failureRepliesTable`) under a heading, texts as code; empty when there were none. */
function failureRepliesMarkdown(s: Summary): string[] {
  const t = failureRepliesTable(s);
  if (t === null) return [];
  return mdSection(
    'Failure replies',
    `Distinct 4yz and 5yz reply texts per phase, normalised (numbers #, IDs &lt;id>, addresses &lt;email>, IPs &lt;ip>); at most ${FAILURE_TEXTS_SHOWN} per phase, the rest under ${OTHERS}.`,
    table({ ...t, rows: t.rows.map(([phase, n, text]) => [phase, n, mdCode(String(text))]) }, [2]),
  );
}

/** One line of enhanced status codes per phase (RFC 3463), in numeric order; empty when the run counted none. */
function enhancedMarkdown(s: Summary): string[] {
  const phases = Object.entries(s.enhancedReplies ?? {});
  if (phases.length === 0) return [];
  const codes = (byCode: Record<string, number>): string =>
    Object.entries(byCode)
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
  return ['', `Enhanced status codes (RFC 3463) per phase: ${phases.map(([phase, byCode]) => `${phase} ${codes(byCode)}`).join('; ')}.`];
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
