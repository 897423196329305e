/**
 * Tests of the corpus runner itself, against tiny scripted fake servers on 127.0.0.1:0. The
 * point is to prove the runner can FAIL: a runner that passes everything proves nothing about
 * the server it is pointed at.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  entryMatches,
  expandMacros,
  matchesClientPattern,
  normaliseAlternatives,
  parseClientSteps,
  runServerCase,
  startScriptServer,
  startTestServer,
  type CorpusCase,
  type TestServer,
} from './runner.js';

/** What the fake server does with one command line (CRLF removed). */
type Answer = (line: string, socket: net.Socket) => void;

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/**
 * A fake SMTP server: sends `greeting` (unless null), then calls `answer` for each CRLF line.
 * `log` collects every chunk it received, so tests can see how the runner wrote.
 */
async function fake(answer: Answer, greeting: string | null = '220 fake ESMTP\r\n', log: Buffer[] = []): Promise<TestServer> {
  const srv = await startTestServer((s) => {
    let buf = '';
    if (greeting !== null) s.write(greeting);
    s.on('data', (d: Buffer) => {
      log.push(d);
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i !== -1; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        answer(line, s);
      }
    });
  });
  servers.push(srv);
  return srv;
}

/** A well-behaved answer: EHLO multi-line, QUIT 221 + close, everything else 250 (or `codes[verb]`). */
const smtp =
  (codes: Record<string, string> = {}): Answer =>
  (line, s) => {
    const verb = line.slice(0, 4).toUpperCase();
    if (codes[verb]) return void s.write(`${codes[verb]} scripted\r\n`);
    if (verb === 'EHLO') return void s.write('250-fake\r\n250-PIPELINING\r\n250 SIZE 1000\r\n');
    if (verb === 'QUIT') return void s.end('221 bye\r\n');
    s.write('250 ok\r\n');
  };

const kase = (client: string, expectation: CorpusCase['expect'], extra: Partial<CorpusCase> = {}): CorpusCase => ({
  id: 'T-01',
  topic: 'test',
  title: 'runner self-test',
  client,
  expect: expectation,
  ...extra,
});

const BASIC = 'EHLO client.example\r\n{{WAIT}}NOOP\r\nQUIT\r\n';

