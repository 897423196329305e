/**
 * The realistic sink over real sockets (docs/reference-server.md "Realistic sink"): domain
 * policies drawn within binomial tolerance and replayed under a seed, per-domain counters, forced
 * local parts, rate limits, the per-client connection limit, and faults and policies changed at
 * run time over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveProfile, type ProfileInput } from '../src/profile/index.js';
import { startReferenceServer, type ReferenceServer } from '../src/server/server.js';
import { startStatsHttp } from '../src/server/stats-http.js';
import { ehloClient, greetedClient, rawClient, type RawClient } from './helpers/raw-client.js';

const servers: ReferenceServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const s of servers.splice(0)) await s.close();
});

async function serverWith(server: ProfileInput['server'], seed?: number): Promise<ReferenceServer> {
  const settings = resolveProfile({ server: { tls: { starttls: false }, ...server }, ...(seed === undefined ? {} : { seed }) }).server;
  const s = await startReferenceServer(settings, '127.0.0.1', 0);
  servers.push(s);
  return s;
}

/** One pipelined transaction with `rcpts` and RSET; returns the RCPT replies (code and text). */
async function rcptBatch(c: RawClient, rcpts: readonly string[]): Promise<{ code: number; text: string }[]> {
  const before = c.replies.length;
  c.write(`MAIL FROM:<s@example.test>\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join('')}RSET\r\n`);
  const r = await c.replyCount(before + rcpts.length + 2, 10_000);
  return r.slice(before + 1, before + 1 + rcpts.length).map((x) => ({ code: x.code, text: x.text.trimEnd() }));
}

/** 2,000 recipients: every 4th at other.test (no policy), the rest at gmail.test; 20 transactions of 100. */
const RCPTS = Array.from({ length: 2000 }, (_, i) => (i % 4 === 3 ? `u${i}@Other.Test` : `u${i}@gmail.test`));

async function sendAll(port: number): Promise<{ code: number; text: string }[]> {
  const c = await ehloClient(port);
  const out: { code: number; text: string }[] = [];
  for (let i = 0; i < RCPTS.length; i += 100) out.push(...(await rcptBatch(c, RCPTS.slice(i, i + 100))));
  c.end();
  return out;
}

const POLICY = { 'gmail.test': { defer: '10%', bounce: 0.02, replies: { defer: ['451 4.7.28 Rate limited, slow down'], bounce: ['550 5.1.1 No such user'] } } };

