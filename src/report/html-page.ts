/**
 * The page every smtpbench report is (report.html, capacity's report.html): one self-contained
 * HTML file that opens from disk with no network, uPlot's script and CSS inlined (read once from
 * the installed `uplot` package), its data embedded as JSON, its own CSS; and the escaping and
 * table helpers every page's HTML is written with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SummaryTable } from './markdown.js';

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
