/**
 * Output hygiene for pipelines (issue 9 item 7): with --json only JSON on stdout, --ndjson streams
 * one JSON line per second, no ANSI escape anywhere when nothing is a terminal, and the run
 * directory's timeline.ndjson adds up to the summary's totals.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, summaryOf, tmp } from './helpers/cli.js';
import { CLI } from './helpers/paths.js';

const ANSI = /\x1b\[/;

describe('output hygiene', () => {
  it('--json: stdout is exactly summary.json; the table goes to stderr; no ANSI in output or files', async () => {
    const out = join(tmp(), 'out');
    const r = await cli(['run', '--messages', '1500', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual(summaryOf(out));
    expect(r.stderr).toContain('phase (ms)');
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stderr).not.toMatch(ANSI);
    for (const name of readdirSync(out)) expect(readFileSync(join(out, name), 'utf8'), name).not.toMatch(ANSI);
  });

  it('--ndjson -: one JSON object per second on stdout with rates, totals and per-phase p50/p99; timeline.ndjson adds up to the totals', async () => {
    const out = join(tmp(), 'out');
    const r = await cli(['run', '--executor', 'open', '--rate', '400', '--duration', '2500ms', '--out', out, '--quiet', '--ndjson', '-']);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) {
      expect(typeof l.t).toBe('number');
      expect(typeof l.rates.msgsPerS).toBe('number');
      expect(l.targetRate).toBe(400);
    }
    const busy = lines.find((l) => l.phases.transaction);
    expect(busy.phases.transaction.p99).toBeGreaterThanOrEqual(busy.phases.transaction.p50);
    expect(r.stderr).toContain('phase (ms)');
    const s = summaryOf(out);
    const timeline = readFileSync(join(out, 'timeline.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(timeline).toEqual(lines);
    // No warm-up: every accepted message was counted in exactly one second.
    expect(timeline.reduce((a, l) => a + l.messages.accepted, 0)).toBe(s.totals.messages.accepted);
    expect(timeline.at(-1).totals.accepted).toBe(s.totals.messages.accepted);
  });

  it('--percentiles sets the columns of every table and the percentiles summary.json records; a bad list is named', async () => {
    const out = join(tmp(), 'out');
    const r = await cli(['run', '--messages', '1000', '--out', out, '--quiet', '--percentiles', '50,99.99']);
    expect(r.code).toBe(0);
    const s = summaryOf(out);
    expect(s.profile.percentiles).toEqual([50, 99.99]);
    expect(Object.keys(s.phases.transaction.percentiles)).toEqual(['50', '99.99']);
    expect(s.phases.transaction.percentiles['99.99']).toBeGreaterThanOrEqual(s.phases.transaction.percentiles['50']);
    expect(r.stdout).toMatch(/phase \(ms\).*p50.*p99\.99.*max/);
    expect(r.stdout).not.toMatch(/p90/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| phase (ms) | count | min | mean | p50 | p99.99 | max |');
    const bad = await cli(['run', '--messages', '10', '--percentiles', '50,0,101']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/percentiles\.1: .*more than 0/);
    expect(bad.stderr).toMatch(/percentiles\.2: .*at most 100/);
  });

  it('writes no secret: the reference server’s account passwords are redacted in every result file', async () => {
    const dir = tmp();
    const profile = join(dir, 'p.yaml');
    writeFileSync(profile, 'messages: 200\nserver:\n  auth:\n    users: {alice: s3cret-Pa55}\n');
    const out = join(dir, 'out');
    const r = await cli(['run', profile, '--out', out, '--quiet', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('s3cret-Pa55');
    for (const name of readdirSync(out)) expect(readFileSync(join(out, name), 'utf8'), name).not.toContain('s3cret-Pa55');
    expect(summaryOf(out).profile.server.auth.users).toEqual({ alice: '<redacted>' });
  });

  it('--json with --ndjson - is a usage error (exit 2); output flags that would clobber results or cannot be made are named before the run', async () => {
    const both = await cli(['run', '--messages', '10', '--json', '--ndjson', '-']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    const dir = tmp();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const out = join(dir, 'o');
    const bad = await cli(['run', '--messages', '10', '--out', out, '--ndjson', join(file, 'x.ndjson'), '--junit', join(out, 'summary.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--ndjson: ${file} is not a directory`);
    expect(bad.stderr).toContain(`--junit: ${join(out, 'summary.json')} is a result file of a run directory`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    const isDir = await cli(['run', '--messages', '10', '--out', out, '--junit', dir]);
    expect(isDir.code).toBe(2);
    expect(isDir.stderr).toContain(`--junit: ${dir} is a directory`);
  });

  it('--out never deletes what smtpbench did not write: a foreign directory is refused (exit 2) unless --force, and reruns replace only their own files (hostile review F1)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'nginx-wrk2.hgrm'), 'precious wrk2 data');
    writeFileSync(join(dir, 'report.md'), 'my notes');
    writeFileSync(join(dir, 'summary.json'), '{"mine":1}');
    const refused = await cli(['run', '--messages', '100', '--quiet', '--out', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/holds files smtpbench did not write \(.*nginx-wrk2\.hgrm.*\).*--force/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir).sort()).toEqual(['nginx-wrk2.hgrm', 'report.md', 'summary.json']);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe('my notes');

    const forced = await cli(['run', '--messages', '100', '--quiet', '--out', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(summaryOf(dir).totals.messages.accepted).toBe(100);
    expect(readFileSync(join(dir, 'nginx-wrk2.hgrm'), 'utf8')).toBe('precious wrk2 data');
    // The next run needs no --force (the manifest says what is smtpbench's) and leaves the rest alone.
    const again = await cli(['run', '--messages', '50', '--quiet', '--out', dir]);
    expect(again.code).toBe(0);
    expect(summaryOf(dir).totals.messages.accepted).toBe(50);
    expect(readFileSync(join(dir, 'nginx-wrk2.hgrm'), 'utf8')).toBe('precious wrk2 data');
    const manifest = JSON.parse(readFileSync(join(dir, '.smtpbench-manifest.json'), 'utf8'));
    expect(manifest.files).toEqual(expect.arrayContaining(['summary.json', 'report.md', 'run.hlog', 'timeline.ndjson', 'mail.hgrm']));
    expect(manifest.files).not.toContain('nginx-wrk2.hgrm');
  });

  it('an --out that cannot be written, or under /proc, is exit 2 with one line before any thread starts (hostile review F11, F21)', async () => {
    const proc = await cli(['run', '--messages', '10', '--quiet', '--out', '/proc/self/nope'], { timeoutMs: 20_000 });
    expect(proc.code).toBe(2);
    expect(proc.stderr).toContain('cannot use /proc/self/nope as the results directory');
    // /proc/self exists, but nobody (root included) can create a file there.
    const unwritable = await cli(['run', '--messages', '10', '--quiet', '--out', '/proc/self', '--force'], { timeoutMs: 20_000 });
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/cannot use \/proc\/self as the results directory: cannot write there \(E[A-Z]+\)/);
    expect(unwritable.stderr).not.toMatch(/\n\s+at /);
  });

  it('a stream that fails mid-run (a full disk, a closed pipe) is one line; the run goes on and writes its results', async () => {
    const out = join(tmp(), 'out');
    const r = await cli(['run', '--messages', '500', '--quiet', '--out', out, '--ndjson', '/dev/full']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\/dev\/full: ENOSPC; the rest of the timeline is not written there/);
    expect(summaryOf(out).totals.messages.accepted).toBe(500);
    const piped = join(tmp(), 'out');
    const sh = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(
        'bash',
        ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" run --executor open --rate 100 --duration 2500ms --quiet --out "${piped}" --ndjson - | head -c 50 > /dev/null`],
        (err, _o, stderr) => done({ code: err ? Number(err.code) : 0, stderr }),
      );
    });
    expect(sh.code, sh.stderr).toBe(0);
    expect(sh.stderr).not.toMatch(/\n\s+at /);
    expect(summaryOf(piped).totals.messages.accepted).toBeGreaterThan(0);
  });
});
