import { describe, expect, it } from 'vitest';
import { newHistogram, recordUs } from '../metrics/histogram.js';
import { ServerMetrics } from '../server/stats.js';
import { deliveryReport, parseSinkUrl, sinkDelta, type DrainResult, type SinkSnapshot } from './sink.js';

/** A sink reading with `messages` delivered and these delivery times (µs). */
function snap(messages: number, deliveryUs: readonly number[], offsetMs = 0, rttMs = 2): SinkSnapshot {
  const counters = new ServerMetrics().counters;
  counters.messages = messages;
  const delivery = newHistogram();
  for (const us of deliveryUs) recordUs(delivery, us);
  return { counters, delivery, offsetMs, rttMs };
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

describe('deliveryReport', () => {
  const drain = (over: Partial<DrainResult>): DrainResult => ({ end: null, atLoadEnd: null, drained: false, drainMs: 0, error: null, ...over });

  it('reports a drained run with the offset of the shortest round trip', () => {
    const start = snap(100, [], 5, 10);
    const atEnd = snap(150, [1000], 1, 2);
    const end = snap(200, [1000, 2000], 3, 6);
    const { report, delivery } = deliveryReport(new URL('http://u:p@127.0.0.1:9/stats?x=1'), start, drain({ end, atLoadEnd: atEnd, drained: true, drainMs: 1234.4 }), 100, 60_000, 2000);
    expect(report).toEqual({
      sink: 'http://127.0.0.1:9/stats',
      accepted: 100,
      delivered: 100,
      deliveredAtLoadEnd: 50,
      queued: 0,
      drained: true,
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

  it('keeps the reason when no reading came after the load', () => {
    const { report, delivery } = deliveryReport(new URL('http://127.0.0.1:9/stats'), snap(0, []), drain({ error: 'connection refused', drainMs: 1000 }), 40, 1000, 1500);
    expect(report).toMatchObject({ delivered: 0, queued: 40, error: 'connection refused' });
    expect(delivery).toBeNull();
  });
});
