/**
 * `report.html`: one self-contained page per run that opens from disk with no network: uPlot's
 * script and CSS inlined (read once from the installed `uplot` package), the chart data embedded
 * as JSON (`chart-data.ts` prepares it), the summary tables and notes of report.md (the same
 * functions write both), threshold verdicts (values by `formatValue`, as on the console),
 * generator health, a glossary of the run's phases (`glossary.ts`) and the environment. Every
 * string from the run goes through `esc`; every table sits in a box that scrolls sideways.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pageDataOf } from './chart-data.js';
import type { ChartSpec } from './chart-spec.js';
import { errorKindMeaning, phaseMeaning, serverCommandMeaning } from './glossary.js';
import { printable } from '../redact.js';
import {
  deliveryNote,
  latencyTable,
  mergedNote,
  measuredNote,
  shardNote,
  modelNote,
  percentilesOf,
  scheduleNote,
  serverScopeNote,
  serverTable,
  stopNote,
  totalsTable,
  type SummaryTable,
} from './markdown.js';
import type { RunData } from './run-data.js';
import type { Summary } from './summary.js';
import { formatValue, type Verdict } from './thresholds.js';

let assets: { js: string; css: string } | null = null;

/** uPlot's minified IIFE script and its CSS, from the installed package (read on first use). @throws when the uplot package cannot be read */
export function uplotAssets(): { js: string; css: string } {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  // Inlined as is: a closing tag inside would end the element early (HTML spec, "script data state").
  if (/<\/script/i.test(js) || /<\/style/i.test(css)) throw new Error('uPlot cannot be inlined: it contains a closing tag');
  assets = { js, css };
  return assets;
}

/**
 * The page every smtpbench report is: head with uPlot's CSS and ours, `body` inside <main>, the
 * footer, the data as JSON in `<script type="application/json" id=dataId>`, uPlot and `client`
 * (the page's own drawing script). `title` is escaped here; `body` is HTML already escaped.
 */
export function pageHtml(title: string, body: string, dataId: string, data: unknown, client: string): string {
  const { js, css } = uplotAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${body}
<p class="small">Written by smtpbench. Charts drawn with uPlot (MIT); everything this page shows is in this one file.</p>
</main>
<script type="application/json" id="${esc(dataId)}">${scriptJson(data)}</script>
<script>${js}</script>
<script>${client}</script>
</body>
</html>
`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON for a `<script type="application/json">` element: `<` as `\u003c` (still the same JSON),
 * so no string in the data can close the element (`</script>`) or open a comment (`<!--`).
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** A table in a box that scrolls sideways when the window is narrower than the table. */
export const scroller = (table: string): string => `<div class="scroll">${table}</div>`;

/** A table (`id`) of `t`, first column as row headers; `cellClass`: a class for the cells of column i (default: numbers, right-aligned). */
export function tableHtml(t: SummaryTable, id: string, cellClass: (i: number) => string = () => ''): string {
  const head = t.head.map((h) => `<th>${esc(h)}</th>`).join('');
  const td = (c: string | number, i: number): string => (cellClass(i) ? `<td class="${cellClass(i)}">${esc(c)}</td>` : `<td>${esc(c)}</td>`);
  const rows = t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : td(c, i))).join('')}</tr>`).join('\n');
  return scroller(`<table id="${esc(id)}"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`);
}

