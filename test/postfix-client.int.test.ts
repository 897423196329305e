/**
 * The client's protocol features against the real, private Postfix (scripts/postfix-instance.sh):
 * 452 continuation on a listener with `smtpd_recipient_limit = 10` (PORT+1), STARTTLS with
 * certificate verification on the STARTTLS listener (PORT+2, CA in DIR/tls/cert.pem), and BDAT on
 * the main listener, XCLIENT (PORT+1), the PROXY protocol v1 and v2 (PORT+3) and several source
 * addresses. Each run uses its own sender, and smtpbench's counts are checked against
 * the queue entries and deliveries Postfix itself logged.
 *
 * Skipped unless SMTPBENCH_POSTFIX and SMTPBENCH_POSTFIX_LOG are set (as for postfix.int.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeRegExp, logSize, readLogSince, runCli } from './helpers/postfix-log.js';

const POSTFIX = process.env.SMTPBENCH_POSTFIX;
const POSTFIX_LOG = process.env.SMTPBENCH_POSTFIX_LOG ?? '';
const [HOST, PORT] = (POSTFIX ?? '127.0.0.1:0').split(':');
const LIMIT_TARGET = `smtp://${HOST}:${Number(PORT) + 1}`;
const TLS_TARGET = `smtp://${HOST}:${Number(PORT) + 2}`;
const PROXY_TARGET = `smtp://${HOST}:${Number(PORT) + 3}`;
const CA = join(dirname(POSTFIX_LOG), 'tls', 'cert.pem');

const work = mkdtempSync(join(tmpdir(), 'smtpbench-pfclient-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Summary {
  totals: {
    messages: { attempted: number; accepted: number; rejected: number; failed: number };
    recipients: { attempted: number; accepted: number; rejected: number; failed: number; inFlight: number; deferred: number };
    transactions: number;
    tls: { handshakes: number; resumed: number };
  };
  phases: Record<string, { count: number }>;
  replies: Record<string, Record<string, number>>;
  errors: Record<string, number>;
}

/** Runs the CLI with a profile whose sender is `from`; returns its exit code and summary. */
async function run(name: string, from: string, args: string[]): Promise<{ code: number | null; stderr: string; summary: Summary }> {
  const profile = join(work, `${name}.yaml`);
  writeFileSync(profile, `envelope: {from: ${from}, to: "r{n}@example.test"}\nworkers: 1\n`);
  const out = join(work, name);
  const r = await runCli(['run', profile, ...args, '--out', out, '--quiet'], 120_000);
  return { code: r.code, stderr: r.stderr, summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary };
}

/**
 * What Postfix logged for `from` since `offset`: nrcpt of each queued message and how many
 * recipients were discarded (delivered), polled until `want` recipients are in or 60 s pass.
 */
