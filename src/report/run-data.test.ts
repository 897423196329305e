import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newHistogram, recordUs } from '../metrics/histogram.js';
import { IntervalLog } from './hlog.js';
import { checkSummary, parseIntervalLog, parseTimeline } from './run-data.js';
import { buildSummary } from './summary.js';
import { Merged } from '../metrics/recorder.js';
import { resolveProfile } from '../profile/index.js';
import type { RunOutcome } from '../load/coordinator.js';

/** An hlog of `n` seconds of one transaction value each, as IntervalLog writes it. */
function hlogText(n: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'smtpbench-hlog-')), 'run.hlog');
  const log = new IntervalLog(path, 1_796_638_330_000);
  for (let s = 0; s < n; s++) {
    const h = newHistogram();
    recordUs(h, 1000 + s);
    log.write('transaction', h, 1_796_638_330_000 + s * 1000, 1_796_638_331_000 + s * 1000);
  }
  log.close();
  return readFileSync(path, 'utf8');
}

/** A real summary (buildSummary) of a small merged result, as JSON read back. */
function summaryJson(): Record<string, unknown> {
  const merged = new Merged();
  recordUs(merged.histograms.get('transaction')!, 1500);
  merged.counters.messagesAttempted = merged.counters.messagesAccepted = 1;
  const outcome = {
    merged,
    server: null,
    target: { host: '127.0.0.1', port: 25, embedded: true },
    startedAt: new Date(0),
    barrierAtMs: 0,
    durationS: 1,
    warmupCompleted: true,
    sessionsPeak: 0,
    interrupted: false,
    workers: 1,
    health: [],
  } as RunOutcome;
  return JSON.parse(JSON.stringify(buildSummary('r', resolveProfile({}), outcome, { node: 'v20', cpu: 'x', cores: 2, os: 'linux', gitSha: null })));
}

describe('checkSummary', () => {
  it('refuses shard fields no run writes: an index past the count, a count over 1000, a clock offset over an hour', () => {
    const shard = { index: 0, count: 3, host: 'h', startAt: null, lateMs: 0, clock: { offsetMs: 1, errorMs: 1, source: 'x' }, idle: false };
    expect(checkSummary({ ...summaryJson(), shard }, 's.json').shard).toEqual(shard);
    const fails = (sh: object): string => {
      try {
        checkSummary({ ...summaryJson(), shard: { ...shard, ...sh } }, 's.json');
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(fails({ index: 7, count: 5 })).toMatch(/^s\.json is not a valid smtpbench summary\.json: shard: index must be less than count/);
    expect(fails({ count: 100_000_000 })).toMatch(/shard\.count: /);
    expect(fails({ clock: { offsetMs: 1e15 } })).toMatch(/shard\.clock\.offsetMs: /);
    expect(fails({ lateMs: Number.POSITIVE_INFINITY })).toMatch(/shard\.lateMs: /);
  });

  it('takes what buildSummary writes, and names every bad field of a damaged one in one line', () => {
    expect(checkSummary(summaryJson(), 's.json').runId).toBe('r');
    const bad = summaryJson();
    (bad.totals as { messages: unknown }).messages = 'x';
    bad.errors = null;
    delete bad.runId;
    let message = '';
    try {
      checkSummary(bad, 's.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^s\.json is not a valid smtpbench summary\.json: /);
    expect(message).toContain('runId: ');
    expect(message).toContain('totals.messages: ');
    expect(message).toContain('errors: ');
    expect(message).not.toContain('\n');
    expect(() => checkSummary({ ...summaryJson(), schema: 2 }, 's.json')).toThrow(/schema 2; this smtpbench reads schema 1/);
    expect(() => checkSummary([], 's.json')).toThrow(/is not a smtpbench summary\.json/);
  });
});

describe('parseIntervalLog', () => {
  it('leaves out a last line torn by a crash, and refuses a corrupt complete line', () => {
    const text = hlogText(3);
    expect(parseIntervalLog(text)).toHaveLength(3);
    // Cut inside the last line's base64: that second is lost, the others read.
    expect(parseIntervalLog(text.slice(0, text.length - 20))).toHaveLength(2);
    const lines = text.split('\n');
    const last = lines.length - 2;
    lines[last] = lines[last].replace(/,([^,]+)$/, ',AAAA$1');
    expect(() => parseIntervalLog(lines.join('\n'))).toThrow();
  });

  it('reads back the seconds IntervalLog wrote, relative to the log start time', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'smtpbench-hlog-')), 'run.hlog');
    const start = 1_796_638_330_066;
    const log = new IntervalLog(path, start);
    for (let s = 0; s < 3; s++) {
      for (const [phase, us] of [
        ['mail', 200],
        ['transaction', 500 * (s + 1)],
      ] as const) {
        const h = newHistogram();
        recordUs(h, us);
        log.write(phase, h, start + 2 + s * 1000, start + 1005 + s * 1000);
      }
    }
    log.close();
    const ivs = parseIntervalLog(readFileSync(path, 'utf8'));
    expect(ivs.map((iv) => [iv.startS, iv.endS])).toEqual([
      [0.002, 1.005],
      [1.002, 2.005],
      [2.002, 3.005],
    ]);
    expect(ivs.map((iv) => iv.phases.get('transaction')!.maxValue)).toEqual([500, 1000, 1500]);
    expect([...ivs[0].phases.keys()]).toEqual(['mail', 'transaction']);
  });
});

describe('parseTimeline', () => {
  it('skips lines that are not timeline lines: torn, not JSON, JSON that is not a second', () => {
    const line = {
      t: 1,
      intervalS: 1,
      measuring: true,
      messages: { accepted: 1, rejected: 0, failed: 0, late: 0, dropped: 0 },
      rates: { msgsPerS: 1, rcptsPerS: 1 },
      targetRate: null,
      replies: { '2xx': 1 },
      errors: {},
      phases: {},
    };
    const text = [JSON.stringify(line), 'null', '1', '{}', 'garbage', JSON.stringify(line).slice(0, 30)].join('\n');
    expect(parseTimeline(text)).toHaveLength(1);
  });
});
