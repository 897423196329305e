/**
 * `smtpbench merge` end to end: three runs of one profile as three processes against one
 * standalone reference server, merged; the merged totals equal the sum of the runs and the server's
 * own count, and the merged histogram equals the sum of theirs, exactly. Then what reads a run
 * (`report`, `compare`) reads the merged one, and bad inputs and thresholds give their exit codes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addEncoded, encodeHistogram, newHistogram } from '../src/metrics/histogram.js';
import { parseIntervalLog } from '../src/report/run-data.js';
import { cli, summaryOf, tmp } from './helpers/cli.js';
import type { ChildProcess } from 'node:child_process';
import { serveWithStats, statsOf } from './helpers/serve-cli.js';

const root = tmp();
const dir = (name: string): string => join(root, name);
const RUNS = ['r0', 'r1', 'r2'];
const children: ChildProcess[] = [];
let serverStats: Awaited<ReturnType<typeof statsOf>>;

// A small closed profile: 300 messages of 2 recipients on 4 sessions, one worker per process.
const PROFILE = 'executor: closed\nsessions: 4\nmessagesPerSession: 50\nmessages: 300\nworkers: 1\nmessage: {size: 1KiB, recipients: 2}\n';

/** The one stderr line of a refused merge. */
const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
};

beforeAll(async () => {
  writeFileSync(dir('profile.yaml'), PROFILE);
  const server = await serveWithStats(children);
  const target = ['--target', `smtp://127.0.0.1:${server.port}`, '--quiet'];
  // The three at once, as shards run; and one run of another profile (2 sessions) for a refusal.
  const runs = await Promise.all([
    ...RUNS.map((name) => cli(['run', dir('profile.yaml'), ...target, '--out', dir(name)])),
    cli(['run', dir('profile.yaml'), ...target, '--sessions', '2', '--messages', '20', '--out', dir('other')]),
  ]);
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  serverStats = await statsOf(server.url);
  mkdirSync(dir('empty'));
});

afterAll(() => {
  for (const c of children) c.kill();
});

