/**
 * Weighted recipient domains and failure replies end to end (issue 15 items 5 and 6): a run
 * against the embedded reference server with an RCPT fault and two weighted domains; the
 * per-domain table and the distinct failure replies in summary.json, report.md and report.html.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, runProfileLines, summaryOf, tmp } from './helpers/cli.js';

/** |observed − expected| within 4.5 binomial standard deviations. */
function withinBinomial(observed: number, n: number, p: number): void {
  expect(Math.abs(observed - n * p), `${observed} of ${n} against p = ${p}`).toBeLessThan(4.5 * Math.sqrt(n * p * (1 - p)));
}

describe('weighted recipient domains and failure replies', () => {
  it('counts RCPT outcomes per domain and lists the fault text, in summary.json and every report', async () => {
    const { r, out } = await runProfileLines([
      'messages: 2000',
      'sessions: 4',
      'workers: 2',
      'seed: 7',
      'message: {recipients: 2}',
      'envelope: {to: {local: "rcpt{n}", domains: {"gmail.test": 75, "yahoo.test": 25}}}',
      'server: {faults: ["rcpt: reply 450 4.2.1 Mailbox busy @ 20%"]}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(out);
    const domains = s.totals.domains as Record<string, { accepted: number; deferred: number; rejected: number }>;
    expect(Object.keys(domains).sort()).toEqual(['gmail.test', 'yahoo.test']);
    const all = (d: { accepted: number; deferred: number; rejected: number }): number => d.accepted + d.deferred + d.rejected;
    const rcpts = all(domains['gmail.test']) + all(domains['yahoo.test']);
    // Every RCPT reply is counted under its domain, once.
    const replies = s.replies.rcpt as Record<string, number>;
    expect(rcpts).toBe(Object.values(replies).reduce((a, n) => a + n, 0));
    expect(domains['gmail.test'].deferred + domains['yahoo.test'].deferred).toBe(replies['450']);
    expect(domains['gmail.test'].rejected + domains['yahoo.test'].rejected).toBe(0);
    withinBinomial(all(domains['gmail.test']), rcpts, 0.75);
    withinBinomial(replies['450'], rcpts, 0.2);
    // The fault's text, counted as often as its code.
    expect(s.failureReplies.rcpt).toEqual({ '450 4.2.1 Mailbox busy': replies['450'] });
    expect(s.profile.envelope.domains).toEqual([
      { domain: 'gmail.test', weight: 75 },
      { domain: 'yahoo.test', weight: 25 },
    ]);
    // With the server's own per-domain counts (summary.json server.domains), the two agree.
    // RCPT replies only: the server also counts refusals after the data (dataDeferred, dataRejected).
    const serverRcpt = Object.fromEntries(
      Object.entries(s.server.domains as Record<string, { accepted: number; deferred: number; rejected: number }>).map(([d, c]) => [
        d,
        { accepted: c.accepted, deferred: c.deferred, rejected: c.rejected },
      ]),
    );
    expect(serverRcpt).toEqual(domains);

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Recipient domains');
    const g = domains['gmail.test'];
    expect(md).toContain(`| gmail.test | ${all(g)} | ${g.accepted} | ${g.deferred} | 0 |`);
    expect(md).toContain('## Failure replies');
    expect(md).toContain(`| rcpt | ${replies['450']} | \`450 4.2.1 Mailbox busy\` |`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<table id="domains">');
    expect(html).toContain('<table id="failure-replies">');
    expect(html).toContain('450 4.2.1 Mailbox busy');
  });

  it('counts RCPTs answered 421 by a domain connection limit as closed, on both sides and in the table (hostile review of issue 15, M1)', async () => {
    const { r, out } = await runProfileLines([
      'messages: 40',
      'messagesPerSession: 1',
      'sessions: 2',
      'workers: 1',
      'message: {recipients: 1}',
      'envelope: {to: {domains: {"rl.test": 1}}}',
      'server: {domains: {"rl.test": {rate: {connections: 3, per: 1h}}}}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(out);
    const client = s.totals.domains['rl.test'];
    expect(client.accepted).toBe(3);
    expect(client.closed).toBeGreaterThan(0);
    expect(client.closed + client.accepted).toBe(s.totals.recipients.attempted);
    expect({ accepted: s.server.domains['rl.test'].accepted, closed: s.server.domains['rl.test'].closed }).toEqual({ accepted: client.accepted, closed: client.closed });
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('RCPT 421 (closed)');
    expect(md).toContain(`| rl.test | ${client.accepted + client.closed} | 3 | 0 | 0 | 0.0 % | 0.0 % | ${client.closed} |`);
  });

  it('--domain: the same run from flags; a bad domain or weight exits 2 naming the field', async () => {
    const out = join(tmp(), 'out');
    const r = await cli(['run', '--messages', '300', '--domain', 'gmail.test:3', '--domain', 'outlook.test:1', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(summaryOf(out).totals.domains).sort()).toEqual(['gmail.test', 'outlook.test']);
    expect(r.stdout + r.stderr).toContain('outlook.test');
    const bad = await cli(['run', '--messages', '10', '--domain', 'bad domain:1', '--domain', 'zero.test:0', '--out', join(tmp(), 'x'), '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('envelope.to.domains."bad domain"');
    expect(bad.stderr).toContain('envelope.to.domains."zero.test"');
  });

  it('a 452 that is a mailbox status (4.2.2 mailbox full) defers that recipient only: no learnt cap, one transaction per message (hostile review of issue 15)', async () => {
    const { r, out } = await runProfileLines([
      'messages: 500',
      'sessions: 2',
      'workers: 1',
      'seed: 1',
      'message: {recipients: 3}',
      'envelope: {to: {local: "rcpt{n}", domains: {"gmail.test": 1}}}',
      'server: {domains: {"gmail.test": {defer: 20%, replies: {defer: ["452 4.2.2 Mailbox full"]}}}}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(out);
    expect(s.totals.transactions).toBe(500);
    expect(s.totals.recipients.learnedCap ?? null).toBeNull();
    const g = s.totals.domains['gmail.test'];
    expect(g.accepted + g.deferred).toBe(1500);
    withinBinomial(g.deferred, 1500, 0.2);
    expect({ ...s.server.domains['gmail.test'], dataDeferred: undefined, dataRejected: undefined }).toEqual({ ...g, dataDeferred: undefined, dataRejected: undefined });
  });
});