describe('domain policies', () => {
  it('defers 10 % and bounces 2 % of one domain within binomial tolerance; counts per domain match what was sent', async () => {
    const s = await serverWith({ domains: POLICY }, 7);
    const got = await sendAll(s.port);
    const gmail = got.filter((_, i) => i % 4 !== 3);
    const other = got.filter((_, i) => i % 4 === 3);
    const n = gmail.length;
    const deferred = gmail.filter((r) => r.code === 451).length;
    const bounced = gmail.filter((r) => r.code === 550).length;
    // 4.5 standard deviations of the binomial count.
    const within = (k: number, p: number) => expect(Math.abs(k - n * p)).toBeLessThanOrEqual(4.5 * Math.sqrt(n * p * (1 - p)));
    within(deferred, 0.1);
    within(bounced, 0.02);
    expect(deferred + bounced + gmail.filter((r) => r.code === 250).length).toBe(n);
    expect(gmail.filter((r) => r.code === 451).every((r) => r.text === '451 4.7.28 Rate limited, slow down')).toBe(true);
    expect(other.every((r) => r.code === 250)).toBe(true);
    // The server's own counts, per lower-cased domain, equal what the client saw.
    const domains = s.metrics.domains.snapshot();
    expect(domains['gmail.test']).toMatchObject({ accepted: n - deferred - bounced, deferred, rejected: bounced });
    expect(domains['other.test']).toMatchObject({ accepted: other.length, deferred: 0, rejected: 0 });
    expect(s.metrics.counters).toMatchObject({ policyDeferrals: deferred, policyBounces: bounced });
    const stats = await s.close();
    servers.splice(servers.indexOf(s), 1);
    expect(stats.domains['gmail.test'].deferred).toBe(deferred);
  });

  it('draws the same outcomes under the same seed, and others under another', async () => {
    const [a, b, c] = [await serverWith({ domains: POLICY }, 42), await serverWith({ domains: POLICY }, 42), await serverWith({ domains: POLICY }, 43)];
    const codes = async (s: ReferenceServer) => (await sendAll(s.port)).map((r) => r.code).join(',');
    const [ca, cb, cc] = [await codes(a), await codes(b), await codes(c)];
    expect(ca).toBe(cb);
    expect(cc).not.toBe(ca);
  });

  it('picks the most specific pattern: exact, then the longest wildcard, then *', async () => {
    const s = await serverWith({
      domains: {
        'a.example.test': { bounce: 1 },
        '*.example.test': { defer: 1, replies: { defer: ['452 4.2.2 Mailbox full'] } },
        '*.deep.example.test': {},
        '*': { defer: 1, replies: { defer: ['450 4.7.1 Greylisted'] } },
      },
    });
    const c = await ehloClient(s.port);
    const r = await rcptBatch(c, ['x@a.example.test', 'x@b.example.test', 'x@x.deep.example.test', 'x@example.test', 'x@else.test']);
    // The exact domain bounces with a reply of the default pool (5xx); the others use their own.
    expect(r.map((x) => x.text.slice(0, 3))).toEqual([r[0].text.slice(0, 3), '452', '250', '450', '450']);
    expect(r[0].code).toBeGreaterThanOrEqual(550);
  });

  it('gives the outcome after the data with at: data-end, counting the recipient there', async () => {
    const s = await serverWith({ domains: { 'late.test': { bounce: '100%', at: 'data-end', replies: { bounce: ['554 5.7.1 Refused after data'] } } } });
    const c = await ehloClient(s.port);
    c.write('MAIL FROM:<s@example.test>\r\nRCPT TO:<a@late.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n');
    const r = await c.replyCount(4);
    expect(r.map((x) => x.code)).toEqual([250, 250, 354, 554]);
    expect(s.metrics.domains.snapshot()['late.test']).toMatchObject({ accepted: 1, dataRejected: 1 });
    expect(s.metrics.counters).toMatchObject({ messages: 0, messagesRejected: 1, policyBounces: 1 });
  });

  it('under LMTP draws a data-end outcome per recipient: one message refused for some, delivered to the rest (RFC 2033 §4.2)', async () => {
    const s = await serverWith({ lmtp: true, domains: { 'late.test': { defer: '50%', at: 'data-end', replies: { defer: ['452 4.2.2 Mailbox full'] } } } }, 7);
    const c = await greetedClient(s.port);
    c.write('LHLO client.example.test\r\n');
    await c.replyCount(2);
    const rcpts = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? `o${i}@other.test` : `u${i}@late.test`));
    const before = c.replies.length;
    c.write(`MAIL FROM:<s@example.test>\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join('')}DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n`);
    const all = await c.replyCount(before + 1 + rcpts.length + 1 + rcpts.length, 10_000);
    const finals = all.slice(before + 2 + rcpts.length).map((x) => x.code);
    expect(finals).toHaveLength(40);
    const late = finals.filter((_, i) => i % 4 !== 0);
    expect(finals.filter((_, i) => i % 4 === 0).every((code) => code === 250)).toBe(true);
    const deferred = late.filter((code) => code === 452).length;
    expect(deferred + late.filter((code) => code === 250).length).toBe(30);
    // 30 draws at 50 %: between 5 and 25 deferred is beyond doubt (p < 1e-4 outside).
    expect(deferred).toBeGreaterThanOrEqual(5);
    expect(deferred).toBeLessThanOrEqual(25);
    expect(s.metrics.domains.snapshot()['late.test']).toMatchObject({ accepted: 30, dataDeferred: deferred });
    expect(s.metrics.counters).toMatchObject({ messages: 1, recipients: 40 - deferred, policyDeferrals: deferred });
  });

  it('limits recipients: 451 4.7.1 past a bucket of 5 per 10 s', async () => {
    const s = await serverWith({ domains: { 'slow.test': { rate: { recipients: 5, per: '10s' } } } });
    const c = await ehloClient(s.port);
    const r = await rcptBatch(
      c,
      Array.from({ length: 8 }, (_, i) => `r${i}@slow.test`),
    );
    expect(r.map((x) => x.code)).toEqual([250, 250, 250, 250, 250, 451, 451, 451]);
    expect(r[5].text).toBe('451 4.7.1 Too many recipients for this domain; slow down and try again later');
    expect(s.metrics.counters.rateLimited).toBe(3);
  });

  it('refills to the millisecond: 1 recipient per 10 ms passes recipients 15 ms apart (hostile review of issue 15, B1)', async () => {
    const s = await serverWith({ domains: { 'fast.test': { rate: { recipients: 1, per: '10ms' } } } });
    const c = await ehloClient(s.port);
    let accepted = 0;
    for (let i = 0; i < 40; i++) {
      if ((await rcptBatch(c, [`r${i}@fast.test`]))[0].code === 250) accepted++;
      await new Promise((r) => setTimeout(r, 15));
    }
    // On the server's 100 ms coarse clock at most one a tick would pass: about 7 of these 40.
    expect(accepted).toBeGreaterThanOrEqual(36);
  });

  it('limits messages: a transaction takes one token for all its recipients there; past the bucket every one of them is 451', async () => {
    const s = await serverWith({ domains: { 'slow.test': { rate: { messages: 2, per: '10s' } } } });
    const c = await ehloClient(s.port);
    const fanOut = ['a', 'b', 'c', 'd'].map((l) => `${l}@slow.test`);
    expect((await rcptBatch(c, fanOut)).map((x) => x.code)).toEqual([250, 250, 250, 250]);
    // Another domain in the same transaction is not limited by slow.test's bucket.
    expect((await rcptBatch(c, [...fanOut, 'x@other.test'])).map((x) => x.code)).toEqual([250, 250, 250, 250, 250]);
    const third = await rcptBatch(c, ['x@other.test', ...fanOut]);
    expect(third.map((x) => x.code)).toEqual([250, 451, 451, 451, 451]);
    expect(third[1].text).toBe('451 4.7.1 Too many messages for this domain; slow down and try again later');
    expect(s.metrics.counters.rateLimited).toBe(4);
  });

  it('limits connections: past the bucket the first recipient there is 421 4.7.0 and the connection closes', async () => {
    const s = await serverWith({ domains: { 'slow.test': { rate: { connections: 1, per: '10s' } } } });
    const first = await ehloClient(s.port);
    // One session, many transactions: one token.
    for (let i = 0; i < 3; i++) expect((await rcptBatch(first, ['a@slow.test', 'b@slow.test'])).map((x) => x.code)).toEqual([250, 250]);
    const second = await ehloClient(s.port);
    // Other domains pass; the first recipient at slow.test ends the session.
    second.write('MAIL FROM:<s@example.test>\r\nRCPT TO:<x@other.test>\r\nRCPT TO:<a@slow.test>\r\nRCPT TO:<b@slow.test>\r\n');
    const replies = await second.replyCount(second.replies.length + 3, 5000);
    expect(replies.slice(-3).map((x) => x.code)).toEqual([250, 250, 421]);
    expect(replies.at(-1)!.text).toMatch(/^421 4\.7\.0 Too many connections for this domain; closing connection/);
    await second.closedByServer(5000);
    expect(s.metrics.counters.rateLimited).toBe(1);
  });

  it('holds RCPT replies by the domain latency', async () => {
    const s = await serverWith({ domains: { 'lag.test': { latency: '150ms' } } });
    const c = await ehloClient(s.port);
    const t0 = performance.now();
    await rcptBatch(c, ['a@lag.test']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });
});