describe('smtpbench merge', () => {
  it('adds three runs exactly: totals equal their sum and the server count, the histogram equals the sum of theirs', async () => {
    const r = await cli(['merge', ...RUNS.map(dir), '--out', dir('merged')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`merged 3 runs into ${dir('merged')}`);
    const inputs = RUNS.map((name) => summaryOf(dir(name)));
    const s = summaryOf(dir('merged'));
    const sum = (f: (x: any) => number): number => inputs.reduce((a, x) => a + f(x), 0);

    expect(s.schema).toBe(1);
    expect(s.totals.messages.accepted).toBe(sum((x) => x.totals.messages.accepted));
    expect(s.totals.messages.accepted).toBe(900);
    // The server's own count: every message it accepted came from these runs and one of 20.
    expect(s.totals.messages.accepted).toBe(serverStats.counters.messages - 20);
    expect(s.totals.recipients.accepted).toBe(serverStats.counters.recipients - 40);
    expect(s.totals.bytes).toBe(sum((x) => x.totals.bytes));
    expect(s.totals.connections).toBe(sum((x) => x.totals.connections));
    expect(s.replies.rcpt['250']).toBe(sum((x) => x.replies.rcpt['250']));
    expect(s.workers).toBe(3);

    // Exact: the merged transaction histogram is the sum of the three, bucket for bucket.
    const expected = newHistogram();
    for (const x of inputs) addEncoded(expected, x.encoded.phases.transaction);
    expect(s.encoded.phases.transaction).toBe(encodeHistogram(expected));
    expect(s.phases.transaction.count).toBe(900);
    expect(s.phases.transaction.p99).toBe(expected.getValueAtPercentile(99) / 1000);
    expect(s.phases.transaction.max).toBe(Math.max(...inputs.map((x) => x.phases.transaction.max)));

    // Rates over the merged measured span, earliest start to latest end.
    const starts = inputs.map((x) => Date.parse(x.measured.start));
    const ends = inputs.map((x) => Date.parse(x.measured.end));
    expect(s.durationS).toBeCloseTo((Math.max(...ends) - Math.min(...starts)) / 1000, 3);
    expect(s.totals.rates.msgsPerS).toBe(Number((900 / s.durationS).toFixed(1)));
    expect(s.merged.inputs.map((i: { source: string }) => i.source)).toEqual(RUNS.map(dir));

    for (const f of ['summary.json', 'report.md', 'report.html', 'transaction.hgrm', 'mail.hgrm', 'run.hlog', 'timeline.ndjson']) expect(existsSync(join(dir('merged'), f)), f).toBe(true);
    // run.hlog holds every transaction of the three logs, once.
    const count = (path: string): number => parseIntervalLog(readFileSync(path, 'utf8')).reduce((a, iv) => a + (iv.phases.get('transaction')?.totalCount ?? 0), 0);
    expect(count(join(dir('merged'), 'run.hlog'))).toBe(RUNS.reduce((a, name) => a + count(join(dir(name), 'run.hlog')), 0));
    expect(readFileSync(join(dir('merged'), 'report.md'), 'utf8')).toContain('Merged from 3 runs');
  });

  it('is a run that report and compare read', async () => {
    const md = readFileSync(join(dir('merged'), 'report.md'), 'utf8');
    const rebuilt = await cli(['report', dir('merged')]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(readFileSync(join(dir('merged'), 'report.md'), 'utf8')).toBe(md);
    const compared = await cli(['compare', dir('r0'), dir('merged')]);
    expect([0, 3], compared.stderr).toContain(compared.code);
    expect(compared.stdout).toMatch(/^compare: /m);
  });

  it('prints the merged summary with --json, and evaluates --threshold on the merged run (99 on a failure, JUnit)', async () => {
    const json = await cli(['merge', ...RUNS.map(dir), '--out', dir('json'), '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).totals.messages.accepted).toBe(900);
    expect(json.stderr).toContain('merged 3 runs into');

    const junit = dir('out/junit.xml');
    const r = await cli(['merge', ...RUNS.map(dir), '--out', dir('gated'), '--threshold', 'messages.accepted.count == 900', '--threshold', 'recipients.accepted.count < 1800', '--junit', junit]);
    expect(r.code).toBe(99);
    expect(r.stdout).toContain('thresholds: 1 passed, 1 failed');
    expect(r.stdout).toContain('PASS messages.accepted.count == 900 (messages.accepted.count = 900)');
    expect(r.stdout).toContain('FAIL recipients.accepted.count < 1800 (recipients.accepted.count = 1800)');
    expect(r.stderr).toMatch(/^smtpbench: 1 of 2 threshold\(s\) failed/m);
    expect(summaryOf(dir('gated')).thresholds.map((v: { ok: boolean }) => v.ok)).toEqual([true, false]);
    expect(readFileSync(junit, 'utf8')).toContain('failures="1"');

    const bad = await cli(['merge', ...RUNS.map(dir), '--out', dir('bad-threshold'), '--threshold', 'transaction.p99 < fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--threshold[0]');
  });

  it('refuses bad inputs with one line, exit 2; --force merges different profiles', async () => {
    const missing = await cli(['merge', dir('r0'), dir('nope'), '--out', dir('m1')]);
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toBe(`smtpbench: ${dir('nope')}: no such run directory or file`);

    const empty = await cli(['merge', dir('r0'), dir('empty'), '--out', dir('m2')]);
    expect(empty.code).toBe(2);
    expect(oneLine(empty.stderr)).toBe(`smtpbench: ${join(dir('empty'), 'summary.json')}: cannot read (ENOENT)`);

    const twice = await cli(['merge', dir('r0'), dir('r1'), join(dir('r0'), 'summary.json'), '--out', dir('m3'), '--force']);
    expect(twice.code).toBe(2);
    // A summary.json path is named by its directory.
    expect(oneLine(twice.stderr)).toBe(`smtpbench: cannot merge: ${dir('r0')} and ${dir('r0')} are the same run (${summaryOf(dir('r0')).runId}); merging it twice would count its messages twice`);

    const other = await cli(['merge', dir('r0'), dir('other'), '--out', dir('m4')]);
    expect(other.code).toBe(2);
    expect(oneLine(other.stderr)).toBe(`smtpbench: cannot merge: ${dir('r0')} and ${dir('other')} ran different profiles (sessions 4 ≠ 2; messages 300 ≠ 20); --force merges them anyway`);
    expect(existsSync(dir('m4'))).toBe(false);

    const forced = await cli(['merge', dir('r0'), dir('other'), '--out', dir('m5'), '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/^smtpbench: warning: merged despite: .* ran different profiles .*\(--force\)$/m);
    expect(summaryOf(dir('m5')).totals.messages.accepted).toBe(320);

    const intoInput = await cli(['merge', dir('r0'), dir('r1'), '--out', dir('r1')]);
    expect(intoInput.code).toBe(2);
    expect(oneLine(intoInput.stderr)).toMatch(/is the input .*r1: merge into a new directory$/);

    const noOut = await cli(['merge', dir('r0')]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("required option '--out <dir>' not specified");
  });
});
