import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunOutcome } from '../load/coordinator.js';
import { addEncoded, encodeHistogram, newHistogram, recordUs, statsOf, type Histogram } from '../metrics/histogram.js';
import { Merged } from '../metrics/recorder.js';
import { resolveProfile, type ProfileInput } from '../profile/index.js';
import { resolveThresholds } from '../profile/thresholds.js';
import { partOf } from '../profile/shard.js';
import { ServerMetrics } from '../server/stats.js';
import { IntervalLog } from './hlog.js';
import { renderMarkdown } from './markdown.js';
import { mergeRuns, writeMergedRun } from './merge.js';
import { loadRunDir, runDataOf, type RunData } from './run-data.js';
import { buildSummary, type ShardInfo, type Summary } from './summary.js';
import type { Second } from './timeline.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const ENV = { node: 'v20', cpu: 'x', cores: 2, os: 'linux', gitSha: null };

/** Deterministic pseudo-random latencies (µs), spread over four decades. */
function latencies(seed: number, n: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.round(10 ** (2 + (3 * x) / 2 ** 31));
  });
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'smtpbench-merge-'));

interface RunSpec {
  readonly id: string;
  /** transaction latencies, µs; mail gets each value halved. */
  readonly values?: readonly number[];
  /** Measured span: start (ms after T0) and length (s). */
  readonly startMs?: number;
  readonly durationS?: number;
  readonly profile?: ProfileInput;
  readonly shard?: Partial<ShardInfo> | null;
  readonly idle?: boolean;
  /** run.hlog: its StartTime (ms after T0) and each second's transaction values (one interval per second, starting at the log start). */
  readonly log?: { readonly startMs: number; readonly seconds: readonly (readonly number[])[] };
  readonly timeline?: readonly Second[];
  readonly server?: boolean;
  readonly errors?: Record<string, number>;
  /** Enhanced status codes per phase; null: a summary from before they were counted (no `enhancedReplies`). */
  readonly enhanced?: Record<string, Record<string, number>> | null;
  /** The target's port (its URL in the summary). */
  readonly port?: number;
  /** RCPT outcomes per domain and distinct failure texts (issue 15). */
  readonly domains?: Record<string, { accepted: number; deferred: number; rejected: number }>;
  readonly failureReplies?: Record<string, Record<string, number>>;
}

/**
 * A run as merge reads it: a real summary (buildSummary) of a synthetic result, read back from
 * JSON with its run.hlog (written by IntervalLog) through runDataOf, as loadRunDir does.
 */
