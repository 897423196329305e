/**
 * Reference-server features over real sockets beyond the corpus: AUTH mechanisms, STARTTLS,
 * BDAT split at every offset, refused local parts, and the protections (max connections,
 * timeouts, error threshold, bounded memory for a client that never reads).
 */
import { createHmac } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveProfile, type ProfileInput } from '../src/profile/index.js';
import { startReferenceServer, type ReferenceServer } from '../src/server/server.js';
import { authedClient, ehloClient, greetedClient, rawClient } from './helpers/raw-client.js';

const servers: ReferenceServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serverWith(server: ProfileInput['server'] = {}): Promise<ReferenceServer> {
  const s = await startReferenceServer(resolveProfile({ server }).server, '127.0.0.1', 0);
  servers.push(s);
  return s;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** With `server` settings, EHLO does not advertise `keyword` and `command` gets 502 (RFC 5321 §4.2.4). */
async function expectNotOffered(keyword: string, command: string, server: ProfileInput['server'] = {}): Promise<void> {
  const s = await serverWith(server);
  const c = await ehloClient(s.port);
  expect(c.all[1].text).not.toContain(keyword);
  c.write(`${command}\r\n`);
  expect((await c.replyCount(1))[0].code).toBe(502);
}
const ALICE = { users: { alice: 'secret' } };

describe('AUTH (RFC 4954)', () => {
  it('advertises the mechanisms only when accounts exist', async () => {
    await expectNotOffered('AUTH', 'AUTH PLAIN');
    const withUsers = await serverWith({ auth: ALICE });
    const d = await ehloClient(withUsers.port);
    expect(d.all[1].text).toContain('250-AUTH PLAIN LOGIN CRAM-MD5\r\n');
  });

  it('PLAIN: initial response, "=" for an empty one, bad password 535, bad base64 501', async () => {
    const s = await serverWith({ auth: ALICE });
    const c = await ehloClient(s.port);
    c.write(`AUTH PLAIN ${b64('\0alice\0wrong')}\r\nAUTH PLAIN =\r\nAUTH PLAIN !!!!\r\nAUTH PLAIN\r\n${b64('alice\0alice\0secret')}\r\n`);
    expect((await c.replyCount(5)).map((x) => x.code)).toEqual([535, 535, 501, 334, 235]);
  });

  it('LOGIN: user and password challenges, the user given as initial response', async () => {
    const s = await serverWith({ auth: ALICE });
    const c = await ehloClient(s.port);
    c.write(`AUTH LOGIN\r\n${b64('alice')}\r\n${b64('secret')}\r\n`);
    const r = await c.replyCount(3);
    expect(r.map((x) => x.text)).toEqual(['334 VXNlcm5hbWU6\r\n', '334 UGFzc3dvcmQ6\r\n', '235 2.7.0 Authentication successful\r\n']);
    const d = await ehloClient(s.port);
    d.write(`AUTH LOGIN ${b64('alice')}\r\n${b64('nope')}\r\n`);
    expect((await d.replyCount(2)).map((x) => x.code)).toEqual([334, 535]);
  });

  it('CRAM-MD5: HMAC over the challenge', async () => {
    const s = await serverWith({ auth: ALICE });
    const c = await ehloClient(s.port);
    c.write('AUTH CRAM-MD5\r\n');
    const challenge = Buffer.from((await c.replyCount(1))[0].text.slice(4).trim(), 'base64').toString();
    expect(challenge).toMatch(/^<[0-9a-f]+\.\d+@smtpbench\.invalid>$/);
    c.write(`${b64(`alice ${createHmac('md5', 'secret').update(challenge).digest('hex')}`)}\r\n`);
    expect((await c.replyCount(2))[1].code).toBe(235);
    const d = await ehloClient(s.port);
    d.write('AUTH CRAM-MD5\r\n');
    await d.replyCount(1);
    d.write(`${b64(`alice ${createHmac('md5', 'wrong').update('x').digest('hex')}`)}\r\n`);
    expect((await d.replyCount(2))[1].code).toBe(535);
  });

  it('requires AUTH before MAIL when configured (530), and refuses AUTH before EHLO and inside a transaction', async () => {
    const s = await serverWith({ auth: { ...ALICE, required: true } });
    const c = await ehloClient(s.port);
    c.write(`MAIL FROM:<a@example.test>\r\nAUTH PLAIN ${b64('\0alice\0secret')}\r\nMAIL FROM:<a@example.test>\r\nAUTH PLAIN =\r\n`);
    expect((await c.replyCount(4)).map((x) => x.code)).toEqual([530, 235, 250, 503]);
    const d = await greetedClient(s.port);
    d.write('AUTH PLAIN =\r\nAUTH NTLM\r\n');
    expect((await d.replyCount(3)).slice(1).map((x) => x.code)).toEqual([503, 503]);
  });

  it('answers an unknown mechanism with 504, and a malformed AUTH line with 501', async () => {
    const s = await serverWith({ auth: ALICE });
    const c = await ehloClient(s.port);
    c.write(`AUTH NTLM\r\nAUTH  PLAIN\r\nAUTH PLAIN a b\r\nAUTH ${'X'.repeat(21)}\r\n`);
    expect((await c.replyCount(4)).map((r) => r.code)).toEqual([504, 501, 501, 501]);
  });

  it('takes SASL lines of 12288 octets and fails AUTH on a longer one with 500 5.5.6 (RFC 4954 §4), then goes on', async () => {
    // Longer than maxCommandLine (4096): a SASL response is not a command line.
    const s = await serverWith({ auth: ALICE });
    const c = await ehloClient(s.port);
    const line = (n: number) => 'A'.repeat(n - 4) + 'AA==';
    c.write(`AUTH PLAIN\r\n${line(12288)}\r\nAUTH PLAIN\r\n${line(12292)}\r\nNOOP ${'x'.repeat(4200)}\r\nAUTH PLAIN\r\n=\r\nNOOP\r\n`);
    // `=` is an empty response only as AUTH's initial response: on a line of its own it is not base64.
    const r = await c.replyCount(8);
    expect(r.map((x) => x.code)).toEqual([334, 535, 334, 500, 500, 334, 501, 250]);
    expect(r[3].text).toBe('500 5.5.6 Authentication exchange line is too long\r\n');
    // Back to commands: the 4,200-octet NOOP is over maxCommandLine again.
    expect(r[4].text).toContain('Line too long');
    expect(s.metrics.counters.authFailures).toBe(1);
  });
});

describe('STARTTLS (RFC 3207)', () => {
  it('upgrades, forgets the session, and no longer offers STARTTLS', async () => {
    const s = await serverWith({ auth: ALICE });
    const c = await ehloClient(s.port);
    expect(c.all[1].text).toContain('250-STARTTLS\r\n');
    c.write(`AUTH PLAIN ${b64('\0alice\0secret')}\r\nSTARTTLS\r\n`);
    const r = await c.replyCount(2);
    expect(r[1].text).toBe('220 2.0.0 Ready to start TLS\r\n');
    await c.startTls();
    // RFC 3207 §4.2: the client must EHLO again; MAIL before that is out of sequence.
    c.write('MAIL FROM:<a@example.test>\r\nEHLO client.example\r\nSTARTTLS\r\nAUTH PLAIN =\r\nQUIT\r\n');
    const t = await c.replyCount(7);
    expect(t.slice(2).map((x) => x.code)).toEqual([503, 250, 503, 535, 221]);
    expect(t[3].text).not.toContain('STARTTLS');
    expect(s.metrics.counters.tlsUpgrades).toBe(1);
  });

  it('drops plaintext pipelined behind STARTTLS (CVE-2011-0411)', async () => {
    const s = await serverWith();
    const c = await ehloClient(s.port);
    c.write('STARTTLS\r\nMAIL FROM:<evil@example.test>\r\n');
    await c.replyCount(1);
    await c.startTls();
    c.write('EHLO client.example\r\nRCPT TO:<b@example.test>\r\nQUIT\r\n');
    const r = await c.replyCount(4);
    // The injected MAIL never ran: RCPT finds no transaction.
    expect(r.map((x) => x.code)).toEqual([220, 250, 503, 221]);
    expect(s.metrics.counters.discardedPlaintext).toBe('MAIL FROM:<evil@example.test>\r\n'.length);
  });

  it('answers 502 when STARTTLS is off, and does not offer it', async () => {
    await expectNotOffered('STARTTLS', 'STARTTLS', { tls: { starttls: false } });
  });
});

describe('BDAT (RFC 3030)', () => {
  const session =
    'EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT 16\r\nSubject: chunk\r\nBDAT 10\r\n\r\nHello.\r\nBDAT 0 LAST\r\n' +
    'BDAT 4 LAST\r\nNOOPMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT 6 LAST\r\nDATA\r\nQUIT\r\n';
  const expected = [220, 250, 250, 250, 250, 250, 250, 503, 250, 250, 250, 221];

  it('gives the same replies and counts with the session split at every offset', async () => {
    const s = await serverWith();
    const bytes = Buffer.from(session);
    for (let cut = 1; cut < bytes.length; cut++) {
      const c = await greetedClient(s.port);
      c.write(bytes.subarray(0, cut));
      await new Promise((r) => setImmediate(r));
      c.write(bytes.subarray(cut));
      const r = await c.replyCount(expected.length);
      expect(
        r.map((x) => x.code),
        `cut at ${cut}`,
      ).toEqual(expected);
      await c.closedByServer();
    }
    // Two messages per session: 26 octets, and the 6-octet chunk "DATA<CRLF>" (content, not a command).
    expect(s.metrics.counters.messages).toBe(2 * (bytes.length - 1));
    expect(s.metrics.counters.bytes).toBe(32 * (bytes.length - 1));
  });

  it('refuses a chunk over the size limit, fails the transaction, and still reads later chunks', async () => {
    const s = await serverWith({ maxMessageSize: 10 });
    const c = await ehloClient(s.port);
    c.write(`MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT 8\r\n12345678BDAT 8\r\n12345678BDAT 3 LAST\r\nNOONOOP\r\n`);
    expect((await c.replyCount(6)).map((x) => x.code)).toEqual([250, 250, 250, 552, 503, 250]);
    expect(s.metrics.counters).toMatchObject({ messages: 0, messagesRejected: 1 });
  });

  it('answers 501 to a malformed BDAT (skipping the chunk it announced, if any), and 554 with no recipient', async () => {
    const s = await serverWith();
    const c = await ehloClient(s.port);
    // `BDAT 1 FIRST` announced one octet (X): refused, and X is skipped, not read as a command.
    c.write('BDAT\r\nBDAT x\r\nBDAT 1 FIRST\r\nXMAIL FROM:<a@example.test>\r\nBDAT 2\r\nxxNOOP\r\n');
    expect((await c.replyCount(6)).map((x) => x.code)).toEqual([501, 501, 501, 250, 554, 250]);
  });
});

describe('command-line framing', () => {
  it('resyncs after an overlong line whose CRLF is split across segments, and runs the next command', async () => {
    const s = await serverWith();
    const c = await ehloClient(s.port);
    c.write(`NOOP ${'A'.repeat(5000)}\r`);
    await new Promise((r) => setTimeout(r, 100));
    c.write('\nNOOP\r\nQUIT\r\n');
    expect((await c.replyCount(3)).map((r) => r.code)).toEqual([500, 250, 221]);
  });

  it('joins a normal line whose CR and LF arrive in different segments', async () => {
    const s = await serverWith();
    const c = await ehloClient(s.port);
    c.write('NOOP\r');
    await new Promise((r) => setTimeout(r, 100));
    c.write('\nQUIT\r\n');
    expect((await c.replyCount(2)).map((r) => r.code)).toEqual([250, 221]);
  });
});

describe('HELP (RFC 5321 §4.1.1.8)', () => {
  it('lists the commands the configuration serves, as EHLO advertises them', async () => {
    const plain = await ehloClient((await serverWith({ tls: { starttls: false } })).port);
    plain.write('HELP\r\n');
    const basic = (await plain.replyCount(1))[0];
    expect(basic.code).toBe(214);
    expect(basic.text).toContain('MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP');
    for (const absent of ['EXPN', 'SEND', 'ATRN', 'XCLIENT', 'AUTH', 'STARTTLS']) expect(basic.text).not.toContain(absent);
    const rich = await ehloClient((await serverWith({ expn: { staff: ['a@example.test'] }, legacySend: 'mail', atrn: 'odmr', xclient: true, auth: ALICE })).port);
    rich.write('HELP\r\n');
    const all = (await rich.replyCount(1))[0].text;
    for (const present of ['EXPN', 'SEND SOML SAML', 'ATRN', 'XCLIENT', 'AUTH', 'STARTTLS']) expect(all).toContain(present);
  });
});

describe('refused local parts', () => {
  it('refuses listed local parts with 550 (ASCII case-insensitive), through source routes, and accepts others', async () => {
    const s = await serverWith({ refusedLocalParts: ['unknown'] });
    const c = await ehloClient(s.port);
    c.write(
      'MAIL FROM:<a@example.test>\r\nRCPT TO:<unknown@example.test>\r\nRCPT TO:<UnKnown@example.test>\r\n' +
        'RCPT TO:<@relay.example:unknown@example.test>\r\nRCPT TO:<unknownx@example.test>\r\nRCPT TO:<known@example.test>\r\n',
    );
    expect((await c.replyCount(6)).map((x) => x.code)).toEqual([250, 550, 550, 550, 250, 250]);
  });
});

describe('protection', () => {
  it('answers 421 over maxConnections and closes', async () => {
    const s = await serverWith({ maxConnections: 2 });
    const a = await rawClient(s.port);
    const b = await rawClient(s.port);
    await a.replyCount(1);
    await b.replyCount(1);
    const c = await rawClient(s.port);
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([421]);
    expect(s.metrics.counters.refusedConnections).toBe(1);
    a.end();
    await new Promise((r) => setTimeout(r, 50));
    const d = await rawClient(s.port);
    expect((await d.replyCount(1))[0].code).toBe(220);
  });

  it('refused connections never hold a slot, even when their clients keep them half-open', async () => {
    const s = await serverWith({ maxConnections: 1 });
    const a = await greetedClient(s.port);
    // Refused clients that never close their side.
    const refused = await Promise.all([rawClient(s.port), rawClient(s.port)]);
    for (const r of refused) expect((await r.replyCount(1))[0].code).toBe(421);
    a.write('QUIT\r\n');
    await a.closedByServer();
    await new Promise((r) => setTimeout(r, 50));
    const d = await rawClient(s.port);
    expect((await d.replyCount(1))[0].code).toBe(220);
    expect(s.metrics.counters.refusedConnections).toBe(2);
  });

  it('answers everything a half-closing client sent, then closes', async () => {
    const s = await serverWith({});
    const c = await greetedClient(s.port);
    c.write('EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: y\r\n\r\nhi\r\n.\r\nNOOP\r\n');
    c.socket.end(); // FIN after the last command, no QUIT
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([220, 250, 250, 250, 354, 250, 250]);
    expect(s.metrics.counters.messages).toBe(1);
  });

  it('closes an idle connection with 421 (one sweeper per server)', async () => {
    const s = await serverWith({ timeouts: { idle: '300ms' } });
    const c = await rawClient(s.port);
    await c.closedByServer(3000);
    expect(c.replies.map((x) => x.code)).toEqual([220, 421]);
    expect(c.replies[1].atMs - c.openedMs).toBeGreaterThanOrEqual(290);
    expect(s.metrics.counters.timeouts).toBe(1);
  });

  it('drops a connection whose TLS handshake never comes after the 220 to STARTTLS, at the idle timeout (hostile review of the split)', async () => {
    const s = await serverWith({ timeouts: { idle: '500ms' } });
    const c = await ehloClient(s.port);
    c.write('STARTTLS\r\n');
    await c.replyCount(1);
    expect(c.replies.map((x) => x.code)).toEqual([220]);
    const t0 = performance.now();
    // No ClientHello: an end() would wait out the handshake (the socket's 5 s fallback); the server drops it.
    await c.closedByServer(3000);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.metrics.counters.timeouts).toBe(1);
  });

  it('closes a connection that trickles one command line for too long, even while octets keep coming', async () => {
    const s = await serverWith({ timeouts: { idle: '10s', command: '400ms' } });
    const c = await greetedClient(s.port);
    const timer = setInterval(() => !c.closed && c.write('x'), 50);
    await c.closedByServer(3000);
    clearInterval(timer);
    expect(c.replies[1].text).toBe('421 4.4.2 Command line timeout, closing connection\r\n');
  });

  it('applies the command-line timeout to an overlong line being dropped, too', async () => {
    const s = await serverWith({ timeouts: { idle: '10s', command: '400ms' }, maxCommandLine: 600 });
    const c = await greetedClient(s.port);
    c.write('x'.repeat(1000));
    const timer = setInterval(() => !c.closed && c.write('x'), 50);
    await c.closedByServer(3000);
    clearInterval(timer);
    expect(c.replies[1].text).toBe('421 4.4.2 Command line timeout, closing connection\r\n');
  });

  it('hangs up with 421 after maxErrors protocol errors', async () => {
    const s = await serverWith({ maxErrors: 3 });
    const c = await rawClient(s.port);
    c.write('BOGUS\r\nRCPT TO:<a@b>\r\nVRFY\r\nNOOP\r\n');
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([220, 500, 503, 501, 421]);
  });

  it('stops reading from a client that pipelines without reading replies (bounded memory)', async () => {
    const s = await serverWith({ maxErrors: 0 });
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.pause(); // never read a reply
    const chunk = Buffer.from('NOOP\r\n'.repeat(10_000));
    const sent = 400 * 10_000; // 24 MB of commands, buffered on our side regardless of back-pressure
    for (let i = 0; i < 400; i++) sock.write(chunk);
    // Wait until the server has stopped answering (no new command for 300 ms).
    let answered = -1;
    for (let waited = 0; waited < 10_000 && answered !== s.metrics.counters.commands; waited += 300) {
      answered = s.metrics.counters.commands;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(answered).toBe(s.metrics.counters.commands);
    // Only what fits in the socket buffers was answered (14-octet replies): far fewer than were sent.
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(sent / 2);
    sock.destroy();
  });
});

describe('VRFY, EXPN and the legacy commands', () => {
  it('VRFY: 252 without a list; with one, 250 for listed mailboxes and 550 otherwise', async () => {
    const open = await serverWith();
    const c = await ehloClient(open.port);
    c.write('VRFY alice\r\n');
    expect((await c.replyCount(1))[0].code).toBe(252);
    const s = await serverWith({ vrfy: ['alice@example.test'] });
    const d = await ehloClient(s.port);
    d.write('VRFY <Alice@example.test>\r\nVRFY alice\r\nVRFY bob\r\n');
    expect((await d.replyCount(3)).map((x) => x.text)).toEqual(['250 2.1.5 <alice@example.test>\r\n', '250 2.1.5 <alice@example.test>\r\n', '550 5.1.1 Mailbox unknown\r\n']);
  });

  it('EXPN: 502 and not advertised without lists; with lists, a multi-line 250 or 550', async () => {
    await expectNotOffered('EXPN', 'EXPN staff');
    const s = await serverWith({ expn: { staff: ['a@example.test', 'b@example.test'] } });
    const d = await ehloClient(s.port);
    expect(d.all[1].text).toContain('250-EXPN\r\n');
    d.write('EXPN Staff\r\nEXPN nobody\r\n');
    const r = await d.replyCount(2);
    expect(r[0].text).toBe('250-2.1.5 <a@example.test>\r\n250 2.1.5 <b@example.test>\r\n');
    expect(r[1].code).toBe(550);
  });

  it('SEND/SOML/SAML: 502 by default; with legacySend: mail they open a transaction and are advertised', async () => {
    const s = await serverWith({ legacySend: 'mail' });
    const c = await ehloClient(s.port);
    expect(c.all[1].text).toContain('250-SEND\r\n250-SOML\r\n250-SAML\r\n');
    c.write('SOML FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nhi\r\n.\r\nSEND FROM:<a@example.test>\r\nMAIL FROM:<a@example.test>\r\n');
    expect((await c.replyCount(6)).map((x) => x.code)).toEqual([250, 250, 354, 250, 250, 503]);
    expect(s.metrics.counters.messages).toBe(1);
  });

  it('ATRN: 502 by default; with ODMR 530 before AUTH and 453 after; TURN is always 502', async () => {
    const def = await serverWith();
    const c = await ehloClient(def.port);
    c.write('ATRN\r\nTURN\r\n');
    expect((await c.replyCount(2)).map((x) => x.code)).toEqual([502, 502]);
    const s = await serverWith({ atrn: 'odmr', auth: ALICE });
    const d = await ehloClient(s.port);
    expect(d.all[1].text).toContain('250-ATRN\r\n');
    d.write('ATRN\r\n');
    expect((await d.replyCount(1))[0].code).toBe(530);
    const e = await authedClient(s.port, 'alice', 'secret');
    e.write('ATRN example.test\r\nTURN\r\n');
    expect((await e.replyCount(2)).map((x) => x.code)).toEqual([453, 502]);
  });
});

describe('LMTP (RFC 2033)', () => {
  it('takes LHLO (not HELO/EHLO) and answers once per accepted recipient after the data', async () => {
    const s = await serverWith({ lmtp: true, refusedLocalParts: ['unknown'], faults: [] });
    const c = await rawClient(s.port);
    expect((await c.replyCount(1))[0].text).toContain(' LMTP ');
    c.write('EHLO x\r\nLHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<unknown@example.test>\r\n' + 'RCPT TO:<c@example.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n');
    const r = await c.replyCount(11);
    expect(r.map((x) => x.code)).toEqual([220, 500, 250, 250, 250, 550, 250, 354, 250, 250, 221]);
    expect(s.metrics.counters).toMatchObject({ messages: 1, recipients: 2 });
  });

  it('draws data-end faults per recipient', async () => {
    const s = await serverWith({ lmtp: true, faults: ['data-end: 452 4.2.2 Mailbox full'] });
    const c = await rawClient(s.port);
    c.write('LHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nBDAT 2 LAST\r\nhi');
    expect((await c.replyCount(7)).slice(5).map((x) => x.code)).toEqual([452, 452]);
    expect(s.metrics.counters).toMatchObject({ messages: 0, messagesRejected: 1 });
  });
});

describe('implicit TLS (RFC 8314)', () => {
  it('greets inside TLS on the second port and does not offer STARTTLS there', async () => {
    const s = await serverWith({ tls: { port: 0 } });
    expect(s.tlsPort).toBeGreaterThan(0);
    const c = await greetedClient(s.tlsPort!, { tls: true });
    c.write('EHLO x\r\nSTARTTLS\r\nQUIT\r\n');
    const r = await c.replyCount(4);
    expect(r.map((x) => x.code)).toEqual([220, 250, 503, 221]);
    expect(r[1].text).not.toContain('STARTTLS');
  });

  it('answers everything a half-closing TLS client sent behind a held reply, then closes', async () => {
    const s = await serverWith({ tls: { port: 0 }, faults: ['mail: delay 100ms'] });
    const c = await greetedClient(s.tlsPort!, { tls: true });
    c.write('EHLO x\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: y\r\n\r\nhi\r\n.\r\nNOOP\r\n');
    c.socket.end();
    await c.closedByServer();
    expect(c.replies.map((x) => x.code)).toEqual([220, 250, 250, 250, 354, 250, 250]);
    expect(s.metrics.counters.messages).toBe(1);
  });
});

describe('delivery sink', () => {
  it('records arrival minus X-Smtpbench-Sent as the delivery histogram, for DATA and BDAT', async () => {
    const s = await serverWith();
    const c = await ehloClient(s.port);
    const sentUs = Math.round((performance.timeOrigin + performance.now()) * 1000) - 250_000; // "sent" 250 ms ago
    const msg = `X-Smtpbench-Sent: ${sentUs}\r\nSubject: x\r\n\r\nhi\r\n`;
    c.write(`MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n${msg}.\r\n`);
    c.write(`MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT ${msg.length} LAST\r\n${msg}`);
    c.write('MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: none\r\n.\r\n');
    await c.replyCount(11);
    const h = s.metrics.histograms.get('delivery')!;
    expect(h.totalCount).toBe(2);
    expect(h.minNonZeroValue).toBeGreaterThanOrEqual(250_000);
    expect(h.maxValue).toBeLessThan(250_000 + 2_000_000);
  });
});

describe('client identity: PROXY protocol and XCLIENT', () => {
  it('waits for a PROXY v1 header before greeting and records the proxied client', async () => {
    const s = await serverWith({ proxyProtocol: 'v1' });
    const c = await rawClient(s.port);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.replies).toEqual([]); // no greeting before the header
    c.write('PROXY TCP4 192.0.2.7 198.51.100.1 56316 25\r');
    c.write('\nEHLO client.example\r\nQUIT\r\n');
    expect((await c.replyCount(3)).map((x) => x.code)).toEqual([220, 250, 221]);
    expect(s.sessions()[0]).toMatchObject({
      peerAddress: '127.0.0.1',
      proxied: { sourceAddress: '192.0.2.7', sourcePort: 56316, destinationAddress: '198.51.100.1', destinationPort: 25 },
      helo: 'client.example',
    });
  });

  it('accepts a binary v2 header split across writes', async () => {
    const s = await serverWith({ proxyProtocol: 'any' });
    const c = await rawClient(s.port);
    const header = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0, 12, 10, 0, 0, 9, 10, 0, 0, 1, 0x30, 0x39, 0, 25]);
    c.write(header.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 30));
    c.write(Buffer.concat([header.subarray(5), Buffer.from('NOOP\r\n')]));
    expect((await c.replyCount(2)).map((x) => x.code)).toEqual([220, 250]);
    expect(s.sessions()[0].proxied).toMatchObject({ sourceAddress: '10.0.0.9', sourcePort: 12345 });
  });

  it('closes without a reply when the PROXY header is missing', async () => {
    const s = await serverWith({ proxyProtocol: 'v1' });
    const c = await rawClient(s.port);
    c.write('EHLO client.example\r\n');
    await c.closedByServer();
    expect(c.replies).toEqual([]);
    expect(s.metrics.counters.badProxyHeaders).toBe(1);
  });

  it('XCLIENT: advertised when on, 220 and a fresh session, identity recorded; 503 in a transaction, 501 for unknown attributes', async () => {
    const s = await serverWith({ xclient: true });
    const c = await ehloClient(s.port);
    expect(c.all[1].text).toContain('250-XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT\r\n');
    c.write('XCLIENT ADDR=203.0.113.5 NAME=mail+2Eexample.org PORT=4711 LOGIN=bob\r\nMAIL FROM:<a@example.test>\r\nEHLO other.example\r\n');
    c.write('MAIL FROM:<a@example.test>\r\nXCLIENT ADDR=1.2.3.4\r\nRSET\r\nXCLIENT COLOUR=red\r\nQUIT\r\n');
    expect((await c.replyCount(8)).map((x) => x.code)).toEqual([220, 503, 250, 250, 503, 250, 501, 221]);
    expect(s.sessions()[0]).toMatchObject({ xclient: { ADDR: '203.0.113.5', NAME: 'mail.example.org', PORT: '4711', LOGIN: 'bob' }, authUser: 'bob', helo: 'other.example' });
    await expectNotOffered('XCLIENT', 'XCLIENT ADDR=1.2.3.4');
  });

  it('records TLS, AUTH and delivered messages per session, newest first, in a bounded ring', async () => {
    const s = await serverWith({ sessionLog: 2, auth: ALICE });
    for (const name of ['one', 'two', 'three']) {
      const c = await greetedClient(s.port);
      c.write(`EHLO ${name}.example\r\nAUTH PLAIN ${b64('\0alice\0secret')}\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n`);
      await c.closedByServer();
    }
    const list = s.sessions();
    expect(list.map((x) => x.helo)).toEqual(['three.example', 'two.example']);
    expect(list[0]).toMatchObject({ id: 3, authUser: 'alice', messages: 1, recipients: 1, tls: false });
  });
});

