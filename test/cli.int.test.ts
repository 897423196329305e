/**
 * End-to-end: the built CLI (`dist/cli/main.js`, built by `npm test`'s pretest) against the
 * embedded reference server, real sockets and real worker threads.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, type CliResult } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'smtpbench-test-'));
const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

/** Runs `smtpbench run` on a profile given as YAML text; returns the CLI result and the summary. */
async function runYaml(yaml: string, args: string[]): Promise<{ r: CliResult; s: any }> {
  const dir = tmp();
  const file = join(dir, 'profile.yaml');
  writeFileSync(file, yaml);
  const out = join(dir, 'out');
  const r = await cli(['run', file, ...args, '--out', out, '--quiet']);
  return { r, s: summaryOf(out) };
}

/**
 * Checks a `.hgrm` file is a well-formed HdrHistogram percentile distribution and returns its
 * total count (the TotalCount column of its last row).
 */
function parseHgrm(text: string): number {
  const lines = text.split('\n');
  expect(lines[0].trim().split(/\s+/)).toEqual(['Value', 'Percentile', 'TotalCount', '1/(1-Percentile)']);
  const rows = lines.filter((l) => /^\s*\d/.test(l)).map((l) => l.trim().split(/\s+/).map(Number));
  expect(rows.length).toBeGreaterThan(0);
  for (let i = 1; i < rows.length; i++) {
    expect(rows[i][0]).toBeGreaterThanOrEqual(rows[i - 1][0]); // values ascend
    expect(rows[i][2]).toBeGreaterThanOrEqual(rows[i - 1][2]); // counts accumulate
  }
  expect(rows.at(-1)![1]).toBe(1); // ends at the 100th percentile
  expect(text).toMatch(/#\[Mean\s+=\s+[\d.]+, StdDeviation\s+=\s+[\d.]+\]/);
  expect(text).toMatch(/#\[Max\s+=\s+[\d.]+, Total count\s+=\s+\d+\]/);
  return rows.at(-1)![2];
}

describe('smtpbench run against the embedded reference server', () => {
  it('sends exactly the profile’s messages and writes parseable reports', async () => {
    const out = tmp();
    const r = await cli(['run', 'profiles/smoke.yaml', '--messages', '600', '--sessions', '7', '--workers', '2', '--out', out, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('transaction');
    const s = summaryOf(out);
    expect(s.schema).toBe(1);
    expect(s.totals.messages).toMatchObject({ attempted: 600, accepted: 600, rejected: 0, failed: 0 });
    expect(s.totals.recipients).toMatchObject({ attempted: 600, accepted: 600, rejected: 0 });
    expect(s.totals.bytes).toBeGreaterThanOrEqual(600 * 1024);
    expect(s.replies.body).toEqual({ 250: 600 });
    expect(s.errors).toEqual({});
    // The server counted what the client sent.
    expect(s.server.counters).toMatchObject({ messages: 600, recipients: 600, bytes: s.totals.bytes });
    // One size per accepted message, in bytes (not ms): 1 KiB messages, headers included.
    expect(s.server.sizes['message-bytes']).toMatchObject({ count: 600, unit: 'bytes' });
    expect(s.server.sizes['message-bytes'].p50).toBeGreaterThanOrEqual(1024);
    expect(s.server.sizes['message-bytes'].max).toBeLessThan(1200);
    // 600 messages in 100-message connections, on 7 sessions: at least 7 connections.
    expect(s.totals.connections).toBeGreaterThanOrEqual(7);
    for (const phase of ['connect', 'greeting', 'ehlo', 'mail', 'rcpt', 'data', 'body', 'quit', 'transaction']) {
      expect(s.phases[phase].count, phase).toBeGreaterThan(0);
      expect(s.phases[phase].p50).toBeLessThanOrEqual(s.phases[phase].p99);
    }
    expect(s.phases.transaction.count).toBe(600);
    expect(s.phases.rcpt.count).toBe(600);
    expect(s.environment.node).toBe(process.version);
    // Generator health per worker; the headline figures are the worst of them.
    expect(s.generator.workers).toHaveLength(2);
    // Null for a worker that measured under a second or ran no session (its start-up would read as busy); the max is of the others.
    const utilizations = s.generator.workers.map((w: { eventLoopUtilization: number | null }) => w.eventLoopUtilization).filter((u: number | null) => u !== null);
    for (const u of utilizations) expect(u).toBeGreaterThan(0);
    expect(s.generator.eventLoopUtilizationMax).toBe(utilizations.length > 0 ? Math.max(...utilizations) : null);
    expect(s.generator.eventLoopDelayP99Ms).toBe(Math.max(...s.generator.workers.map((w: { eventLoopDelayP99Ms: number }) => w.eventLoopDelayP99Ms)));
    const hgrms = readdirSync(out).filter((f) => f.endsWith('.hgrm'));
    expect(hgrms).toContain('transaction.hgrm');
    expect(hgrms.some((f) => f.startsWith('server.'))).toBe(true);
    for (const f of hgrms) {
      const total = parseHgrm(readFileSync(join(out, f), 'utf8'));
      const phase = f.replace(/\.hgrm$/, '');
      if (s.phases[phase]) expect(total, f).toBe(s.phases[phase].count);
    }
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| messages | 600 | 600 | 0 |');
  });

  it('fans one message out to 1000 recipients with a single DATA', async () => {
    const out = tmp();
    const r = await cli(['run', 'profiles/fanout.yaml', '--messages', '12', '--sessions', '3', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(out);
    expect(s.totals.messages.accepted).toBe(12);
    expect(s.totals.recipients).toMatchObject({ attempted: 12_000, accepted: 12_000, rejected: 0 });
    expect(s.phases.rcpt.count).toBe(12_000);
    expect(s.phases.data.count).toBe(12);
    expect(s.server.counters).toMatchObject({ messages: 12, recipients: 12_000 });
  });

  it('gives the same totals in lock-step (no PIPELINING) and on any number of workers', async () => {
    const totals = [];
    for (const [workers, pipelining] of [
      ['1', 'off'],
      ['3', 'auto'],
    ]) {
      const out = tmp();
      const r = await cli(['run', '--messages', '101', '--sessions', '5', '--recipients', '3', '--workers', workers, '--pipelining', pipelining, '--out', out, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      totals.push(summaryOf(out).totals);
    }
    expect(totals[0].messages).toEqual(totals[1].messages);
    expect(totals[0].recipients).toEqual({ attempted: 303, accepted: 303, rejected: 0, failed: 0, inFlight: 0, deferred: 0, learnedCap: null });
    expect(totals[1].recipients).toEqual(totals[0].recipients);
  });
});

describe('more workers than sessions', () => {
  it('leaves the extra workers idle and still sends every message', async () => {
    const out = tmp();
    const r = await cli(['run', '--sessions', '1', '--workers', '3', '--messages', '10', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(out).totals.messages.accepted).toBe(10);
  });
});

describe('stopping', () => {
  it('ends a ramping-rate run at its duration without waiting out the graceful stop', async () => {
    const { r, s } = await runYaml('executor: ramping-rate\nstartRate: 1500\nstages: [{duration: 20s, target: 4000}]\nduration: 2s\ngracefulStop: 30s\nmaxSessions: 50\n', ['--workers', '2']);
    expect(r.code, r.stderr).toBe(0);
    // A session that finished its last transaction after the stop must QUIT, not wait for work that never comes.
    expect(s.durationS).toBeLessThan(5);
    expect(s.errors.aborted).toBeUndefined();
    expect(s.totals.messages.accepted).toBe(s.totals.messages.attempted);
  });
});

describe('open model bounds', () => {
  it('ends at duration + gracefulStop against a slow server, counting what never started as dropped', async () => {
    // Every reply takes 1 s: one session can start only a few of the 30 scheduled messages.
    const { r, s } = await runYaml('executor: open\nrate: 10\nduration: 3s\ngracefulStop: 1s\nmaxSessions: 1\nserver: {faults: ["*: delay 1s"]}\n', ['--workers', '1']);
    expect([0, 1]).toContain(r.code);
    expect(s.durationS).toBeLessThan(6);
    expect(s.totals.messages.dropped).toBeGreaterThan(20);
    expect(s.totals.messages.attempted + s.totals.messages.dropped).toBeLessThanOrEqual(30);
  });

  it('a message still in flight when the graceful stop runs out is censored, not dropped from the latency figures (issue 13)', async () => {
    // The server stalls every end of data for 10 s: at 2 s + 1 s graceful stop, the message in flight is cut.
    const { r, s } = await runYaml('executor: closed\nsessions: 2\nduration: 2s\ngracefulStop: 1s\nmessages: 100000000\nserver: {faults: ["data-end: delay 10s"]}\n', ['--workers', '1']);
    expect([0, 1]).toContain(r.code);
    expect(s.errors.aborted).toBe(2);
    // Each session had its message and the next one, pipelined behind the body, in flight: every
    // one of them is censored, its time at least from its start to the cut (about 3 s).
    expect(s.totals.messages.failed).toBeGreaterThanOrEqual(2);
    expect(s.phases.censored.count).toBe(s.totals.messages.failed);
    expect(s.phases.censored.min).toBeGreaterThan(2500);
    expect(s.phases.transaction).toBeUndefined();
  });

  it('still starts, late, the messages that were due when the schedule ended, within gracefulStop', async () => {
    // 10 arrivals in 1 s; two sessions, each message 300 ms: about half are still queued at 1 s.
    const { r, s } = await runYaml('executor: open\nrate: 10\nduration: 1s\ngracefulStop: 10s\nmaxSessions: 2\nserver: {faults: ["data-end: delay 300ms"]}\n', ['--workers', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(s.totals.messages).toMatchObject({ attempted: 10, accepted: 10, dropped: 0 });
    expect(s.totals.messages.late).toBeGreaterThan(0);
    expect(s.durationS).toBeLessThan(6);
  });

  it('keeps the counts consistent across the end of warm-up', async () => {
    const out = tmp();
    const r = await cli(['run', '--duration', '3s', '--warmup', '1s', '--messages', '100000000', '--sessions', '20', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(out);
    const m = s.totals.messages;
    expect(m.accepted).toBeGreaterThan(0);
    expect(m.accepted + m.rejected + m.failed).toBe(m.attempted);
    // A message in flight when warm-up ended belongs to it in every message figure: one transaction
    // latency and one transaction per measured message, none for warm-up messages.
    expect(s.phases.transaction.count).toBe(m.accepted + m.rejected);
    expect(s.totals.transactions).toBe(m.accepted + m.rejected);
  });

  it('does not count the 452 continuations of a message that started during warm-up', async () => {
    // One 10-recipient message, lock-step, 150 ms per RCPT, 2 recipients per transaction: it starts
    // in the warm-up and its 452s come after it.
    const { r, s } = await runYaml("server: {maxRecipients: 2, faults: ['rcpt: delay 150ms']}\n", [
      '--messages',
      '1',
      '--recipients',
      '10',
      '--warmup',
      '500ms',
      '--sessions',
      '1',
      '--workers',
      '1',
      '--pipelining',
      'off',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(s.totals.messages.attempted).toBe(0);
    expect(s.totals.recipients).toMatchObject({ attempted: 0, deferred: 0 });
    // The server saw the whole message, in transactions of two recipients.
    expect(s.server.counters.recipients).toBe(10);
  });
});

describe('profile files are checked before the run', () => {
  it('names a CA file without a certificate and an empirical file out of range, exit 2', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate\n');
    writeFileSync(join(dir, 'sizes.csv'), '1KiB,5\n100GiB,1\n');
    const file = join(dir, 'p.yaml');
    writeFileSync(file, `tls: {starttls: "on", ca: ${JSON.stringify(join(dir, 'ca.pem'))}}\nmessage: {size: {dist: empirical, file: ${JSON.stringify(join(dir, 'sizes.csv'))}}}\n`);
    const r = await cli(['run', file, '--messages', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tls.ca:');
    expect(r.stderr).toContain('message.size.file:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('ramping sessions', () => {
  it('follows the stages of session counts and ends with them', async () => {
    const { r, s } = await runYaml('executor: ramping-sessions\nstages: [{duration: 1s, target: 6}, {duration: 1s, target: 6}, {duration: 500ms, target: 0}]\nmessagesPerSession: 50\n', [
      '--workers',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(s.executor).toBe('ramping-sessions');
    expect(s.model).toBe('closed');
    expect(s.durationS).toBeGreaterThan(2);
    expect(s.durationS).toBeLessThan(5);
    expect(s.totals.messages.accepted).toBeGreaterThan(0);
    expect(s.totals.messages.accepted).toBe(s.totals.messages.attempted);
    // 6 sessions at the peak, each reconnecting every 50 messages: at least 6 connections.
    expect(s.totals.connections).toBeGreaterThanOrEqual(6);
    // summary.sessions is the peak opened (sampled once a second), not the unused closed default of 20 (hostile review F18).
    expect(s.sessions).toBeGreaterThanOrEqual(4);
    expect(s.sessions).toBeLessThanOrEqual(6);
    // Over two seconds of sessions on each worker: each has a utilization, the max is theirs.
    const busy = s.generator.workers.map((w: { eventLoopUtilization: number | null }) => w.eventLoopUtilization);
    for (const u of busy) expect(u).toBeGreaterThan(0);
    expect(s.generator.eventLoopUtilizationMax).toBe(Math.max(...busy));
    expect(s.generator.eventLoopUtilizationMax).toBeLessThanOrEqual(1);
  });

  it('refuses a domain-less recipient for a non-loopback target before any connection (hostile review F6)', async () => {
    // 192.0.2.1 (TEST-NET-1) is never contacted: the profile is refused while it resolves.
    const dir = tmp();
    const profile = join(dir, 'postmaster.yaml');
    writeFileSync(profile, 'envelope: {to: "postmaster"}\nmessages: 2\nsessions: 1\n');
    const r = await cli(['run', profile, '--target', 'smtp://192.0.2.1:25', '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/envelope\.to: "postmaster" has no domain.*--allow-real-recipients/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a quota that ends inside the warm-up says nothing was measured instead of showing warm-up data (hostile review F3)', async () => {
    const out = join(tmp(), 'out');
    const r = await cli(['run', '--messages', '300', '--warmup', '3s', '--duration', '10s', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('the run ended inside its 3 s warm-up (its message quota ran out first): nothing was measured');
    expect(r.stdout).toContain('nothing measured: the run ended inside its 3 s warm-up');
    const s = summaryOf(out);
    expect(s.warmupCompleted).toBe(false);
    expect(s.totals.messages).toMatchObject({ attempted: 0, accepted: 0 });
    expect(s.phases).toEqual({});
    expect(s.server.counters.messages).toBe(0);
    expect(s.generator).toBeNull();
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('nothing measured: the run ended inside its 3 s warm-up');
  });

  it('a worker with no sessions, or a run under a second, reports no event-loop utilization instead of "busy 100 %" (hostile review F9)', async () => {
    const out = join(tmp(), 'out');
    const r = await cli(['run', '--sessions', '1', '--workers', '2', '--messages', '300', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const g = summaryOf(out).generator;
    expect(g.workers).toHaveLength(2);
    expect(g.workers[1].eventLoopUtilization).toBeNull();
    expect(g.eventLoopUtilizationMax).toBeNull();
    expect(r.stdout).toMatch(/generator: event-loop p99 [\d.]+ ms · busy unknown/);
  });

  it('starts with startSessions sessions and ramps down from there', async () => {
    // Down from 6 to 0 in 1 s: from 0 (the default) no session would ever start.
    const { r, s } = await runYaml('executor: ramping-sessions\nstartSessions: 6\nstages: [{duration: 1s, target: 0}]\nmessagesPerSession: 100000000\n', ['--workers', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(s.totals.messages.accepted).toBeGreaterThan(0);
    // One connection per session: 3 on each worker.
    expect(s.totals.connections).toBe(6);
  });
});

describe('bad input', () => {
  it('names the address and exits 1 when every connection is refused, still writing results', async () => {
    // A port that was just free: bind, read the port, close.
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const out = tmp();
    const r = await cli(['run', '--target', `smtp://127.0.0.1:${port}`, '--messages', '20', '--sessions', '2', '--workers', '1', '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).toContain('connect-refused');
    const s = summaryOf(out);
    expect(s.totals.messages.accepted).toBe(0);
    expect(s.totals.messages.abandoned).toBe(20);
    expect(s.errors['connect-refused']).toBeGreaterThan(0);
    // The kind keeps its first cause, in the summary and in the exit message (hostile review F8).
    expect(s.errorCauses['connect-refused']).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.stderr).toContain(`connect-refused ×${s.errors['connect-refused']} (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it('a server whose SIZE no message fits is refused once per session, not counted as millions of phantom attempts (hostile review F2)', async () => {
    const dir = tmp();
    const profile = join(dir, 'size.yaml');
    writeFileSync(profile, 'server: {maxMessageSize: 100}\nmessage: {size: 1KiB}\n');
    const r = await cli(['run', profile, '--sessions', '4', '--workers', '1', '--duration', '3s', '--messages', '100000000', '--out', join(dir, 'out'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.wallMs).toBeLessThan(15_000);
    const s = summaryOf(join(dir, 'out'));
    expect(s.totals.messages).toMatchObject({ attempted: 0, rejected: 0, abandoned: 100_000_000 });
    expect(s.errors).toEqual({ 'size-exceeded': 4 });
    expect(s.errorCauses['size-exceeded']).toMatch(/^the smallest message \(\d+ octets\) is over the server's SIZE 100$/);
    expect(s.server.counters.commands).toBe(8); // 4 EHLO, 4 QUIT: no MAIL
    expect(r.stderr).toContain('size-exceeded ×4 (the smallest message');
  });

  it("says why a reply was bad: the parser's reason beside bad-reply (hostile review F8)", async () => {
    // A server that greets with garbage: the reply parser refuses it and says why.
    const srv = net.createServer((sock) => sock.end('hello there\r\n'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    const out = tmp();
    try {
      const r = await cli(['run', '--target', `smtp://127.0.0.1:${port}`, '--messages', '3', '--sessions', '1', '--workers', '1', '--out', out, '--quiet']);
      expect(r.code).toBe(1);
      const s = summaryOf(out);
      expect(s.errors['bad-reply']).toBeGreaterThan(0);
      expect(s.errorCauses['bad-reply']).toMatch(/reply code/);
      expect(r.stdout).toMatch(/bad-reply=\d+ \(.*reply code.*\)/);
    } finally {
      srv.close();
    }
  });

  it('lists every bad profile field in one error and exits 2', async () => {
    const dir = tmp();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sessions: -1\nmessage:\n  sise: 4KiB\n  recipients: many\ntarget: http://127.0.0.1:25\n');
    const r = await cli(['run', file, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    for (const path of ['sessions', 'message.sise', 'message.recipients', 'target']) expect(r.stderr).toContain(`${path}:`);
  });

  it('rejects a bad flag value the same way', async () => {
    const r = await cli(['run', '--sessions', 'lots', '--size', '-4KiB']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sessions:');
    expect(r.stderr).toContain('message.size:');
  });

  it.each([
    [['run', '--duration', '5'], 'duration:'],
    [['run', '--duration', '1000h'], 'duration:'],
    [['run', '--size', '1GiB'], 'message.size:'],
    [['run', '--messages', '0x10'], 'messages:'],
    [['run', '--bogus'], "unknown option '--bogus'"],
    [['serve', '--bogus'], "unknown option '--bogus'"],
    [['serve', '--port', 'abc', '--max-recipients', 'x'], 'server.maxRecipients:'],
    [['serve', '--port', '70000'], 'port:'],
    // Hostile review F17: a usage error naming the flag, not "cannot listen" and exit 1.
    [['serve', '--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent.pem'], 'server.tls.cert (--tls-cert): cannot read /nonexistent.pem: ENOENT'],
    [['run', '--insecure', '--ca', '/etc/hostname'], 'tls.ca: has no effect with tls.verify: false'],
    [['run', '--target', 'smtps://127.0.0.1:465', '--starttls', 'on'], 'tls.starttls: does not apply to an smtps:// target'],
    [['run', '--executor', 'closed', '--max-sessions', '10'], 'maxSessions: only the open models'],
  ])('exits 2 for %j', async (args, text) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(text);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 1 with one line when serve cannot listen', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const r = await cli(['serve', '--port', String(port), '--quiet']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('exits 2 with one line when --out is not a usable directory', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'afile'), 'x');
    const r = await cli(['run', '--messages', '1', '--out', join(dir, 'afile', 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot use');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a missing profile file with exit code 2', async () => {
    const r = await cli(['run', 'no/such/profile.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no/such/profile.yaml');
  });
});

describe('the command itself', () => {
  it('is executable after the build, so `npx smtpbench` runs it from a checkout', async () => {
    const { execFile } = await import('node:child_process');
    const out = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile('npx', ['--no-install', 'smtpbench', '--version'], { cwd: ROOT, timeout: 60_000 }, (err, stdout) => done({ code: err ? Number(err.code ?? -1) : 0, stdout })),
    );
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });
});