describe('forced outcomes by local part', () => {
  it('tempfail@ 451, permfail@ 550 5.1.1, slow@ waits, any case; counted per domain', async () => {
    const s = await serverWith({ forced: { slowMs: '300ms' }, countDomains: true });
    const c = await ehloClient(s.port);
    const t0 = performance.now();
    const r = await rcptBatch(c, ['TempFail@x.test', 'permfail@x.test', 'SLOW@x.test', 'ok@x.test']);
    expect(r.map((x) => x.code)).toEqual([451, 550, 250, 250]);
    expect(r[1].text).toMatch(/^550 5\.1\.1 /);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295);
    expect(s.metrics.domains.snapshot()['x.test']).toMatchObject({ accepted: 2, deferred: 1, rejected: 1 });
    expect(s.metrics.counters.forcedOutcomes).toBe(3);
  });

  it('disconnect@ closes without a reply', async () => {
    const s = await serverWith({});
    const c = await ehloClient(s.port);
    c.write('MAIL FROM:<s@example.test>\r\nRCPT TO:<disconnect@x.test>\r\n');
    await c.closedByServer(5000);
    expect(c.replies.map((x) => x.code)).toEqual([250]);
  });

  it('are ordinary mailboxes with forced: false', async () => {
    const s = await serverWith({ forced: false });
    const c = await ehloClient(s.port);
    const r = await rcptBatch(c, ['tempfail@x.test', 'permfail@x.test', 'disconnect@x.test']);
    expect(r.map((x) => x.code)).toEqual([250, 250, 250]);
  });
});

