/**
 * `smtpbench compare` end to end: real runs of the built CLI against standalone reference servers,
 * one of them 5 ms slower per message (a `data-end` delay), one answering 450 to 5 % of RCPT
 * commands, compared from directories and over HTTP; and runs too short to test.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type ServeProcess } from './helpers/serve-cli.js';
import { cli } from './helpers/cli.js';



const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1)!;

const tmp = mkdtempSync(join(tmpdir(), 'smtpbench-compare-'));
const dir = (name: string): string => join(tmp, name);
let normal: ServeProcess;
let slow: ServeProcess;
let busy: ServeProcess;
let web: http.Server;
let base = '';

// An open model at a fixed arrival rate (latencies from intended start), one worker per run: light
// enough for two shared cores, and 7 measured seconds per run for the t-test. The warm-up covers
// the start of three runs at once (thread start, JIT), whose first second is often slow.
const load = ['--executor', 'open', '--rate', '300', '--duration', '9s', '--warmup', '2s', '--workers', '1', '--quiet'];
// 6 measured seconds: enough for the t-test, so the case where shares were left unjudged.
const busyLoad = ['--executor', 'open', '--rate', '300', '--duration', '7s', '--warmup', '1s', '--workers', '1', '--quiet'];
// One measured second after warm-up, as a `npm start` smoke run has: too short to test.
const short = ['--executor', 'open', '--rate', '300', '--duration', '2s', '--warmup', '1s', '--workers', '1', '--quiet'];

beforeAll(async () => {
  const profile = join(tmp, 'slow-server.yaml');
  // README "Fault injection": the end-of-data reply waits 5 ms, every message.
  writeFileSync(profile, 'server:\n  faults:\n    - {command: data-end, delay: 5ms}\n');
  // README "Fault injection": 5 % of RCPT commands get a transient 450 (the recipient, and so the
  // one-recipient message, is not accepted).
  [normal, slow, busy] = await Promise.all([serve(['--quiet']), serve(['--quiet', '--profile', profile]), serve(['--quiet', '--fault', 'rcpt: reply 450 4.2.1 Mailbox busy @ 5%'])]);
  // The runs go at the same time, so the machine's other work (two cores, shared) weighs on
  // each alike: two runs of the same build must compare equal, one slower server must not.
  const runs = await Promise.all([
    cli(['run', ...load, '--target', `smtp://127.0.0.1:${normal.port}`, '--out', dir('a')]),
    cli(['run', ...load, '--target', `smtp://127.0.0.1:${normal.port}`, '--out', dir('b')]),
    cli(['run', ...load, '--target', `smtp://127.0.0.1:${slow.port}`, '--out', dir('slow')]),
  ]);
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  // Afterwards, not to load the machine under the three runs above: the 450 run (6 measured
  // seconds: enough to test) and the two short ones.
  const others = await Promise.all([
    cli(['run', ...busyLoad, '--target', `smtp://127.0.0.1:${busy.port}`, '--out', dir('busy')]),
    cli(['run', ...short, '--target', `smtp://127.0.0.1:${normal.port}`, '--out', dir('short')]),
    cli(['run', ...short, '--target', `smtp://127.0.0.1:${slow.port}`, '--out', dir('short-slow')]),
  ]);
  for (const r of others) expect(r.code, r.stderr).toBe(0);
  mkdirSync(dir('schema2'));
  writeFileSync(join(dir('schema2'), 'summary.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir('a'), 'summary.json'), 'utf8')), schema: 2 }));

  // The run directories over HTTP; under /bare/ only summary.json exists (no run.hlog, no timeline).
  web = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/html/summary.json') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>login</title>');
      return;
    }
    const [, area, run, file] = url.pathname.split('/');
    const path = join(tmp, run ?? '', file ?? '');
    if ((area === 'runs' || (area === 'bare' && file === 'summary.json')) && file && existsSync(path)) {
      res.writeHead(200);
      res.end(readFileSync(path));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(web.address() as net.AddressInfo).port}`;
}, 90_000);

afterAll(() => {
  normal?.child.kill();
  slow?.child.kill();
  busy?.child.kill();
  web?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('compare two runs', () => {
  it('passes two runs of the same build on the same target, with statistics on both sides', async () => {
    const r = await cli(['compare', dir('a'), dir('b'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.regression).toBe(false);
    expect(result.regressions).toEqual([]);
    // Not a vacuous pass: the t-test ran on at least 5 measured seconds a side.
    const p50 = result.metrics.find((m: { metric: string }) => m.metric === 'transaction.p50');
    expect(p50.tested).toBe(true);
    expect(p50.samples.baseline).toBeGreaterThanOrEqual(5);
    expect(p50.samples.current).toBeGreaterThanOrEqual(5);
    expect(result.metrics.find((m: { metric: string }) => m.metric === 'messages.rate').tested).toBe(true);
    // --json: only JSON on stdout; the table and the verdict on stderr.
    expect(lastLine(r.stderr)).toMatch(/^compare: no regression \(\d+ metrics\)/);
  });

  it('flags a server 5 ms slower per message: exit 3, the transaction and body medians named', async () => {
    const md = join(tmp, 'compare.md');
    const r = await cli(['compare', dir('a'), dir('slow'), '--md', md]);
    expect(r.code, r.stderr).toBe(3);
    const verdict = lastLine(r.stdout);
    expect(verdict, r.stdout).toMatch(/^compare: REGRESSION in \d+ of \d+ metrics: /);
    // The medians move by 5 ms or more in every second; a p99 may not be significant when seconds
    // of either run have hiccups of tens of ms (shared cores), so it is not required here.
    for (const metric of ['body.p50', 'service.p50', 'transaction.p50']) expect(verdict, r.stdout).toContain(`${metric} +`);
    expect(r.stdout).toMatch(/│ transaction\.p50 +│ [\d.]+ ms +│ [\d.]+ ms +│ \+[\d.]+ ms +│ \+[\d.]+ % +│ [<\d.]+ +│ regression +│/);
    const text = readFileSync(md, 'utf8');
    expect(text).toMatch(/^## smtpbench compare: \*\*REGRESSION\*\*/);
    expect(text).toContain("Welch's t-test");
    expect(text).toContain('alpha 0.05');
    // The other way round it is an improvement, not a regression.
    const back = await cli(['compare', dir('slow'), dir('a')]);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(lastLine(back.stdout)).toMatch(/^compare: no regression \(\d+ metrics\); improved: .*transaction\.p50 −/);
  });

  it('reads sources by URL, with run.hlog and timeline.ndjson fetched beside summary.json', async () => {
    const r = await cli(['compare', `${base}/runs/a/summary.json`, `${base}/runs/slow/`, '--json']);
    expect(r.code, r.stderr).toBe(3);
    const result = JSON.parse(r.stdout);
    expect(result.baseline.source).toBe(`${base}/runs/a/summary.json`);
    expect(result.baseline.throughputFrom).toBe('timeline');
    expect(result.current.seconds).toBeGreaterThanOrEqual(5);
    expect(result.regressions).toContain('transaction.p50');
    expect(result.metrics.find((m: { metric: string }) => m.metric === 'transaction.p50').tested).toBe(true);
  });

  it('compares a URL without run.hlog by tolerance, counts no latency change, and says so', async () => {
    const r = await cli(['compare', `${base}/bare/a/summary.json`, dir('a')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('note: baseline has no run.hlog: latencies and rates cannot be tested; a change beyond tolerance is shown as "beyond tolerance", not counted as a regression\n');
    expect(r.stdout).toMatch(/│ transaction\.p50 +│ [\d.]+ ms +│ [\d.]+ ms +│ ±0 ms +│ ±0 % +│ not tested +│ unchanged +│/);
    // Without statistics a 5 ms slower server is beyond tolerance, shown, and not a regression:
    // one number a side is not evidence.
    const slower = await cli(['compare', `${base}/bare/a/summary.json`, `${base}/bare/slow/summary.json`]);
    expect(slower.code, slower.stdout + slower.stderr).toBe(0);
    expect(slower.stdout).toMatch(/│ transaction\.p50 +│ [\d.]+ ms +│ [\d.]+ ms +│ \+[\d.]+ ms +│ \+[\d.]+ % +│ not tested +│ beyond tolerance +│/);
    expect(lastLine(slower.stdout)).toMatch(/^compare: no regression \(\d+ metrics\); beyond tolerance but not tested \(not counted\): .*transaction\.p50 \+[\d.]+ %/);
  });

  it('flags a server that answers 450 to 5 % of RCPT: error and reply shares judged in runs long enough to test, exit 3', async () => {
    const r = await cli(['compare', dir('a'), dir('busy'), '--json', '--tolerance', 'transaction.max=10000%']);
    expect(r.code, r.stderr).toBe(3);
    const result = JSON.parse(r.stdout);
    // Both runs have enough measured seconds for the t-test: the case where shares went unjudged.
    expect(result.baseline.seconds).toBeGreaterThanOrEqual(5);
    expect(result.current.seconds).toBeGreaterThanOrEqual(5);
    const byName = (name: string) => result.metrics.find((m: { metric: string }) => m.metric === name);
    expect(byName('errors.rate').current).toBeGreaterThan(0.02);
    expect(byName('errors.rate')).toMatchObject({ verdict: 'regression', tested: false });
    expect(byName('replies.4xx.rate')).toMatchObject({ verdict: 'regression', tested: false });
    // A max with its own tolerance is judged too (here a wide one: unchanged).
    expect(byName('transaction.max').verdict).toBe('unchanged');
    expect(result.regressions).toEqual(expect.arrayContaining(['errors.rate', 'replies.4xx.rate']));
    expect(lastLine(r.stderr)).toMatch(/^compare: REGRESSION in \d+ of \d+ metrics: .*errors\.rate \+[\d.]+ pp \(by tolerance\)/);
  });

  it('passes runs of one measured second, showing a 5 ms slower server as beyond tolerance, with one line saying why', async () => {
    const r = await cli(['compare', dir('short'), dir('short-slow')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(run [^)]*; 1 measured second\)\n/);
    // One note on the length (a saturated-generator note may come beside it on a busy machine).
    const notes = r.stdout.split('\n').filter((l) => l.includes('measured second,'));
    expect(notes).toEqual([
      'note: baseline has 1 measured second, current 1: too short to test latencies and rates (the t-test needs 5 a side); a change beyond tolerance is shown as "beyond tolerance", not counted as a regression. Run at least 5 s after warm-up (--duration counts the warm-up)',
    ]);
    expect(r.stdout).toMatch(/│ transaction\.p50 +│ [\d.]+ ms +│ [\d.]+ ms +│ \+[\d.]+ ms +│ \+[\d.]+ % +│ not tested +│ beyond tolerance +│/);
    expect(lastLine(r.stdout)).toMatch(/^compare: no regression \(\d+ metrics\); beyond tolerance but not tested \(not counted\): .*transaction\.p50 \+/);
  });
});

