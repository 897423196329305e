import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newHistogram, recordUs } from '../metrics/histogram.js';
import { pageDataOf } from './chart-data.js';
import { phaseColor } from './chart-spec.js';
import { percentileOfX, RESOLUTION_MS, sharedDecades, spectrumChart, SPECTRUM_SHOWN, spectrumValues, spectrumXs } from './chart-spectrum.js';
import { errorsChart, latencyOverTime, repliesChart, throughputChart, warmupBandEnd } from './chart-time.js';
import { IntervalLog } from './hlog.js';
import { parseIntervalLog, type Interval, type RunData } from './run-data.js';
import type { Summary } from './summary.js';
import type { Second } from './timeline.js';

/** A histogram holding 1, 2, … n µs once each: its percentile p is n·p/100 µs, within 0.1 %. */
function ramp(n: number, scale = 1) {
  const h = newHistogram();
  for (let v = 1; v <= n; v++) recordUs(h, v * scale);
  return h;
}

function second(t: number, over: Partial<Second> = {}): Second {
  return {
    t,
    intervalS: 1,
    measuring: true,
    totals: { attempted: 100 * t, accepted: 100 * t, rejected: 0, failed: 0, late: 0, dropped: 0 },
    messages: { accepted: 100, rejected: 0, failed: 0, late: 0, dropped: 0 },
    recipients: { accepted: 200, rejected: 0, failed: 0 },
    rates: { msgsPerS: 100, rcptsPerS: 200 },
    targetRate: null,
    replies: { '2xx': 400, '3xx': 100, '4xx': 0, '5xx': 0 },
    errors: {},
    activeSessions: 4,
    eventLoopDelayP99Ms: 1,
    phases: { transaction: { count: 100, p50: 1, p90: 2, p99: 3, max: 4 } },
    ...over,
  };
}

