import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newHistogram, recordUs } from '../metrics/histogram.js';
import { IntervalLog } from './hlog.js';
import { parseIntervalLog } from './run-data.js';

describe('parseIntervalLog', () => {
  it('reads back the seconds IntervalLog wrote, relative to the log start time', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'smtpbench-hlog-')), 'run.hlog');
    const start = 1_796_638_330_066;
    const log = new IntervalLog(path, start);
    for (let s = 0; s < 3; s++) {
      for (const [phase, us] of [['mail', 200], ['transaction', 500 * (s + 1)]] as const) {
        const h = newHistogram();
        recordUs(h, us);
        log.write(phase, h, start + 2 + s * 1000, start + 1005 + s * 1000);
      }
    }
    log.close();
    const ivs = parseIntervalLog(readFileSync(path, 'utf8'));
    expect(ivs.map((iv) => [iv.startS, iv.endS])).toEqual([[0.002, 1.005], [1.002, 2.005], [2.002, 3.005]]);
    expect(ivs.map((iv) => iv.phases.get('transaction')!.maxValue)).toEqual([500, 1000, 1500]);
    expect([...ivs[0].phases.keys()]).toEqual(['mail', 'transaction']);
  });
});