async function logged(from: string, offset: number, want: number): Promise<{ nrcpt: number[]; delivered: number; lines: string[] }> {
  const queued = new RegExp(`/qmgr\\[\\d+\\]: ([0-9A-Za-z]+): from=<${escapeRegExp(from)}>, size=\\d+, nrcpt=(\\d+) \\(queue active\\)`);
  const discarded = /\/discard\[\d+\]: ([0-9A-Za-z]+): to=<[^>]*>, .*\bstatus=sent\b/;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const lines = await readLogSince(POSTFIX_LOG, offset);
    const ids = new Map<string, number>();
    for (const l of lines) {
      const m = queued.exec(l);
      if (m) ids.set(m[1], Number(m[2]));
    }
    let delivered = 0;
    for (const l of lines) {
      const m = discarded.exec(l);
      if (m && ids.has(m[1])) delivered++;
    }
    if (delivered >= want || Date.now() > deadline) return { nrcpt: [...ids.values()].sort((a, b) => b - a), delivered, lines };
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!POSTFIX)('real MTA: client features against Postfix', () => {
  it('continues a fan-out after real 452s (smtpd_recipient_limit = 10) and accounts per recipient', async () => {
    const from = `fanout452-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, stderr, summary } = await run('452', from, ['--target', LIMIT_TARGET, '--messages', '4', '--sessions', '2', '--recipients', '25']);
    expect(code, stderr).toBe(0);
    // Each session's first message: 25 RCPT pipelined, 10 × 250 + 15 × 452, then 10 and 5 in new
    // transactions (limit learnt); its second message: 10 + 10 + 5, no 452 at all.
    expect(summary.totals.messages).toMatchObject({ attempted: 4, accepted: 4, rejected: 0, failed: 0 });
    expect(summary.totals.recipients).toEqual({ attempted: 100, accepted: 100, rejected: 0, failed: 0, inFlight: 0, deferred: 30, learnedCap: 10 });
    expect(summary.totals.transactions).toBe(12);
    expect(summary.replies.rcpt).toEqual({ 250: 100, 452: 30 });
    expect(summary.errors).toEqual({});
    const seen = await logged(from, offset, 100);
    expect(seen.nrcpt).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 5, 5, 5, 5]);
    expect(seen.delivered).toBe(100);
  }, 200_000);

  it('a 1,500-recipient group overshoots Postfix (1000 excess → 421): that message fails, the limit learnt at the first 452 carries the next ones', async () => {
    const from = `overshoot-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, stderr, summary } = await run('overshoot', from, ['--target', LIMIT_TARGET, '--messages', '3', '--sessions', '1', '--recipients', '1500']);
    expect(code, stderr).toBe(0);
    // Postfix answers 452 to RCPT 11..1010 (smtpd_recipient_overshoot_limit 1000), then counts each
    // excess RCPT as an error and after 20 (smtpd_hard_error_limit) says 421 and closes.
    expect(summary.replies.rcpt).toEqual({ 250: 3010, 452: 1020, 421: 1 });
    expect(summary.errors).toEqual({ 'rcpt-421': 1 });
    expect(summary.totals.messages).toMatchObject({ attempted: 3, accepted: 2, failed: 1 });
    expect(summary.totals.recipients).toEqual({ attempted: 4500, accepted: 3000, rejected: 0, failed: 1500, inFlight: 0, deferred: 0, learnedCap: 10 });
    expect(summary.totals.transactions).toBe(300);
    const seen = await logged(from, offset, 3000);
    expect(seen.nrcpt).toEqual(new Array(300).fill(10));
    expect(seen.delivered).toBe(3000);
  }, 200_000);

  it('with maxRecipientsPerTransaction = 10 the same fan-out never sees a 452', async () => {
    const from = `fanoutcap-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, summary } = await run('cap', from, ['--target', LIMIT_TARGET, '--messages', '3', '--sessions', '1', '--recipients', '25', '--max-recipients-per-transaction', '10']);
    expect(code).toBe(0);
    expect(summary.replies.rcpt).toEqual({ 250: 75 });
    expect(summary.totals.recipients).toMatchObject({ accepted: 75, deferred: 0 });
    expect((await logged(from, offset, 75)).nrcpt).toEqual([10, 10, 10, 10, 10, 10, 5, 5, 5]);
  }, 200_000);

  it('STARTTLS with the test CA: verified, timed, every message delivered over TLS', async () => {
    const from = `starttls-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, stderr, summary } = await run('tls', from, ['--target', TLS_TARGET, '--starttls', 'on', '--ca', CA, '--messages', '30', '--sessions', '3', '--recipients', '2']);
    expect(code, stderr).toBe(0);
    expect(summary.totals.messages.accepted).toBe(30);
    expect(summary.totals.tls.handshakes).toBe(3);
    expect(summary.phases.tls.count).toBe(3);
    expect(summary.errors).toEqual({});
    const seen = await logged(from, offset, 60);
    expect(seen.delivered).toBe(60);
    // smtpd_tls_loglevel = 1 logs each TLS session Postfix set up.
    expect(seen.lines.filter((l) => /TLS connection established from .*127\.0\.0\.1/.test(l)).length).toBeGreaterThanOrEqual(3);
  }, 200_000);

  it('TLS session resumption: reconnects resume the session Postfix issued', async () => {
    const from = `tlsresume-${process.pid}@example.test`;
    const { code, stderr, summary } = await run('resume', from, [
      '--target',
      TLS_TARGET,
      '--starttls',
      'on',
      '--ca',
      CA,
      '--tls-resume',
      '--messages',
      '12',
      '--sessions',
      '1',
      '--messages-per-session',
      '2',
    ]);
    expect(code, stderr).toBe(0);
    expect(summary.totals.messages.accepted).toBe(12);
    expect(summary.totals.tls).toEqual({ handshakes: 6, resumed: 5 });
  }, 200_000);

  it('STARTTLS without the CA fails verification: tls-verify, nothing sent in plaintext, exit 1', async () => {
    const from = `tlsverify-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, summary } = await run('tlsfail', from, ['--target', TLS_TARGET, '--starttls', 'on', '--messages', '5', '--sessions', '1']);
    expect(code).toBe(1);
    expect(summary.errors).toEqual({ 'tls-verify': 3 });
    expect(summary.totals.messages).toMatchObject({ attempted: 0, accepted: 0 });
    await new Promise((r) => setTimeout(r, 500));
    expect((await readLogSince(POSTFIX_LOG, offset)).filter((l) => l.includes(from))).toEqual([]);
  }, 200_000);

  it('BDAT (CHUNKING) pipelined with MAIL and RCPT: chunk replies counted, every message queued', async () => {
    const from = `bdat-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, stderr, summary } = await run('bdat', from, [
      '--target',
      `smtp://${POSTFIX}`,
      '--body',
      'bdat',
      '--chunk-size',
      '64KiB',
      '--size',
      '200KiB',
      '--messages',
      '20',
      '--sessions',
      '2',
      '--recipients',
      '5',
    ]);
    expect(code, stderr).toBe(0);
    expect(summary.totals.messages.accepted).toBe(20);
    // 200 KiB in 64 KiB chunks: 4 BDAT commands per message.
    expect(summary.replies.bdat).toEqual({ 250: 80 });
    expect(summary.replies.data).toBeUndefined();
    const seen = await logged(from, offset, 100);
    expect(seen.nrcpt).toEqual(new Array(20).fill(5));
    expect(seen.delivered).toBe(100);
  }, 200_000);

  /** Postfix's own view of each accepted message's client: `… smtpd[…]: QID: client=unknown[192.0.2.7]`. */
  async function clientsOf(from: string, offset: number, want: number): Promise<string[]> {
    const seen = await logged(from, offset, want);
    const ids = new Set(seen.lines.map((l) => new RegExp(`qmgr\\[\\d+\\]: ([0-9A-Za-z]+): from=<${escapeRegExp(from)}>`).exec(l)?.[1]).filter(Boolean));
    const clients: string[] = [];
    for (const l of seen.lines) {
      const m = /smtpd\[\d+\]: ([0-9A-Za-z]+): client=[^[]*\[([^\]]+)\]/.exec(l);
      if (m && ids.has(m[1])) clients.push(m[2]);
    }
    return clients.sort();
  }

  it('XCLIENT: Postfix records the announced client address for every message', async () => {
    const from = `xclient-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, stderr, summary } = await run('xclient', from, [
      '--target',
      LIMIT_TARGET,
      '--xclient',
      '--client-address',
      '192.0.2.10-192.0.2.11',
      '--messages',
      '4',
      '--sessions',
      '1',
      '--messages-per-session',
      '1',
    ]);
    expect(code, stderr).toBe(0);
    expect(summary.replies.xclient).toEqual({ 220: 4 });
    expect(await clientsOf(from, offset, 4)).toEqual(['192.0.2.10', '192.0.2.10', '192.0.2.11', '192.0.2.11']);
  }, 200_000);

  it.each(['v1', 'v2'])(
    'PROXY %s: Postfix takes the client address from the header',
    async (version) => {
      const from = `proxy${version}-${process.pid}@example.test`;
      const offset = await logSize(POSTFIX_LOG);
      const { code, stderr } = await run(`proxy-${version}`, from, [
        '--target',
        PROXY_TARGET,
        '--proxy',
        version,
        '--client-address',
        '198.51.100.7',
        '--messages',
        '3',
        '--sessions',
        '1',
        '--messages-per-session',
        '1',
      ]);
      expect(code, stderr).toBe(0);
      expect(await clientsOf(from, offset, 3)).toEqual(['198.51.100.7', '198.51.100.7', '198.51.100.7']);
    },
    200_000,
  );

  it('--source-ip: connections come from the loopback addresses in turn', async () => {
    const from = `srcip-${process.pid}@example.test`;
    const offset = await logSize(POSTFIX_LOG);
    const { code, stderr } = await run('srcip', from, ['--target', `smtp://${POSTFIX}`, '--source-ip', '127.0.0.2-127.0.0.4', '--messages', '6', '--sessions', '1', '--messages-per-session', '1']);
    expect(code, stderr).toBe(0);
    expect(await clientsOf(from, offset, 6)).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3', '127.0.0.4', '127.0.0.4']);
  }, 200_000);
});