function runOf(spec: RunSpec): RunData {
  const merged = new Merged();
  const values = spec.idle ? [] : (spec.values ?? latencies(spec.id.length * 7 + 1, 50));
  for (const v of values) {
    recordUs(merged.histograms.get('transaction')!, v);
    recordUs(merged.histograms.get('mail')!, v / 2);
  }
  const c = merged.counters;
  c.messagesAttempted = c.messagesAccepted = c.recipientsAttempted = c.recipientsAccepted = c.transactions = values.length;
  c.bytes = values.length * 1000;
  c.connections = Math.ceil(values.length / 10);
  c.tlsHandshakes = c.connections;
  c.steps = values.length > 0 ? 3 : 0;
  if (values.length > 0) merged.addCounts({ mail: { '250': values.length }, rcpt: { '250': values.length - 1, '452': 1 } }, spec.errors ?? { 'reply-timeout': 1 }, spec.enhanced ?? {});
  for (const v of values.slice(0, 5)) recordUs(merged.generator.get('scheduleLag')!, v);
  if (spec.domains) merged.domains = structuredClone(spec.domains);
  if (spec.failureReplies) merged.failureReplies = structuredClone(spec.failureReplies);
  let server: RunOutcome['server'] = null;
  if (spec.server) {
    const m = new ServerMetrics();
    for (const v of values) {
      m.record('cmd.mail', v / 4);
      m.recordBytes('message-bytes', 1000);
    }
    m.counters.messages = values.length;
    m.counters.connections = 2;
    server = m.snapshot();
  }
  const durationS = spec.durationS ?? 2;
  const outcome = {
    merged,
    server,
    target: { host: '127.0.0.1', port: spec.port ?? 2525, embedded: false },
    startedAt: new Date(T0 + (spec.startMs ?? 0) - 100),
    barrierAtMs: T0 + (spec.startMs ?? 0),
    durationS: spec.idle ? 0 : durationS,
    warmupCompleted: true,
    sessionsPeak: 0,
    interrupted: false,
    workers: 1,
    health: [{ eventLoopDelayP99Ms: spec.id.length, eventLoopDelayMaxMs: spec.id.length * 2, eventLoopUtilization: 0.5 }],
  } as RunOutcome;
  const profile = resolveProfile({ target: 'smtp://127.0.0.1:2525', sessions: 10, messages: 1000, ...spec.profile });
  const built = buildSummary(runIdOf(spec.id), profile, outcome, ENV);
  const shard: ShardInfo | null =
    spec.shard === undefined || spec.shard === null
      ? null
      : { index: 0, count: 3, host: `host-${spec.id}`, startAt: null, lateMs: null, clock: { offsetMs: null, errorMs: null, source: null }, idle: spec.idle ?? false, ...spec.shard };
  // A shard records its own share of the sessions, as run.ts does.
  const sessions = shard && shard.count > 1 ? partOf(profile.sessions, shard) : built.sessions;
  const summary = JSON.parse(JSON.stringify({ ...built, shard, sessions, enhancedReplies: spec.enhanced === null ? undefined : built.enhancedReplies })) as Summary;
  let hlog: string | null = null;
  if (spec.log) {
    const path = join(tmp(), 'run.hlog');
    const start = T0 + spec.log.startMs;
    const log = new IntervalLog(path, start);
    spec.log.seconds.forEach((vals, i) => {
      const h = newHistogram();
      for (const v of vals) recordUs(h, v);
      log.write('transaction', h, start + i * 1000, start + (i + 1) * 1000);
    });
    log.close();
    hlog = readFileSync(path, 'utf8');
  }
  const timeline = spec.timeline ? spec.timeline.map((s) => JSON.stringify(s)).join('\n') : null;
  return runDataOf(`dir-${spec.id}`, summary, hlog, timeline);
}

/** newRunId's form, with the id's letters as the random part: `…-smoke-616161` for `aaa`. */
const runIdOf = (id: string): string => `2026-12-07T10-00-00.000Z-smoke-${Buffer.from(id).toString('hex').padEnd(6, '0').slice(0, 6)}`;

/** One histogram of every value. */
function histogramOf(values: readonly number[]): Histogram {
  const h = newHistogram();
  for (const v of values) recordUs(h, v);
  return h;
}

/** The error merge throws, or '' when it does not. */
function refusal(runs: RunData[], force = false): string {
  try {
    mergeRuns(runs, { force });
    return '';
  } catch (err) {
    expect((err as { code?: string }).code).toBe('SB_USAGE');
    return (err as Error).message;
  }
}

