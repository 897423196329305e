/**
 * report.html in a real browser: three short runs of the built CLI against the embedded reference
 * server (closed model; open model with a warm-up and injected faults, so the target-rate line,
 * the warm-up band, 4xx replies and errors are drawn; an open run stopped by an abortOnFail
 * threshold), each report.html opened from disk in headless Chromium (Debian's `chromium`, driven
 * by playwright-core; no browser download). Also `smtpbench report DIR`: the same page rebuilt,
 * hostile names escaped, bad input.
 *
 * Without Chromium at $SMTPBENCH_CHROMIUM (default /usr/bin/chromium) the suite is skipped locally but FAILS
 * in CI (CI=true), so a CI image without the browser cannot pass it silently.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunOutcome } from '../src/load/coordinator.js';
import { newHistogram } from '../src/metrics/histogram.js';
import { scheduleNote } from '../src/report/markdown.js';
import type { Summary } from '../src/report/summary.js';
import { formatValue } from '../src/report/thresholds.js';
import { writeResults } from '../src/report/write.js';
import { cli } from './helpers/cli.js';

const CHROMIUM = process.env.SMTPBENCH_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCI = process.env.CI === 'true';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'smtpbench-html-'));
const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

/** What one look at a page found. */
interface PageCheck {
  consoleErrors: string[];
  pageErrors: string[];
  /** Every URL the page requested. */
  requests: string[];
  charts: { id: string; canvases: number; nonBlank: number; seriesPixels: Record<string, number> }[];
  figures: number;
  /** The text of the cell in row `row`, column `column` of table `#id`. */
  cells: Record<string, string | null>;
  text: string;
  pwned: boolean;
}

/** Cells read back from the page's tables: [table id, row label, column header]. */
const CELLS: [string, string, string][] = [
  ['totals', 'messages', 'accepted'],
  ['phases', 'transaction', 'p99'],
];

/** An open-model profile with a warm-up and faults: 450 to 3 % of RCPTs, a dropped connection at 1 % of MAILs. */
const FAULTY = `executor: open
rate: 400
duration: 3s
warmup: 1s
maxSessions: 100
message: {size: 2KiB, recipients: 2}
server:
  faults:
    - "rcpt: reply 450 4.2.1 busy @ 3%"
    - "mail: disconnect @ 1%"
`;

/** Stopped by its first threshold after one measured second: 450 to 5 % of RCPTs, at most 0.1 % 4xx allowed. */
const STOPPED = `executor: open
rate: 300
duration: 5s
warmup: 1s
thresholds:
  replies.4xx: [{threshold: "rate < 0.1%", abortOnFail: true}]
  transaction: ["p99 < 10s"]
server:
  faults:
    - "rcpt: reply 450 4.2.1 busy @ 5%"
`;