describe('per-client connection limit', () => {
  it('refuses a third connection from one address with 421 4.7.0, and counts it', async () => {
    const s = await serverWith({ maxConnectionsPerClient: 2 });
    const a = await greetedClient(s.port);
    const b = await greetedClient(s.port);
    const c = await rawClient(s.port);
    const r = await c.replyCount(1);
    expect(r[0].text).toMatch(/^421 4\.7\.0 /);
    await c.closedByServer(5000);
    expect(s.metrics.counters.refusedPerClient).toBe(1);
    a.write('QUIT\r\n');
    await a.closedByServer(5000);
    // The slot is free again once a connection has closed.
    await new Promise((res) => setTimeout(res, 50));
    const d = await greetedClient(s.port);
    expect(d.replies[0].code).toBe(220);
    b.end();
    d.end();
  });
});

describe('run-time changes over HTTP', () => {
  async function withHttp(server: ProfileInput['server']) {
    const s = await serverWith(server);
    const web = await startStatsHttp(s.metrics, '127.0.0.1', 0, performance.now(), () => [], s.control);
    closers.push(() => web.close());
    const url = `http://127.0.0.1:${web.port}`;
    const call = async (method: string, path: string, body?: string) => {
      const res = await fetch(`${url}${path}`, { method, body });
      return { status: res.status, text: await res.text() };
    };
    return { s, call };
  }

  it('PUT /faults during traffic changes the next replies; an invalid PUT is 400 and changes nothing', async () => {
    const { s, call } = await withHttp({});
    const c = await ehloClient(s.port);
    /** RCPTs one at a time, every 20 ms, for `ms`: each with the time its reply came. */
    const traffic = async (ms: number) => {
      const out: { atMs: number; code: number }[] = [];
      const end = performance.now() + ms;
      for (let i = 0; i < 1000 && performance.now() < end; i++) {
        const [r] = await rcptBatch(c, [`t${i}@x.test`]);
        out.push({ atMs: performance.now(), code: r.code });
        await new Promise((res) => setTimeout(res, 20));
      }
      return out;
    };
    const running = traffic(2500);
    await new Promise((res) => setTimeout(res, 700));
    const bad = await call('PUT', '/faults', 'rcpt: reply 250 fine\nrcpt: delay fast');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('faults.0.reply: expected a 4xx or 5xx reply');
    expect(bad.text).toContain('faults.1.delay');
    expect(JSON.parse((await call('GET', '/faults')).text)).toEqual([]);
    const beforePut = performance.now();
    const wallBefore = Date.now();
    const put = await call('PUT', '/faults', '# the sink is saturated\nrcpt: 451 4.7.1 Try again later\n');
    const afterPut = performance.now();
    expect(put.status).toBe(200);
    expect(JSON.parse(put.text)).toEqual(['rcpt: reply 451 4.7.1 Try again later']);
    const replies = await running;
    const early = replies.filter((r) => r.atMs < beforePut);
    const late = replies.filter((r) => r.atMs > afterPut + 50);
    expect(early.length).toBeGreaterThan(5);
    expect(early.every((r) => r.code === 250)).toBe(true);
    expect(late.length).toBeGreaterThan(5);
    expect(late.every((r) => r.code === 451)).toBe(true);
    // The change is in the statistics, with its wall-clock time.
    const stats = JSON.parse((await call('GET', '/stats')).text);
    expect(stats.changes).toHaveLength(1);
    expect(stats.changes[0]).toMatchObject({ target: 'faults', action: 'set', what: 'rcpt: reply 451 4.7.1 Try again later' });
    expect(stats.changes[0].atMs).toBeGreaterThanOrEqual(wallBefore);
    expect((await call('DELETE', '/faults')).status).toBe(200);
    const [after] = await rcptBatch(c, ['z@x.test']);
    expect(after.code).toBe(250);
    c.end();
  });

  it('accepts a JSON list of fault SPECs and mappings', async () => {
    const { call } = await withHttp({});
    const put = await call('PUT', '/faults', JSON.stringify(['data-end: delay 20ms', { command: 'mail', reply: '421 4.3.2 Busy', probability: '5%' }]));
    expect(put.status).toBe(200);
    expect(JSON.parse(put.text)).toEqual(['data-end: delay 20ms', 'mail: reply 421 4.3.2 Busy @ 5%']);
    expect((await call('PUT', '/faults', '[1, 2')).status).toBe(400);
    // One mapping alone is one fault (hostile review of issue 15, N6).
    const one = await call('PUT', '/faults', JSON.stringify({ command: 'rcpt', reply: '450 4.2.1 Busy' }));
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text)).toEqual(['rcpt: reply 450 4.2.1 Busy']);
    // An empty body is a forgotten -d, not a clear (that is DELETE): 400, nothing changes.
    const empty = await call('PUT', '/faults', '');
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('use DELETE /faults');
  });

  it('PUT /domains swaps the policies (GET returns what PUT takes); an invalid one is 400 naming the field', async () => {
    const { s, call } = await withHttp({});
    const c = await ehloClient(s.port);
    expect((await rcptBatch(c, ['a@gmail.test']))[0].code).toBe(250);
    const bad = await call('PUT', '/domains', JSON.stringify({ '*.gmail.test': { defer: '150%' }, 'x.test': { replies: { defer: ['550 5.1.1 No'] } } }));
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('domains."*.gmail.test".defer: must be at most 100 %');
    expect(bad.text).toContain('domains."x.test".replies.defer.0: a 550 reply is not a deferral (4xx)');
    expect(JSON.parse((await call('GET', '/domains')).text)).toEqual({});
    const put = await call('PUT', '/domains', JSON.stringify({ 'gmail.test': { bounce: 1, replies: { bounce: ['550 5.7.1 Policy'] } } }));
    expect(put.status).toBe(200);
    const shown = JSON.parse((await call('GET', '/domains')).text);
    expect(shown['gmail.test']).toMatchObject({ bounce: '100%', defer: '0%', at: 'rcpt' });
    // What GET shows, PUT takes back unchanged.
    expect((await call('PUT', '/domains', JSON.stringify(shown))).status).toBe(200);
    expect((await rcptBatch(c, ['b@gmail.test']))[0].text).toBe('550 5.7.1 Policy');
    const stats = JSON.parse((await call('GET', '/stats')).text);
    expect(stats.domains['gmail.test']).toMatchObject({ accepted: 0, rejected: 1 });
    expect(stats.changes.map((ch: { target: string }) => ch.target)).toEqual(['domains', 'domains']);
    // The log names every setting that changes replies, never a bare "defer 0%" for a rate limit.
    expect(stats.changes[0].what).toBe('gmail.test defer 0% bounce 100% at rcpt bounce replies [550 5.7.1 Policy]');
    expect((await call('PUT', '/domains', JSON.stringify({ 'o.test': { latency: '40ms', rate: { messages: 10, per: '1s' } } }))).status).toBe(200);
    const logged = JSON.parse((await call('GET', '/stats')).text).changes.at(-1).what;
    expect(logged).toBe('o.test defer 0% bounce 0% at rcpt latency 40ms rate 10 messages per 1000 ms');
    expect((await call('POST', '/domains', '{}')).text).toContain('POST is not allowed here');
    expect((await call('DELETE', '/domains')).status).toBe(200);
    expect((await rcptBatch(c, ['c@gmail.test']))[0].code).toBe(250);
    c.end();
  });

  it('a PUT /domains that leaves a rate as it was keeps its bucket: no fresh burst (hostile review of issue 15, B2)', async () => {
    const { s, call } = await withHttp({});
    const c = await ehloClient(s.port);
    const limited = { 'slow.test': { rate: { recipients: 2, per: '1h' } } };
    expect((await call('PUT', '/domains', JSON.stringify(limited))).status).toBe(200);
    expect((await rcptBatch(c, ['a@slow.test', 'b@slow.test'])).map((r) => r.code)).toEqual([250, 250]);
    // Another pattern's edit, then this one's own share: the bucket stays empty.
    expect((await call('PUT', '/domains', JSON.stringify({ ...limited, 'other.test': { defer: '5%' } }))).status).toBe(200);
    expect((await call('PUT', '/domains', JSON.stringify({ 'slow.test': { defer: '0%', rate: { recipients: 2, per: '1h' } } }))).status).toBe(200);
    expect((await rcptBatch(c, ['c@slow.test']))[0].code).toBe(451);
    // A new rate is a new bucket.
    expect((await call('PUT', '/domains', JSON.stringify({ 'slow.test': { rate: { recipients: 3, per: '1h' } } }))).status).toBe(200);
    expect((await rcptBatch(c, ['d@slow.test']))[0].code).toBe(250);
    c.end();
  });
});