describe('mergeRuns', () => {
  it('adds per-domain RCPT counts and failure replies across two summaries, into every report', () => {
    const a = runOf({
      id: 'aaa',
      domains: { 'gmail.test': { accepted: 60, deferred: 7, rejected: 1 }, 'yahoo.test': { accepted: 10, deferred: 0, rejected: 2 } },
      failureReplies: { rcpt: { '450 4.2.1 Mailbox busy': 7, '550 5.1.1 <email> unknown': 3 } },
    });
    const b = runOf({
      id: 'bb',
      domains: { 'gmail.test': { accepted: 40, deferred: 3, rejected: 0 }, 'outlook.test': { accepted: 5, deferred: 1, rejected: 0 } },
      failureReplies: { rcpt: { '450 4.2.1 Mailbox busy': 4 }, body: { '451 4.7.1 Rate limited, try again in # seconds': 2 } },
    });
    const m = mergeRuns([a, b]).summary;
    expect(m.totals.domains).toEqual({
      'gmail.test': { accepted: 100, deferred: 10, rejected: 1 },
      'yahoo.test': { accepted: 10, deferred: 0, rejected: 2 },
      'outlook.test': { accepted: 5, deferred: 1, rejected: 0 },
    });
    expect(m.failureReplies).toEqual({
      rcpt: { '450 4.2.1 Mailbox busy': 11, '550 5.1.1 <email> unknown': 3 },
      body: { '451 4.7.1 Rate limited, try again in # seconds': 2 },
    });
    const md = renderMarkdown(m);
    expect(md).toContain('| gmail.test | 111 | 100 | 10 | 1 | 9.0 % | 0.9 % |');
    expect(md).toContain('| rcpt | 11 | `450 4.2.1 Mailbox busy` |');
    expect(md).toContain('| rcpt | 3 | `550 5.1.1 <email> unknown` |');
    // Summaries from before issue 15 add nothing, and a merge of only those has neither field.
    const old = runOf({ id: 'c' });
    delete (old.summary.totals as { domains?: unknown }).domains;
    delete (old.summary as { failureReplies?: unknown }).failureReplies;
    const withOld = mergeRuns([old, runOf({ id: 'd', domains: { 'x.test': { accepted: 1, deferred: 0, rejected: 0 } } })]).summary;
    expect(withOld.totals.domains).toEqual({ 'x.test': { accepted: 1, deferred: 0, rejected: 0 } });
    const onlyOld = runOf({ id: 'e' });
    delete (onlyOld.summary.totals as { domains?: unknown }).domains;
    delete (onlyOld.summary as { failureReplies?: unknown }).failureReplies;
    expect(mergeRuns([old, onlyOld]).summary.totals.domains).toBeUndefined();
    expect(mergeRuns([old, onlyOld]).summary.failureReplies).toBeUndefined();
  });

  it('adds enhanced status codes per phase; inputs from before they were counted add none', () => {
    const a = runOf({ id: 'aaa', enhanced: { mail: { '2.1.0': 40 }, rcpt: { '2.1.5': 39, '4.5.3': 1 } } });
    const b = runOf({ id: 'bb', enhanced: { rcpt: { '2.1.5': 20, '4.2.2': 3 }, body: { '5.7.1': 2 } } });
    const old = runOf({ id: 'c', enhanced: null });
    expect(old.summary.enhancedReplies).toBeUndefined();
    const m = mergeRuns([a, b, old]).summary;
    expect(m.enhancedReplies).toEqual({ mail: { '2.1.0': 40 }, rcpt: { '2.1.5': 59, '4.5.3': 1, '4.2.2': 3 }, body: { '5.7.1': 2 } });
    expect(renderMarkdown(m)).toContain('Enhanced status codes (RFC 3463) per phase: mail 2.1.0 40; rcpt 2.1.5 59, 4.2.2 3, 4.5.3 1; body 5.7.1 2.');
    // None of the inputs counted them: neither does the merge.
    expect(mergeRuns([old, runOf({ id: 'd', enhanced: null })]).summary.enhancedReplies).toBeUndefined();
  });

  it('adds histograms exactly and every counter, reply and error', () => {
    const va = latencies(1, 400);
    const vb = latencies(2, 250);
    const vc = latencies(3, 7);
    const runs = [runOf({ id: 'aaa', values: va }), runOf({ id: 'bb', values: vb, errors: { 'connect-refused': 2 } }), runOf({ id: 'c', values: vc })];
    const m = mergeRuns(runs);
    const all = [...va, ...vb, ...vc];
    const expected = histogramOf(all);
    const transaction = m.histograms.get('transaction')!;
    expect(transaction.totalCount).toBe(all.length);
    expect(encodeHistogram(transaction)).toBe(encodeHistogram(expected));
    for (const p of [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100]) expect(transaction.getValueAtPercentile(p)).toBe(expected.getValueAtPercentile(p));
    // summary.json carries the same exact histogram, and its statistics come from it.
    expect(m.summary.encoded.phases.transaction).toBe(encodeHistogram(expected));
    expect(m.summary.phases.transaction).toEqual(statsOf(expected, m.summary.profile.percentiles));
    expect(m.summary.phases.mail.count).toBe(all.length);

    const s = m.summary;
    const sum = (f: (x: Summary) => number): number => runs.reduce((a, r) => a + f(r.summary), 0);
    expect(s.totals.messages).toEqual({ attempted: all.length, accepted: all.length, rejected: 0, failed: 0, inFlight: 0, abandoned: 0, late: 0, dropped: 0 });
    expect(s.totals.recipients.accepted).toBe(all.length);
    expect(s.totals.transactions).toBe(all.length);
    expect(s.totals.bytes).toBe(sum((x) => x.totals.bytes));
    expect(s.totals.connections).toBe(sum((x) => x.totals.connections));
    expect(s.totals.tls).toEqual({ handshakes: sum((x) => x.totals.tls.handshakes), resumed: 0 });
    expect(s.totals.steps).toBe(9);
    expect(s.replies).toEqual({ mail: { '250': all.length }, rcpt: { '250': all.length - 3, '452': 3 } });
    expect(s.errors).toEqual({ 'reply-timeout': 2, 'connect-refused': 2 });
    // Generator: the schedule lag histogram adds; the worst worker; every worker, tagged with its input.
    expect(s.generator!.scheduleLagMaxMs).toBe(histogramOf([...va.slice(0, 5), ...vb.slice(0, 5), ...vc.slice(0, 5)]).maxValue / 1000);
    expect(s.generator!.eventLoopDelayP99Ms).toBe(3);
    expect(s.generator!.workers.map((w) => w.input)).toEqual([0, 1, 2]);
    expect(s.workers).toBe(3);
    expect(s.shard).toBeNull();
    expect(s.merged!.inputs.map((i) => [i.source, i.accepted])).toEqual([
      ['dir-aaa', 400],
      ['dir-bb', 250],
      ['dir-c', 7],
    ]);
    expect(s.runId).toMatch(/^\d{4}-.*Z-smoke-merged-[0-9a-f]{6}$/);
  });

  it('reproduces a single run exactly', () => {
    const run = runOf({ id: 'solo', values: latencies(9, 333) });
    const s = mergeRuns([run]).summary;
    expect(s.phases).toEqual(run.summary.phases);
    expect(s.encoded.phases).toEqual(run.summary.encoded.phases);
    expect(s.totals).toEqual(run.summary.totals);
    expect(s.merged!.overlap).toBe(1);
    expect(s.merged!.warnings).toEqual([]);
  });

  it('divides rates by the merged measured span, earliest start to latest end', () => {
    const runs = [runOf({ id: 'a', values: latencies(1, 300), startMs: 0, durationS: 2 }), runOf({ id: 'b', values: latencies(2, 160), startMs: 150, durationS: 2.15 })];
    const s = mergeRuns(runs).summary;
    expect(s.durationS).toBe(2.3);
    expect(s.measured).toEqual({ start: new Date(T0).toISOString(), end: new Date(T0 + 2300).toISOString() });
    expect(s.totals.rates.msgsPerS).toBe(Number((460 / 2.3).toFixed(1)));
    expect(s.totals.rates.mbPerS).toBe(Number((0.46 / 2.3).toFixed(3)));
    expect(s.merged!.overlap).toBe(Number((1.85 / 2.3).toFixed(3)));
  });

  it('warns when the runs overlap poorly in time, and idle shards do not count', () => {
    const poor = mergeRuns([runOf({ id: 'a', startMs: 0, durationS: 10 }), runOf({ id: 'b', startMs: 5000, durationS: 10 })]).summary;
    expect(poor.merged!.overlap).toBe(0.333);
    expect(poor.merged!.warnings).toEqual([expect.stringMatching(/^the runs overlap poorly in time: 33\.3 % /)]);
    const good = mergeRuns([
      runOf({ id: 'a', startMs: 0, durationS: 10, shard: { index: 0 } }),
      runOf({ id: 'b', startMs: 200, durationS: 9.9, shard: { index: 1 } }),
      // Idle: ran nothing, at another time; zero counts and no histograms.
      runOf({ id: 'c', startMs: 60_000, durationS: 0, shard: { index: 2 }, idle: true }),
    ]).summary;
    expect(good.merged!.overlap).toBe(Number((9.8 / 10.1).toFixed(3)));
    expect(good.merged!.warnings).toEqual([]);
    expect(good.durationS).toBe(10.1);
    expect(good.totals.messages.accepted).toBe(100);
    expect(good.generator!.workers).toHaveLength(3);
  });

  it('sees through merged inputs: a run inside a merge counts as that run, and a merge of merges lists every run once', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((id, index) => runOf({ id, shard: { index } }));
    const asInput = (m: ReturnType<typeof mergeRuns>, id: string): RunData => runDataOf(`dir-${id}`, JSON.parse(JSON.stringify(m.summary)) as Summary, null, null);
    const ab = asInput(mergeRuns([a, b]), 'ab');
    // The merge of a and b, plus c: all three runs, once each, and no shard missing.
    const abc = mergeRuns([ab, c]).summary;
    expect(abc.merged!.inputs.map((i) => i.runId)).toEqual([a, b, c].map((r) => r.summary.runId));
    expect(abc.merged!.warnings).toEqual([]);
    expect(abc.totals.messages.accepted).toBe(3 * a.summary.totals.messages.accepted);
    // A run merged again beside a merge that holds it, even with --force, is refused.
    expect(refusal([ab, a], true)).toMatch(/^cannot merge: dir-ab and dir-a both hold the run 2026-12-07T10-00-00\.000Z-smoke-610000; merging it twice/);
    expect(refusal([asInput(mergeRuns([ab, c]), 'abc'), ab], true)).toMatch(/^cannot merge: dir-abc and dir-ab both hold the run /);
  });

  it('treats a run recorded as shard 0/1 (an unsharded run given --start-at) as a whole run', () => {
    const whole = runOf({ id: 'w' });
    const started = [runOf({ id: 'x', shard: { index: 0, count: 1 } }), runOf({ id: 'y', shard: { index: 0, count: 1 } })];
    expect(mergeRuns([...started, whole]).summary.totals.messages.accepted).toBe(3 * whole.summary.totals.messages.accepted);
  });

  it('refuses the same run or shard twice (even with --force), different profiles and shard counts (unless --force)', () => {
    const a = runOf({ id: 'a' });
    expect(refusal([a, runOf({ id: 'b' }), a], true)).toBe('cannot merge: dir-a and dir-a are the same run (2026-12-07T10-00-00.000Z-smoke-610000); merging it twice would count its messages twice');
    expect(refusal([runOf({ id: 'a', shard: { index: 1 } }), runOf({ id: 'b', shard: { index: 1 } })], true)).toMatch(/^cannot merge: dir-a and dir-b are both shard 1\/3; /);

    const other = runOf({ id: 'b', profile: { sessions: 20, message: { size: '4KiB' } } });
    const message = refusal([a, other]);
    expect(message).toMatch(/^cannot merge: dir-a and dir-b ran different profiles \(sessions 10 ≠ 20; message\.sizeBytes 1024 ≠ 4096\); --force merges them anyway$/);
    expect(message).not.toContain('\n');
    const forced = mergeRuns([a, other], { force: true }).summary;
    expect(forced.merged!.warnings).toEqual([expect.stringMatching(/^merged despite: dir-a and dir-b ran different profiles \(sessions 10 ≠ 20; .*\(--force\)$/)]);

    // What may differ per machine does not refuse: workers, percentiles, thresholds, target.
    const perMachine = runOf({ id: 'c', profile: { workers: 7, percentiles: [50, 99.99], thresholds: ['transaction.p99 < 1s'], target: 'smtp://127.0.0.2:2525' }, port: 2526 });
    const s = mergeRuns([a, perMachine]).summary;
    expect(s.profile.percentiles).toEqual([50, 90, 99, 99.9, 99.99]);
    expect(s.phases.transaction.percentiles['99.99']).toBeGreaterThan(0);
    expect(s.thresholds.map((v) => v.expression)).toEqual(['transaction.p99 < 1s']);
    expect(s.merged!.warnings).toEqual(['the runs loaded different targets (smtp://127.0.0.1:2525, smtp://127.0.0.1:2526): merged as one']);

    const splits = [runOf({ id: 'a', shard: { index: 0, count: 2 } }), runOf({ id: 'b', shard: { index: 1, count: 3 } })];
    expect(refusal(splits)).toMatch(/^cannot merge: dir-a is shard 0\/2 but dir-b is shard 1\/3: .*; --force merges them anyway$/);
    expect(refusal([runOf({ id: 'a', shard: { index: 0 } }), runOf({ id: 'b' })])).toMatch(/dir-a is shard 0\/3 but dir-b is not a shard/);
    expect(refusal(splits, true)).toBe('');
    expect(refusal([])).toBe('merge needs at least one run directory');
  });

  it('warns about missing shards and still merges', () => {
    const s = mergeRuns([runOf({ id: 'a', shard: { index: 0, count: 4 } }), runOf({ id: 'b', shard: { index: 2, count: 4 } })]).summary;
    expect(s.merged!.warnings).toEqual(['shards 1, 3 of 4 missing: the merged run covers 2 of 4 shares of the profile']);
    expect(s.totals.messages.accepted).toBe(100);
    // Shards 0 and 2 of 4 ran 3 and 2 of the 10 sessions.
    expect(s.sessions).toBe(5);
  });

  it('evaluates the profile thresholds and the extra ones on the merged run', () => {
    const extra = resolveThresholds(['messages.accepted.count == 100', 'errors.reply-timeout.count < 2'], () => {
      throw new Error('bad threshold');
    });
    const runs = [runOf({ id: 'a', profile: { thresholds: ['messages.accepted.count > 60'] } }), runOf({ id: 'b' })];
    const s = mergeRuns(runs, { thresholds: extra }).summary;
    expect(s.thresholds.map((v) => [v.expression, v.ok, v.value])).toEqual([
      ['messages.accepted.count > 60', true, 100],
      ['messages.accepted.count == 100', true, 100],
      ['errors.reply-timeout.count < 2', false, 2],
    ]);
    expect(s.profile.thresholds).toHaveLength(3);
  });

  it('adds the reference servers: counters, histograms and sizes', () => {
    const va = latencies(4, 40);
    const vb = latencies(5, 30);
    const runs = [runOf({ id: 'a', values: va, server: true }), runOf({ id: 'b', values: vb, server: true })];
    const m = mergeRuns(runs);
    expect(m.summary.server!.counters.messages).toBe(70);
    expect(m.summary.server!.counters.connections).toBe(4);
    expect(m.serverHistograms.get('cmd.mail')!.totalCount).toBe(70);
    // The server reports its histograms as decoded from their encoding, so the expected one is too.
    const expected = newHistogram();
    addEncoded(expected, encodeHistogram(histogramOf([...va, ...vb].map((v) => v / 4))));
    expect(m.summary.server!.histograms['cmd.mail']).toEqual(statsOf(expected, m.summary.profile.percentiles));
    expect(m.summary.server!.sizes['message-bytes']).toMatchObject({ count: 70, min: 1000, max: 1000 });
  });
});

