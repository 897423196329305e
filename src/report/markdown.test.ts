import { describe, expect, it } from 'vitest';
import { acceptWaitNote, renderMarkdown, scheduleNote, shardNote, stopNote } from './markdown.js';
import type { Summary } from './summary.js';
import { renderConsole } from './table.js';
import type { Verdict } from './thresholds.js';

const stats = (p50: number) => ({ count: 100, unit: 'ms', min: 0, mean: p50, p50, p90: p50 * 2, p99: p50 * 3, p999: p50 * 4, max: p50 * 5 });

/** A whole summary.json of an open-model run with a warm-up, late and dropped starts and the embedded server. */
function summary(over: Partial<Summary> = {}): Summary {
  return {
    schema: 1,
    runId: 'run-1',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationS: 6,
    model: 'open',
    executor: 'open',
    warmupS: 2,
    interrupted: false,
    aborted: false,
    target: { url: 'smtp://127.0.0.1:2525', embedded: true },
    workers: 2,
    sessions: 20,
    profile: {},
    environment: { node: 'v20', cpu: 'cpu', cores: 2, os: 'linux', gitSha: null },
    totals: {
      messages: { attempted: 2400, accepted: 2390, rejected: 10, failed: 0, abandoned: 0, late: 37, dropped: 4 },
      recipients: { attempted: 2400, accepted: 2390, rejected: 10, failed: 0, deferred: 0 },
      transactions: 2400,
      bytes: 1e6,
      connections: 16,
      tls: { handshakes: 0, resumed: 0 },
      steps: 0,
      rates: { msgsPerS: 398.3, rcptsPerS: 398.3, mbPerS: 0.167 },
    },
    phases: { transaction: stats(1), service: stats(0.5) },
    replies: { rcpt: { '250': 2390, '450': 10 } },
    errors: {},
    generator: { eventLoopDelayP99Ms: 11, eventLoopDelayMaxMs: 15, eventLoopUtilizationMax: 0.06, scheduleLagP99Ms: 2.691, scheduleLagMaxMs: 5.947, saturated: false, workers: [] },
    server: {
      counters: { connections: 16, commands: 9000, messages: 3190, recipients: 3190, bytes: 1.3e6, messagesRejected: 0, negativeReplies: 13, faults: 13 },
      histograms: { 'cmd.rcpt': stats(0.001), 'data-stream': stats(0.1) },
      sizes: {},
    },
    thresholds: [],
    encoded: { phases: {}, server: {} },
    ...over,
  } as unknown as Summary;
}

describe('report.md', () => {
  it("has the console's open-model figures: warm-up, late and dropped starts, schedule lag", () => {
    const s = summary();
    const md = renderMarkdown(s);
    const console = renderConsole(s);
    expect(console).toContain('6 s after 2 s warm-up');
    expect(md).toContain('6 s after 2 s warm-up');
    expect(console).toContain('late 37 · dropped 4');
    expect(md).toContain('late starts 37');
    expect(md).toContain('dropped 4');
    expect(md).toContain('schedule lag p99 2.691 ms, max 5.947 ms');
    // The closed models have no schedule: no such line.
    const closed = renderMarkdown(summary({ model: 'closed', executor: 'closed', warmupS: 0 }));
    expect(closed).not.toMatch(/late starts|schedule lag|warm-up/);
    expect(scheduleNote(summary({ model: 'closed' }))).toBeNull();
  });

  it("has the reference server's table, says its figures restart after the warm-up, and lists its non-zero counters", () => {
    const md = renderMarkdown(summary());
    expect(md).toContain('| server (ms) | count | min | mean |');
    expect(md).toContain('| cmd.rcpt | 100 | 0 | 0.001 |');
    expect(md).toContain('| data-stream | 100 |');
    expect(md).toContain('figures restart when the 2 s warm-up ends');
    expect(md).toContain('faults 13');
    expect(md).not.toContain('messagesRejected 0');
    // An external target: no server table.
    expect(renderMarkdown(summary({ server: null }))).not.toContain('server (ms)');
  });

  it('says when the load changed shape or the histograms lost their top: a learnt recipient cap, clamped latencies (hostile review F14, issue 13)', () => {
    const plain = summary();
    expect(renderMarkdown(plain)).not.toMatch(/Recipient cap|recorded as 1 h/);
    const s = summary({ totals: { ...plain.totals, recipients: { ...plain.totals.recipients, learnedCap: 100 }, clampedValues: 3 } });
    for (const text of [renderMarkdown(s), renderConsole(s)]) {
      expect(text).toContain('Recipient cap learnt: 100 per transaction (from a 452); later messages were split.');
      expect(text).toContain("3 latencies above 1 h were recorded as 1 h (the histograms' highest trackable value)");
    }
  });

  it('stays compact enough for a CI step summary', () => {
    expect(renderMarkdown(summary()).split('\n').length).toBeLessThan(45);
  });
});

