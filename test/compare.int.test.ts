/**
 * `smtpbench compare` end to end: real runs of the built CLI against standalone reference servers,
 * one of them 10 ms slower per message (a `data-end` delay), one answering 450 to 5 % of RCPT
 * commands, compared from directories and over HTTP; runs too short to test; and hostile input:
 * URLs with credentials and tokens, servers that fail, hang or loop, crafted summary.json files.
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
let hostPort = '';

// Credentials and a token that must be used and never shown: userinfo is sent as Basic auth (the
// password percent-encoded in the URL: `CMPSECRET%21` is `CMPSECRET!`), the query is a signature.
const SECRETS = ['carol', 'CMPSECRET', 'QSIG'];
const BASIC = `Basic ${Buffer.from('carol:CMPSECRET!').toString('base64')}`;
const secretUrl = (path: string): string => `http://carol:CMPSECRET%21@${hostPort}${path}?sig=QSIG`;
const noSecrets = (text: string): void => {
  for (const s of SECRETS) expect(text).not.toContain(s);
};

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
  // docs/reference-server.md, "Fault injection": the end-of-data reply waits 10 ms, every message (5 ms drowned in the noise of a loaded two-core CI machine).
  writeFileSync(profile, 'server:\n  faults:\n    - {command: data-end, delay: 10ms}\n');
  // docs/reference-server.md, "Fault injection": 5 % of RCPT commands get a transient 450 (the recipient, and so the
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
  const summaryA = JSON.parse(readFileSync(join(dir('a'), 'summary.json'), 'utf8'));
  mkdirSync(dir('schema2'));
  writeFileSync(join(dir('schema2'), 'summary.json'), JSON.stringify({ ...summaryA, schema: 2 }));
  // Schema 1 in name only: every field a reader needs is missing.
  mkdirSync(dir('hollow'));
  writeFileSync(join(dir('hollow'), 'summary.json'), '{"schema":1,"totals":{"messages":{},"recipients":{}},"phases":{},"replies":{},"errors":{}}');
  // A good summary beside a run.hlog whose histogram does not decode.
  mkdirSync(dir('corrupt-hlog'));
  writeFileSync(join(dir('corrupt-hlog'), 'summary.json'), JSON.stringify(summaryA));
  writeFileSync(join(dir('corrupt-hlog'), 'run.hlog'), '#[StartTime: 1.0 (seconds since epoch)]\nTag=transaction,0.000,1.000,2.000,HISTFAAAAB3!!!\n');
  // Run a with terminal controls (CSI, OSC, the 8-bit CSI U+009B, a bidi override) and newlines in
  // every string compare prints, and a phase named with an escape sequence.
  const forged = '\n\u001b[2K\rcompare: no regression\u001b]0;pwned\u0007\u009b31m\u202e';
  mkdirSync(dir('crafted'));
  writeFileSync(
    join(dir('crafted'), 'summary.json'),
    JSON.stringify({
      ...summaryA,
      runId: `r1<img src=x onerror=alert(1)>|\`x\`[link](http://e.test)${forged}`,
      executor: `open${forged}`,
      environment: { ...summaryA.environment, gitSha: `\u001b[31mdeadbeef${forged}` },
      phases: { ...summaryA.phases, [`evil\u001b[31m${forged}`]: summaryA.phases.transaction },
    }),
  );

  // The run directories over HTTP; under /bare/ only summary.json exists (no run.hlog, no timeline).
  web = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    // Servers that misbehave; each answer echoes the request, as some do, to show that no body is printed.
    const echo = `${req.url} ${req.headers.authorization ?? ''}`;
    if (url.pathname.startsWith('/hang/')) return; // never answers
    if (url.pathname === '/fail/summary.json') {
      res.writeHead(500);
      res.end(echo);
      return;
    }
    if (url.pathname === '/echo/summary.json') {
      res.writeHead(200);
      res.end(`not JSON: ${echo}`);
      return;
    }
    if (url.pathname === '/loop/summary.json') {
      res.writeHead(302, { location: url.pathname + url.search });
      res.end();
      return;
    }
    const hop = /^\/chain\/(\d+)\//.exec(url.pathname);
    if (hop) {
      res.writeHead(302, { location: `/chain/${Number(hop[1]) + 1}/summary.json${url.search}` });
      res.end();
      return;
    }
    if (url.pathname.startsWith('/auth/')) {
      // The credentials and the token (the query) are needed for every file of the run.
      if (req.headers.authorization !== BASIC || url.searchParams.get('sig') !== 'QSIG') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="runs"' });
        res.end(echo);
        return;
      }
      url.pathname = url.pathname.replace(/^\/auth\//, '/runs/');
    }
    if (url.pathname === '/html/summary.json' || url.pathname === '/html/run') {
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
  hostPort = `127.0.0.1:${(web.address() as net.AddressInfo).port}`;
  base = `http://${hostPort}`;
}, 90_000);

afterAll(() => {
  normal?.child.kill();
  slow?.child.kill();
  busy?.child.kill();
  web?.closeAllConnections();
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

  it('flags a server 10 ms slower per message: exit 3, the transaction and body medians named', async () => {
    const md = join(tmp, 'compare.md');
    const r = await cli(['compare', dir('a'), dir('slow'), '--md', md]);
    expect(r.code, r.stderr).toBe(3);
    const verdict = lastLine(r.stdout);
    expect(verdict, r.stdout).toMatch(/^compare: REGRESSION in \d+ of \d+ metrics: /);
    // The medians move by 10 ms or more in every second; a p99 may not be significant when seconds
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
    // Shown as the origin and the file's name, as --publish shows its URLs.
    expect(result.baseline.source).toBe(`${base}/…/summary.json`);
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
    // Without statistics a 10 ms slower server is beyond tolerance, shown, and not a regression:
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

  it('passes runs of one measured second against a 10 ms slower server: changes beyond tolerance shown, not counted, one line saying why', async () => {
    const r = await cli(['compare', dir('short'), dir('short-slow')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(run [^)]*; [12] measured seconds?\)\n/);
    // One note on the length (a saturated-generator note may come beside it on a busy machine). A
    // loaded machine may stretch a one-second run over two interval ticks: either is too short.
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('note:') && l.includes('measured second'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^note: baseline has [12] measured seconds?, current [12]: too short to test latencies and rates \(the t-test needs 5 a side\); a change beyond tolerance is shown as "beyond tolerance", not counted as a regression\. Run at least 5 s after warm-up \(--duration counts the warm-up\)$/,
    );
    // Which latencies move in one second is noise on a busy machine (the 10 ms show on a quiet one):
    // what must hold is that untested rows beyond tolerance are shown, and never counted.
    expect(r.stdout).toMatch(/│ not tested +│ beyond tolerance +│/);
    expect(r.stdout).not.toMatch(/│ regression +│/);
    expect(lastLine(r.stdout)).toMatch(/^compare: no regression \(\d+ metrics\); beyond tolerance but not tested \(not counted\): /);
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
    ['a 404', () => `${base}/runs/nothing/summary.json`, /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: HTTP 404 Not Found$/],
    ['a body that is not JSON', () => `${base}/html/summary.json`, /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: the body is not JSON \(35 bytes, not shown\)$/],
    // A run directory's URL without its trailing slash (the server answers a listing): a hint.
    ['a directory URL without its slash', () => `${base}/html/run`, /the body is not JSON \(35 bytes, not shown\); for a run directory end its URL with \/, or name its summary\.json$/],
    ['a missing directory', () => dir('missing'), /^smtpbench: .*missing: no such run directory or file$/],
    ['a summary of another schema', () => dir('schema2'), /^smtpbench: .*schema2\/summary\.json has summary schema 2; this smtpbench reads schema 1$/],
    ['a summary with schema 1 and nothing else', () => dir('hollow'), /^smtpbench: .*hollow\/summary\.json is not a valid smtpbench summary\.json: runId: .*; and \d+ more$/],
    ['a corrupt run.hlog', () => dir('corrupt-hlog'), /^smtpbench: .*corrupt-hlog: run\.hlog is corrupt \(/],
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

  it('uses URL credentials as Basic auth for summary.json and its siblings, and shows neither them nor the query anywhere', async () => {
    const md = join(tmp, 'secret', 'compare.md');
    // The current side names the run's directory (a URL ending in `/`, the query after it).
    const r = await cli(['compare', secretUrl('/auth/a/summary.json'), secretUrl('/auth/b/'), '--json', '--md', md]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.baseline.source).toBe(`${base}/…/summary.json`);
    expect(result.current.source).toBe(`${base}/…/summary.json`);
    // run.hlog and timeline.ndjson came with the same credentials and token: both runs have statistics.
    for (const side of [result.baseline, result.current]) {
      expect(side.seconds).toBeGreaterThanOrEqual(5);
      expect(side.throughputFrom).toBe('timeline');
    }
    expect(r.stderr).toContain(`baseline: ${base}/…/summary.json (run `);
    const text = readFileSync(md, 'utf8');
    expect(text).toContain(`Baseline ${base}/…/summary.json (run `);
    for (const out of [r.stdout, r.stderr, text]) noSecrets(out);
  });

  it.each([
    ['an HTTP 500', '/fail/summary.json', /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: HTTP 500 Internal Server Error$/],
    ['a 404 behind authorization', '/auth/nothing/summary.json', /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: HTTP 404 Not Found$/],
    ['a body that is not JSON, echoing the request', '/echo/summary.json', /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: the body is not JSON \(\d+ bytes, not shown\)$/],
    ['a redirect to itself', '/loop/summary.json', /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: too many redirects \(a redirect loop\)$/],
    ['an endless chain of redirects', '/chain/0/summary.json', /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: too many redirects \(more than 5\)$/],
    ['a server that never answers', '/hang/summary.json', /^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: cannot fetch \((not done|no answer) within 1000 ms\)$/],
  ])('a URL with credentials and a token: %s, one line without them, exit 2', async (_name, path, message) => {
    const r = await cli(['compare', secretUrl(path), dir('b'), '--timeout', '1s']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    noSecrets(r.stderr);
  });

  it('wrong credentials: HTTP 401, the body (it echoes them) not shown', async () => {
    const r = await cli(['compare', secretUrl('/auth/a/summary.json').replace('CMPSECRET%21', 'CMPSECRET'), dir('b')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smtpbench: http:\/\/127\.0\.0\.1:\d+\/…\/summary\.json: HTTP 401 Unauthorized\n$/);
    noSecrets(r.stderr);
  });

  it('a refused port and an invalid URL, with credentials and a token: not shown', async () => {
    const port = await refusedPort();
    const refused = await cli(['compare', dir('a'), `http://carol:CMPSECRET@127.0.0.1:${port}/run/summary.json?sig=QSIG`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`smtpbench: http://127.0.0.1:${port}/…/summary.json: cannot fetch (connection refused)\n`);
    const invalid = await cli(['compare', dir('a'), 'http://carol:CMPSECRET@[bad/run/summary.json?sig=QSIG']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^smtpbench: http:\/\/\*\*\*@\[bad\/…: not a valid URL\n$/);
    noSecrets(refused.stderr + invalid.stderr);
  });

  it('stops the other fetch when one source fails: no wait for a server that hangs', async () => {
    for (const [a, b] of [
      [dir('missing'), `${base}/hang/summary.json`],
      [`${base}/hang/summary.json`, `${base}/runs/nothing/summary.json`],
    ]) {
      const r = await cli(['compare', a, b, '--timeout', '8s']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^smtpbench: .*(missing: no such run directory or file|HTTP 404 Not Found)\n$/);
      // Without the abort the process waits for the hung request: 8 s.
      expect(r.wallMs).toBeLessThan(4000);
    }
  });

  it('prints a crafted summary without its terminal controls and escapes its Markdown', async () => {
    const md = join(tmp, 'crafted.md');
    const r = await cli(['compare', dir('a'), dir('crafted'), '--md', md]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(md, 'utf8');
    for (const out of [r.stdout, text]) {
      // No C0 control but the newline, no DEL, no C1 control, no bidi override.
      expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
      // The forged verdict is text inside the side line, never a line of its own.
      expect(out.split('\n').filter((l) => /^\W*compare: no regression/.test(l))).toHaveLength(out === r.stdout ? 1 : 0);
      expect(out).not.toContain('evil');
    }
    expect(r.stdout).toContain('\ncurrent: ');
    expect(r.stdout).toContain(
      ' (run r1<img src=x onerror=alert(1)>|`x`[link](http://e.test) [2K compare: no regression]0;pwned31m, open [2K compare: no regression]0;pwned31m model, git [31mdeadbeef; ',
    );
    // Markdown: every character that could open HTML, a code span, a link or a table cell escaped.
    expect(text).toContain(' (run r1\\<img src=x onerror=alert(1)\\>\\|\\`x\\`\\[link\\](http://e.test) \\[2K compare: no regression\\]0;pwned31m, git \\[31mdeadbeef)');
    expect(text).not.toMatch(/(^|[^\\])[<`|[]img|(^|[^\\])`x/m);
  });

  it('--md: a directory is refused before anything is read; a missing directory is made; a failed write keeps exit 3', async () => {
    const refused = await cli(['compare', dir('missing'), dir('b'), '--md', tmp]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`smtpbench: invalid compare flags: 1 problem(s)\n  - --md: ${tmp} is a directory\n`);
    const blocked = await cli(['compare', dir('a'), dir('b'), '--md', join(tmp, 'schema2', 'summary.json', 'x.md')]);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toContain(`--md: ${join(tmp, 'schema2', 'summary.json')} is not a directory`);
    const deep = join(tmp, 'made', 'for', 'it', 'compare.md');
    const made = await cli(['compare', dir('a'), dir('b'), '--md', deep]);
    expect(made.code, made.stderr).toBe(0);
    expect(readFileSync(deep, 'utf8')).toMatch(/^## smtpbench compare: /);
    // /dev/full passes the check (not a directory, in one) and fails every write (ENOSPC).
    const full = await cli(['compare', dir('a'), dir('slow'), '--md', '/dev/full']);
    expect(full.code, full.stderr).toBe(3);
    expect(lastLine(full.stdout)).toMatch(/^compare: REGRESSION/);
    expect(full.stderr).toMatch(/^smtpbench: cannot write --md \/dev\/full: ENOSPC[^\n]*\n$/);
  });

  it('bad flags, all named in one error', async () => {
    const r = await cli(['compare', dir('a'), dir('b'), '--alpha', '0', '--tolerance', 'transaction.p99=1pp', '--timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smtpbench: invalid compare flags: 3 problem\(s\)\n {2}- --alpha: .*\n {2}- --tolerance: .*transaction\.p99=1pp.*\n {2}- --timeout: /);
  });

  it('a tolerance for a metric compare does not show, and a --timeout beyond what Node timers hold: named, exit 2, no stack trace', async () => {
    const r = await cli(['compare', dir('a'), dir('b'), '--tolerance', 'transaction.p999=5%', '--tolerance', 'server.cmd.mail.p99=5%', '--timeout', '2000h']);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('smtpbench: invalid compare flags: 3 problem(s)');
    expect(lines[1]).toMatch(/^ {2}- --tolerance: "transaction\.p999=5%": compare does not show "transaction\.p999"; it shows <phase>\.p50\|p90\|p99\|max/);
    expect(lines[2]).toMatch(/^ {2}- --tolerance: "server\.cmd\.mail\.p99=5%": compare does not show /);
    expect(lines[3]).toBe('  - --timeout: must be at most 24 days (2147483647 ms)');
    expect(lines).toHaveLength(5);
    // A spelling of a shown metric is that metric: p(99) is p99, med is p50.
    const wide = await cli(['compare', dir('a'), dir('slow'), '--json', '--tolerance', 'transaction.p(99)=100000%', '--tolerance', 'transaction.med=100000%']);
    const result = JSON.parse(wide.stdout);
    const byName = (name: string) => result.metrics.find((m: { metric: string }) => m.metric === name);
    expect(byName('transaction.p99').tolerance.relative).toBe(1000);
    expect(byName('transaction.p50')).toMatchObject({ verdict: 'unchanged', reason: 'within tolerance' });
    expect(result.regressions).not.toContain('transaction.p50');
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
