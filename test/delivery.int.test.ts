/**
 * End-to-end delivery (`smtpbench run --sink`, issue 10 item 3), with the built CLI as child
 * processes on loopback: (a) the sink as the target itself, a sink that never receives anything,
 * an unreachable sink, bad flags; (b) a real Postfix (a private instance started here by
 * scripts/postfix-instance.sh --relay) relaying to a `smtpbench serve` sink: smtpbench's accepted
 * count, the sink's delivered count and Postfix's maillog agree, and delivery (which includes
 * Postfix's queue) is slower than the client's transaction. (b) is skipped without a `postfix`
 * binary or root; .ci/run has both and .ci/check-postfix-ran.mjs fails CI if it was skipped.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readLogSince, runCli } from './helpers/postfix-log.js';
import { ROOT } from './helpers/paths.js';
import { serveWithStats } from './helpers/serve-cli.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A `smtpbench serve --http 0` sink: its SMTP port and its stats base URL. */
const sink = (): Promise<{ port: number; url: string }> => serveWithStats(children);

async function outDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'smtpbench-delivery-'));
  dirs.push(d);
  return d;
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const SMALL = ['--messages', '200', '--sessions', '4', '--workers', '1', '--quiet'];

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/**
 * A stand-in sink on loopback: `answer(n)` handles its n-th request (0-based). `stats(m)` is the
 * smallest body readSink takes: `messages` delivered, no delivery histogram.
 */
async function fakeSink(answer: (n: number, res: import('node:http').ServerResponse, srv: Server) => void): Promise<string> {
  let n = 0;
  const srv = createHttpServer((_req, res) => answer(n++, res, srv));
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}
const stats = (messages: number): string => JSON.stringify({ counters: { messages }, wallClockMs: Date.now(), encoded: { histograms: {} } });

/**
 * The CLI as a child process: `until(ready)` waits (at most 30 s) until `ready` holds of its
 * stderr so far; `exit()` resolves with its exit code and both streams.
 */
function cliChild(args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args], { cwd: ROOT });
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    async until(ready: (stderr: string) => boolean): Promise<void> {
      for (const t0 = Date.now(); !ready(stderr) && Date.now() - t0 < 30_000;) await new Promise((r) => setTimeout(r, 10));
      expect(ready(stderr), stderr).toBe(true);
    },
    exit: async () => ({ code: await exited, stderr, stdout }),
  };
}

/** Runs the CLI; for each of `readies`, waits until it holds of stderr, then 500 ms, and sends one SIGINT; then waits for the exit. */
async function interruptedRun(args: string[], readies: Array<(stderr: string) => boolean>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const run = cliChild(args);
  for (const ready of readies) {
    await run.until(ready);
    // Past the drain's first reading (a Ctrl-C before it leaves the counts unknown, as it should).
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill('SIGINT');
  }
  return run.exit();
}
const summaryOf = (dir: string): any => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

