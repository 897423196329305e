/**
 * The client's features through the whole stack (CLI, coordinator, worker threads, summary.json,
 * .hgrm) against the embedded reference server, as far as it supports them: fan-out with 452
 * continuation (server.maxRecipients) and a recipient cap, SIZE refusals (server.maxMessageSize),
 * size and recipient distributions, scenario steps (VRFY, HELP, NOOP, RSET; the rest get 502),
 * source addresses, and STARTTLS + AUTH + BDAT together (both sides are this project's). Scripted
 * misbehaving servers: client-extensions.int.test.ts; real Postfix: postfix-client.int.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/postfix-log.js';
import { serve } from './helpers/serve-cli.js';

const work = mkdtempSync(join(tmpdir(), 'smtpbench-ref-'));
let n = 0;

/** Runs the CLI on a profile (YAML text) against the embedded server; returns exit code, summary and the output directory. */
async function run(profile: string, args: string[] = []) {
  const file = join(work, `p${++n}.yaml`);
  writeFileSync(file, profile);
  const out = join(work, `out${n}`);
  const r = await runCli(['run', file, '--out', out, '--quiet', '--workers', '2', ...args], 120_000);
  return { code: r.code, stderr: r.stderr, out, summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) };
}

describe('client features against the embedded reference server', () => {
  it('452 continuation at 2,500 recipients per message with a 1,000-recipient server, per-recipient totals', async () => {
    const { code, stderr, summary, out } = await run('messages: 6\nsessions: 2\nmessage: {recipients: 2500}\nserver: {maxRecipients: 1000}\n');
    expect(code, stderr).toBe(0);
    // A learnt cap changes the load's shape: the reports say so (hostile review F14).
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('Recipient cap learnt: 1000 per transaction');
    expect(summary.totals.messages).toMatchObject({ attempted: 6, accepted: 6, rejected: 0, failed: 0 });
    expect(summary.totals.recipients).toEqual({ attempted: 15_000, accepted: 15_000, rejected: 0, failed: 0, inFlight: 0, deferred: 2 * 1500, learnedCap: 1000 });
    // Each session's first message: 2500 RCPT, 1500 × 452, then 1000 + 500; later ones 1000 + 1000 + 500.
    expect(summary.totals.transactions).toBe(18);
    expect(summary.replies.rcpt).toEqual({ 250: 15_000, 452: 3000 });
    expect(summary.server.counters).toBeDefined();
  });

  it('X-Smtpbench-Sent is the time the body went out, not the time its envelope was pipelined (hostile review F20)', async () => {
    // Each end-of-data reply is held 200 ms; the next envelope is pipelined behind the body in the
    // meantime. Stamped at pipelining, the server's delivery time (arrival − X-Smtpbench-Sent) would
    // include those 200 ms; stamped after the 354 it is the DATA stream's own time.
    const { code, stderr, summary } = await run('messages: 10\nsessions: 1\nserver: {faults: ["data-end: delay 200ms"]}\n', ['--workers', '1']);
    expect(code, stderr).toBe(0);
    const delivery = summary.server.histograms.delivery;
    expect(delivery.count).toBe(10);
    expect(delivery.p50).toBeLessThan(100);
  });

  it('100,000 recipients per message, continued after 452 at 20,000, every recipient settled once', async () => {
    const { code, stderr, summary } = await run('messages: 2\nsessions: 1\nmessage: {recipients: 100000}\nserver: {maxRecipients: 20000}\n', ['--workers', '1']);
    expect(code, stderr).toBe(0);
    expect(summary.totals.messages).toMatchObject({ attempted: 2, accepted: 2 });
    expect(summary.totals.recipients).toEqual({ attempted: 200_000, accepted: 200_000, rejected: 0, failed: 0, inFlight: 0, deferred: 80_000, learnedCap: 20_000 });
    expect(summary.totals.transactions).toBe(10);
    expect(summary.replies.rcpt).toEqual({ 250: 200_000, 452: 80_000 });
  });

  it('a recipient cap below the server limit: no 452 at all', async () => {
    // One session, so one worker (a worker with no session is the load issue's to handle).
    const { code, summary } = await run('messages: 4\nsessions: 1\nmessage: {recipients: 250, maxRecipientsPerTransaction: 100}\nserver: {maxRecipients: 1000}\n', ['--workers', '1']);
    expect(code).toBe(0);
    expect(summary.totals.transactions).toBe(12);
    expect(summary.replies.rcpt).toEqual({ 250: 1000 });
  });

  it('messages above the SIZE the server declares are not sent; the others are', async () => {
    const { code, summary } = await run('messages: 200\nsessions: 2\nmessage: {size: {dist: uniform, min: 1KiB, max: 8KiB}}\nserver: {maxMessageSize: 4KiB}\nseed: 3\n');
    expect(code).toBe(0);
    // The ones over SIZE never go on the wire: abandoned with their error kind, not attempted (hostile review F2).
    const m = summary.totals.messages;
    expect(m.accepted + m.abandoned).toBe(200);
    expect(m.attempted).toBe(m.accepted);
    expect(m.abandoned).toBeGreaterThan(40);
    expect(m.accepted).toBeGreaterThan(40);
    expect(summary.errors).toEqual({ 'size-exceeded': m.abandoned });
    expect(summary.errorCauses['size-exceeded']).toMatch(/^a \d+-octet message over the server's SIZE 4096$/);
    expect(summary.replies.body).toEqual({ 250: m.accepted });
    expect(summary.profile.seed).toBe(3);
  });

  it('enhanced status codes per phase beside the reply codes: summary.json, report.md, report.html, a threshold', async () => {
    const { code, stderr, summary, out } = await run('messages: 60\nsessions: 2\nmessage: {recipients: 2}\nserver: {faults: ["rcpt: reply 450 4.2.1 Mailbox busy @ 20%"]}\nseed: 5\n', [
      '--threshold',
      'replies.enhanced.4.2.1.count > 0',
    ]);
    expect(code, stderr).toBe(0);
    const r = summary.replies;
    const e = summary.enhancedReplies;
    // The fault's code, counted with its 450, and the reference server's own codes with theirs.
    expect(r.rcpt['450']).toBeGreaterThan(0);
    expect(e.rcpt).toEqual({ '2.1.5': r.rcpt['250'], '4.2.1': r.rcpt['450'] });
    expect(e.mail).toEqual({ '2.1.0': r.mail['250'] });
    expect(e.body).toEqual({ '2.0.0': r.body['250'] });
    expect(e.quit).toEqual({ '2.0.0': r.quit['221'] });
    // A message whose every recipient got 450: its DATA is refused (554 5.5.1), its 354 carries no code.
    expect(e.data ?? {}).toEqual(r.data['554'] ? { '5.5.1': r.data['554'] } : {});
    // No code in the greeting or the EHLO reply (RFC 2034 §4: none is expected there).
    expect(e.greeting ?? e.ehlo).toBeUndefined();
    expect(summary.thresholds).toMatchObject([{ metric: 'replies.enhanced.4.2.1.count', ok: true, value: r.rcpt['450'] }]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(`rcpt 2.1.5 ${r.rcpt['250']}, 4.2.1 ${r.rcpt['450']}`);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<table id="enhanced-replies">');
  });

  it('recipient distribution: totals add up over varying fan-out', async () => {
    const { code, summary } = await run('messages: 100\nsessions: 4\nmessage: {recipients: {dist: lognormal, median: 20, sigma: 1, max: 500}}\n');
    expect(code).toBe(0);
    const r = summary.totals.recipients;
    expect(r.accepted).toBe(r.attempted);
    expect(r.attempted).toBeGreaterThan(100 * 5);
    expect(summary.replies.rcpt['250']).toBe(r.attempted);
  });

  it('scenario steps: each its own phase in summary.json and its own .hgrm', async () => {
    const { code, stderr, summary, out } = await run('messages: 400\nsessions: 4\nscenario: {message: 40, VRFY: 20, HELP: 10, NOOP: 10, RSET: 10, EXPN: 5, TURN: 5}\n');
    expect(code, stderr).toBe(0);
    const t = summary.totals;
    expect(t.steps + t.messages.attempted).toBe(400);
    expect(t.messages.accepted).toBe(t.messages.attempted);
    expect(summary.replies.vrfy).toEqual({ 252: summary.phases.vrfy.count });
    expect(summary.replies.expn).toEqual({ 502: summary.phases.expn.count });
    expect(summary.replies.turn).toEqual({ 502: summary.phases.turn.count });
    const steps = ['vrfy', 'help', 'noop', 'rset', 'expn', 'turn'].reduce((a, p) => a + summary.phases[p].count, 0);
    expect(steps).toBe(t.steps);
    for (const p of ['vrfy', 'help', 'noop', 'expn', 'turn']) expect(existsSync(join(out, `${p}.hgrm`)), p).toBe(true);
  });

  it('--source-ip spreads connections over loopback addresses', async () => {
    const { code, summary } = await run('messages: 20\nsessions: 2\nmessagesPerSession: 2\n', ['--source-ip', '127.0.0.2-127.0.0.5']);
    expect(code).toBe(0);
    expect(summary.totals.messages.accepted).toBe(20);
    expect(summary.profile.identity.sourceIp).toBe('127.0.0.2-127.0.0.5');
  });

  it('STARTTLS, AUTH and BDAT against the reference server: every phase measured, both sides agree', async () => {
    const creds = join(work, 'accounts.txt');
    writeFileSync(creds, 'alice:secret\n');
    for (const mechanism of ['PLAIN', 'LOGIN', 'CRAM-MD5']) {
      const { code, stderr, summary } = await run(
        [
          'messages: 40',
          'sessions: 4',
          'messagesPerSession: 10',
          'message: {recipients: 3, body: bdat, chunkSize: 300, size: 1KiB}',
          // The embedded server's certificate is ephemeral and self-signed: verification is off on purpose here.
          'tls: {starttls: "on", verify: false}',
          `auth: {mechanism: ${mechanism}, credentialsFile: ${JSON.stringify(creds)}}`,
          'server: {auth: {users: {alice: secret}, required: true}, tls: {starttls: true}, chunking: true}',
        ].join('\n') + '\n',
      );
      expect(code, stderr).toBe(0);
      expect(summary.totals.messages, mechanism).toMatchObject({ attempted: 40, accepted: 40, rejected: 0, failed: 0 });
      expect(summary.totals.recipients.accepted).toBe(120);
      // One STARTTLS and one AUTH per connection, 10 messages per connection.
      expect(summary.phases.tls.count).toBe(4);
      expect(summary.phases.auth.count).toBe(4);
      expect(summary.phases.bdat.count).toBeGreaterThanOrEqual(40 * 4); // ≥ 4 chunks of ≤300 octets per 1 KiB message
      expect(summary.replies.auth).toEqual({ 235: 4 });
      expect(summary.server.counters).toMatchObject({ messages: 40, recipients: 120 });
    }
  });

  it('LMTP against smtpbench serve --lmtp: one end-of-data reply per recipient', async () => {
    const srv = await serve(['--lmtp', '--quiet']);
    try {
      const { code, stderr, summary } = await run('messages: 30\nsessions: 3\nmessage: {recipients: 4}\n', ['--target', `lmtp://127.0.0.1:${srv.port}`]);
      expect(code, stderr).toBe(0);
      expect(summary.totals.messages).toMatchObject({ attempted: 30, accepted: 30 });
      expect(summary.totals.recipients.accepted).toBe(120);
      // LMTP (RFC 2033 §4.2): after the data, one reply per accepted recipient, each counted and timed.
      expect(summary.replies.body).toEqual({ 250: 120 });
      expect(summary.phases.body.count).toBe(120);
    } finally {
      srv.child.kill('SIGINT');
    }
  });

  it('refuses real recipient domains on a remote target before any connection (exit 2)', async () => {
    const file = join(work, 'real.yaml');
    writeFileSync(file, 'target: smtp://192.0.2.1:25\nenvelope: {to: "user{n}@gmail.com"}\n');
    const r = await runCli(['run', file, '--quiet', '--out', join(work, 'real')], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/envelope\.to: domain "gmail\.com" is not reserved/);
  });
});