describe('runServerCase', () => {
  it('passes a server that answers correctly (multi-line EHLO counts once, 221 implies the close)', async () => {
    const srv = await fake(smtp());
    const r = await runServerCase(kase(BASIC, ['220', '250', '250', '221']), srv.host, srv.port);
    expect(r.reason).toBeUndefined();
    expect(r).toMatchObject({ pass: true, replies: ['220', '250', '250', '221', 'CLOSE'] });
  });

  it('fails a server that answers a wrong code, at once (early fail, not by timeout)', async () => {
    const srv = await fake(smtp({ NOOP: '500' }));
    const t = Date.now();
    const r = await runServerCase(kase(BASIC, ['220', '250', '250', '221']), srv.host, srv.port);
    expect(r.pass).toBe(false);
    expect(r.reason).toMatch(/match no alternative/);
    // Replies that arrived in the same poll interval are reported too; the first three decide.
    expect(r.replies.slice(0, 3)).toEqual(['220', '250', '500']);
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('fails a silent server by timeout, quickly with a short timeout', async () => {
    const srv = await fake(() => {}, null);
    const t = Date.now();
    const r = await runServerCase(kase(BASIC, ['220', '250', '250', '221']), srv.host, srv.port, { timeoutMs: 300 });
    expect(r.pass).toBe(false);
    expect(r.reason).toMatch(/timed out before the client steps/);
    expect(Date.now() - t).toBeLessThan(1500);
  });

  it('fails when a reply is missing at the end (server goes quiet)', async () => {
    const srv = await fake((line, s) => void (line.startsWith('EHLO') && s.write('250 ok\r\n')));
    const r = await runServerCase(kase(BASIC, ['220', '250', '250', '221']), srv.host, srv.port, { timeoutMs: 1500 });
    expect(r.pass).toBe(false);
    expect(r.reason).toMatch(/timed out/);
  });

  it('fails an extra reply after a complete match (nothing extra)', async () => {
    const srv = await fake((line, s) => {
      if (line.startsWith('QUIT')) return void s.end('221 bye\r\n');
      s.write('250 ok\r\n250 duplicate\r\n');
    });
    const r = await runServerCase(kase('NOOP\r\nQUIT\r\n', ['220', '250', '221']), srv.host, srv.port);
    expect(r.pass).toBe(false);
    expect(r.replies.slice(0, 3)).toEqual(['220', '250', '250']);
  });

  it('fails a 221 that is not followed by the close', async () => {
    const srv = await fake((line, s) => void s.write(line.startsWith('QUIT') ? '221 bye but stays\r\n' : '250 ok\r\n'));
    const r = await runServerCase(kase('QUIT\r\n', ['220', '221']), srv.host, srv.port, { timeoutMs: 3000 });
    expect(r.pass).toBe(false);
    expect(r.replies).toEqual(['220', '221']);
  });

  it('matches alternatives, 5xx / a|b entries, and an explicit CLOSE after 421', async () => {
    const srv = await fake((_line, s) => void s.end('421 go away\r\n'));
    const c = kase('FOO\r\n', [
      ['220', '500', '221'],
      ['220', '5xx|421', 'CLOSE'],
    ]);
    const r = await runServerCase(c, srv.host, srv.port);
    expect(r).toMatchObject({ pass: true, replies: ['220', '421', 'CLOSE'] });
    // Same server, but the case did not allow a close: fails.
    const r2 = await runServerCase(kase('FOO\r\n', ['220', '421']), srv.host, srv.port);
    expect(r2.pass).toBe(false);
  });

  it('checks expect_text on the raw reply text, with not', async () => {
    const srv = await fake((_l, s) => void s.write('334 \r\n'));
    const ok = await runServerCase(kase('AUTH PLAIN\r\n', ['220', '334'], { expect_text: [{ reply_index: 1, regex: '^334 \\r\\n$' }] }), srv.host, srv.port);
    expect(ok.pass).toBe(true);
    const bad = await runServerCase(kase('AUTH PLAIN\r\n', ['220', '334'], { expect_text: [{ reply_index: 1, regex: '^334\\r\\n$' }] }), srv.host, srv.port);
    expect(bad).toMatchObject({ pass: false, reason: expect.stringMatching(/expect_text/) });
    const negated = await runServerCase(kase('AUTH PLAIN\r\n', ['220', '334'], { expect_text: [{ reply_index: 0, regex: 'FAKE', flags: 'i', not: true }] }), srv.host, srv.port);
    expect(negated.pass).toBe(false);
  });

  it('times replies from the first write of their exchange (max and min delay)', async () => {
    // Answers NOOP after 300 ms.
    const srv = await fake((line, s) => void setTimeout(() => s.write(line.startsWith('NOOP') ? '250 late\r\n' : '250 ok\r\n'), line.startsWith('NOOP') ? 300 : 0));
    const tooSlow = await runServerCase(kase('EHLO x\r\n{{WAIT}}NOOP\r\n', ['220', '250', '250'], { max_reply_delay_ms: [{ reply_index: 2, ms: 200 }] }), srv.host, srv.port);
    expect(tooSlow).toMatchObject({ pass: false, reason: expect.stringMatching(/max is 200/) });
    const minOk = await runServerCase(kase('EHLO x\r\n{{WAIT}}NOOP\r\n', ['220', '250', '250'], { min_reply_delay_ms: [{ reply_index: 2, ms: 250 }] }), srv.host, srv.port);
    expect(minOk.pass).toBe(true);
    expect(minOk.observed![2].delayMs).toBeGreaterThanOrEqual(250);
  });

  it('writes pipelined bytes in one write, SEG as its own write, TRICKLE one octet per write', async () => {
    const log: Buffer[] = [];
    const srv = await fake(smtp(), '220 fake\r\n', log);
    const r = await runServerCase(kase('NOOP\r\nNOOP\r\n{{SEG}}NO{{TRICKLE:20}}OP\r\n{{/TRICKLE}}QUIT\r\n', ['220', '250', '250', '250', '221']), srv.host, srv.port);
    expect(r.pass).toBe(true);
    const chunks = log.map((b) => b.toString('latin1'));
    expect(chunks.join('')).toBe('NOOP\r\nNOOP\r\nNOOP\r\nQUIT\r\n');
    // The pipelined pair is one write; the SEG's 'NO' may merge with the first trickled octet
    // (no sleep between them), but every later octet is its own write 20 ms apart.
    expect(chunks[0]).toBe('NOOP\r\nNOOP\r\n');
    expect(chunks.slice(-4)).toEqual(['P', '\r', '\n', 'QUIT\r\n']);
  });

  it('sends at once with NOGREET, and CLOSE ends without QUIT (server close after ours is not a CLOSE entry)', async () => {
    const log: Buffer[] = [];
    // Greets only after the first command: with NOGREET the runner must not wait for it.
    const srv = await startTestServer((s) => {
      s.once('data', (d: Buffer) => {
        log.push(d);
        s.write('220 late greeting\r\n250 ok\r\n');
      });
    });
    servers.push(srv);
    const r = await runServerCase(kase('{{NOGREET}}NOOP\r\n{{WAIT}}{{CLOSE}}', ['220', '250']), srv.host, srv.port, { timeoutMs: 2000 });
    expect(r).toMatchObject({ pass: true, replies: ['220', '250'] });
    expect(log[0].toString()).toBe('NOOP\r\n');
  });

  it('upgrades to TLS after a 220 to STARTTLS', async () => {
    const srv = await startTestServer((raw) => {
      raw.write('220 fake\r\n');
      raw.once('data', () => {
        raw.write('220 go ahead\r\n');
        const secure = new tls.TLSSocket(raw, { isServer: true, key: TLS_KEY, cert: TLS_CERT });
        secure.on('error', () => secure.destroy());
        secure.on('data', (d: Buffer) => {
          if (d.toString().startsWith('QUIT')) secure.end('221 bye over TLS\r\n');
          else secure.write('250 over TLS\r\n');
        });
      });
    });
    servers.push(srv);
    const r = await runServerCase(kase('STARTTLS\r\n{{TLS}}NOOP\r\n{{WAIT}}QUIT\r\n', ['220', '220', '250', '221']), srv.host, srv.port);
    expect(r.reason).toBeUndefined();
    expect(r.pass).toBe(true);
    expect(r.observed![3].raw).toBe('221 bye over TLS\r\n');
  });

  it('reports unknown directives and prose expectations as unsupported', async () => {
    expect(await runServerCase(kase('{{BOGUS}}', ['220']), '127.0.0.1', 1)).toMatchObject({ pass: false, unsupported: true });
    expect(await runServerCase(kase('QUIT\r\n', 'prose'), '127.0.0.1', 1)).toMatchObject({ pass: false, unsupported: true });
  });

  it('fails (does not throw) when nothing listens', async () => {
    const srv = await fake(() => {});
    const { port } = srv;
    await srv.close();
    servers.length = 0;
    const r = await runServerCase(kase('QUIT\r\n', ['220', '221']), '127.0.0.1', port);
    expect(r).toMatchObject({ pass: false, reason: expect.stringMatching(/connect failed/) });
  });
});

describe('format helpers', () => {
  it('expands REP with {i} and FILL', () => {
    expect(expandMacros('{{REP:3:R<{i}>\r\n}}X{{FILL:4:x}}.')).toBe('R<1>\r\nR<2>\r\nR<3>\r\nXxxxx.');
  });

  it('splits client bytes into steps', () => {
    expect(parseClientSteps('{{NOGREET}}A{{WAIT}}B{{SEG}}{{PAUSE:10}}{{TRICKLE:5}}CD{{/TRICKLE}}{{TLS}}{{CLOSE}}')).toEqual({
      noGreet: true,
      steps: [
        { kind: 'send', data: Buffer.from('A') },
        { kind: 'wait' },
        { kind: 'send', data: Buffer.from('B') },
        { kind: 'seg' },
        { kind: 'pause', ms: 10 },
        { kind: 'trickle', ms: 5, data: Buffer.from('CD') },
        { kind: 'tls' },
        { kind: 'close' },
      ],
    });
    expect(() => parseClientSteps('A{{NOGREET}}')).toThrow(/start/);
  });

  it('matches entries and implies the close after 221', () => {
    expect(entryMatches('503|554', '554')).toBe(true);
    expect(entryMatches('250|5xx', '552')).toBe(true);
    expect(entryMatches('5xx', '452')).toBe(false);
    expect(entryMatches('CLOSE', '221')).toBe(false);
    expect(normaliseAlternatives(['220', '221'])).toEqual([['220', '221', 'CLOSE']]);
    expect(
      normaliseAlternatives([
        ['220', '421', 'CLOSE'],
        ['220', '354'],
      ]),
    ).toEqual([
      ['220', '421', 'CLOSE'],
      ['220', '354'],
    ]);
  });

  it('matches client patterns with {{ANY}}', () => {
    expect(matchesClientPattern('MAIL FROM:<a>{{ANY}}\r\nDATA\r\n', Buffer.from('MAIL FROM:<a> SIZE=9\r\nDATA\r\n'))).toBe(true);
    expect(matchesClientPattern('MAIL FROM:<a>{{ANY}}\r\nDATA\r\n', Buffer.from('MAIL FROM:<b>\r\nDATA\r\n'))).toBe(false);
  });

  it('plays a mock server script with READ, READ:n, READDATA and SEG', async () => {
    const srv = await startScriptServer('220 hi\r\n{{READ}}250-a\r\n250 b{{SEG}}\r\n{{READ:2}}354 go\r\n{{READDATA}}221 bye\r\n');
    servers.push(srv);
    const r = await runServerCase(kase('EHLO x\r\n{{WAIT}}A\r\nB\r\n{{WAIT}}body\r\n.\r\n', ['220', '250', '354', '221']), srv.host, srv.port);
    expect(r.pass).toBe(true);
    expect(await srv.done).toEqual({ complete: true });
    expect(srv.received().toString()).toBe('EHLO x\r\nA\r\nB\r\nbody\r\n.\r\n');
    // The SEG split the EHLO reply into two writes.
    expect(srv.log.filter((e) => e.from === 'server').map((e) => e.data.toString())).toEqual(['220 hi\r\n', '250-a\r\n250 b', '\r\n', '354 go\r\n', '221 bye\r\n']);
  });
});

// Self-signed P-256 test certificate (CN=localhost, valid until 2126). Test use only.
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbG/c5uq0gXYiWqqg
t5ge7OgOX1vLxFoblrsKbyYwNH+hRANCAATiFYU0bIoRMz/xUw5nMiU1y0uvR6ff
FpMyT3hcy7fCJqL9gkBWXgkkprs5RBW1VUkOr9UkrZQgxknkS9u+Mo0p
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIUOXnEIoFWqSloIXC9qYRbpEavWxUwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEzMDA5NTI1M1oYDzIxMjYxMTA2
MDk1MjUzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATiFYU0bIoRMz/xUw5nMiU1y0uvR6ffFpMyT3hcy7fCJqL9gkBWXgkk
prs5RBW1VUkOr9UkrZQgxknkS9u+Mo0po1MwUTAdBgNVHQ4EFgQUwCVdOHrousmA
cYsCkz+cjuwCtKgwHwYDVR0jBBgwFoAUwCVdOHrousmAcYsCkz+cjuwCtKgwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiA/U87Fg07WwqpEoMuDaOqF
e0CzIkqwlmu/qhroBp+EIQIgU1yrA107Ts31d6wUTL8CXMBLgTMmmjQFT4bQu0jQ
7yE=
-----END CERTIFICATE-----
`;