describe('percentile spectrum', () => {
  it('puts percentile p at x = 1/(1-p), from 1 up to the count, with 50 % and every count on the grid', () => {
    const xs = spectrumXs([1000, 37], 10);
    expect(xs[0]).toBe(1);
    expect(xs.at(-1)).toBe(1000);
    for (const x of [2, 10, 100, 37]) expect(xs).toContain(x);
    for (let i = 1; i < xs.length; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
    // 10 points per decade over three decades, plus 2 and 37.
    expect(xs.length).toBe(31 + 2);
    expect(percentileOfX(2)).toBeCloseTo(50, 12);
    expect(percentileOfX(10)).toBeCloseTo(90, 12);
    expect(percentileOfX(1000)).toBeCloseTo(99.9, 12);
    for (const x of xs) expect(1 / (1 - percentileOfX(x) / 100)).toBeCloseTo(x, 6);
  });

  it('reads each percentile from the histogram in ms, ends at the maximum and is null beyond the count', () => {
    const h = ramp(1000, 1000); // 1 ms … 1000 ms
    const xs = spectrumXs([1000, 5000]);
    const ys = spectrumValues(h, xs);
    expect(ys.length).toBe(xs.length);
    const at = (x: number) => ys[xs.indexOf(x)]!;
    expect(at(1)).toBeCloseTo(1, 1); // p0: the minimum
    expect(at(2)).toBeCloseTo(500, -1); // p50
    expect(at(10)).toBeCloseTo(900, -1); // p90
    expect(at(100)).toBeCloseTo(990, -1); // p99
    expect(at(1000)).toBe(Math.round(h.maxValue) / 1000); // the maximum, as summary.json's max
    const defined = ys.filter((y) => y !== null) as number[];
    for (let i = 1; i < defined.length; i++) expect(defined[i]).toBeGreaterThanOrEqual(defined[i - 1]);
    expect(ys.slice(xs.indexOf(1000) + 1).every((y) => y === null)).toBe(true);
    expect(ys.slice(0, xs.indexOf(1000) + 1).every((y) => y !== null)).toBe(true);
  });

  it('has one series per phase with data, in phase order, each as long as x', () => {
    const hs = new Map([
      ['transaction', ramp(500)],
      ['connect', ramp(20)],
      ['empty', newHistogram()],
    ]);
    const c = spectrumChart('s', 't', 'c', hs, () => '#000')!;
    expect(c.views[0].series.map((s) => s.label)).toEqual(['connect', 'transaction']);
    for (const s of c.views[0].series) expect(s.values.length).toBe(c.x.length);
    expect(c.x.at(-1)).toBe(500);
    expect(spectrumChart('s', 't', 'c', new Map([['empty', newHistogram()]]), () => '#000')).toBeNull();
  });
});

describe('per-second charts', () => {
  const iv = (endS: number, phases: [string, number][]): Interval => ({ startS: endS - 1, endS, phases: new Map(phases.map(([p, n]) => [p, ramp(n, 100)])) });

  it('draws p50/p90/p99 per phase from run.hlog, transaction first, null where a phase had no sample', () => {
    const c = latencyOverTime(
      [
        iv(1, [
          ['mail', 100],
          ['transaction', 100],
        ]),
        iv(2, [['transaction', 1000]]),
      ],
      [],
    )!;
    expect(c.x).toEqual([1, 2]);
    expect(c.views.map((v) => v.name)).toEqual(['transaction', 'mail']);
    const [p50, p90, p99] = c.views[0].series;
    expect([p50.label, p90.label, p99.label]).toEqual(['p50', 'p90', 'p99']);
    expect(p50.values[0]).toBeCloseTo(5, 1); // 50 of 1..100 × 100 µs
    expect(p99.values[1]).toBeCloseTo(99, 0); // 990 of 1..1000 × 100 µs
    expect(c.views[1].series[0].values).toEqual([c.views[1].series[0].values[0], null]);
  });

  it('falls back to the timeline percentiles without run.hlog', () => {
    const c = latencyOverTime([], [second(1), second(2)])!;
    expect(c.caption).toContain('timeline.ndjson');
    expect(c.views[0].series.map((s) => s.values)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('draws accepted rates, the target rate and late/dropped marks only where they happened', () => {
    const tl = [second(1, { targetRate: 120 }), second(2, { targetRate: 120, messages: { accepted: 90, rejected: 0, failed: 0, late: 7, dropped: 0 } })];
    const c = throughputChart(tl, [])!;
    const byLabel = new Map(c.views[0].series.map((s) => [s.label, s]));
    expect(byLabel.get('messages/s accepted')!.values).toEqual([100, 100]);
    expect(byLabel.get('target arrival rate')!.values).toEqual([120, 120]);
    expect(byLabel.get('late starts/s')!.values).toEqual([null, 7]);
    expect(byLabel.has('dropped starts/s')).toBe(false);
    expect(c.caption).toContain('7 in all');
    expect(c.caption).not.toContain('dropped');
    // Closed model: no target line.
    expect(throughputChart([second(1)], [])!.views[0].series.map((s) => s.label)).toEqual(['messages/s accepted', 'recipients/s accepted']);
  });

  it('falls back to run.hlog transaction counts without a timeline', () => {
    const c = throughputChart([], [iv(1, [['transaction', 300]]), iv(2, [['transaction', 200]])])!;
    expect(c.views[0].series[0].values).toEqual([300, 200]);
  });

  it('counts replies by class per second and errors by kind; no errors chart without errors', () => {
    const tl = [second(1), second(2, { intervalS: 0.5, replies: { '2xx': 10, '3xx': 0, '4xx': 3, '5xx': 1 }, errors: { 'rcpt-timeout': 2 } })];
    const r = repliesChart(tl)!;
    expect(r.views[0].series.map((s) => [s.label, s.values])).toEqual([
      ['2xx replies/s', [400, 20]],
      ['3xx replies/s', [100, 0]],
      ['4xx replies/s', [0, 6]],
      ['5xx replies/s', [0, 2]],
    ]);
    // The 354s are charted, and the caption says what a 3xx is.
    expect(r.caption).toContain('3xx go ahead (the 354 answering DATA');
    const e = errorsChart(tl)!;
    expect(e.views[0].series.map((s) => [s.label, s.values])).toEqual([['rcpt-timeout', [0, 4]]]);
    // It points at the page's own table of kinds, not at a document the reader may not have.
    expect(e.caption).toContain('the table "Errors by kind" below');
    expect(e.caption).not.toContain('README');
    expect(errorsChart([second(1)])).toBeNull();
  });

  it('leaves out the charts a run has no data for', () => {
    const summary = { model: 'closed', warmupS: 2 } as Summary;
    const run: RunData = { source: 'x', summary, histograms: new Map([['transaction', ramp(10)]]), serverHistograms: new Map(), intervals: [], timeline: [] };
    const page = pageDataOf(run);
    expect(page.warmupS).toBe(2);
    expect(page.charts.map((c) => c.id)).toEqual(['spectrum']);
  });
});

describe('target arrival rate', () => {
  it('is averaged over each second, so a ramp compares with what was meant to start in it', () => {
    // A ramp from 0 at t=0 by 100/s each second: over (1, 2] it averages 150, though it ends at 200.
    const ramp = (t: number) => 100 * t;
    const s = second(2, { targetRate: 200 });
    expect(ramp(s.t)).toBe(s.targetRate);
    const c = throughputChart([second(1, { targetRate: 100 }), s], [], { targetAt: ramp })!;
    expect(c.views[0].series.find((x) => x.label === 'target arrival rate')!.values).toEqual([50, 150]);
  });
});

describe('run.hlog read back for the charts', () => {
  it('gives one interval per second, each with its own phases, at seconds after the log start', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'smtpbench-hlog-')), 'run.hlog');
    const start = Date.UTC(2026, 0, 1);
    const log = new IntervalLog(path, start);
    for (let i = 0; i < 3; i++) {
      log.write('transaction', ramp(10 * (i + 1)), start + i * 1000, start + (i + 1) * 1000);
      log.write('mail', ramp(5), start + i * 1000, start + (i + 1) * 1000);
    }
    log.close();
    const ivs = parseIntervalLog(readFileSync(path, 'utf8'));
    expect(ivs.map((iv) => [iv.startS, iv.endS])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(ivs.map((iv) => iv.phases.get('transaction')!.totalCount)).toEqual([10, 20, 30]);
    expect(ivs.every((iv) => iv.phases.get('mail')!.totalCount === 5)).toBe(true);
  });
});

describe('warm-up on the time charts', () => {
  // A 2 s warm-up: the coordinator's seconds end at 1.071 and 2.051 s (both counted during warm-up),
  // then 3.056 and 4.058 s (measured). Late starts happened only in warm-up.
  const warm = (t: number, late: number) => second(t, { measuring: false, targetRate: 100, messages: { accepted: 100, rejected: 0, failed: 0, late, dropped: 0 } });
  const timeline = [warm(1.071, 11), warm(2.051, 17), second(3.056, { targetRate: 100 }), second(4.058, { targetRate: 100 })];

  it('shades to the last point counted during warm-up, which ends a little after it', () => {
    expect(warmupBandEnd(2, 2.051)).toBe(2.051);
    expect(warmupBandEnd(2, 1.9)).toBe(2);
    expect(warmupBandEnd(2, undefined)).toBe(2);
    expect(warmupBandEnd(0, undefined)).toBeUndefined();
    for (const c of [throughputChart(timeline, [], { warmupS: 2 })!, repliesChart(timeline, 2)!]) {
      expect(c.warmupEndS, c.id).toBe(2.051);
      // Every warm-up point is inside the band, every measured one right of it.
      c.x.forEach((x, i) => expect(x <= c.warmupEndS!, `${c.id} x=${x}`).toBe(!timeline[i].measuring));
    }
    expect(throughputChart(timeline, [])!.warmupEndS).toBeUndefined();
  });

  it('leaves out the sliver at the end of warm-up (a few ms without replies), which would plunge every line to 0', () => {
    const sliver = second(1.053, { measuring: false, intervalS: 0.014, replies: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, rates: { msgsPerS: 0, rcptsPerS: 0 } });
    const tl = [warm(1.042, 0), sliver, second(2.036), second(3.024), second(3.03, { intervalS: 0.006 })];
    for (const c of [throughputChart(tl, [], { warmupS: 1 })!, repliesChart(tl, 1)!]) {
      expect(c.x, c.id).toEqual([1.042, 2.036, 3.024]);
      expect(c.warmupEndS, c.id).toBe(1.042);
      const main = c.views[0].series[0];
      expect(main.values, `${c.id} ${main.label}`).not.toContain(0);
    }
    // A run of one short interval still has its one point.
    expect(repliesChart([sliver])!.x).toEqual([1.053]);
  });

  it('takes the band of per-second latency from run.hlog the way compare does: an interval starting before warm-up ends is warm-up', () => {
    const ivs: Interval[] = [0.002, 1.002, 2.001, 3.008].map((startS) => ({ startS, endS: startS + 1.04, phases: new Map([['transaction', ramp(10)]]) }));
    const c = latencyOverTime(ivs, [], 2)!;
    expect(c.x).toEqual([1.042, 2.042, 3.041, 4.048]);
    expect(c.warmupEndS).toBe(2.042);
    expect(latencyOverTime(ivs, [])!.warmupEndS).toBeUndefined();
  });

  it('counts late starts after warm-up as the summary does, and tells the warm-up ones apart', () => {
    const c = throughputChart(timeline, [], { warmupS: 2, targetAt: () => 100 })!;
    expect(c.caption).toContain('late starts (more than 10 ms behind schedule): 0 after warm-up, and 28 during it (the points in the grey band)');
    expect(c.caption).not.toContain('28 in all');
    // The warm-up marks stay, inside the band.
    expect(c.views[0].series.find((s) => s.label === 'late starts/s')!.values).toEqual([11, 17, null, null]);
    // summary.json's own count wins over the timeline's sum (a torn last line, a merged run).
    expect(throughputChart(timeline, [], { warmupS: 2, late: 5 })!.caption).toContain(': 5 after warm-up, and 28 during it');
    // Late starts only after warm-up: no mention of the warm-up.
    const measured = throughputChart([second(1, { targetRate: 100, messages: { accepted: 100, rejected: 0, failed: 0, late: 3, dropped: 0 } })], [])!;
    expect(measured.caption).toContain('late starts (more than 10 ms behind schedule): 3 in all.');
    expect(throughputChart([second(1, { targetRate: 100, messages: { accepted: 100, rejected: 0, failed: 0, late: 3, dropped: 0 } })], [], { warmupS: 1 })!.caption).toContain(': 3 after warm-up.');
  });
});

describe('percentile charts, readable by default', () => {
  const all = new Map(['connect', 'greeting', 'ehlo', 'mail', 'rcpt', 'data', 'body', 'quit', 'transaction', 'service', 'session'].map((p, i) => [p, ramp(100, i + 1)]));

  it('shows the message, the end of data and connect first; the other phases start hidden', () => {
    const c = spectrumChart('s', 't', 'c', all, phaseColor, SPECTRUM_SHOWN)!;
    const shown = c.views[0].series.filter((s) => !s.hidden).map((s) => s.label);
    expect(shown).toEqual(['connect', 'body', 'transaction', 'service']);
    expect(c.views[0].series.filter((s) => s.hidden).map((s) => s.label)).toEqual(['greeting', 'ehlo', 'mail', 'rcpt', 'data', 'quit', 'session']);
    // Four far-apart colours for the lines shown first; service dashed (closed model: it is transaction).
    const colours = c.views[0].series.filter((s) => !s.hidden).map((s) => s.color);
    expect(new Set(colours).size).toBe(4);
    expect(c.views[0].series.find((s) => s.label === 'service')!.dash).toBe(true);
    // A run with none of those (scenario steps only) shows every line.
    const steps = spectrumChart(
      's',
      't',
      'c',
      new Map([
        ['vrfy', ramp(10)],
        ['noop', ramp(10)],
      ]),
      phaseColor,
      SPECTRUM_SHOWN,
    )!;
    expect(steps.views[0].series.every((s) => !s.hidden)).toBe(true);
  });

  it('draws values under 1 µs at the resolution and says so; no note without them', () => {
    const h = newHistogram();
    for (let i = 0; i < 60; i++) recordUs(h, 0);
    for (let v = 1; v <= 40; v++) recordUs(h, v);
    const c = spectrumChart('s', 't', 'Cap.', new Map([['cmd.rcpt', h]]), phaseColor)!;
    const values = c.views[0].series[0].values.filter((v): v is number => v !== null);
    expect(Math.min(...values)).toBe(RESOLUTION_MS);
    expect(values.filter((v) => v === RESOLUTION_MS).length).toBeGreaterThan(1);
    expect(c.caption).toBe(`Cap. Values under 1 µs (0 in the tables) are drawn at ${RESOLUTION_MS} ms, the histograms' resolution.`);
    expect(spectrumChart('s', 't', 'Cap.', new Map([['rcpt', ramp(10)]]), phaseColor)!.caption).toBe('Cap.');
  });

  it('gives both spectra one y range in whole decades, from the lines shown first', () => {
    const client = spectrumChart(
      'a',
      't',
      'c',
      new Map([
        ['transaction', ramp(100, 30)],
        ['session', ramp(100, 5_000_000)],
      ]),
      phaseColor,
      SPECTRUM_SHOWN,
    )!;
    const server = spectrumChart('b', 't', 'c', new Map([['cmd.mail', ramp(100, 2)]]), phaseColor)!;
    // transaction 0.03..3 ms, cmd.mail 0.002..0.2 ms; the hidden session line (seconds) is not counted.
    expect(sharedDecades([client, server])).toEqual([0.001, 10]);
    expect(sharedDecades([spectrumChart('a', 't', 'c', new Map([['transaction', ramp(10, 100)]]), phaseColor)!])).toEqual([0.1, 1]);
    expect(sharedDecades([null])).toBeNull();
  });

  it('puts the shared range on both spectra of a page, with captions that say so', () => {
    const summary = { model: 'open', warmupS: 2, totals: { messages: { late: 0, dropped: 0 } }, profile: {} } as unknown as Summary;
    const run: RunData = {
      source: 'x',
      summary,
      histograms: all,
      serverHistograms: new Map([
        ['cmd.rcpt', ramp(50)],
        ['data-stream', ramp(50, 20)],
      ]),
      intervals: [],
      timeline: [],
    };
    const [client, server] = pageDataOf(run).charts;
    expect(client.yRange).toEqual(server.yRange);
    expect(client.caption).toContain(`Both percentile charts open on one latency axis (${client.yRange![0]} to ${client.yRange![1]} ms)`);
    // The server's figures restart after the warm-up, as the client's do.
    expect(server.caption).toContain('Its figures restart when the 2 s warm-up ends');
  });
});
