import { describe, expect, it } from 'vitest';
import { newHistogram, recordUs } from '../metrics/histogram.js';
import { ServerMetrics } from '../server/stats.js';
import type { ServerChange } from '../server/stats.js';
import { deliveryReport, failure, MAX_SINK_CHANGES, parseSinkUrl, RESTARTED, sinkChanges, sinkDelta, type DrainResult, type SinkSnapshot } from './sink.js';

/** A sink reading with `messages` delivered and these delivery times (µs). */
function snap(messages: number, deliveryUs: readonly number[], offsetMs = 0, rttMs = 2, changes: readonly ServerChange[] = []): SinkSnapshot {
  const counters = new ServerMetrics().counters;
  counters.messages = messages;
  const delivery = newHistogram();
  for (const us of deliveryUs) recordUs(delivery, us);
  return { counters, delivery, offsetMs, rttMs, changes };
}

describe('parseSinkUrl', () => {
  it('takes http(s) URLs; a bare origin means its /stats', () => {
    expect(String(parseSinkUrl('http://127.0.0.1:8025'))).toBe('http://127.0.0.1:8025/stats');
    expect(String(parseSinkUrl('https://sink.example.test/x/stats'))).toBe('https://sink.example.test/x/stats');
    expect(parseSinkUrl('ftp://127.0.0.1/')).toBe('expected http:// or https://, got ftp:');
    expect(parseSinkUrl('127.0.0.1:8025')).toMatch(/expected/);
  });
});

describe('sinkDelta', () => {
  it('is end minus start: counters and the exact histogram', () => {
    const before = [1000, 2000, 3000];
    const mine = [50_000, 60_000, 70_000, 80_000];
    const d = sinkDelta(snap(3, before), snap(7, [...before, ...mine]));
    if (typeof d === 'string') throw new Error(d);
    expect(d.delivered).toBe(4);
    expect(d.delivery.totalCount).toBe(4);
    expect(d.delivery.minNonZeroValue).toBeGreaterThanOrEqual(49_950);
    expect(d.delivery.getValueAtPercentile(50)).toBeGreaterThanOrEqual(59_950);
  });

  it('names a restarted sink (counters went back)', () => {
    expect(sinkDelta(snap(10, [1, 2]), snap(3, [1]))).toMatch(/restarted/);
  });
});

describe('sinkChanges', () => {
  let seq = 0;
  const change = (atMs: number, what = 'rcpt: reply 451 4.7.1 Try again later'): ServerChange => ({ seq: ++seq, atMs, target: 'faults', action: 'set', what });
  it('lists the changes made after the first reading, on the run timeline, the clock offset taken out', () => {
    const old = change(900_000);
    const start = snap(0, [], 250, 1, [old]);
    const end = snap(10, [], 300, 9, [old, change(1_003_750), { seq: ++seq, atMs: 1_006_250, target: 'domains', action: 'clear', what: '(none)' }]);
    // The sink's clock is 250 ms ahead (the offset of the reading with the shortest round trip).
    expect(sinkChanges(start, end, 1_000_000, 250)).toEqual([
      { atS: 3.5, target: 'faults', action: 'set', what: 'rcpt: reply 451 4.7.1 Try again later' },
      { atS: 6, target: 'domains', action: 'clear', what: '(none)' },
    ]);
  });
  it('tells new changes by their number, not their time: a sink clock stepped back still has them listed (B3)', () => {
    const future = change(2_000_000);
    const stepped = change(1_001_000);
    expect(sinkChanges(snap(0, [], 0, 2, [future]), snap(0, [], 0, 2, [future, stepped]), 1_000_000, 0)).toEqual([expect.objectContaining({ atS: 1 })]);
    // A sink without numbers (an older version): by time.
    const bare = (c: ServerChange) => ({ ...c, seq: undefined }) as unknown as ServerChange;
    expect(sinkChanges(snap(0, [], 0, 2, [bare(change(5))]), snap(0, [], 0, 2, [bare(change(5)), bare(change(1005))]), 0, 0)).toEqual([expect.objectContaining({ atS: 1.005 })]);
  });
  it('keeps the first MAX_SINK_CHANGES; none when nothing changed', () => {
    const many = Array.from({ length: MAX_SINK_CHANGES + 5 }, (_, i) => change(2000 + i));
    const listed = sinkChanges(snap(0, []), snap(0, [], 0, 2, many), 1000, 0);
    expect(listed).toHaveLength(MAX_SINK_CHANGES);
    expect(listed[0].atS).toBe(1);
    const one = change(5);
    expect(sinkChanges(snap(0, [], 0, 2, [one]), snap(0, [], 0, 2, [one]), 0, 0)).toEqual([]);
  });
  it('a report given the timeline zero lists them; one without it has no changes key', () => {
    const drain: DrainResult = { end: snap(2, [], 0, 2, [change(5000)]), atLoadEnd: null, drained: true, drainMs: 10, error: null, restarted: false, stopped: false };
    const url = new URL('http://127.0.0.1:1/stats');
    expect(deliveryReport(url, snap(0, []), drain, 2, 1000, 1000, null, 4000).report.changes).toEqual([expect.objectContaining({ atS: 1 })]);
    expect(deliveryReport(url, snap(0, []), drain, 2, 1000, 1000).report).not.toHaveProperty('changes');
  });
});

