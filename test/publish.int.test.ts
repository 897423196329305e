/**
 * `run --publish` / `--pushgateway` end to end: the built CLI against node:http stand-ins on
 * 127.0.0.1 port 0 (a webhook, a Pushgateway, servers that fail, refuse or never answer), and
 * against Debian's real Pushgateway when it is installed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAll } from '../src/report/run-data.js';
import { publish } from '../src/report/publish.js';
import { LATENCY_BUCKETS_US, latencyBuckets } from '../src/report/pushgateway.js';
import { cli, type CliResult } from './helpers/cli.js';
import { CLI, ROOT } from './helpers/paths.js';

const PUSHGATEWAY_BIN = '/usr/bin/prometheus-pushgateway';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'smtpbench-publish-'));
/** A short real run (embedded server) with the given flags; results in a fresh directory. */
async function run(flags: string[], quiet = true): Promise<CliResult & { out: string }> {
  const out = join(tmp(), 'out');
  const r = await cli(['run', '--messages', '300', '--out', out, ...(quiet ? ['--quiet'] : []), ...flags]);
  return { ...r, out };
}

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** An HTTP server on 127.0.0.1:0 that records every request and answers with `reply(n)` (n from 1); null: never answer. */
async function server(reply: (n: number) => number | null): Promise<{ url: string; port: number; requests: Received[] }> {
  const requests: Received[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body, at: performance.now() });
      const status = reply(requests.length);
      if (status !== null) res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `status ${status} from the test server\n` : 'ok\n');
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  const port = (s.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, requests };
}

/** An HTTP server on 127.0.0.1:0 that answers every request with `answer(request)`, as a misbehaving endpoint does. */
async function answering(answer: (req: http.IncomingMessage) => { status: number; reason?: string; body: string }): Promise<{ port: number }> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer(req);
      res.writeHead(a.status, a.reason ?? http.STATUS_CODES[a.status], { 'content-type': 'text/html; charset=utf-8' }).end(a.body);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return { port: (s.address() as AddressInfo).port };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/**
 * Debian's Pushgateway on a free loopback port, once it says it is ready. In memory only: Debian
 * builds it to persist every group to /var/lib/prometheus/pushgateway.data, so one test's pushes
 * (a failed one's push_failure_time_seconds too) would come back in the next test's Pushgateway.
 */
