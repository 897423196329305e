/**
 * run.hlog is read back by hdr-histogram-js and, where Debian's libhdrhistogram-java is installed
 * (CI installs it), by the reference Java HistogramLogProcessor: both must count exactly the
 * transactions the summary reports.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistogramLogReader } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers/paths.js';

const JAR = '/usr/share/java/hdrhistogram.jar';

async function runOnce(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'smtpbench-hlog-'));
  await new Promise<void>((done, fail) =>
    execFile(process.execPath, [CLI, 'run', '--executor', 'open', '--rate', '300', '--duration', '3500ms', '--workers', '2', '--out', out, '--quiet'], { cwd: ROOT }, (err) =>
      err ? fail(err) : done(),
    ),
  );
  return out;
}

describe('run.hlog', () => {
  let out = '';

  it('holds one tagged interval per phase per second, adding up to the summary', async () => {
    out = await runOnce();
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const text = readFileSync(join(out, 'run.hlog'), 'utf8');
    expect(text.startsWith('#[Histogram log format version 1.3]')).toBe(true);
    const reader = new HistogramLogReader(text);
    const counts = new Map<string, number>();
    let intervals = 0;
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      counts.set(h.tag!, (counts.get(h.tag!) ?? 0) + h.totalCount);
      if (h.tag === 'transaction') intervals++;
    }
    expect(intervals).toBeGreaterThanOrEqual(3);
    expect(counts.get('transaction')).toBe(summary.phases.transaction.count);
    expect(counts.get('rcpt')).toBe(summary.phases.rcpt.count);
  });

  it.skipIf(!existsSync(JAR))('is read by the reference Java HistogramLogProcessor', () => {
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const base = join(out, 'java-transaction');
    execFileSync('java', ['-cp', JAR, 'org.HdrHistogram.HistogramLogProcessor', '-i', join(out, 'run.hlog'), '-tag', 'transaction', '-csv', '-outputValueUnitRatio', '1000', '-o', base]);
    const rows = readFileSync(`${base}.hgrm`, 'utf8').trim().split('\n');
    const last = rows.at(-1)!.split(',');
    expect(Number(last[2])).toBe(summary.phases.transaction.count);
    expect(Number(last[0])).toBeCloseTo(summary.phases.transaction.max, 0);
  });
});