describe('compare: sources that cannot be read give one line naming them, exit 2', () => {
  const refusedPort = async (): Promise<number> => {
    const s = net.createServer();
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    const { port } = s.address() as net.AddressInfo;
    await new Promise((ok) => s.close(ok));
    return port;
  };

  it.each([
    ['a 404', () => `${base}/runs/nothing/summary.json`, /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/runs\/nothing\/summary\.json: HTTP 404$/],
    ['a body that is not JSON', () => `${base}/html/summary.json`, /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/html\/summary\.json: the body is not JSON/],
    ['a missing directory', () => dir('missing'), /^smtpbench: .*missing: no such run directory or file$/],
    ['a summary of another schema', () => dir('schema2'), /^smtpbench: .*schema2\/summary\.json has summary schema 2; this smtpbench reads schema 1$/],
  ])('%s', async (_name, source, message) => {
    const r = await cli(['compare', source(), dir('b')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  });

  it('a refused port', async () => {
    const url = `http://127.0.0.1:${await refusedPort()}/summary.json`;
    const r = await cli(['compare', dir('a'), url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`smtpbench: ${url}: cannot fetch (connection refused)\n`);
  });

  it('bad flags, all named in one error', async () => {
    const r = await cli(['compare', dir('a'), dir('b'), '--alpha', '0', '--tolerance', 'transaction.p99=1pp', '--timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smtpbench: invalid compare flags: 3 problem\(s\)\n {2}- --alpha: .*\n {2}- --tolerance: .*transaction\.p99=1pp.*\n {2}- --timeout: /);
  });

  it('help shows the defaults as values: 0.05, not "0.05"; no []', async () => {
    const r = await cli(['compare', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('0 < p < 1 (default 0.05)');
    expect(help).toContain('(default 30s)');
    expect(help).not.toMatch(/default: "|default: \[\]/);
  });
});