function thresholdsHtml(verdicts: readonly Verdict[]): string {
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

function chartHtml(c: ChartSpec, warmupS: number): string {
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
function repliesTable(s: Summary): SummaryTable {
  const codes = [...new Set(Object.values(s.replies).flatMap((byCode) => Object.keys(byCode)))].sort();
  return {
    head: ['phase', ...codes],
    rows: Object.entries(s.replies).map(([phase, byCode]) => [phase, ...codes.map((c) => (byCode as Record<string, number>)[c] ?? '')]),
  };
}

function generatorHtml(s: Summary): string {
  const g = s.generator;
  // The open model's schedule (late and dropped starts, lag) is under Totals, as in report.md.
  const open = s.model === 'open' ? ' The schedule lag is under Totals.' : '';
  const workers: SummaryTable = {
    head: ['worker', 'event-loop delay p99 (ms)', 'max (ms)', 'busy'],
    rows: (g.workers ?? []).map((w, i) => [String(i), w.eventLoopDelayP99Ms, w.eventLoopDelayMaxMs, `${Math.round(w.eventLoopUtilization * 100)} %`]),
  };
  // Every value escaped, numbers too: a summary.json read back may have been edited by hand.
  return `<p>Event-loop delay p99 ${esc(g.eventLoopDelayP99Ms)} ms (max ${esc(g.eventLoopDelayMaxMs)} ms), busiest worker ${esc(Math.round((g.eventLoopUtilizationMax ?? 0) * 100))} % busy.${esc(open)} ${g.saturated ? '<strong>Saturated.</strong>' : 'Not saturated: the generator kept its own clock.'}</p>
${workers.rows.length > 0 ? tableHtml(workers, 'generator') : ''}`;
}

function serverHtml(s: Summary): string {
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
function glossaryHtml(s: Summary): string {
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

function environmentHtml(s: Summary): string {
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

/** The report pages' own CSS (report.html, capacity's report.html), after uPlot's. */
export const PAGE_CSS = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; background: #fff; margin: 0; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 6px; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f6f6f6; padding: 8px; overflow: auto; max-height: 400px; }
.lead { color: #444; margin: 0 0 8px; }
.small { font-size: 13px; color: #555; }
.banner { padding: 10px 14px; border-radius: 4px; margin: 12px 0; }
.warning { background: #fff4d6; border: 1px solid #e0b000; }
.notice { background: #eef4fb; border: 1px solid #9bbbe0; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 3px 10px; }
thead th { background: #f3f3f3; }
td { text-align: right; }
td.text, #thresholds td, #phase-glossary td { text-align: left; }
#phase-glossary th, #phase-glossary td { vertical-align: top; }
tbody th { text-align: left; font-weight: 600; }
p.pass { color: #1b6e20; font-weight: 600; }
p.fail { color: #b00020; font-weight: 600; }
tr.fail td { background: #fde8ea; }
tr.pass td:first-child { color: #1b6e20; }
tr.fail td:first-child { color: #b00020; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; margin-bottom: 16px; }
.chart { margin: 0; border: 1px solid #e3e3e3; border-radius: 4px; padding: 10px 12px; min-width: 0; }
.chart figcaption { font-size: 13px; color: #444; margin-top: 6px; }
.controls select { font: inherit; margin-left: 4px; }
.scroll { overflow-x: auto; max-width: 100%; }
.scroll > table { margin: 0; }
.scroll { margin: 8px 0; }
.uplot .u-legend { font-size: 12px; }
/* uPlot's legend is a table: keep the report's table borders off it. */
.uplot .u-legend th, .uplot .u-legend td { border: 0; background: none; padding: 1px 3px; }
/* Outside a hover the legend shows names only (uPlot shows "--" there). */
.idle .u-legend .u-value { display: none; }
.idle .u-legend.u-inline.u-live th::after { content: ""; }
.idle .u-legend .u-series:first-child { display: none; }
#phase-glossary .name { white-space: nowrap; }
/* The names column as narrow as its longest name; a list of names wraps at its commas. */
#phase-glossary tbody th { width: 1%; min-width: 7em; }
#errors th:last-child { text-align: left; }
#thresholds td:nth-child(3), #thresholds td:nth-child(4) { white-space: nowrap; }
@media (max-width: 760px) {
  main { padding: 12px 12px 32px; }
  th, td { padding: 3px 6px; }
}
.uplot .u-legend .u-series th { font-weight: 500; }
`;

/**
 * The browser side: draws each chart of the embedded JSON with uPlot. Spectra put x = 1/(1-p) on
 * a log axis with ticks at 0 %, 50 %, 90 %, 99 %, 99.9 %…; time charts shade the warm-up. Count
 * axes (linear and asinh) end on a labelled tick at or above the highest value shown. Each
 * chart's uPlot instance is left on its figure element (`.uplot`), for the browser test.
 */
const CLIENT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('chart-data').textContent);
  function decimals(x) { return Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 2); }
  function pct(x) { return x <= 1 ? '0 %' : (100 * (1 - 1 / x)).toFixed(decimals(x)) + ' %'; }
  function pctExact(x) { return x <= 1 ? '0 %' : Number((100 * (1 - 1 / x)).toFixed(decimals(x) + 3)) + ' %'; }
  function spectrumSplits(u, i, min, max) {
    // No tick at 1 (p = 0): on a log axis it sits too close to 2 (50 %) for both labels.
    var s = [2];
    for (var x = 10; x <= max * 1.0001; x *= 10) s.push(x);
    return s.filter(function (v) { return v >= min / 1.0001 && v <= max * 1.0001; });
  }
  // The top of a linear count axis: the smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or
  // above x, with the number of equal steps that makes every tick a round number.
  var TOPS = [[1, 5], [1.2, 6], [1.5, 3], [2, 4], [2.5, 5], [3, 6], [4, 4], [5, 5], [6, 6], [8, 4], [10, 5]];
  function linearTop(x) {
    if (!(x > 0)) return [1, 5];
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    if (p * 10 <= x) p *= 10;
    for (var i = 0; i < TOPS.length; i++) if (TOPS[i][0] * p >= x * 0.99999) return [Number((TOPS[i][0] * p).toPrecision(6)), TOPS[i][1]];
    return [10 * p, 5];
  }
  function linearSplits(u, i, min, max) {
    var n = linearTop(max)[1], s = [];
    for (var k = 0; k <= n; k++) s.push(Number(((max * k) / n).toPrecision(6)));
    return s;
  }
  // The top of an asinh count axis: the smallest 1, 2 or 5 × 10^k at or above x.
  function countTop(x) {
    if (!(x > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    if (p * 10 <= x) p *= 10;
    var m = x / p;
    return (m <= 1.00001 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  // Counts on an asinh axis: 0, the powers of 10 (with 2 and 5 while the top is small: uPlot's own
  // splits start at -1), and the top itself, labelled; a tick closer than 20 px to the one below
  // it or to the top is left out, so no two labels overlap.
  function countSplits(u, i, min, max) {
    var key = u.axes[i].scale, gap = 20;
    var px = function (v) { return u.valToPos(v, key); };
    var s = [0], steps = max <= 50 ? [1, 2, 5] : [1];
    for (var d = 1; d < max; d *= 10) {
      steps.forEach(function (k) {
        var v = k * d;
        if (v < max && Math.abs(px(v) - px(s[s.length - 1])) >= gap && Math.abs(px(max) - px(v)) >= gap) s.push(v);
      });
    }
    s.push(max);
    return s;
  }
  function yScale(kind) {
    if (kind === 'log') return { distr: 3, log: 10 };
    if (kind === 'asinh') return { distr: 4, asinh: 1, range: function (u, min, max) { return [0, countTop(max)]; } };
    return { range: function (u, min, max) { return [0, linearTop(max * 1.05)[0]]; } };
  }
  function shadeWarmup(end) {
    return function (u) {
      var lo = u.scales.x.min, hi = Math.min(end, u.scales.x.max);
      if (hi <= lo) return;
      // A few pixels past the band's end, so the point of the last warm-up second (drawn at its
      // end) sits wholly inside it.
      var x0 = u.valToPos(lo, 'x', true), x1 = Math.min(u.valToPos(hi, 'x', true) + 6 * devicePixelRatio, u.bbox.left + u.bbox.width);
      var ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = 'rgba(0, 0, 0, 0.08)';
      ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      ctx.fillStyle = 'rgba(0, 0, 0, 0.55)';
      ctx.font = Math.round(11 * devicePixelRatio) + 'px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      ctx.fillText('warm-up', x0 + 4 * devicePixelRatio, u.bbox.top + 4 * devicePixelRatio);
      ctx.restore();
    };
  }
  function draw(c) {
    var fig = document.getElementById('chart-' + c.id);
    var plot = fig.querySelector('.plot');
    var spectrum = c.kind === 'spectrum';
    var few = c.x.length <= 40;
    // Points where there are few x values, or on a line of at most 3 values (one sample, one second):
    // a line alone would not show them.
    function showPoints(u, si) {
      var d = u.data[si], n = 0;
      for (var i = 0; i < d.length; i++) if (d[i] != null) n++;
      return few || n <= 3;
    }
    // Outside a hover uPlot calls value() with no index: the legend then shows names only (CSS, .idle).
    function shown(v, idx, text) { return idx == null ? '' : v == null ? '–' : text(v); }
    function xText(v) { return spectrum ? pctExact(v) : v.toFixed(1) + ' s'; }
    var first = c.views[0].series;
    var series = [{ label: spectrum ? 'percentile' : 'second', value: function (u, v, si, idx) { return shown(v, idx, xText); } }];
    first.forEach(function (s) {
      series.push({
        label: s.label,
        show: !s.hidden,
        stroke: s.color,
        width: 2,
        dash: s.dash ? [8, 5] : undefined,
        scale: s.right ? 'y2' : 'y',
        paths: s.pointsOnly ? function () { return null; } : undefined,
        points: s.pointsOnly ? { show: true, size: 9, stroke: s.color, fill: s.color } : { show: showPoints, size: c.x.length <= 3 ? 9 : 5, stroke: s.color, fill: s.color },
        value: function (u, v, si, idx) { return shown(v, idx, String); },
      });
    });
    var countAxis = c.yScale === 'asinh' ? countSplits : c.yScale === 'linear' ? linearSplits : undefined;
    var axes = [
      spectrum
        ? {
            label: 'percentile',
            splits: spectrumSplits,
            // uPlot's log axes keep labels only at powers of 10 unless told otherwise: keep 2 (50 %) too.
            filter: function (u, splits) { return splits; },
            values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : pct(v); }); },
          }
        : { label: 'seconds since start' },
      // filter: uPlot labels only the powers of 10 on an asinh axis; every split here is meant to be labelled.
      countAxis ? { label: c.yLabel, scale: 'y', size: 60, splits: countAxis, filter: function (u, splits) { return splits; } } : { label: c.yLabel, scale: 'y', size: 60 },
    ];
    // Thin grid lines: a log axis draws one at every 1..9 multiple.
    axes.forEach(function (a) { a.grid = { stroke: 'rgba(0, 0, 0, 0.07)', width: 1 }; });
    // A spectrum's x axis ends where its longest line ends (uPlot would round it up to a decade).
    // Time axes start at 0, the start of the run, so the warm-up band is whole.
    var xs = spectrum
      ? { time: false, distr: 3, log: 10, range: function (u, min, max) { return [1, max]; } }
      : { time: false, range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max : 1]; } };
    var scales = { x: xs, y: yScale(c.yScale) };
    if (c.yRange) {
      // Both spectra open on the same decades; a line switched on may widen them.
      var r = c.yRange;
      scales.y.range = function (u, min, max) {
        var lo = min > 0 ? Math.min(min, r[0]) : r[0], hi = max > 0 ? Math.max(max, r[1]) : r[1];
        return [Math.pow(10, Math.floor(Math.log10(lo) + 1e-9)), Math.pow(10, Math.ceil(Math.log10(hi) - 1e-9))];
      };
    }
    if (c.y2Label) {
      axes.push({ label: c.y2Label, scale: 'y2', side: 1, grid: { show: false }, splits: linearSplits });
      scales.y2 = yScale('linear');
    }
    function columns(view) { return [c.x].concat(view.series.map(function (s) { return s.values; })); }
    var hooks = {
      setLegend: [function (u) { u.root.classList.toggle('idle', u.cursor.idx == null); }],
    };
    if (!spectrum && c.warmupEndS > 0) hooks.drawClear = [shadeWarmup(c.warmupEndS)];
    var opts = {
      width: Math.max(plot.clientWidth, 300),
      height: 320,
      scales: scales,
      axes: axes,
      series: series,
      hooks: hooks,
    };
    var u = new uPlot(opts, columns(c.views[0]), plot);
    u.root.classList.add('idle');
    fig.uplot = u;
    if (c.views.length > 1) {
      var label = document.createElement('label');
      label.textContent = (c.viewLabel || 'view') + ' ';
      var select = document.createElement('select');
      c.views.forEach(function (v, i) {
        var o = document.createElement('option');
        o.value = String(i);
        o.textContent = v.name;
        select.appendChild(o);
      });
      select.addEventListener('change', function () { u.setData(columns(c.views[Number(select.value)])); });
      label.appendChild(select);
      fig.querySelector('.controls').appendChild(label);
    }
    window.addEventListener('resize', function () { u.setSize({ width: Math.max(plot.clientWidth, 300), height: 320 }); });
  }
  data.charts.forEach(draw);
  document.body.setAttribute('data-charts-drawn', String(data.charts.length));
})();
`;

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
  const errorsTable: SummaryTable = { head: ['error kind', 'count', 'meaning'], rows: errors.map(([kind, n]) => [kind, n, errorKindMeaning(kind)]) };
  const stop = stopNote(s, (e) => `“${e}”`);
  const schedule = scheduleNote(s);
  const delivery = deliveryNote(s);
  const merged = mergedNote(s, printable) ?? shardNote(s, printable);
  return pageHtml(
    `smtpbench run ${s.runId}`,
    `<p class="lead">${esc(`Target ${s.target.url}${s.target.embedded ? ' (embedded reference server)' : ''}; ${s.workers} workers; ${s.durationS} s measured${s.warmupS ? ` after ${s.warmupS} s warm-up` : ''}; started ${s.startedAt}.`)}</p>
<p class="banner notice"><strong>How to read the latencies:</strong> ${esc(modelNote(s))}.${s.model === 'open' ? ' Latencies from the intended start include any wait the server caused, so they are not hidden by coordinated omission.' : ' A closed-model run hides queueing delay (coordinated omission): use an open model (executor: open) for latency claims.'}</p>
${merged ? `<p class="banner${s.merged?.warnings.length || (s.shard?.lateMs ?? 0) > 1000 ? ' warning' : ''}" id="${s.merged ? 'merged' : 'shard'}">${esc(merged)}</p>` : ''}
${stop ? `<p class="banner warning" id="stopped">${esc(stop)}</p>` : ''}
${delivery ? `<p class="banner${s.delivery?.drained ? '' : ' warning'}" id="delivery">${esc(delivery)}</p>` : ''}
${s.generator.saturated ? `<p class="banner warning" id="saturated"><strong>The load generator was saturated</strong> (event-loop delay p99 ${esc(s.generator.eventLoopDelayP99Ms)} ms): latencies include the generator's own delays, so they overstate the server's. Use more workers or a lower rate.</p>` : ''}
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
${errors.length === 0 ? '<p>Errors: none.</p>' : tableHtml(errorsTable, 'errors', (i) => (i === 2 ? 'text' : ''))}
<h3>Reply codes per phase</h3>
${tableHtml(repliesTable(s), 'replies')}
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
    CLIENT,
  );
}