describe('run --sink (no MTA in between)', () => {
  it('counts every accepted message as delivered, as the delivery phase, twice on one shared sink', async () => {
    const s = await sink();
    for (let run = 0; run < 2; run++) {
      const out = await outDir();
      const r = await runCli(['run', '--target', `smtp://127.0.0.1:${s.port}`, '--sink', s.url, ...SMALL, '--out', out, '--threshold', 'delivery.p99 < 60s'], 60_000);
      expect(r.code, r.stderr).toBe(0);
      const sum = summaryOf(out);
      expect(sum.totals.messages.accepted).toBe(200);
      // The second run sees only its own 200: end minus start on a sink that keeps counting.
      expect(sum.delivery).toMatchObject({ accepted: 200, delivered: 200, queued: 0, drained: true, error: null });
      expect(sum.delivery.drainS).toBeLessThan(5);
      expect(Math.abs(sum.delivery.clockOffsetMs)).toBeLessThanOrEqual(sum.delivery.clockUncertaintyMs + 5);
      expect(sum.phases.delivery.count).toBe(200);
      expect(sum.phases.delivery.p50).toBeGreaterThanOrEqual(0);
      expect(typeof sum.encoded.phases.delivery).toBe('string');
      expect(sum.thresholds).toEqual([expect.objectContaining({ metric: 'delivery.p99', ok: true })]);
      expect(existsSync(join(out, 'delivery.hgrm'))).toBe(true);
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('Delivery via sink');
      expect(r.stdout).toMatch(/Delivery via sink .*accepted 200, delivered 200/);
    }
  });

  it("marks the sink's run-time changes on the run's timeline, where the replies change (issue 15 item 4)", async () => {
    const s = await sink();
    const out = await outDir();
    // Paced by the run's own progress lines, so a slow start-up on a loaded machine moves nothing.
    const run = cliChild(['run', '--target', `smtp://127.0.0.1:${s.port}`, '--sink', s.url, '--duration', '5s', '--messages', '5000000', '--sessions', '2', '--workers', '1', '--out', out]);
    const second = (n: number) => run.until((stderr) => stderr.includes(`[  ${n}s]`));
    const call = (method: string, body?: string) => fetch(`${s.url}/faults`, { method, body }).then((r) => r.status);
    await second(1);
    expect(await call('PUT', 'rcpt: 451 4.7.1 Try again later')).toBe(200);
    await second(3);
    expect(await call('DELETE')).toBe(200);
    const r = await run.exit();
    expect(r.code, r.stderr).toBe(0);
    const changes = summaryOf(out).delivery.changes as { atS: number; target: string; action: string; what: string }[];
    expect(changes.map((c) => [c.target, c.action, c.what])).toEqual([
      ['faults', 'set', 'rcpt: reply 451 4.7.1 Try again later'],
      ['faults', 'clear', '(none)'],
    ]);
    const [put, del] = changes.map((c) => c.atS);
    expect(del - put).toBeGreaterThan(1.5);
    expect(del - put).toBeLessThan(3.5);
    // The per-second figures line up with the marks: no deferral in a second wholly before the PUT
    // or wholly after the DELETE, nothing but deferrals in one wholly between them (0.2 s margins
    // for transactions in flight across a change).
    const seconds = readFileSync(join(out, 'timeline.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; intervalS: number; recipients: { accepted: number; rejected: number } });
    const within = (lo: number, hi: number) => seconds.filter((x) => x.t - x.intervalS >= lo && x.t <= hi && x.intervalS >= 0.5);
    const before = within(0, put);
    const between = within(put + 0.2, del);
    const after = within(del + 0.2, Infinity);
    expect(before.length, JSON.stringify({ put, del, seconds })).toBeGreaterThan(0);
    expect(between.length, JSON.stringify({ put, del, seconds })).toBeGreaterThan(0);
    expect(before.every((x) => x.recipients.rejected === 0 && x.recipients.accepted > 0)).toBe(true);
    expect(between.every((x) => x.recipients.rejected > 0 && x.recipients.accepted === 0)).toBe(true);
    expect(after.every((x) => x.recipients.rejected === 0)).toBe(true);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Changes at the sink during the run');
    expect(md).toContain(`| ${put} | faults | \`rcpt: reply 451 4.7.1 Try again later\` |`);
    expect(md).toContain(`| ${del} | faults | \`(none)\` |`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="sink-changes"');
    expect(html).toContain(`"marks":[{"atS":${put},"label":"faults changed"},{"atS":${del},"label":"faults cleared"}]`);
    expect(r.stdout).toContain('changes at the sink');
  });

  it('reports 0 delivered after the drain timeout when the sink receives nothing, exit 0', async () => {
    const target = await sink();
    const idle = await sink();
    const out = await outDir();
    const t0 = performance.now();
    const r = await runCli(['run', '--target', `smtp://127.0.0.1:${target.port}`, '--sink', idle.url, '--drain-timeout', '1s', ...SMALL, '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(20_000);
    const d = summaryOf(out).delivery;
    expect(d).toMatchObject({ accepted: 200, delivered: 0, queued: 200, drained: false, drainTimeoutS: 1, error: null });
    expect(d.drainS).toBeGreaterThanOrEqual(0.8);
    expect(d.drainS).toBeLessThanOrEqual(1);
    expect(summaryOf(out).phases.delivery).toBeUndefined();
    expect(r.stdout).toContain('NOT drained: 200 still queued after the 1 s drain timeout');
  });

  it('an unreachable sink is one line; the run and its results stand, exit 0', async () => {
    const target = await sink();
    const port = await closedPort();
    const out = await outDir();
    const r = await runCli(['run', '--target', `smtp://127.0.0.1:${target.port}`, '--sink', `http://127.0.0.1:${port}`, ...SMALL, '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.includes('--sink'));
    expect(lines).toEqual([`smtpbench: --sink http://127.0.0.1:${port}/stats: cannot read the sink (connection refused); the run goes on without delivery figures`]);
    const sum = summaryOf(out);
    expect(sum.totals.messages.accepted).toBe(200);
    expect(sum.delivery).toBeUndefined();
  });

  it('a sink that trickles its body is cut off by the whole-reading deadline; the run goes on', async () => {
    const target = await sink();
    const url = await fakeSink((_n, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // One byte a second: each pause is under undici's idle timeout, so only a total deadline ends it.
      const timer = setInterval(() => res.write(' '), 1000);
      res.on('close', () => clearInterval(timer));
    });
    const out = await outDir();
    const t0 = performance.now();
    const r = await runCli(['run', '--target', `smtp://127.0.0.1:${target.port}`, '--sink', url, ...SMALL, '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(r.stderr).toContain(`--sink ${url}/stats: cannot read the sink (no answer in time); the run goes on without delivery figures`);
    expect(summaryOf(out).totals.messages.accepted).toBe(200);
  }, 60_000);

  it('https:// against a plain-HTTP sink is one line naming TLS', async () => {
    const target = await sink();
    const s = await sink();
    const out = await outDir();
    const r = await runCli(['run', '--target', `smtp://127.0.0.1:${target.port}`, '--sink', s.url.replace('http:', 'https:'), ...SMALL, '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('--sink'))).toEqual([expect.stringMatching(/cannot read the sink \(TLS: [^)/]+\); the run goes on/)]);
    expect(r.stderr).not.toMatch(/openssl|\.c:\d+/);
  });

  it('a sink restarted during the run: counts unknown (null), the drain stops at once', async () => {
    const target = await sink();
    // 1000 before the load, then 0: the counters went back.
    const url = await fakeSink((n, res) => res.end(stats(n === 0 ? 1000 : 0)));
    const out = await outDir();
    const r = await runCli(['run', '--target', `smtp://127.0.0.1:${target.port}`, '--sink', url, '--drain-timeout', '30s', ...SMALL, '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const d = summaryOf(out).delivery;
    expect(d).toMatchObject({ accepted: 200, delivered: null, queued: null, drained: null, error: expect.stringMatching(/restarted/) });
    expect(d.drainS).toBeLessThan(2);
    expect(r.stdout).toMatch(/delivered and queued unknown: the sink restarted/);
    expect(r.stdout).not.toContain('NOT drained');
  });

  it('a sink that dies during the load: at least its last reading, queued unknown', async () => {
    const target = await sink();
    // Answers the start reading and two during the load, then stops listening.
    const url = await fakeSink((n, res, srv) => {
      if (n < 3) return void res.end(stats(n * 10));
      srv.close();
      srv.closeAllConnections();
    });
    const out = await outDir();
    const r = await runCli(
      ['run', '--target', `smtp://127.0.0.1:${target.port}`, '--sink', url, '--drain-timeout', '1s', '--duration', '4s', '--messages', '100000000', '--sessions', '2', '--workers', '1', '--out', out],
      60_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const d = summaryOf(out).delivery;
    expect(d).toMatchObject({ delivered: 20, deliveredAtLeast: true, queued: null, drained: null });
    expect(d.error).toBeTruthy();
    expect(r.stdout).toContain('delivered at least 20');
    expect(r.stdout).toContain('queued unknown');
  }, 60_000);

  it('Ctrl-C during the drain stops it, says so and marks the run interrupted; a second one exits 130', async () => {
    const target = await sink();
    const idle = await sink();
    const args = ['run', '--target', `smtp://127.0.0.1:${target.port}`, '--sink', idle.url, '--drain-timeout', '60s', '--messages', '200', '--sessions', '4', '--workers', '1'];
    const waiting = (e: string): boolean => e.includes('for the sink to receive');
    const out1 = await outDir();
    const t0 = performance.now();
    const once = await interruptedRun([...args, '--out', out1], [waiting]);
    expect(once.code, once.stderr).toBe(0);
    expect(performance.now() - t0).toBeLessThan(30_000);
    const s1 = summaryOf(out1);
    expect(s1.interrupted).toBe(true);
    expect(s1.delivery).toMatchObject({ delivered: 0, drained: false, drainStopped: true, error: null });
    expect(once.stdout).toMatch(/drain stopped by the user after [\d.]+ s: 200 still queued then/);
    expect(once.stderr).not.toMatch(/--sink .*stopped/);

    // The first Ctrl-C stops the load (a long one), the second comes during the drain.
    const out2 = await outDir();
    const loading = (e: string): boolean => /accepted [1-9]/.test(e);
    const long = [
      'run',
      '--target',
      `smtp://127.0.0.1:${target.port}`,
      '--sink',
      idle.url,
      '--drain-timeout',
      '60s',
      '--duration',
      '20s',
      '--messages',
      '100000000',
      '--sessions',
      '2',
      '--workers',
      '1',
    ];
    const twice = await interruptedRun([...long, '--out', out2], [loading, waiting]);
    expect(twice.code, twice.stderr).toBe(130);
    expect(summaryOf(out2)).toMatchObject({ interrupted: true, aborted: true, delivery: { drainStopped: true } });
  }, 90_000);

  it('bad --sink and --drain-timeout flags exit 2, naming each', async () => {
    const r = await runCli(['run', '--sink', 'ftp://127.0.0.1:1', '--drain-timeout', 'soon', '--quiet'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--sink: expected http:// or https://, got ftp:');
    expect(r.stderr).toContain('--drain-timeout:');
    const r2 = await runCli(['run', '--drain-timeout', '5s', '--quiet'], 30_000);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--drain-timeout: needs --sink');
    // The one duration rule (src/profile/units.ts): a unit is needed, except for 0.
    const r3 = await runCli(['run', '--sink', 'http://127.0.0.1:1', '--drain-timeout', '5', '--quiet'], 30_000);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('--drain-timeout: "5" needs a unit');
  });
});

const SCRIPT = join(ROOT, 'scripts', 'postfix-instance.sh');
const hasPostfix = ['/usr/sbin/postfix', '/usr/bin/postfix'].some((p) => existsSync(p)) && process.getuid?.() === 0;

/** `count` consecutive free loopback ports starting at the returned one (the instance uses PORT..PORT+3). */
async function freePorts(count: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const held = [];
    try {
      for (let p = base; p < base + count; p++) {
        const srv = createServer();
        await new Promise<void>((ok, fail) => srv.once('error', fail).listen(p, '127.0.0.1', ok));
        held.push(srv);
      }
      return base;
    } catch {
      // taken: try another range
    } finally {
      for (const s of held) await new Promise((r) => s.close(r));
    }
  }
  throw new Error('no free port range');
}

function script(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => execFile('bash', [SCRIPT, ...args], { timeout: 120_000 }, (err, stdout, stderr) => done({ code: err ? ((err.code as number) ?? 1) : 0, out: `${stdout}${stderr}` })));
}

describe.skipIf(!hasPostfix)('run --sink through a real Postfix relay', () => {
  let pfDir = '';
  afterAll(async () => {
    if (pfDir) {
      await script(['stop', pfDir]);
      await rm(pfDir, { recursive: true, force: true });
    }
  });

  it('accepted, delivered and the maillog agree; delivery p50 is above transaction p50', async () => {
    const s = await sink();
    pfDir = await mkdtemp(join(tmpdir(), 'smtpbench-pf-relay-'));
    const pfPort = await freePorts(4);
    const started = await script(['start', pfDir, String(pfPort), '--relay', `127.0.0.1:${s.port}`]);
    expect(started.code, started.out).toBe(0);
    const out = await outDir();
    const r = await runCli(['run', '--target', `smtp://127.0.0.1:${pfPort}`, '--sink', s.url, '--drain-timeout', '60s', ...SMALL, '--messages', '300', '--out', out], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const sum = summaryOf(out);
    expect(sum.totals.messages.accepted).toBe(300);
    expect(sum.delivery).toMatchObject({ accepted: 300, delivered: 300, queued: 0, drained: true, error: null });
    expect(sum.phases.delivery.count).toBe(300);
    // Delivery runs through Postfix's queue and its smtp(8) client: slower than the accept alone.
    expect(sum.phases.delivery.p50).toBeGreaterThan(sum.phases.transaction.p50);
    // Postfix's own account: 300 messages queued from our sender, 300 relayed to the sink with 250.
    const relay = new RegExp(`/smtp\\[\\d+\\]: ([0-9A-Za-z]+): to=<[^>]+@example\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${s.port}, .*status=sent \\(250 `);
    const queued = /\/qmgr\[\d+\]: ([0-9A-Za-z]+): from=<bench@example\.test>, size=\d+, nrcpt=1 \(queue active\)/;
    let sent = new Set<string>();
    let ids = new Set<string>();
    for (let i = 0; i < 100 && sent.size < 300; i++) {
      const lines = await readLogSince(join(pfDir, 'maillog'), 0);
      ids = new Set(lines.map((l) => queued.exec(l)?.[1]).filter((x) => x !== undefined));
      sent = new Set(lines.map((l) => relay.exec(l)?.[1]).filter((x) => x !== undefined));
      if (sent.size < 300) await new Promise((w) => setTimeout(w, 200));
    }
    expect(ids.size).toBe(300);
    expect(sent.size).toBe(300);
    expect([...sent].every((id) => ids.has(id))).toBe(true);
  }, 240_000);
});
