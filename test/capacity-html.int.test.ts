/**
 * The capacity report in a real browser: a short capacity search against the embedded server
 * (two steps, up to --max-rate), then its report.html opened from disk in Debian's Chromium
 * through playwright-core: both charts drew, no errors, no request but the file, and the page's
 * answer is capacity.json's. Fails in CI without Chromium; skips elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { cli, tmp } from './helpers/cli.js';

const CHROMIUM = process.env.SMTPBENCH_CHROMIUM ?? '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')('capacity report.html in headless Chromium', () => {
  it('draws the curve, offline and without errors, and shows the answer of capacity.json', async () => {
    const out = join(tmp(), 'cap');
    const r = await cli(['capacity', '--slo', 'transaction.p99 < 1s', '--start-rate', '50', '--max-rate', '100', '--step-duration', '2s', '--warmup', '0s', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8'));
    expect(report.steps.length).toBeGreaterThanOrEqual(2);
    expect(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}`).toBe(true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (q) => requests.push(q.url()));
      const url = pathToFileURL(join(out, 'report.html')).href;
      await page.goto(url);
      await page.waitForSelector('body[data-charts-drawn]', { timeout: 10_000 });
      const drawn = await page.evaluate(() =>
        ['chart-rate', 'chart-latency'].map((id) => {
          const cv = document.querySelector(`#${id} canvas`) as HTMLCanvasElement | null;
          if (!cv) return 0;
          const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
          let n = 0;
          for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) n++;
          return n;
        }),
      );
      expect(
        drawn.every((n) => n > 1000),
        `drawn pixels ${drawn}`,
      ).toBe(true);
      expect(await page.textContent('#answer')).toBe(report.answer.text);
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  });
});