describe('PROXY protocol on the implicit-TLS port', () => {
  it('reads the header before the TLS handshake, even with the ClientHello in the same segment', async () => {
    const s = await serverWith({ proxyProtocol: 'v1', tls: { port: 0 } });
    const raw = net.connect(s.tlsPort!, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    raw.cork(); // header and ClientHello leave in one write
    raw.write('PROXY TCP4 192.0.2.44 198.51.100.1 40000 465\r\n');
    const t = tls.connect({ socket: raw, rejectUnauthorized: false });
    process.nextTick(() => raw.uncork());
    await new Promise((r) => t.once('secureConnect', r));
    let text = '';
    t.on('data', (d) => (text += d));
    t.write('EHLO proxied.example\r\nQUIT\r\n');
    await new Promise((r) => t.once('close', r));
    expect(text).toMatch(/^220 .*\r\n250-.*[\s\S]*221 /);
    expect(s.sessions()[0]).toMatchObject({ tls: true, helo: 'proxied.example', proxied: { sourceAddress: '192.0.2.44', sourcePort: 40000 } });
  });

  it('closes a TLS-port connection whose PROXY header does not come within the idle timeout', async () => {
    const s = await serverWith({ proxyProtocol: 'v1', tls: { port: 0 }, timeouts: { idle: '300ms' } });
    const raw = net.connect(s.tlsPort!, '127.0.0.1');
    raw.on('error', () => {});
    await new Promise((r) => raw.once('connect', r));
    raw.write('PROXY TCP4 192.0.2.44 '); // and nothing more
    const t0 = performance.now();
    await new Promise((r) => raw.once('close', r));
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(s.metrics.activeConnections).toBe(0);
  });

  it('closes a TLS-port connection whose PROXY header is bad', async () => {
    const s = await serverWith({ proxyProtocol: 'v2', tls: { port: 0 } });
    const raw = net.connect(s.tlsPort!, '127.0.0.1');
    raw.on('error', () => {});
    await new Promise((r) => raw.once('connect', r));
    raw.write('PROXY TCP4 192.0.2.44 198.51.100.1 40000 465\r\n');
    await new Promise((r) => raw.once('close', r));
    expect(s.metrics.counters.badProxyHeaders).toBe(1);
  });
});