async function startPushgateway(): Promise<{ base: string; pgw: ReturnType<typeof spawn> }> {
  const port = await refusedPort();
  const pgw = spawn(PUSHGATEWAY_BIN, [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file='], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let t0 = Date.now(); Date.now() - t0 < 10_000;) {
    const ready = await fetch(`${base}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, pgw };
}

/** A port with nothing listening: bound, then closed. */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
const resultsOnDisk = (out: string): void => {
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  expect(s.totals.messages.accepted).toBe(300);
  for (const f of ['report.md', 'run.hlog', 'transaction.hgrm']) expect(existsSync(join(out, f)), f).toBe(true);
};

describe('run --publish / --pushgateway', () => {
  it('POSTs the exact summary.json and PUTs the figures at the group path; --json keeps stdout pure; credentials go as Basic auth, never shown', async () => {
    const hook = await server(() => 200);
    const pg = await server(() => 200);
    const secret = 'pa55-w0rd';
    const r = await run(['--json', '--publish', `http://bob:${secret}@127.0.0.1:${hook.port}/hook/TOKEN123?key=q1`, '--pushgateway', `http://ci:${secret}@127.0.0.1:${pg.port}/prefix`], false);
    expect(r.code, r.stderr).toBe(0);
    const file = readFileSync(join(r.out, 'summary.json'), 'utf8');
    // stdout is the JSON and nothing else.
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(file));

    expect(hook.requests).toHaveLength(1);
    const h = hook.requests[0];
    expect(h.method).toBe('POST');
    expect(h.url).toBe('/hook/TOKEN123?key=q1');
    expect(h.headers['content-type']).toBe('application/json');
    expect(h.body).toBe(file); // byte for byte
    expect(h.headers.authorization).toBe(`Basic ${Buffer.from(`bob:${secret}`).toString('base64')}`);

    expect(pg.requests).toHaveLength(1);
    const p = pg.requests[0];
    expect(p.method).toBe('PUT');
    expect(p.url).toBe(`/prefix/metrics/job/smtpbench/instance/${os.hostname()}`);
    expect(p.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(p.body).toMatch(/^# TYPE smtpbench_phase_latency_seconds histogram$/m);
    const summary = JSON.parse(file);
    expect(p.body).toContain(`smtpbench_phase_latency_seconds_count{phase="transaction"} ${summary.phases.transaction.count}`);
    expect(p.body).toContain(`smtpbench_messages_total{outcome="accepted"} 300`);
    expect(p.body).toContain(`run_id="${summary.runId}"`);

    // Each publish said so on stderr, with the URL's origin only: no password, path token or query.
    const published = lines(r.stderr).filter((l) => l.includes('published'));
    expect(published).toEqual([
      `smtpbench: --publish http://127.0.0.1:${hook.port}/…: published (HTTP 200)`,
      `smtpbench: --pushgateway http://127.0.0.1:${pg.port}/…/metrics/job/smtpbench/instance/${os.hostname()}: published (HTTP 200)`,
    ]);
    for (const text of [r.stdout, r.stderr, ...readdirSync(r.out).map((f) => readFileSync(join(r.out, f), 'utf8'))]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('TOKEN123');
    }
  });

  it('retries a 503 twice and succeeds on the third try', async () => {
    const hook = await server((n) => (n <= 2 ? 503 : 200));
    const r = await run(['--publish', `${hook.url}/hook`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(hook.requests.map((q) => q.method)).toEqual(['POST', 'POST', 'POST']);
    // Every try carried the whole summary; backoff waited between tries (≥ 125 ms, then ≥ 250 ms).
    for (const q of hook.requests) expect(q.body).toBe(readFileSync(join(r.out, 'summary.json'), 'utf8'));
    expect(hook.requests[1].at - hook.requests[0].at).toBeGreaterThanOrEqual(120);
    expect(hook.requests[2].at - hook.requests[1].at).toBeGreaterThanOrEqual(240);
  });

  it('does not retry a 400: one line, exit 0, results on disk', async () => {
    const pg = await server(() => 400);
    const r = await run(['--pushgateway', pg.url]);
    expect(r.code).toBe(0);
    expect(pg.requests).toHaveLength(1);
    expect(lines(r.stderr)).toHaveLength(1);
    const where = `${pg.url}/metrics/job/smtpbench/instance/${os.hostname()}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const bytes = Buffer.byteLength('status 400 from the test server\n');
    expect(r.stderr).toMatch(new RegExp(`^smtpbench: --pushgateway ${where}: not published \\(1 try, \\d+\\.\\d s\\): HTTP 400 Bad Request \\(body: ${bytes} bytes, not shown\\)\n$`));
    resultsOnDisk(r.out);
  });

  it('a failed publish shows the status, its standard reason and the body size, never the body or the server’s reason (they may echo the URL’s token or the credentials)', async () => {
    // Express's default 404 page echoes the path and query, where Slack-style webhooks keep their token.
    let expressPage = '';
    const hook = await answering((req) => {
      expressPage = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot POST ${req.url}</pre>\n</body>\n</html>\n`;
      return { status: 404, body: expressPage };
    });
    // An auth proxy that echoes the Authorization header, with terminal controls and bidi overrides
    // in its body and in its reason phrase (latin-1 0x9B is the 8-bit CSI).
    let proxyBody = '';
    const pg = await answering((req) => {
      proxyBody = JSON.stringify({ error: 'bad credentials \u009b2J\u202egnirts\u202c \u2066x\u2069', got: req.headers.authorization });
      return { status: 401, reason: `Nope \x9b2J ${req.headers.authorization}`, body: proxyBody };
    });
    const r = await run(['--publish', `http://127.0.0.1:${hook.port}/services/T0SECRET/B0SECRET?token=QSECRET`, '--pushgateway', `http://pg:PGPASS@127.0.0.1:${pg.port}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(expressPage).toContain('Cannot POST /services/T0SECRET/B0SECRET?token=QSECRET');
    expect(proxyBody).toContain(Buffer.from('pg:PGPASS').toString('base64'));
    // The time a try took varies: shown as T.
    expect(
      lines(r.stderr)
        .map((l) => l.replace(/\(1 try, \d+\.\d s\)/, '(1 try, T s)'))
        .sort(),
    ).toEqual([
      `smtpbench: --publish http://127.0.0.1:${hook.port}/…: not published (1 try, T s): HTTP 404 Not Found (body: ${Buffer.byteLength(expressPage)} bytes, not shown)`,
      `smtpbench: --pushgateway http://127.0.0.1:${pg.port}/metrics/job/smtpbench/instance/${os.hostname()}: not published (1 try, T s): HTTP 401 Unauthorized (body: ${Buffer.byteLength(proxyBody)} bytes, not shown)`,
    ]);
    for (const secret of ['T0SECRET', 'B0SECRET', 'QSECRET', 'PGPASS', Buffer.from('pg:PGPASS').toString('base64'), 'Cannot POST', 'Nope']) expect(r.stderr).not.toContain(secret);
    expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    resultsOnDisk(r.out);
  });

  it('a refused port: exit 0 with one line; with --publish-required exit 1 with one line; results on disk either way', async () => {
    const port = await refusedPort();
    const plain = await run(['--publish', `http://127.0.0.1:${port}/hook`]);
    expect(plain.code).toBe(0);
    expect(lines(plain.stderr)).toHaveLength(1);
    expect(plain.stderr).toMatch(new RegExp(`^smtpbench: --publish http://127\\.0\\.0\\.1:${port}/…: not published \\(4 tries, [\\d.]+ s\\): .*ECONNREFUSED`));
    resultsOnDisk(plain.out);

    const required = await run(['--publish', `http://127.0.0.1:${port}/hook`, '--publish-required']);
    expect(required.code).toBe(1);
    expect(lines(required.stderr)).toHaveLength(1);
    expect(required.stderr).toMatch(/^smtpbench: --publish .*: not published \(4 tries, .*ECONNREFUSED/);
    resultsOnDisk(required.out);
  });

  it('stays within --publish-timeout against a server that never answers', async () => {
    const hung = await server(() => null);
    const r = await run(['--publish', `${hung.url}/hook`, '--publish-timeout', '2s']);
    expect(r.code).toBe(0);
    // Each try may take a third of the bound, at least 1 s: two tries fit, and no more.
    expect(hung.requests.length).toBeGreaterThanOrEqual(2);
    const sinceFirstTry = r.exitedAt - hung.requests[0].at;
    expect(sinceFirstTry).toBeGreaterThan(1500);
    expect(sinceFirstTry).toBeLessThan(2000 + 1500); // the bound, plus process exit on a busy machine
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/not published \(\d tries, [\d.]+ s\): .*(no response within 1 s|within 2 s \(--publish-timeout\))/);
    resultsOnDisk(r.out);
  });

  it('a Ctrl-C while publishing ends the publish at once: one line, exit 0, results on disk', async () => {
    const hung = await server(() => null);
    const out = join(tmp(), 'out');
    const child = spawn(process.execPath, [CLI, 'run', '--messages', '300', '--quiet', '--out', out, '--publish', `${hung.url}/hook`, '--publish-timeout', '60s'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (const t0 = Date.now(); hung.requests.length === 0 && Date.now() - t0 < 30_000;) await new Promise((r) => setTimeout(r, 20));
    expect(hung.requests).toHaveLength(1);
    const signalled = performance.now();
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    expect(performance.now() - signalled).toBeLessThan(2000);
    expect(code, stderr).toBe(0);
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/^smtpbench: --publish http:\/\/127\.0\.0\.1:\d+\/…: not published \(1 try, [\d.]+ s\): interrupted\n$/);
    resultsOnDisk(out);
  });

  it('refuses bad flags before the run starts (exit 2, every one named, no password echoed)', async () => {
    const dir = tmp();
    const out = join(dir, 'never');
    const r = await cli(['run', '--messages', '300', '--quiet', '--out', out, '--publish', 'ftp://bob:s3cret@files.example/x', '--pushgateway', 'nope', '--publish-timeout', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--publish: expected an http:// or https:// URL, got a ftp:// URL');
    expect(r.stderr).toContain('--pushgateway: expected an http:// or https:// URL, got "nope"');
    expect(r.stderr).toContain('--publish-timeout');
    expect(r.stderr).not.toContain('s3cret');
    expect(existsSync(out)).toBe(false);
  });

  it('never echoes userinfo of a URL flag, even one a password makes unparsable', async () => {
    const out = join(tmp(), 'never');
    const r = await cli(['run', '--quiet', '--out', out, '--target', 'smtp://user:TGTSECRET@127.0.0.1:1', '--publish', 'http://u:pa/ss@host', '--pushgateway', 'http://u:p@ss@[bad/']);
    expect(r.code).toBe(2);
    // One error names all three.
    expect(lines(r.stderr)).toEqual([
      `smtpbench: invalid profile ${join(ROOT, 'profiles/smoke.yaml')} with flags: 3 problem(s)`,
      '  - target: expected smtp://HOST:PORT without user, path or query, got "smtp://***@127.0.0.1:1"',
      '  - --publish: expected an http:// or https:// URL, got "http://***@host"',
      '  - --pushgateway: expected an http:// or https:// URL, got "http://***@[bad"',
    ]);
    for (const secret of ['TGTSECRET', 'user:', 'pa/ss', 'p@ss', 'u:']) expect(r.stderr).not.toContain(secret);
    expect(existsSync(out)).toBe(false);
  });

  it('names bad publish flags in the same error as the profile’s problems; refuses a --publish-timeout past what timers hold, before the run', async () => {
    const out = join(tmp(), 'never');
    const r = await cli(['run', '--quiet', '--out', out, '--threshold', 'bad', '--sessions', '-1', '--publish', 'ftp://x', '--publish-timeout', '2000h']);
    expect(r.code).toBe(2);
    expect(r.stderr.match(/invalid/g)).toHaveLength(1);
    const problems = lines(r.stderr).filter((l) => l.startsWith('  - '));
    expect(problems.map((l) => l.slice(4, l.indexOf(':', 4)))).toEqual(['sessions', '--threshold[0]', '--publish', '--publish-timeout']);
    expect(r.stderr).toContain(`invalid profile ${join(ROOT, 'profiles/smoke.yaml')} with flags: 4 problem(s)`);
    expect(r.stderr).toContain('  - --publish-timeout: must be at most 596h (2147483647 ms)');
    expect(existsSync(out)).toBe(false);

    // Alone, on a run that would otherwise start: exit 2 before it, no stack trace.
    const alone = await cli(['run', '--quiet', '--messages', '300', '--out', out, '--publish', 'http://127.0.0.1:9/hook', '--publish-timeout', '2000h']);
    expect(alone.code).toBe(2);
    expect(lines(alone.stderr)).toEqual([`smtpbench: invalid profile ${join(ROOT, 'profiles/smoke.yaml')} with flags: 1 problem(s)`, '  - --publish-timeout: must be at most 596h (2147483647 ms)']);
    expect(existsSync(out)).toBe(false);
  });

  it('publish() holds a bound past what Node timers hold to their limit instead of throwing', async () => {
    const hook = await server(() => 200);
    const result = await publish({ name: '--publish', url: new URL(`${hook.url}/hook`), method: 'POST', contentType: 'application/json', body: '{}' }, { timeoutMs: 2000 * 3_600_000 });
    expect(result).toMatchObject({ ok: true, status: 200, tries: 1 });
    expect(hook.requests).toHaveLength(1);
  });

  it('publishes after a Ctrl-C-interrupted run too', async () => {
    const hook = await server(() => 200);
    const out = join(tmp(), 'out');
    const child = spawn(process.execPath, [CLI, 'run', '--duration', '60s', '--messages', '100000000', '--sessions', '4', '--out', out, '--publish', `${hook.url}/hook`], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Wait for the run's own first progress line with messages accepted, then interrupt.
    for (const t0 = Date.now(); !/^\[\s*\d+s\].*accepted [1-9]/m.test(stderr) && Date.now() - t0 < 30_000;) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code, stderr).toBe(0);
    expect(hook.requests).toHaveLength(1);
    const sent = JSON.parse(hook.requests[0].body);
    expect(sent.interrupted).toBe(true);
    expect(hook.requests[0].body).toBe(readFileSync(join(out, 'summary.json'), 'utf8'));
  });

  it.skipIf(!existsSync(PUSHGATEWAY_BIN))("Debian's Pushgateway accepts the push and serves the same bucket counts", async () => {
    const { base, pgw } = await startPushgateway();
    try {
      const r = await run(['--pushgateway', base, '--publish-required']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const scraped = await (await fetch(`${base}/metrics`)).text();
      const summary = JSON.parse(readFileSync(join(r.out, 'summary.json'), 'utf8'));
      const h = decodeAll(summary.encoded.phases).get('transaction')!;
      const b = latencyBuckets(h);
      const group = `instance="${os.hostname()}",job="smtpbench"`;
      LATENCY_BUCKETS_US.forEach((le, i) => expect(scraped).toContain(`smtpbench_phase_latency_seconds_bucket{${group},phase="transaction",le="${le / 1e6}"} ${b.cumulative[i]}`));
      expect(scraped).toContain(`smtpbench_phase_latency_seconds_count{${group},phase="transaction"} 300`);
      expect(scraped).toMatch(new RegExp(`^push_failure_time_seconds\\{${group}\\} 0$`, 'm'));
    } finally {
      pgw.kill();
    }
  });

  it.skipIf(!existsSync(PUSHGATEWAY_BIN))("Debian's Pushgateway accepts a threshold expression given three times (profile and flags) as one series", async () => {
    const { base, pgw } = await startPushgateway();
    try {
      const profile = join(tmp(), 'dup.yaml');
      writeFileSync(profile, 'messages: 300\nthresholds:\n  - "errors.rate < 1%"\n  - "transaction.count < 1"\n');
      const r = await run([profile, '--threshold', 'errors.rate < 1%', '--threshold', 'errors.rate < 1%', '--pushgateway', base, '--publish-required']);
      // Exit 99 (a threshold failed), not 1: the push itself went through.
      expect(r.code, r.stderr).toBe(99);
      expect(r.stderr).not.toContain('not published');
      const scraped = await (await fetch(`${base}/metrics`)).text();
      const group = `instance="${os.hostname()}",job="smtpbench"`;
      expect(
        scraped
          .split('\n')
          .filter((l) => l.startsWith('smtpbench_threshold_passed{'))
          .sort(),
      ).toEqual([`smtpbench_threshold_passed{${group},threshold="errors.rate < 1%"} 1`, `smtpbench_threshold_passed{${group},threshold="transaction.count < 1"} 0`]);
      expect(scraped).toMatch(new RegExp(`^push_failure_time_seconds\\{${group}\\} 0$`, 'm'));
    } finally {
      pgw.kill();
    }
  });
});
