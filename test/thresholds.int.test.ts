/**
 * Thresholds end to end: the built CLI (`dist/cli/main.js`) against the embedded reference server,
 * with real worker threads: verdicts in summary.json, report.md and JUnit, exit codes 0 / 99 / 2 / 1,
 * and abortOnFail stopping a long run early.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunDir } from '../src/report/run-data.js';
import { evaluate } from '../src/report/thresholds.js';
import { cli } from './helpers/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'smtpbench-thresholds-'));
const read = (path: string) => readFileSync(path, 'utf8');
const summaryOf = (dir: string) => JSON.parse(read(join(dir, 'summary.json')));

/** A small closed run on one worker: 500 messages. */
const small = ['--messages', '500', '--workers', '1', '--sessions', '4', '--quiet'];

describe('thresholds (CLI)', () => {
  it('passes: exit 0, ok verdicts with measured values in summary.json, report.md, the terminal and JUnit', async () => {
    const dir = tmp();
    const out = join(dir, 'out');
    const junit = join(dir, 'junit.xml');
    const r = await cli(['run', ...small, '--out', out, '--junit', junit, '--threshold', 'transaction.p99 < 10s', '--threshold', 'errors.rate == 0', '--threshold', 'messages.accepted.count == 500']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = summaryOf(out);
    expect(s.thresholds.map((v: { metric: string; ok: boolean }) => [v.metric, v.ok])).toEqual([
      ['transaction.p99', true],
      ['errors.rate', true],
      ['messages.accepted.count', true],
    ]);
    expect(s.thresholds[0].value).toBe(s.phases.transaction.p99);
    expect(s.thresholds[1].value).toBe(0);
    expect(s.thresholds[2].value).toBe(500);
    expect(r.stdout).toContain('thresholds: 3 passed, 0 failed');
    expect(r.stdout).toContain(`PASS transaction.p99 < 10s (transaction.p99 = ${s.phases.transaction.p99} ms)`);
    expect(read(join(out, 'report.md'))).toContain('**Thresholds: all 3 passed.**');
    const xml = read(junit);
    expect(xml).toMatch(/<testsuite name="smtpbench thresholds" tests="3" failures="0"/);
    expect(xml).not.toContain('<failure');
    // Read back from disk (summary.json's exact histograms), the same thresholds give the same verdicts.
    expect(evaluate(s.profile.thresholds, loadRunDir(out))).toEqual(s.thresholds);
  });

  it('fails: exit 99 after writing every result; --json keeps stdout pure JSON; JUnit holds the failures', async () => {
    const dir = tmp();
    const out = join(dir, 'out');
    const junit = join(dir, 'junit.xml');
    const r = await cli([
      'run',
      ...small,
      '--out',
      out,
      '--json',
      '--junit',
      junit,
      '--threshold',
      'transaction.p50 < 0.001ms',
      '--threshold',
      'messages.rate > 1e9',
      '--threshold',
      'messages.rate > 0',
    ]);
    expect(r.code).toBe(99);
    const fromStdout = JSON.parse(r.stdout); // nothing but the summary on stdout
    const s = summaryOf(out);
    expect(fromStdout.thresholds).toEqual(s.thresholds);
    expect(s.thresholds.map((v: { ok: boolean }) => v.ok)).toEqual([false, false, true]);
    expect(s.thresholds[1].value).toBe(s.totals.rates.msgsPerS);
    expect(r.stderr).toContain('thresholds: 1 passed, 2 failed');
    expect(r.stderr).toContain(`FAIL messages.rate > 1e9 (messages.rate = ${s.totals.rates.msgsPerS}/s)`);
    expect(r.stderr).toMatch(/smtpbench: 2 of 3 threshold\(s\) failed \(results: .*out\)/);
    for (const f of ['summary.json', 'report.md', 'run.hlog', 'transaction.hgrm']) expect(existsSync(join(out, f))).toBe(true);
    expect(read(join(out, 'report.md'))).toContain('| **FAIL** | `messages.rate > 1e9` |');
    const xml = read(junit);
    expect(xml).toMatch(/tests="3" failures="2"/);
    expect(xml).toContain('<failure message="messages.rate = ');
    expect(xml).toContain('name="transaction.p50 &lt; 0.001ms"');
  });

  it('refuses a bad expression (and a --junit below a file) before anything runs: exit 2, every bad one named, the metric list, no stack trace', async () => {
    const dir = tmp();
    const profile = join(dir, 'p.yaml');
    writeFileSync(profile, 'thresholds:\n  - transaction.p99 < 5%\n  - {threshold: "errors.rate < 1%", abortOnFail: maybe}\n');
    const out = join(dir, 'out');
    const r = await cli(['run', profile, ...small, '--out', out, '--threshold', 'transactoin.p99 < 5ms', '--threshold', 'nonsense', '--junit', join(profile, 'sub', 'j.xml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('5 problem(s)');
    expect(r.stderr).toContain(`--junit: ${profile} is not a directory`);
    expect(r.stderr).toContain('thresholds.0: "transaction.p99 < 5%": unit "%" does not fit transaction.p99');
    expect(r.stderr).toContain('thresholds.1.abortOnFail: expected true or false');
    expect(r.stderr).toContain('--threshold[0]: "transactoin.p99 < 5ms": unknown metric "transactoin.p99"');
    expect(r.stderr).toContain('--threshold[1]: expected "<metric> <op> <value>"');
    expect(r.stderr).toContain('known metrics');
    expect(r.stderr).toContain('messages.<outcome>.count | .rate');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('abortOnFail stops a 30 s run as soon as the running totals fail it: exit 99, the aborting threshold recorded', async () => {
    const dir = tmp();
    const profile = join(dir, 'p.yaml');
    writeFileSync(
      profile,
      [
        'executor: open',
        'rate: 300',
        'maxSessions: 20',
        'server:',
        '  faults: ["rcpt: reply 450 4.2.1 Mailbox busy @ 20%"]',
        'thresholds:',
        '  - transaction.p99 < 10s',
        '  - {threshold: "errors.rate < 1%", abortOnFail: true}',
      ].join('\n'),
    );
    const out = join(dir, 'out');
    const junit = join(dir, 'junit.xml');
    const r = await cli(['run', profile, '--workers', '1', '--duration', '30s', '--quiet', '--out', out, '--junit', junit]);
    expect(r.code).toBe(99);
    expect(r.wallMs).toBeLessThan(15_000);
    const s = summaryOf(out);
    expect(s.interrupted).toBe(true);
    expect(s.durationS).toBeLessThan(10);
    const [latency, errors] = s.thresholds;
    expect(latency).toMatchObject({ ok: true, abort: null });
    expect(errors).toMatchObject({ metric: 'errors.rate', ok: false, abortOnFail: true });
    expect(errors.abort.atS).toBeGreaterThan(0);
    expect(errors.abort.atS).toBeLessThan(5);
    expect(errors.abort.value).toBeGreaterThan(0.01);
    expect(r.stderr.match(/stopping the run \(abortOnFail\)/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/threshold "errors\.rate < 1%" failed at [\d.]+ s \(errors\.rate = [\d.]+ %\)/);
    expect(read(join(out, 'report.md'))).toMatch(/stopped the run at [\d.]+ s/);
    expect(read(junit)).toMatch(/tests="2" failures="1"/);
  });

  it('abortOnFail waits out delayAbortEval (measured time)', async () => {
    const dir = tmp();
    const profile = join(dir, 'p.yaml');
    writeFileSync(profile, 'executor: open\nrate: 100\nthresholds:\n  messages.rate: [{threshold: "> 1e9", abortOnFail: true, delayAbortEval: 3s}]\n');
    const out = join(dir, 'out');
    const r = await cli(['run', profile, '--workers', '1', '--duration', '30s', '--quiet', '--out', out]);
    expect(r.code).toBe(99);
    const s = summaryOf(out);
    const [v] = s.thresholds;
    expect(v.expression).toBe('messages.rate > 1e9');
    expect(v.abort.atS).toBeGreaterThanOrEqual(3);
    expect(v.abort.atS).toBeLessThan(6);
    expect(s.durationS).toBeGreaterThanOrEqual(3);
    expect(s.durationS).toBeLessThan(10);
  });

  it('exit 1 (nothing succeeded) wins over 99, and the verdicts are still written', async () => {
    // A port nothing listens on: take a free one and close it.
    const port = await new Promise<number>((done) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => done(p));
      });
    });
    const out = join(tmp(), 'out');
    const r = await cli(['run', ...small, '--target', `smtp://127.0.0.1:${port}`, '--out', out, '--threshold', 'errors.rate < 1%', '--threshold', 'transaction.p99 < 1s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no transaction succeeded');
    const s = summaryOf(out);
    expect(s.thresholds.map((v: { ok: boolean; value: unknown }) => [v.ok, v.value])).toEqual([
      [false, 1],
      [false, null],
    ]);
    expect(r.stdout).toContain('FAIL transaction.p99 < 1s (transaction.p99 = no data)');
  });
});