describe('why a run stopped early', () => {
  const stopper: Verdict = {
    expression: 'errors.rate < 1%',
    metric: 'errors.rate',
    op: '<',
    ok: false,
    value: 0.2,
    unit: 'ratio',
    limit: 0.01,
    abortOnFail: true,
    abort: { atS: 3.2, value: 0.217822 },
  };

  it('names the threshold, when it fired and its value, formatted as the console prints it', () => {
    const s = summary({ interrupted: true, durationS: 3.25, thresholds: [stopper] });
    const note = stopNote(s)!;
    expect(note).toBe(
      'Stopped early by the threshold `errors.rate < 1%` (abortOnFail): 3.2 s into the measured time, errors.rate was 21.78 % (limit < 1 %); the figures cover the 3.25 s it measured.',
    );
    expect(stopNote(s, (e) => `"${e}"`)).toContain('the threshold "errors.rate < 1%"');
    expect(renderMarkdown(s)).toContain(`**${note}**`);
  });

  it('tells a signal from a threshold, and says nothing for a run that ran to its end', () => {
    expect(stopNote(summary({ interrupted: true }))).toMatch(/^Interrupted by Ctrl-C/);
    expect(stopNote(summary({ interrupted: true, aborted: true }))).toMatch(/^Aborted by a second Ctrl-C/);
    expect(stopNote(summary())).toBeNull();
  });
});

describe('which shard a run was', () => {
  const shard = (over: Partial<NonNullable<Summary['shard']>>): Summary =>
    summary({ shard: { index: 1, count: 3, host: 'load-b', startAt: '2026-12-07T13:00:00.000Z', lateMs: 0, clock: { offsetMs: null, errorMs: null, source: null }, idle: false, ...over } });

  it('names the share, the host, the start and the clock, in report.md and the console', () => {
    const s = shard({ lateMs: 1500, clock: { offsetMs: -2.5, errorMs: 0.4, source: 'http://ref:8025/stats (wallClockMs)' } });
    const note =
      "Shard 1 of 3 on load-b: one exact share of the profile; its figures are this share's (`smtpbench merge` the shards for the whole run); started 1500 ms after --start-at 2026-12-07T13:00:00.000Z; clock offset -2.5 ms ± 0.4 ms against http://ref:8025/stats (wallClockMs).";
    expect(shardNote(s)).toBe(note);
    expect(renderMarkdown(s)).toContain(note);
    expect(renderConsole(s)).toContain(note);
    expect(shardNote(shard({ lateMs: 0, startAt: '2026-12-07T13:00:00.000Z' }))).toContain('; started at --start-at 2026-12-07T13:00:00.000Z.');
  });

  it('says an idle shard had nothing to do, and says nothing for an unsharded run', () => {
    expect(shardNote(shard({ idle: true }))).toBe('Shard 1 of 3 on load-b had nothing to do (more shards than sessions or messages): an empty result that merges as zeros.');
    expect(shardNote(summary({ shard: null }))).toBeNull();
    expect(renderMarkdown(summary({ shard: null }))).not.toContain('Shard');
  });
});

describe('text from a summary inside report.md', () => {
  it('cannot open a heading, a table, an HTML comment or emphasis', () => {
    const host = '</script><script>x</script>\n# Injected heading\n| x | y |\x1b[31m red <!-- *bold* [link](u)';
    const s = summary({ shard: { index: 0, count: 2, host, startAt: null, lateMs: null, clock: { offsetMs: null, errorMs: null, source: null }, idle: false } });
    const md = renderMarkdown(s);
    const line = md.split('\n').find((l) => l.startsWith('Shard 0 of 2'))!;
    expect(line).toContain('&lt;/script&gt;&lt;script&gt;x&lt;/script&gt; # Injected heading \\| x \\| y \\|\\[31m red &lt;!-- \\*bold\\* \\[link\\](u)');
    expect(md).not.toMatch(/^# Injected/m);
    expect(md).not.toContain('\x1b');
    expect(md).not.toContain('<!--');
  });
});

describe('acceptWaitNote (hostile review F7)', () => {
  const phases = (connectP50: number, greetingP50: number) => ({ transaction: stats(1), connect: stats(connectP50), greeting: stats(greetingP50) }) as unknown as Summary['phases'];
  it('warns when greeting p99 is over twice connect p99 and over 100 ms', () => {
    const note = acceptWaitNote(summary({ phases: phases(50, 200) }));
    expect(note).toMatch(/^greeting latency dominated by accept wait at the target: greeting p99 600 ms against connect p99 150 ms \(4×\)/);
    expect(renderMarkdown(summary({ phases: phases(50, 200) }))).toContain('**Warning:** greeting latency dominated by accept wait');
  });
  it('stays quiet at twice or less, under 100 ms, or without the phases', () => {
    expect(acceptWaitNote(summary({ phases: phases(50, 100) }))).toBeNull();
    expect(acceptWaitNote(summary({ phases: phases(1, 30) }))).toBeNull();
    expect(acceptWaitNote(summary())).toBeNull();
  });
});
