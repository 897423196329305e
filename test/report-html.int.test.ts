/**
 * report.html in a real browser: two short runs of the built CLI against the embedded reference
 * server (closed model, and open model so the target-rate line is drawn), each report.html opened
 * from disk in headless Chromium (Debian's `chromium`, driven by playwright-core; no browser
 * download). Also `smtpbench report DIR`: the same page rebuilt, hostile names escaped, bad input.
 *
 * Without Chromium at $SMTPBENCH_CHROMIUM (default /usr/bin/chromium) the suite is skipped locally but FAILS
 * in CI (CI=true), so a CI image without the browser cannot pass it silently.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunOutcome } from '../src/load/coordinator.js';
import { newHistogram } from '../src/metrics/histogram.js';
import { writeResults } from '../src/report/write.js';
import { cli } from './helpers/cli.js';

const ROOT = resolve(import.meta.dirname, '..');
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

describe.skipIf(!haveChromium && !inCI)('report.html in headless Chromium', () => {
  let browser: Browser;
  const closed = tmp();
  const open = tmp();

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
    const r1 = await cli(['run', '--messages', '2000', '--quiet', '--out', closed]);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    const r2 = await cli(['run', '--executor', 'open', '--rate', '500', '--duration', '3s', '--quiet', '--out', open]);
    expect(r2.stderr).toBe('');
    expect(r2.code).toBe(0);
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
    expectGoodPage(p, open, ['spectrum', 'server-spectrum', 'latency-over-time', 'throughput', 'replies']);
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