describe('deliveryReport', () => {
  const drain = (over: Partial<DrainResult>): DrainResult => ({ end: null, atLoadEnd: null, drained: false, drainMs: 0, error: null, restarted: false, stopped: false, ...over });

  it('reports a drained run with the offset of the shortest round trip', () => {
    const start = snap(100, [], 5, 10);
    const atEnd = snap(150, [1000], 1, 2);
    const end = snap(200, [1000, 2000], 3, 6);
    const { report, delivery } = deliveryReport(new URL('http://u:p@127.0.0.1:9/stats?x=1'), start, drain({ end, atLoadEnd: atEnd, drained: true, drainMs: 1234.4 }), 100, 60_000, 2000);
    expect(report).toEqual({
      sink: 'http://127.0.0.1:9/stats',
      accepted: 100,
      delivered: 100,
      deliveredAtLeast: false,
      deliveredAtLoadEnd: 50,
      queued: 0,
      drained: true,
      drainStopped: false,
      drainS: 1.234,
      drainTimeoutS: 60,
      ratePerS: 50,
      windowS: 2,
      clockOffsetMs: 1,
      clockUncertaintyMs: 1,
      error: null,
    });
    expect(delivery?.totalCount).toBe(2);
  });

  it('counts the rest as queued when the drain timed out', () => {
    const { report } = deliveryReport(new URL('http://127.0.0.1:9/stats'), snap(0, []), drain({ end: snap(0, []), atLoadEnd: snap(0, []), drainMs: 1000 }), 40, 1000, 1500);
    expect(report).toMatchObject({ delivered: 0, queued: 40, drained: false, drainS: 1, ratePerS: 0, error: null });
  });

  it('claims nothing when no reading came after the start one: delivered, queued and drained unknown', () => {
    const { report, delivery } = deliveryReport(new URL('http://127.0.0.1:9/stats'), snap(0, []), drain({ error: 'connection refused', drainMs: 1000 }), 40, 1000, 1500);
    expect(report).toMatchObject({ delivered: null, queued: null, drained: null, deliveredAtLoadEnd: null, ratePerS: null, error: 'connection refused' });
    expect(delivery).toBeNull();
  });

  it('a sink that died during the load: at least the last reading taken during it, with its histogram', () => {
    const during = snap(25, [1000, 2000, 3000]);
    const { report, delivery } = deliveryReport(new URL('http://127.0.0.1:9/stats'), snap(0, []), drain({ error: 'connection refused', drainMs: 1000 }), 40, 1000, 2000, during);
    expect(report).toMatchObject({ delivered: 25, deliveredAtLeast: true, queued: null, drained: null, ratePerS: 12.5, error: 'connection refused' });
    expect(delivery?.totalCount).toBe(3);
  });

  it('a drain whose last reading failed after a good one: at least that one, queued unknown', () => {
    const { report } = deliveryReport(
      new URL('http://127.0.0.1:9/stats'),
      snap(0, []),
      drain({ end: snap(30, []), atLoadEnd: snap(10, []), error: 'no answer in time', drainMs: 1000 }),
      40,
      1000,
      2000,
      snap(5, []),
    );
    expect(report).toMatchObject({ delivered: 30, deliveredAtLeast: true, deliveredAtLoadEnd: 10, queued: null, drained: null, error: 'no answer in time' });
  });

  it('after a restart the counts are unknown (null), not 0 delivered and all queued', () => {
    const { report, delivery } = deliveryReport(new URL('http://127.0.0.1:9/stats'), snap(100, [1]), drain({ end: snap(3, []), restarted: true }), 40, 1000, 1500);
    expect(report).toMatchObject({ delivered: null, queued: null, drained: null, deliveredAtLoadEnd: null, ratePerS: null, error: RESTARTED });
    expect(delivery).toBeNull();
  });

  it('a drain stopped by the user says so; its last good reading stands', () => {
    const { report } = deliveryReport(new URL('http://127.0.0.1:9/stats'), snap(0, []), drain({ end: snap(30, []), atLoadEnd: snap(30, []), stopped: true, drainMs: 500 }), 40, 60_000, 2000);
    expect(report).toMatchObject({ delivered: 30, deliveredAtLeast: false, queued: 10, drained: false, drainStopped: true, error: null });
  });
});

describe('deliveryReport, stopped early', () => {
  it('a drain stopped before its first reading: counts unknown, and says why', () => {
    const d: DrainResult = { end: null, atLoadEnd: null, drained: false, drainMs: 10, error: null, restarted: false, stopped: true };
    const { report } = deliveryReport(new URL('http://127.0.0.1:9/stats'), snap(0, []), d, 40, 60_000, 100);
    expect(report).toMatchObject({ delivered: null, queued: null, drained: null, drainStopped: true, error: 'the drain was stopped before a reading' });
  });
});

describe('failure', () => {
  it('makes an OpenSSL error one line without source paths', () => {
    const err = Object.assign(new Error('C0A7F2E1:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:\n'), {
      library: 'SSL routines',
      reason: 'wrong version number',
      code: 'ERR_SSL_WRONG_VERSION_NUMBER',
    });
    expect(failure(err)).toBe('TLS: wrong version number');
    expect(failure(new Error('first\nsecond'))).toBe('first');
    expect(failure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('connection refused');
  });
});