describe('run.hlog and timeline.ndjson by wall-clock second', () => {
  // Three runs whose logs start at T0, T0 + 400 ms and T0 + 2.2 s, each with three 1 s intervals.
  const seconds = (base: number): number[][] => [0, 1, 2].map((i) => [base + i * 10, base + i * 10 + 1]);
  const line = (t: number, accepted: number, totals: number): Second => ({
    t,
    intervalS: 1,
    measuring: true,
    totals: { attempted: totals, accepted: totals, rejected: 0, failed: 0, late: 0, dropped: 0 },
    messages: { accepted, rejected: 0, failed: 0, late: 0, dropped: 0 },
    recipients: { accepted, rejected: 0, failed: 0 },
    rates: { msgsPerS: accepted, rcptsPerS: accepted },
    targetRate: null,
    replies: { '2xx': accepted * 3, '3xx': accepted, '4xx': 0, '5xx': 0 },
    errors: accepted === 2 ? { 'reply-timeout': 1 } : {},
    activeSessions: 5,
    eventLoopDelayP99Ms: accepted / 10,
    phases: {},
  });
  const timeline = [line(1, 2, 2), line(2, 2, 4), line(3, 2, 6)];
  const runs = [
    runOf({ id: 'a', startMs: 0, durationS: 3, log: { startMs: 0, seconds: seconds(1000) }, timeline }),
    runOf({ id: 'b', startMs: 400, durationS: 3, log: { startMs: 400, seconds: seconds(2000) }, timeline }),
    runOf({ id: 'c', startMs: 2200, durationS: 3, log: { startMs: 2200, seconds: seconds(3000) }, timeline }),
  ];

  it('puts each interval into the second its midpoint falls in, counted from the earliest start', () => {
    const m = mergeRuns(runs);
    expect(m.log!.startMs).toBe(T0);
    // Midpoints: a 0.5, 1.5, 2.5; b 0.9, 1.9, 2.9; c 2.7, 3.7, 4.7.
    const maxes = m.log!.intervals.map((iv) => [iv.startS, iv.endS, iv.phases.get('transaction')!.totalCount]);
    expect(maxes).toEqual([
      [0, 1, 4],
      [1, 2, 4],
      [2, 3, 6],
      [3, 4, 2],
      [4, 5, 2],
    ]);
    const second2 = m.log!.intervals[2].phases.get('transaction')!;
    expect(encodeHistogram(second2)).toBe(encodeHistogram(histogramOf([1020, 1021, 2020, 2021, 3000, 3001])));
  });

  it('puts shards with a measured clock offset (--clock-ref) on the reference clock', () => {
    // Shard b's clock is 2 s behind the reference: its log says T0 - 1.6 s, the reference T0 + 0.4 s.
    const clock = (offsetMs: number) => ({ offsetMs, errorMs: 1, source: 'ref' });
    const shifted = [
      runOf({ id: 'a', startMs: 0, durationS: 3, log: { startMs: 0, seconds: seconds(1000) }, shard: { index: 0, count: 2, clock: clock(0) } }),
      runOf({ id: 'b', startMs: -1600, durationS: 3, log: { startMs: -1600, seconds: seconds(2000) }, shard: { index: 1, count: 2, clock: clock(2000) } }),
    ];
    const m = mergeRuns(shifted);
    expect(m.log!.startMs).toBe(T0);
    expect(m.log!.intervals.map((iv) => iv.phases.get('transaction')!.totalCount)).toEqual([4, 4, 4]);
    // a: T0 .. T0 + 3 s; b: T0 + 0.4 s .. T0 + 3.4 s on the reference clock (unshifted it would be 0.30).
    expect(m.summary.merged!.overlap).toBeCloseTo(2.6 / 3.4, 3);
  });

  it("keeps a measured second free of the warm-up's last sliver", () => {
    const at = (t: number, intervalS: number, measuring: boolean, accepted: number): Second => ({ ...line(t, accepted, accepted), intervalS, measuring });
    // Warm-up 1 s: a full warm-up second, the 13 ms sliver that ends it, then a measured second.
    const warm = runOf({ id: 'w', durationS: 1, profile: { warmup: '1s' }, timeline: [at(1, 1, false, 5), at(1.013, 0.013, false, 1), at(2.013, 1, true, 10)] });
    const tl = mergeRuns([warm]).timeline!;
    expect(tl.map((s) => [s.measuring, s.messages.accepted])).toEqual([
      [false, 5],
      [true, 10],
    ]);
  });

  it('adds timeline lines by the same seconds, with each second latencies from the merged run.hlog', () => {
    const m = mergeRuns(runs);
    const tl = m.timeline!;
    expect(tl.map((s) => [s.t, s.intervalS, s.messages.accepted, s.totals.accepted, s.activeSessions])).toEqual([
      [1, 1, 4, 4, 10],
      [2, 1, 4, 8, 10],
      [3, 1, 6, 14, 15],
      [4, 1, 2, 16, 5],
      [5, 1, 2, 18, 5],
    ]);
    expect(tl[2].rates).toEqual({ msgsPerS: 6, rcptsPerS: 6 });
    expect(tl[2].replies).toEqual({ '2xx': 18, '3xx': 6, '4xx': 0, '5xx': 0 });
    expect(tl[0].errors).toEqual({ 'reply-timeout': 2 });
    expect(tl[2].phases.transaction).toEqual({ count: 6, p50: 2.02, p90: 3.001, p99: 3.001, max: 3.001 });
  });

  it('writes them, and reads back as one run: same seconds, same report.md', () => {
    const dir = tmp();
    const m = mergeRuns(runs);
    writeMergedRun(dir, m);
    const back = loadRunDir(dir);
    expect(back.logStartMs).toBe(T0);
    expect(back.intervals.map((iv) => [iv.startS, iv.endS])).toEqual(m.log!.intervals.map((iv) => [iv.startS, iv.endS]));
    expect(back.intervals.map((iv) => encodeHistogram(iv.phases.get('transaction')!))).toEqual(m.log!.intervals.map((iv) => encodeHistogram(iv.phases.get('transaction')!)));
    expect(back.timeline).toEqual(m.timeline);
    expect(back.summary).toEqual(JSON.parse(JSON.stringify(m.summary)));
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(renderMarkdown(back.summary));
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('Merged from 3 runs');
    expect(readFileSync(join(dir, 'transaction.hgrm'), 'utf8')).toContain('#[Max');
  });
});