describe.skipIf(!haveChromium && !inCI)('report.html in headless Chromium', () => {
  let browser: Browser;
  const closed = tmp();
  const open = tmp();
  const stopped = tmp();

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
    const profiles = tmp();
    writeFileSync(join(profiles, 'faulty.yaml'), FAULTY);
    writeFileSync(join(profiles, 'stopped.yaml'), STOPPED);
    const r1 = await cli(['run', '--messages', '2000', '--quiet', '--out', closed]);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    const r2 = await cli(['run', join(profiles, 'faulty.yaml'), '--quiet', '--out', open]);
    expect(r2.stderr).toBe('');
    expect(r2.code).toBe(0);
    const r3 = await cli(['run', join(profiles, 'stopped.yaml'), '--quiet', '--out', stopped]);
    expect(r3.stderr).toContain('stopping the run (abortOnFail)');
    expect(r3.code).toBe(99);
    // We run as root in CI containers: Chromium's sandbox needs user namespaces it may not get.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens `file` from disk and reads back what it drew. */
  async function look(file: string): Promise<PageCheck> {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-charts-drawn]', { timeout: 10_000 });
    const found = await page.evaluate((cells) => {
      const data = JSON.parse(document.getElementById('chart-data')!.textContent!);
      const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
      const charts = data.charts.map((c: { id: string; views: { series: { label: string; color: string }[] }[] }) => {
        const canvases = [...document.querySelectorAll(`#chart-${c.id} canvas`)] as HTMLCanvasElement[];
        const cv = canvases[0];
        const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        const colors = c.views[0].series.map((s) => [s.label, hex(s.color)] as const);
        const seriesPixels: Record<string, number> = Object.fromEntries(colors.map(([l]) => [l, 0]));
        let nonBlank = 0;
        for (let i = 0; i < px.length; i += 4) {
          if (px[i + 3] === 0) continue; // transparent: the canvas background
          nonBlank++;
          if (px[i + 3] < 200) continue;
          // A pixel of a series' line or points: its colour within a small distance (anti-aliasing).
          for (const [label, [r, g, b]] of colors) if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 40) seriesPixels[label]++;
        }
        return { id: c.id, canvases: canvases.length, nonBlank, seriesPixels };
      });
      const cell = (id: string, row: string, column: string): string | null => {
        const table = document.getElementById(id) as HTMLTableElement | null;
        if (!table) return null;
        const col = [...table.tHead!.rows[0].cells].findIndex((c) => c.textContent === column);
        const tr = [...table.tBodies[0].rows].find((r) => r.cells[0].textContent === row);
        return tr && col >= 0 ? tr.cells[col].textContent : null;
      };
      return {
        charts,
        figures: document.querySelectorAll('figure.chart').length,
        cells: Object.fromEntries(cells.map(([id, row, column]) => [`${id}.${row}.${column}`, cell(id, row, column)])),
        text: document.body.innerText,
        pwned: (window as unknown as { pwned?: boolean }).pwned === true,
      };
    }, CELLS);
    await page.close();
    return { consoleErrors, pageErrors, requests, ...found };
  }

  /** What every report.html must show, checked against the run's own summary.json. */
  function expectGoodPage(p: PageCheck, dir: string, chartIds: string[]): void {
    const s = summaryOf(dir);
    expect(p.consoleErrors).toEqual([]);
    expect(p.pageErrors).toEqual([]);
    expect(p.requests).toEqual([pathToFileURL(join(dir, 'report.html')).href]);
    expect(p.charts.map((c) => c.id)).toEqual(chartIds);
    expect(p.figures).toBe(chartIds.length);
    for (const c of p.charts) {
      expect(c.canvases, c.id).toBe(1);
      expect(c.nonBlank, c.id).toBeGreaterThan(1000);
      // Some series was drawn in its own colour (axes and grid are grey).
      expect(Math.max(...Object.values(c.seriesPixels)), `${c.id} ${JSON.stringify(c.seriesPixels)}`).toBeGreaterThan(20);
    }
    expect(s.totals.messages.accepted).toBeGreaterThan(0);
    expect(p.cells['totals.messages.accepted']).toBe(String(s.totals.messages.accepted));
    expect(p.cells['phases.transaction.p99']).toBe(String(s.phases.transaction.p99));
    expect(p.text).toContain(s.runId);
    expect(p.text.includes('The load generator was saturated')).toBe(s.generator.saturated);
    expect(p.text).toContain('No thresholds were set for this run.');
  }

  it('draws every chart of a closed-model run, with its figures, offline and without errors', async () => {
    const p = await look(join(closed, 'report.html'));
    expectGoodPage(p, closed, ['spectrum', 'server-spectrum', 'latency-over-time', 'throughput', 'replies']);
    expect(p.text).toContain('closed model, 20 sessions');
    // Every phase with data has its line on the spectrum.
    const spectrum = p.charts.find((c) => c.id === 'spectrum')!;
    expect(Object.keys(spectrum.seriesPixels).sort()).toEqual(Object.keys(summaryOf(closed).phases).sort());
  });

  it('draws the target arrival rate of an open-model run', async () => {
    const p = await look(join(open, 'report.html'));
    expectGoodPage(p, open, ['spectrum', 'server-spectrum', 'latency-over-time', 'throughput', 'replies', 'errors']);
    const throughput = p.charts.find((c) => c.id === 'throughput')!;
    expect(throughput.seriesPixels['target arrival rate']).toBeGreaterThan(20);
    expect(throughput.seriesPixels['messages/s accepted'] + throughput.seriesPixels['recipients/s accepted']).toBeGreaterThan(20);
    expect(p.text).toContain('open model');
  });

  it('`smtpbench report DIR` rebuilds the same report.md and report.html', async () => {
    const dir = tmp();
    for (const f of ['summary.json', 'run.hlog', 'timeline.ndjson', 'report.md', 'report.html']) copyFileSync(join(open, f), join(dir, f));
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    rmSync(join(dir, 'report.md'));
    rmSync(join(dir, 'report.html'));
    const r = await cli(['report', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(dir, 'report.md')}\n${join(dir, 'report.html')}\n`);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(md);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toBe(html);
    // From summary.json alone (an older run without the per-second files): the spectra remain.
    rmSync(join(dir, 'run.hlog'));
    rmSync(join(dir, 'timeline.ndjson'));
    const r2 = await cli(['report', join(dir, 'summary.json')]);
    expect(r2.code).toBe(0);
    const p = await look(join(dir, 'report.html'));
    expectGoodPage(p, dir, ['spectrum', 'server-spectrum']);
    expect(p.text).toContain('No per-second data in this run.');
  });

  /** Opens `file` at `width` px and waits for the charts. */
  async function open_(file: string, width = 1300): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-charts-drawn]', { timeout: 10_000 });
    return page;
  }

  it('shades the warm-up to its last second, so every warm-up point is in the band and every measured one right of it', async () => {
    const s = summaryOf(open) as Summary;
    expect(s.warmupS).toBe(1);
    // The seconds drawn: slivers under half a second (the end of warm-up, the end of the run) are left out.
    const timeline = readFileSync(join(open, 'timeline.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; intervalS: number; measuring: boolean })
      .filter((x) => x.intervalS >= 0.5);
    const lastWarm = timeline.filter((x) => !x.measuring).at(-1)!.t;
    const firstMeasured = timeline.find((x) => x.measuring)!.t;
    // The point of the last warm-up second ends after the warm-up: the reviewer's case.
    expect(lastWarm).toBeGreaterThan(s.warmupS);
    const page = await open_(join(open, 'report.html'));
    for (const id of ['throughput', 'replies']) {
      const band = await page.evaluate(
        ({ id, xs }) => {
          type U = { valToPos(v: number, k: string, canvas?: boolean): number; bbox: { top: number; height: number }; ctx: CanvasRenderingContext2D };
          const u = (document.getElementById(`chart-${id}`) as unknown as { uplot: U }).uplot;
          // The share of a pixel column (one device pixel left of a point) that is the band's grey alone.
          const data = JSON.parse(document.getElementById('chart-data')!.textContent!) as { charts: { id: string; x: number[]; warmupEndS?: number }[] };
          const c = data.charts.find((c) => c.id === id)!;
          return xs.map((x) => {
            const px = Math.round(u.valToPos(x, 'x', true)) - 1;
            const col = u.ctx.getImageData(px, u.bbox.top, 1, u.bbox.height).data;
            let grey = 0;
            for (let i = 0; i < col.length; i += 4) if (col[i + 3] >= 12 && col[i + 3] <= 30) grey++;
            return { share: grey / u.bbox.height, x, px, end: c.warmupEndS, xs: c.x };
          });
        },
        { id, xs: [lastWarm, firstMeasured] },
      );
      expect(band[0].share, `${id}: the last warm-up second is inside the band ${JSON.stringify(band[0])}`).toBeGreaterThan(0.5);
      expect(band[1].share, `${id}: the first measured second is outside it ${JSON.stringify(band[1])}`).toBeLessThan(0.1);
    }
    const caption = await page.locator('#chart-throughput figcaption').innerText();
    expect(caption).toContain(`the grey band is the 1 s warm-up (to ${lastWarm} s, the end of the last second counted in it)`);
    // Late starts in the caption: the measured ones, as in summary.json.
    if (s.totals.messages.late > 0 || caption.includes('late starts (')) expect(caption).toContain(`late starts (more than 10 ms behind schedule): ${s.totals.messages.late} after warm-up`);
    await page.close();
  });

  it('opens the client spectrum on the key phases (the rest in the legend), both spectra on one axis, legends without dashes', async () => {
    const page = await open_(join(open, 'report.html'));
    type Info = { shown: string[]; hidden: string[]; y: [number, number]; legend: string };
    const info = async (id: string): Promise<Info> =>
      page.evaluate((id) => {
        type U = { series: { label: string; show: boolean }[]; scales: { y: { min: number; max: number } } };
        const fig = document.getElementById(`chart-${id}`)!;
        const u = (fig as unknown as { uplot: U }).uplot;
        const series = u.series.slice(1);
        return {
          shown: series.filter((x) => x.show).map((x) => x.label),
          hidden: series.filter((x) => !x.show).map((x) => x.label),
          y: [u.scales.y.min, u.scales.y.max] as [number, number],
          legend: (fig.querySelector('.u-legend') as HTMLElement).innerText,
        };
      }, id);
    const client = await info('spectrum');
    expect(client.shown.sort()).toEqual(['body', 'connect', 'service', 'transaction']);
    expect(client.hidden).toEqual(expect.arrayContaining(['mail', 'rcpt', 'data', 'session']));
    const server = await info('server-spectrum');
    expect(server.y).toEqual(client.y);
    // Names only until a hover: no "–" or uPlot's "--" placeholders.
    for (const id of ['spectrum', 'server-spectrum', 'latency-over-time', 'throughput', 'replies', 'errors']) {
      const legend = (await info(id)).legend;
      expect(legend, id).not.toMatch(/–|--/);
    }
    // A hover shows values; leaving shows names again.
    const over = page.locator('#chart-throughput .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
    expect(await page.locator('#chart-throughput .u-legend').innerText()).toMatch(/messages\/s accepted\s*:?\s*\d/);
    await page.mouse.move(1, 1);
    expect(await page.locator('#chart-throughput .u-legend').innerText()).not.toMatch(/\d/);
    // A click on a hidden phase's name draws it.
    await page.locator('#chart-spectrum .u-legend th', { hasText: /^session$/ }).click();
    expect((await info('spectrum')).shown).toContain('session');
    await page.close();
  });

  it('ends every count axis on a labelled tick above the data, and charts the 3xx replies', async () => {
    const page = await open_(join(open, 'report.html'));
    const axes = await page.evaluate(() =>
      ['throughput', 'replies', 'errors'].flatMap((id) => {
        type Axis = { scale: string; _splits: number[]; _values: string[] };
        type U = { axes: Axis[]; series: { scale: string; show: boolean; label: string }[]; data: (number | null)[][] };
        const u = (document.getElementById(`chart-${id}`) as unknown as { uplot: U }).uplot;
        return u.axes.slice(1).map((a) => {
          let max = 0;
          u.series.forEach((x, i) => {
            if (i > 0 && x.show && x.scale === a.scale) for (const v of u.data[i]) if (v !== null && v > max) max = v;
          });
          return { id, scale: a.scale, top: a._splits.at(-1)!, label: a._values.at(-1)!, max, labels: u.series.map((x) => x.label) };
        });
      }),
    );
    expect(axes.length).toBeGreaterThanOrEqual(4);
    for (const a of axes) {
      expect(a.max, `${a.id} ${a.scale}`).toBeGreaterThan(0);
      expect(a.top, `${a.id} ${a.scale}`).toBeGreaterThanOrEqual(a.max);
      expect(a.label, `${a.id} ${a.scale}`).toBe(a.top.toLocaleString('en-US'));
    }
    expect(axes.find((a) => a.id === 'replies')!.labels).toContain('3xx replies/s');
    await page.close();
  });

  it("shows report.md's open-model figures, a glossary of every phase, error kinds explained, and scrolls wide tables at 700 px", async () => {
    const s = summaryOf(open) as Summary;
    const md = readFileSync(join(open, 'report.md'), 'utf8');
    const page = await open_(join(open, 'report.html'), 700);
    // The same schedule line as report.md (late and dropped starts, schedule lag), and the warm-up.
    const schedule = scheduleNote(s)!;
    expect(md).toContain(schedule);
    expect(await page.locator('#schedule').innerText()).toBe(schedule);
    expect(md).toContain('after 1 s warm-up');
    expect(await page.innerText('body')).toContain('after 1 s warm-up');
    // The reference server's table in both, row for row.
    const serverRows = await page.locator('#server tbody tr').allInnerTexts();
    expect(serverRows.length).toBe(Object.keys(s.server!.histograms).length);
    for (const r of serverRows) expect(md).toContain(`| ${r.split('\t').join(' | ')} |`);
    // A glossary row for every phase of the run, and for the server's histograms.
    const glossary = await page.locator('#phase-glossary tbody th').allInnerTexts();
    for (const p of Object.keys(s.phases)) expect(glossary, p).toContain(p);
    expect(glossary).toContain('data-stream');
    expect(glossary.some((g) => g.includes('cmd.rcpt'))).toBe(true);
    // Each error kind of the run with its meaning.
    expect(Object.keys(s.errors)).toContain('mail-closed');
    expect(await page.locator('#errors').innerText()).toContain('the server closed the connection while the client waited for the MAIL reply');
    // No table widens the page: each wide one scrolls in its own box.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(700);
    const unboxed = await page.evaluate(() => [...document.querySelectorAll('main table:not(.u-legend)')].filter((t) => !t.parentElement!.classList.contains('scroll')).map((t) => t.id));
    expect(unboxed).toEqual([]);
    expect(await page.evaluate(() => document.getElementById('phases')!.parentElement!.scrollWidth > 0)).toBe(true);
    await page.close();
  });

  it('says which threshold stopped a run, when and with what value, formatted as on the console', async () => {
    const s = summaryOf(stopped) as Summary;
    const v = s.thresholds.find((x) => x.abort)!;
    expect(v.expression).toBe('replies.4xx.rate < 0.1%');
    const page = await open_(join(stopped, 'report.html'));
    const banner = await page.locator('#stopped').innerText();
    const value = formatValue(v.abort!.value, v.unit, v.metric);
    expect(banner).toBe(
      `Stopped early by the threshold “replies.4xx.rate < 0.1%” (abortOnFail): ${v.abort!.atS} s into the measured time, replies.4xx.rate was ${value} (limit < 0.1 %); the figures cover the ${s.durationS} s it measured.`,
    );
    // The thresholds table: every column headed; values as formatValue prints them.
    const head = await page.locator('#thresholds thead th').allInnerTexts();
    expect(head.every((h) => h.trim() !== '')).toBe(true);
    expect(head.at(-1)).toContain('abortOnFail');
    const row = await page.locator('#thresholds tbody tr').first().locator('td').allInnerTexts();
    expect(row[2]).toBe(formatValue(v.value, v.unit, v.metric));
    expect(row[3]).toBe('< 0.1 %');
    expect(row[4]).toBe(`stopped the run ${v.abort!.atS} s into the measured time, at ${value}`);
    expect(readFileSync(join(stopped, 'report.md'), 'utf8')).toContain(`${v.abort!.atS} s into the measured time, replies.4xx.rate was ${value}`);
    await page.close();
  });

  it("draws the sink's run-time changes as dashed lines on every time chart, at their seconds, and lists them (issue 15)", async () => {
    const dir = tmp();
    for (const f of ['summary.json', 'run.hlog', 'timeline.ndjson']) copyFileSync(join(open, f), join(dir, f));
    const s = summaryOf(dir);
    const evil = '</script><script>window.pwned=true</script>';
    s.delivery = {
      sink: 'http://127.0.0.1:1/stats',
      accepted: 1,
      delivered: 1,
      deliveredAtLeast: false,
      deliveredAtLoadEnd: 1,
      queued: 0,
      drained: true,
      drainStopped: false,
      drainS: 0,
      drainTimeoutS: 60,
      ratePerS: 1,
      windowS: 1,
      clockOffsetMs: 0,
      clockUncertaintyMs: 0.1,
      error: null,
      changes: [
        { atS: 1.5, target: 'faults', action: 'set', what: `rcpt: reply 451 4.7.1 ${evil}` },
        { atS: 2.25, target: 'domains', action: 'clear', what: '(none)' },
      ],
    };
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(s));
    expect((await cli(['report', dir])).code).toBe(0);
    const page = await open_(join(dir, 'report.html'));
    // Each mark's column (device pixels at its x) holds the marks' purple; a column halfway between
    // has none below the labels (drawn at the top, right of their lines).
    for (const id of ['latency-over-time', 'throughput', 'replies', 'errors']) {
      const purple = await page.evaluate(
        ({ id, xs }) => {
          type U = { valToPos(v: number, k: string, canvas?: boolean): number; bbox: { top: number; height: number }; ctx: CanvasRenderingContext2D };
          const u = (document.getElementById(`chart-${id}`) as unknown as { uplot: U }).uplot;
          return xs.map((x) => {
            const px = Math.round(u.valToPos(x, 'x', true));
            const below = x === 1.875 ? 70 : 0;
            const col = u.ctx.getImageData(px - 1, u.bbox.top + below, 3, u.bbox.height - below).data;
            let n = 0;
            for (let i = 0; i < col.length; i += 4) if (col[i] > 80 && col[i] < 170 && col[i + 1] < 60 && col[i + 2] > 120 && col[i + 3] > 100) n++;
            return n;
          });
        },
        { id, xs: [1.5, 2.25, 1.875] },
      );
      expect(purple[0], id).toBeGreaterThan(30);
      expect(purple[1], id).toBeGreaterThan(30);
      expect(purple[2], id).toBe(0);
    }
    const table = await page.locator('#sink-changes').innerText();
    expect(table).toContain('1.5');
    expect(table).toContain(`rcpt: reply 451 4.7.1 ${evil}`);
    expect(table).toContain('domains');
    expect(await page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
    await page.close();
    // A hand-edited summary.json whose changes are not a list is named, not a crash.
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...s, delivery: { ...s.delivery, changes: 'x' } }));
    const bad = await cli(['report', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('delivery.changes');
  });

  it('escapes names and verdicts from summary.json (no markup or script gets through), shows a saturated generator', async () => {
    const dir = tmp();
    for (const f of ['summary.json', 'run.hlog', 'timeline.ndjson']) copyFileSync(join(closed, f), join(dir, f));
    const s = summaryOf(dir);
    const evil = '</script><script>window.pwned=true</script><b id="evil">x</b>';
    // A phase by that name, carrying a real histogram, and a failed threshold with it in its expression.
    s.encoded.phases[evil] = s.encoded.phases.transaction;
    s.phases[evil] = s.phases.transaction;
    s.thresholds = [{ expression: `${evil} < 1ms`, metric: evil, ok: false, value: 7.5, unit: 'ms', limit: 1, abortOnFail: false }];
    // And a saturated generator, whose warning the page must show.
    s.generator.saturated = true;
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(s));
    const r = await cli(['report', dir]);
    expect(r.code).toBe(0);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    await page.waitForSelector('body[data-charts-drawn]');
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
    expect(await page.locator('#evil').count()).toBe(0);
    // Shown as text: in the phase table, the verdict and the spectrum's legend.
    expect(await page.locator('#phases').innerText()).toContain(evil);
    expect(await page.locator('#thresholds').innerText()).toContain(`${evil} < 1ms`);
    expect(await page.locator('#thresholds').innerText()).toContain('7.5 ms');
    expect(await page.locator('#chart-spectrum .u-legend').innerText()).toContain(evil);
    expect(await page.innerText('body')).toContain('1 of 1 thresholds failed.');
    expect(await page.locator('#saturated').innerText()).toContain(`The load generator was saturated (event-loop delay p99 ${s.generator.eventLoopDelayP99Ms} ms)`);
    await page.close();
  });

  it('`smtpbench report` names a missing directory, a foreign summary.json or a non-JSON one, exit 2', async () => {
    const missing = join(tmp(), 'nope');
    const empty = tmp();
    const foreign = tmp();
    writeFileSync(join(foreign, 'summary.json'), JSON.stringify({ ...summaryOf(closed), schema: 2 }));
    const garbled = tmp();
    writeFileSync(join(garbled, 'summary.json'), '{"schema": 1, "tot');
    const other = tmp();
    writeFileSync(join(other, 'summary.json'), JSON.stringify({ metrics: {} }));
    for (const [dir, said] of [
      [missing, `${missing}: no such run directory or file`],
      [empty, `${join(empty, 'summary.json')}: cannot read (ENOENT)`],
      [foreign, 'has summary schema 2; this smtpbench reads schema 1'],
      [garbled, `${join(garbled, 'summary.json')} is not JSON`],
      [other, 'is not a smtpbench summary.json'],
    ]) {
      const r = await cli(['report', dir]);
      expect(r.code, dir).toBe(2);
      expect(r.stderr).toContain(said);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, 'report.html'))).toBe(false);
    }
    // No argument: commander's usage error, exit 2.
    expect((await cli(['report'])).code).toBe(2);
  });

  it('keeps the other results when report.html cannot be written', () => {
    // report.html is a directory here, so writing it fails after every other file is written.
    const dir = tmp();
    for (const f of ['run.hlog', 'timeline.ndjson']) copyFileSync(join(closed, f), join(dir, f));
    mkdirSync(join(dir, 'report.html'));
    const summary = summaryOf(closed);
    const outcome = { merged: { histograms: new Map([['transaction', newHistogram()]]) }, server: null } as unknown as RunOutcome;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const written = writeResults(dir, summary, outcome);
      expect(written).toEqual([join(dir, 'summary.json'), join(dir, 'report.md')]);
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0][0])).toMatch(/^smtpbench: cannot write .*report\.html: EISDIR\n$/);
    } finally {
      stderr.mockRestore();
    }
    expect(summaryOf(dir)).toEqual(summary);
  });
});
